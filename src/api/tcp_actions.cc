#include "api/tcp_actions.h"

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/params.h"
#include "mq/limits.h"

namespace cmq::api {
namespace {

using nlohmann::json;

HttpResponse Serialized(const tcp::CMQProto& answer, bool unavailable = false) {
  HttpResponse r;
  answer.SerializeToString(&r.body);
  if (unavailable) r.status = kTcpUnavailableStatus;
  return r;
}

void AddIndexed(FormParams& form, std::string_view name, size_t index, std::string value) {
  std::string key(name);
  key.push_back('.');
  key.append(std::to_string(index + 1));
  form.emplace_back(std::move(key), std::move(value));
}

// The decimal string of an id in a JSON answer (ids are strings there), or 0.
uint64_t IdOf(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return 0;
  return ParseUint64(it->get_ref<const std::string&>()).value_or(0);
}

// Turns the JSON answer of an HTTP action into the CMQProto answer: the envelope's code and
// message, the minted ids (msgId, msgList) and the failed handles (errorList).
ResponseCallback JsonToTcp(int64_t seqno, int32_t cmd, ResponseCallback done) {
  return [seqno, cmd, done = std::move(done)](HttpResponse http) {
    tcp::CMQProto answer;
    answer.set_seqno(seqno);
    answer.set_cmd(cmd);
    json j = json::parse(http.body, nullptr, false);
    auto code = j.is_object() ? j.find("code") : j.end();
    if (!j.is_object() || code == j.end() || !code->is_number_integer()) {
      // Our own actions always answer an envelope; anything else is a bug to report.
      SetTcpError(answer, ErrorFromStatus(Status(ErrorCode::kInternal, "unreadable answer")));
      return done(Serialized(answer));
    }
    answer.set_result(code->get<int>());
    if (answer.result() != 0) {
      auto message = j.find("message");
      if (message != j.end() && message->is_string()) answer.set_error(message->get<std::string>());
    }
    if (j.contains("msgId")) answer.add_msgids(IdOf(j, "msgId"));
    if (auto list = j.find("msgList"); list != j.end() && list->is_array()) {
      for (const json& item : *list) answer.add_msgids(IdOf(item, "msgId"));
    }
    if (http.unavailable) return done(Serialized(answer, true));
    if (auto list = j.find("errorList"); list != j.end() && list->is_array()) {
      for (const json& item : *list) {
        tcp::cmq_msg_delete_result* failure = answer.add_del_result();
        failure->set_receipt_handle(IdOf(item, "receiptHandle"));
        auto item_code = item.find("code");
        failure->set_err_code(item_code != item.end() && item_code->is_number_integer()
                                  ? item_code->get<int>()
                                  : 6000);
        auto item_message = item.find("message");
        failure->set_err_msg(item_message != item.end() && item_message->is_string()
                                 ? item_message->get<std::string>()
                                 : std::string());
      }
    }
    done(Serialized(answer));
  };
}

void RunAction(const ActionContext& ctx, ActionFn fn, FormParams form, const tcp::CMQProto& request,
               ResponseCallback done) {
  RequestParams params(std::move(form));
  // Reply ids are the HTTP envelope's requestId, dropped with the JSON.
  fn(ctx, params, Reply(0, true, JsonToTcp(request.seqno(), request.cmd(), std::move(done))));
}

// What makes a send a transaction's (spec §6.9): the first check-back's delay and whom to
// ask then.
struct HalfSend {
  int64_t check_ms = 0;
  std::string producer;
};

// first_query_interval has no unit in the SDK: its default 5000 means milliseconds, its
// demo's 5 says "ms" too, and API 3.0's FirstQueryInterval is in seconds. So (spec §5.3):
// above 3600 it is milliseconds, otherwise seconds; 0 or absent means 5 s.
ApiResult<int64_t> FirstCheckMs(bool has, int32_t value) {
  if (!has || value == 0) return mq::kTransactionCheckMsDefault;
  if (value < 0) return OutOfRange("first_query_interval");
  const int64_t ms = value > 3600 ? int64_t{value} : int64_t{value} * 1000;
  if (ms > mq::kTransactionCheckMsMax) return OutOfRange("first_query_interval");
  return ms;
}

// Sends, the hot path: validated as SendMessage validates (SendCommandOf), answered with
// the minted ids directly, without the JSON round trip of RunAction. With half set, the
// messages are a transaction's: hidden until confirmed.
void Send(const ActionContext& ctx, FormParams form, bool batch, const tcp::CMQProto& request,
          const std::optional<HalfSend>& half, ResponseCallback done) {
  RequestParams params(std::move(form));
  tcp::CMQProto answer = TcpAnswerTo(request);
  auto cmd = SendCommandOf(params, batch);
  if (cmd.ok() && half) {
    if (cmd.value().delay_seconds != 0) {
      cmd = TransactionNotAllowed("a transaction message cannot be delayed");
    } else if (half->producer.size() > mq::kMaxProducerIdLength) {
      cmd = TransactionNotAllowed("client id longer than 256 bytes");
    } else {
      cmd.value().type = mq::CommandType::kSendHalfMessages;
      cmd.value().transaction_check_ms = half->check_ms;
      cmd.value().producer = half->producer;
    }
  }
  if (!cmd.ok()) {
    SetTcpError(answer, cmd.error());
    return done(Serialized(answer));
  }
  // The command is encoded before Submit returns: the body views need not outlive it.
  ctx.service.Submit(cmd.value(), [answer = std::move(answer),
                                   done = std::move(done)](cluster::CommandResult r) mutable {
    bool unavailable = false;
    if (!r.apply.status.ok()) {
      const ApiError error = ErrorFromStatus(r.apply.status);
      SetTcpError(answer, error);
      unavailable = error.unavailable;
    } else {
      for (uint64_t id : r.apply.msg_ids) answer.add_msgids(id);
    }
    done(Serialized(answer, unavailable));
  });
}

void FillMessage(tcp::cmq_pull_msg_rsp& out, const mq::ReceivedMessage& m, std::string body) {
  out.set_msg_id(m.msg_id);
  out.set_receipt_handle(m.receipt_handle);
  out.set_msg_body(std::move(body));
  // Seconds, as HTTP 2.0 answers them (spec §5.3: the unit is not stated).
  out.set_enqueue_time(ToSeconds(m.enqueue_time_ms));
  out.set_next_visible_time(ToSeconds(m.next_visible_time_ms));
  out.set_first_dequeue_time(ToSeconds(m.first_dequeue_time_ms));
  out.set_dequeue_count(m.dequeue_count);
}

struct PullRequest {
  std::string_view queue_name;
  uint32_t count = 1;
  bool has_wait = false;
  int32_t wait = 0;
  uint32_t visible_timeout = 0;  // 0: the queue's
  bool batch = false;
  cluster::AbandonFlag abandoned;  // set when the pull's connection closes
};

void Pull(const ActionContext& ctx, const PullRequest& pull, const tcp::CMQProto& request,
          ResponseCallback done) {
  tcp::CMQProto answer = TcpAnswerTo(request);
  auto fail = [&](const ApiError& error) {
    SetTcpError(answer, error);
    done(Serialized(answer));
  };
  if (pull.queue_name.empty()) return fail(MissingParameter("queue_name"));
  if (!IsValidQueueName(pull.queue_name)) return fail(QueueNameFormat());
  std::optional<int64_t> wait;  // absent: the queue's pollingWaitSeconds
  if (pull.has_wait) {
    if (pull.wait < mq::kPollingWaitSecondsMin || pull.wait > mq::kPollingWaitSecondsMax) {
      return fail(OutOfRange("poll_wait_seconds"));
    }
    wait = pull.wait;
  }
  mq::Command cmd;
  cmd.type = mq::CommandType::kReceiveMessages;
  cmd.queue_name = pull.queue_name;
  cmd.num_messages = pull.count;
  if (pull.visible_timeout != 0) {
    if (pull.visible_timeout > mq::kVisibilityTimeoutMax)
      return fail(OutOfRange("visible_timeout"));
    cmd.visibility_timeout_s = pull.visible_timeout;
  }
  const bool batch = pull.batch;
  ctx.service.Receive(
      cmd, wait,
      [answer = std::move(answer), batch,
       done = std::move(done)](cluster::CommandResult r) mutable {
        const auto& messages = r.apply.messages;
        bool unavailable = false;
        if (!r.apply.status.ok() || messages.empty()) {
          Status status = r.apply.status.ok() ? Status(ErrorCode::kNoMessage, "") : r.apply.status;
          const ApiError error = ErrorFromStatus(status);
          unavailable = error.unavailable;
          if (status.code() == ErrorCode::kNoMessage || unavailable) {
            // HTTP says 7000 "(10200)no message"; the TCP SDK looks for 10200. With no
            // leader, a pull has no message either (kTcpUnavailableStatus).
            answer = TcpNoMessageAnswer(answer);
          } else {
            SetTcpError(answer, error);
          }
        } else {
          CMQ_ASSERT(r.bodies.size() == messages.size(), "one body per received message");
          for (size_t i = 0; i < messages.size(); ++i) {
            tcp::cmq_pull_msg_rsp* out =
                batch ? answer.mutable_batch_pull_rsp()->add_msg_list() : answer.mutable_pull_rsp();
            FillMessage(*out, messages[i], std::move(r.bodies[i]));
            if (!batch) break;
          }
        }
        done(Serialized(answer, unavailable));
      },
      pull.abandoned);
}

// 1041: commits and rolls back half messages. One-way in the SDK: the listener writes no
// answer, but one is made (for tests, and for whoever forwarded it). Items of another state
// (3 "unknown") change nothing; more than 16 items go as several commands.
void ConfirmTransaction(const ActionContext& ctx, const tcp::CMQProto& m, ResponseCallback done) {
  tcp::CMQProto answer = TcpAnswerTo(m);
  const auto& b = m.transaction_confirm();
  if (!IsValidQueueName(b.queue_name())) {
    SetTcpError(answer, QueueNameFormat());
    return done(Serialized(answer));
  }
  std::vector<mq::Command> commands;
  for (const auto& item : b.item()) {
    if (item.state() != 1 && item.state() != 2) continue;
    if (commands.empty() || commands.back().confirms.size() == mq::kMaxBatch) {
      mq::Command& cmd = commands.emplace_back();
      cmd.type = mq::CommandType::kConfirmTransaction;
      cmd.queue_name = b.queue_name();
    }
    commands.back().confirms.push_back(mq::TransactionConfirm{item.msg_id(), item.state() == 1});
  }
  if (commands.empty()) return done(Serialized(answer));
  struct Pending {
    size_t left = 0;
    tcp::CMQProto answer;
    ResponseCallback done;
    std::mutex mu;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = commands.size();
  pending->answer = std::move(answer);
  pending->done = std::move(done);
  for (const mq::Command& cmd : commands) {
    ctx.service.Submit(cmd, [pending](cluster::CommandResult r) {
      std::unique_lock lock(pending->mu);
      if (!r.apply.status.ok() && pending->answer.result() == 0) {
        SetTcpError(pending->answer, ErrorFromStatus(r.apply.status));
      }
      if (--pending->left != 0) return;
      lock.unlock();
      pending->done(Serialized(pending->answer));
    });
  }
}

// Each data command as its HTTP action. A command whose body is missing answers 10390.
void Serve(const ActionContext& ctx, const tcp::CMQProto& m, const HttpRequest& request,
           ResponseCallback done) {
  const std::string& client_id = request.tcp_client_id;
  auto missing = [&](const char* body) {
    tcp::CMQProto answer = TcpAnswerTo(m);
    SetTcpError(answer, MissingParameter(body));
    done(Serialized(answer));
  };
  auto refuse = [&](const ApiError& error) {
    tcp::CMQProto answer = TcpAnswerTo(m);
    SetTcpError(answer, error);
    done(Serialized(answer));
  };
  FormParams form;
  switch (m.cmd()) {
    case kTcpSend: {
      if (!m.has_tcp_send_msg()) return missing("tcp_send_msg");
      const auto& b = m.tcp_send_msg();
      std::optional<HalfSend> half;
      if (b.is_transaction() == 1) {
        auto check_ms = FirstCheckMs(b.has_first_query_interval(), b.first_query_interval());
        if (!check_ms.ok()) return refuse(check_ms.error());
        half = HalfSend{check_ms.value(), client_id};
      }
      form.emplace_back("queueName", b.queue_name());
      if (b.has_msgbody()) form.emplace_back("msgBody", b.msgbody());
      if (b.has_delay_seconds())
        form.emplace_back("delaySeconds", std::to_string(b.delay_seconds()));
      return Send(ctx, std::move(form), false, m, half, std::move(done));
    }
    case kTcpBatchSend: {
      if (!m.has_tcp_batch_send_msg()) return missing("tcp_batch_send_msg");
      const auto& b = m.tcp_batch_send_msg();
      std::optional<HalfSend> half;
      if (b.is_transaction() == 1) {
        auto check_ms = FirstCheckMs(b.has_first_query_interval(), b.first_query_interval());
        if (!check_ms.ok()) return refuse(check_ms.error());
        half = HalfSend{check_ms.value(), client_id};
      }
      form.emplace_back("queueName", b.queue_name());
      for (int i = 0; i < b.msgbody_size(); ++i) AddIndexed(form, "msgBody", i, b.msgbody(i));
      if (b.has_delay_seconds())
        form.emplace_back("delaySeconds", std::to_string(b.delay_seconds()));
      return Send(ctx, std::move(form), true, m, half, std::move(done));
    }
    case kTcpPull: {
      if (!m.has_tcp_pull_msg()) return missing("tcp_pull_msg");
      const auto& b = m.tcp_pull_msg();
      PullRequest pull{b.queue_name(),      1,     b.has_poll_wait_seconds(), b.poll_wait_seconds(),
                       b.visible_timeout(), false, request.abandoned};
      return Pull(ctx, pull, m, std::move(done));
    }
    case kTcpBatchPull: {
      if (!m.has_tcp_batch_pull_msg()) return missing("tcp_batch_pull_msg");
      const auto& b = m.tcp_batch_pull_msg();
      if (b.num_msg() < 1 || b.num_msg() > static_cast<int32_t>(mq::kMaxBatch)) {
        return refuse(BatchSizeOutOfRange("num_msg"));
      }
      PullRequest pull{b.queue_name(),
                       static_cast<uint32_t>(b.num_msg()),
                       b.has_poll_wait_seconds(),
                       b.poll_wait_seconds(),
                       b.visible_timeout(),
                       true,
                       request.abandoned};
      return Pull(ctx, pull, m, std::move(done));
    }
    case kTcpDelete: {
      if (!m.has_tcp_delete_msg()) return missing("tcp_delete_msg");
      const auto& b = m.tcp_delete_msg();
      form.emplace_back("queueName", b.queue_name());
      form.emplace_back("receiptHandle", std::to_string(b.receipt_handle()));
      return RunAction(ctx, &DeleteMessage, std::move(form), m, std::move(done));
    }
    case kTcpBatchDelete: {
      if (!m.has_tcp_batch_delete_msg()) return missing("tcp_batch_delete_msg");
      const auto& b = m.tcp_batch_delete_msg();
      form.emplace_back("queueName", b.queue_name());
      for (int i = 0; i < b.receipt_handle_list_size(); ++i) {
        AddIndexed(form, "receiptHandle", i, std::to_string(b.receipt_handle_list(i)));
      }
      return RunAction(ctx, &BatchDeleteMessage, std::move(form), m, std::move(done));
    }
    case kTcpPublish:
    case kTcpBatchPublish: {
      const bool batch = m.cmd() == kTcpBatchPublish;
      if (!batch && !m.has_tcp_publish_msg()) return missing("tcp_publish_msg");
      if (batch && !m.has_tcp_batch_publish_msg()) return missing("tcp_batch_publish_msg");
      // The two bodies differ only in msgBody's label (required / repeated).
      const auto& one = m.tcp_publish_msg();
      const auto& many = m.tcp_batch_publish_msg();
      form.emplace_back("topicName", batch ? many.topic_name() : one.topic_name());
      if (batch) {
        for (int i = 0; i < many.msgbody_size(); ++i)
          AddIndexed(form, "msgBody", i, many.msgbody(i));
      } else {
        form.emplace_back("msgBody", one.msgbody());
      }
      const auto& tags = batch ? many.msgtags() : one.msgtags();
      for (int i = 0; i < tags.size(); ++i) AddIndexed(form, "msgTag", i, tags[i]);
      if (batch ? many.has_routing_key() : one.has_routing_key()) {
        form.emplace_back("routingKey", batch ? many.routing_key() : one.routing_key());
      }
      return RunAction(ctx, batch ? &BatchPublishMessage : &PublishMessage, std::move(form), m,
                       std::move(done));
    }
    case kTcpTransactionConfirm:
      if (!m.has_transaction_confirm()) return missing("transaction_confirm");
      return ConfirmTransaction(ctx, m, std::move(done));
    default:
      return refuse(UnknownAction("cmd " + std::to_string(m.cmd())));
  }
}

}  // namespace

bool IsTcpDataCommand(int cmd) {
  return (cmd >= kTcpSend && cmd <= kTcpBatchPublish) || cmd == kTcpTransactionConfirm;
}

std::string_view TcpRouteName(const tcp::CMQProto& m) {
  switch (m.cmd()) {
    case kTcpSend:
      return m.tcp_send_msg().queue_name();
    case kTcpBatchSend:
      return m.tcp_batch_send_msg().queue_name();
    case kTcpPull:
      return m.tcp_pull_msg().queue_name();
    case kTcpBatchPull:
      return m.tcp_batch_pull_msg().queue_name();
    case kTcpDelete:
      return m.tcp_delete_msg().queue_name();
    case kTcpBatchDelete:
      return m.tcp_batch_delete_msg().queue_name();
    case kTcpPublish:
      return m.tcp_publish_msg().topic_name();
    case kTcpBatchPublish:
      return m.tcp_batch_publish_msg().topic_name();
    case kTcpTransactionConfirm:
      return m.transaction_confirm().queue_name();
    default:
      return {};
  }
}

tcp::CMQProto TcpAnswerTo(const tcp::CMQProto& request) {
  tcp::CMQProto answer;
  answer.set_seqno(request.seqno());
  answer.set_cmd(request.cmd());
  answer.set_result(0);
  return answer;
}

tcp::CMQProto TcpNoMessageAnswer(const tcp::CMQProto& request) {
  tcp::CMQProto answer = TcpAnswerTo(request);
  SetTcpError(answer, ErrorFromStatus(Status(ErrorCode::kNoMessage, "")));
  answer.set_result(kTcpResultNoMessage);
  return answer;
}

void SetTcpError(tcp::CMQProto& answer, const ApiError& error) {
  answer.set_result(error.code);
  answer.set_error(error.Message());
}

void HandleTcpRequest(const ActionContext& ctx, const HttpRequest& request, ResponseCallback done) {
  tcp::CMQProto m;
  // The listener checked the frame before it came here (or a peer forwarded what its
  // listener checked); still, never trust bytes.
  if (!m.ParsePartialFromString(request.body) || !m.has_seqno() || !m.has_cmd()) {
    return done(TcpErrorResponse(request.body, InvalidParameters("unreadable CMQProto")));
  }
  if (!m.IsInitialized()) {
    tcp::CMQProto answer = TcpAnswerTo(m);
    SetTcpError(answer,
                InvalidParameters("missing required fields: " + m.InitializationErrorString()));
    return done(Serialized(answer));
  }
  if (!IsTcpDataCommand(m.cmd())) {
    tcp::CMQProto answer = TcpAnswerTo(m);
    SetTcpError(answer, UnknownAction("cmd " + std::to_string(m.cmd())));
    return done(Serialized(answer));
  }
  Serve(ctx, m, request, std::move(done));
}

HttpResponse TcpErrorResponse(std::string_view request_body, const ApiError& error) {
  tcp::CMQProto request;
  // Partial: seqno and cmd are what matter, even of a frame that lacks other fields.
  (void)request.ParsePartialFromArray(request_body.data(), static_cast<int>(request_body.size()));
  tcp::CMQProto answer = TcpAnswerTo(request);
  SetTcpError(answer, error);
  return Serialized(answer, error.unavailable);
}

}  // namespace cmq::api
