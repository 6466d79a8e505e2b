// HTTP push of topic messages to subscribers' endpoints (spec §10.6). Leader-local: the
// replicated state (mq) holds what is pending and when each push is due; the leader POSTs
// due ones and proposes their outcomes (kPushResults) with the next attempt time it chose,
// so every replica follows the same schedule. A push that was in flight when the leader
// stopped is simply still pending, and is pushed again by the next leader (at least once).

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "cluster/node.h"
#include "mq/limits.h"

namespace cmq::cluster {
namespace {

constexpr int64_t kTopicRetentionMs = 86'400'000;  // CMQ API 2.0: fixed one day
constexpr uint32_t kBackoffRetries = 3;            // BACKOFF_RETRY: 3 retries, then drop

std::string SubscriptionKey(const mq::PendingPush& p) {
  std::string key = p.topic_name;
  key.push_back('\0');
  key += p.subscription_name;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& t : tags) {
    if (!out.empty()) out += ", ";
    out += t;
  }
  return out;
}

}  // namespace

void Node::OnPushTick() {
  if (stopped_) return;
  PumpPushes();
  push_timer_.expires_after(std::chrono::milliseconds(options_.push_tick_ms));
  push_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnPushTick();
  });
}

// Starts every due push that the in-flight limits allow. Runs on the tick, after entries
// are applied (a publish makes pushes due), and when a push's result has been applied (its
// slot is free), so a subscription's rate is bounded by its endpoint, not by the tick.
void Node::PumpPushes() {
  // The leader alone pushes: a follower's pushes would be duplicates, and their results
  // could not be proposed anyway.
  if (stopped_ || !is_leader_ || !failed_.ok() ||
      pushes_in_flight_.size() >= options_.max_pushes_in_flight) {
    return;
  }
  int64_t now = clock_->NowMs();
  auto next = state_->NextPushDueMs();
  if (!next || *next > now) return;
  // Pushes in flight are among those returned (the state forgets them only when their
  // results apply); they count against the per-subscription limit.
  for (const mq::PendingPush& push :
       state_->DuePushes(now, options_.max_pushes_per_subscription,
                         options_.max_pushes_in_flight + pushes_in_flight_.size())) {
    if (pushes_in_flight_.size() >= options_.max_pushes_in_flight) break;
    if (pushes_in_flight_.count({SubscriptionKey(push), push.msg_id}) != 0) continue;
    StartPush(push);
  }
}

void Node::StartPush(const mq::PendingPush& push) {
  auto body = ReadBody(push.body);
  if (!body.ok()) {
    spdlog::error("push of message {}: cannot read its body: {}", push.msg_id,
                  body.status().ToString());
    return;
  }
  if (push.protocol == "queue") return StartRemoteEnqueue(push, std::move(body).value());
  PushRequest request;
  request.url = push.endpoint;
  request.timeout = std::chrono::milliseconds(options_.push_timeout_ms);
  if (push.notify_content_format == "SIMPLIFIED") {
    request.body = std::move(body).value();
  } else {
    nlohmann::json j = {{"TopicOwner", 0},
                        {"topicName", push.topic_name},
                        {"subscriptionName", push.subscription_name},
                        {"msgId", std::to_string(push.msg_id)},
                        {"msgBody", body.value()},
                        {"publishTime", push.publish_time_ms / 1000}};
    request.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  request.headers = {{"Content-Type", "text/plain"},
                     {"User-Agent", "Qcloud Notification Service Agent"},
                     {"x-cmq-request-id", std::to_string(++push_request_seq_)},
                     {"x-cmq-message-id", std::to_string(push.msg_id)},
                     {"x-cmq-message-tag", JoinTags(push.msg_tags)}};
  pushes_in_flight_.insert({SubscriptionKey(push), push.msg_id});
  boost::asio::post(push_ctx_, [this, push, request = std::move(request)]() mutable {
    push_client_->Post(std::move(request), [this, push](Status st) {
      boost::asio::post(strand_ctx_, [this, push, st] { OnPushDone(push, st); });
    });
  });
}

// A queue subscription whose queue lives in another data group: the copy is sent there as
// a SendMessage (through whichever node leads that group). Retried while that group cannot
// take it (no leader yet, a failover), dropped (and counted) when the queue refuses it, as
// a copy into a queue of this group would be.
void Node::StartRemoteEnqueue(const mq::PendingPush& push, std::string body) {
  pushes_in_flight_.insert({SubscriptionKey(push), push.msg_id});
  if (!remote_enqueue_) {
    boost::asio::post(strand_ctx_, [this, push] {
      OnPushDone(push, Status(ErrorCode::kInternal, "no route to other data groups"));
    });
    return;
  }
  remote_enqueue_(push.endpoint, std::move(body), [this, push](Status st) {
    boost::asio::post(strand_ctx_, [this, push, st] { OnPushDone(push, st); });
  });
}

void Node::OnPushDone(const mq::PendingPush& push, Status status) {
  if (stopped_) return;
  int64_t now = clock_->NowMs();
  mq::PushResult result;
  result.msg_id = push.msg_id;
  result.delivered = status.ok();
  if (status.ok()) {
    ++stats_.pushes_delivered;
  } else if (push.protocol == "queue") {
    ++stats_.pushes_failed;
    // Retried every 1, 2, 4 ... 8 s while the other group is unavailable, within the
    // topic's retention; any other answer (the queue is gone, full, or takes smaller
    // messages) is final.
    const uint32_t failures = push.attempts + 1;
    const int64_t next = now + (int64_t{1000} << std::min<uint32_t>(failures - 1, 3));
    const bool retry = status.code() == ErrorCode::kUnavailable &&
                       next <= push.publish_time_ms + kTopicRetentionMs;
    result.next_attempt_ms = retry ? next : 0;
    spdlog::log(retry ? spdlog::level::debug : spdlog::level::warn,
                "copy of message {} to queue {} ({}): {}", push.msg_id, push.endpoint,
                retry ? "will retry" : "dropped", status.ToString());
  } else {
    ++stats_.pushes_failed;
    uint32_t failures = push.attempts + 1;
    if (push.notify_strategy == "BACKOFF_RETRY") {
      // Retry at a random 19-29 s interval, 3 times, then drop.
      std::uniform_int_distribution<int64_t> jitter(19'000, 29'000);
      result.next_attempt_ms = failures > kBackoffRetries ? 0 : now + jitter(push_rng_);
    } else {
      // EXPONENTIAL_DECAY_RETRY: 1 s, 2 s, 4 s, ... until the topic retention ends.
      int64_t delay_ms = int64_t{1000} << std::min<uint32_t>(failures - 1, 20);
      int64_t next = now + delay_ms;
      result.next_attempt_ms = next > push.publish_time_ms + kTopicRetentionMs ? 0 : next;
    }
    spdlog::debug("push of message {} to {} failed ({}): {}", push.msg_id, push.endpoint, failures,
                  status.ToString());
  }
  mq::Command cmd;
  cmd.type = mq::CommandType::kPushResults;
  cmd.topic_name = push.topic_name;
  cmd.subscription_name = push.subscription_name;
  cmd.push_results = {result};
  Proposal p;
  mq::EncodeCommand(cmd, p.encoded);
  // The push stays "in flight" until its result is applied: until then the state still
  // lists it as due, and it must not be pushed a second time.
  std::pair<std::string, uint64_t> key{SubscriptionKey(push), push.msg_id};
  p.done = [this, key](CommandResult) {  // runs on the strand, after the apply
    pushes_in_flight_.erase(key);
    PumpPushes();
  };
  Enqueue(std::move(p));
}

}  // namespace cmq::cluster
