#include "tools/bench/agents.h"

#include <algorithm>
#include <charconv>

#include "client/error.h"
#include "client/scan.h"

namespace cmq::bench {

using client::kCodeBatchDeletePartial;
using client::kCodeNoMessage;
namespace scan = client::scan;

std::string MakeBody(int size) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string body(static_cast<size_t>(size), 'a');
  for (size_t i = 0; i < body.size(); ++i) body[i] = kChars[i % 36];
  return body;
}

void WriteStamp(std::string* body, Clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  char digits[kStampDigits];
  for (size_t i = kStampDigits; i-- > 0; ns /= 10) digits[i] = static_cast<char>('0' + ns % 10);
  body->replace(0, kStampDigits, digits, kStampDigits);
}

std::optional<Clock::time_point> ReadStamp(std::string_view body) {
  if (body.size() < kStampDigits) return std::nullopt;
  int64_t ns = 0;
  auto [ptr, ec] = std::from_chars(body.data(), body.data() + kStampDigits, ns);
  if (ec != std::errc() || ptr != body.data() + kStampDigits) return std::nullopt;
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

void RecordE2e(Stats& st, std::string_view body, Clock::time_point now) {
  if (auto sent = ReadStamp(body)) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - *sent).count();
    st.e2e_us.Record(static_cast<uint64_t>(std::max<int64_t>(us, 0)));
  }
}

SendPlan::SendPlan(std::string target_, bool topic_, int batch_, std::string body_)
    : target(std::move(target_)), topic(topic_), batch(batch_), body(std::move(body_)) {
  if (topic) {
    action = batch > 1 ? "BatchPublishMessage" : "PublishMessage";
  } else {
    action = batch > 1 ? "BatchSendMessage" : "SendMessage";
  }
  params = Params(batch);
  encoded = EncodeForm(params);
}

FormParams SendPlan::Params(int n) const {
  FormParams p{{topic ? "topicName" : "queueName", target}};
  if (n == 1 && batch <= 1) {
    p.emplace_back("msgBody", body);
  } else {
    for (int i = 1; i <= n; ++i) p.emplace_back("msgBody." + std::to_string(i), body);
  }
  if (topic) {
    // As the Python SDK: an empty routingKey (ignored on a filterType 1 topic; without
    // it the server first reads the topic's filterType).
    p.emplace_back("routingKey", "");
  } else {
    p.emplace_back("delaySeconds", "0");
  }
  return p;
}

std::optional<SendPlan::Turn> SendPlan::Claim(const RunState& run) {
  Turn turn;
  turn.n = batch;
  if (limited) {
    int64_t left = quota.fetch_sub(turn.n);
    if (left <= 0) return std::nullopt;
    if (left < turn.n) turn.n = static_cast<int>(left);
  }
  if (rate > 0) {
    int64_t slot = next_slot.fetch_add(turn.n);
    turn.due = run.start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(slot / rate));
    if (turn.due >= run.deadline) return std::nullopt;
  }
  return turn;
}

Producer::Producer(RunState& run, Link link, SendPlan& plan)
    : Agent(run, std::move(link)), plan_(plan), timer_(ioc_) {}

void Producer::Next() {
  if (run_.Over()) return;
  auto turn = plan_.Claim(run_);
  if (!turn) return;
  if (turn->due > Clock::now()) {
    timer_.expires_at(turn->due);
    timer_.async_wait([this, n = turn->n](boost::system::error_code ec) {
      if (!ec) Send(n);
    });
    return;
  }
  Send(turn->n);
}

void Producer::Send(int n) {
  if (plan_.stamp) {
    if (n != plan_.batch || stamped_.empty()) stamped_ = plan_.Params(n);
    auto now = Clock::now();
    for (auto& [name, value] : stamped_) {
      if (name.starts_with("msgBody")) WriteStamp(&value, now);
    }
    conn_->builder().Build(plan_.action, stamped_, &body_);
  } else if (n == plan_.batch) {
    conn_->builder().Build(plan_.action, plan_.params, plan_.encoded, &body_);
  } else {
    conn_->builder().Build(plan_.action, plan_.Params(n), &body_);
  }
  Post([this, n](Response r) {
    if (r.ok() && scan::IntField(*r, "code") == 0) {
      st_.produced += static_cast<uint64_t>(n);
      st_.last_produce = Clock::now();
    } else {
      Error(r);
      if (plan_.retry) plan_.quota += n;
    }
    Next();
  });
}

ReceivePlan::ReceivePlan(std::string queue_, int batch, int wait)
    : queue(std::move(queue_)),
      receive{{"queueName", queue},
              {"numOfMsg", std::to_string(batch)},
              {"pollingWaitSeconds", std::to_string(wait)}},
      encoded(EncodeForm(receive)) {}

void ReceivePlan::CountDeleted(int n, Stats& st, RunState& run) {
  if (n <= 0) return;
  auto now = Clock::now();
  st.consumed += static_cast<uint64_t>(n);
  st.first_consume = std::min(st.first_consume, now);
  st.last_consume = now;
  int64_t total = consumed += n;
  if (target > 0 && total >= target) run.stop = true;
}

Consumer::Consumer(RunState& run, Link link, ReceivePlan& plan)
    : Agent(run, std::move(link)), plan_(plan) {}

void Consumer::Next() {
  if (run_.Over()) return;
  conn_->builder().Build("BatchReceiveMessage", plan_.receive, plan_.encoded, &body_);
  Post([this](Response r) {
    auto code = r.ok() ? scan::IntField(*r, "code") : std::nullopt;
    if (code == kCodeNoMessage) return Next();
    if (code != 0) {
      Error(r);
      return Next();
    }
    if (plan_.e2e) {
      auto now = Clock::now();
      scan::ForEachValue(*r, "msgBody", [&](std::string_view body) { RecordE2e(st_, body, now); });
    }
    delete_.assign(1, {"queueName", plan_.queue});
    scan::ForEachValue(*r, "receiptHandle", [&](std::string_view h) {
      delete_.emplace_back("receiptHandle." + std::to_string(delete_.size()), std::string(h));
    });
    if (delete_.size() == 1) return Next();  // code 0 without messages: nothing to delete
    Delete(static_cast<int>(delete_.size()) - 1);
  });
}

void Consumer::Delete(int n) {
  conn_->builder().Build("BatchDeleteMessage", delete_, &body_);
  Post([this, n](Response r) {
    auto code = r.ok() ? scan::IntField(*r, "code") : std::nullopt;
    int deleted = 0;
    if (code == 0) {
      deleted = n;
    } else if (code == kCodeBatchDeletePartial) {
      size_t failed = scan::ForEachValue(*r, "receiptHandle", [](std::string_view) {});
      deleted = n - static_cast<int>(failed);
      st_.errors += failed;
    } else {
      Error(r);
    }
    plan_.CountDeleted(deleted, st_, run_);
    Next();
  });
}

}  // namespace cmq::bench
