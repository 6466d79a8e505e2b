#include "mq/state_machine.h"

#include <algorithm>
#include <functional>

#include "common/assert.h"
#include "mq/attributes.h"
#include "mq/limits.h"
#include "mq/message_record.h"
#include "mq/queue.h"
#include "mq/state_machine_impl.h"

namespace cmq::mq {

std::string Base36(uint64_t v) {
  std::string out;
  do {
    out.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
    v /= 36;
  } while (v != 0);
  std::reverse(out.begin(), out.end());
  return out;
}

ApplyResult WithStatus(Status status) {
  ApplyResult result;
  result.status = std::move(status);
  return result;
}

// Where body lies within payload. REQUIRES (asserted): body is a view into payload.
BodyLocation Locate(std::string_view body, const ApplyContext& ctx) {
  auto begin = reinterpret_cast<uintptr_t>(ctx.payload.data());
  auto at = reinterpret_cast<uintptr_t>(body.data());
  CMQ_ASSERT(at >= begin && at + body.size() <= begin + ctx.payload.size(),
             "a body view outside the entry payload");
  CMQ_ASSERT(ctx.payload.size() <= UINT32_MAX, "payload over 4 GiB");
  return BodyLocation{ctx.log_index, static_cast<uint32_t>(at - begin),
                      static_cast<uint32_t>(body.size())};
}

namespace {

Status NoQueue() {
  return Status(ErrorCode::kQueueNotExist, "queue is not existed, or deleted");
}

Status ValidateSend(const Command& cmd, const QueueAttributes& attributes) {
  if (cmd.bodies.empty() || cmd.bodies.size() > kMaxBatch) {
    return Status(ErrorCode::kInvalidArgument, "msgBody: 1 to 16 messages per batch");
  }
  if (cmd.delay_seconds < 0 || cmd.delay_seconds > kDelaySecondsMax) {
    return Status(ErrorCode::kDelayOutOfRange, "delay seconds is out of range");
  }
  if (cmd.type == CommandType::kSendHalfMessages) {
    // The delay is not even encoded for half messages: a transaction message has none.
    if (cmd.transaction_check_ms < kTransactionCheckMsMin ||
        cmd.transaction_check_ms > kTransactionCheckMsMax) {
      return Status(ErrorCode::kInvalidArgument, "first_query_interval out of range");
    }
    if (cmd.producer.size() > kMaxProducerIdLength) {
      return Status(ErrorCode::kInvalidArgument, "client id too long");
    }
  }
  uint64_t total = 0;
  for (std::string_view body : cmd.bodies) {
    if (body.empty()) return Status(ErrorCode::kInvalidArgument, "message body can't be empty");
    if (body.size() > static_cast<uint64_t>(attributes.max_msg_size)) {
      return Status(ErrorCode::kMessageTooLarge, "exceed maximum message size");
    }
    total += body.size();
  }
  if (total > kMaxBatchBytes)
    return Status(ErrorCode::kBatchTooLarge, "total message size exceed 1MB");
  return Status::Ok();
}

}  // namespace

Status StateMachine::Impl::CheckPlacement(std::string_view kind, std::string_view name) const {
  if (Holds(name)) return Status::Ok();
  // Only a router bug gets here; refusing keeps a queue from living in two groups.
  return Status(ErrorCode::kInternal,
                std::string(kind) + " '" + std::string(name) + "' belongs to data group " +
                    std::to_string(GroupOfName(name, group_count)) + ", not " +
                    std::to_string(group_id) + " (misrouted request)");
}

ApplyResult StateMachine::Impl::CreateQueue(const Command& cmd, int64_t now_ms) {
  ApplyResult result;
  result.status = ValidateQueueName(cmd.queue_name);
  if (result.status.ok()) result.status = CheckPlacement("queue", cmd.queue_name);
  if (!result.status.ok()) return result;
  Result<QueueAttributes> attributes =
      ApplyAttributeUpdate(DefaultQueueAttributes(), cmd.attributes);
  if (!attributes.ok()) return WithStatus(attributes.status());
  std::string key = NameKey(cmd.queue_name);
  if (queues.contains(key)) {
    return WithStatus(Status(ErrorCode::kQueueExists, "queue is already existed"));
  }
  if (queues.size() >= kMaxQueues) {
    return WithStatus(
        Status(ErrorCode::kQueueLimitReached, "number of queues has reached the limit"));
  }
  ++queues_created;
  result.queue_id = "queue-" + Base36(id_base | queues_created);
  queues.emplace(
      key, std::make_unique<Queue>(result.queue_id, cmd.queue_name, *attributes, now_ms, id_base));
  return result;
}

ApplyResult StateMachine::Impl::SendMessages(Queue& q, const Command& cmd, const ApplyContext& ctx,
                                             int64_t now_ms) {
  ApplyResult result;
  result.status = ValidateSend(cmd, q.attributes());
  if (result.status.ok()) result.status = q.CheckSend(cmd.bodies.size(), cmd.delay_seconds);
  if (result.status.ok() && last_seq + cmd.bodies.size() > kMaxMessageSeq) {
    result.status = Status(ErrorCode::kInternal, "message id space of the group exhausted");
  }
  if (!result.status.ok()) return result;
  const bool half = cmd.type == CommandType::kSendHalfMessages;
  for (std::string_view body : cmd.bodies) {
    ++last_seq;
    if (half) {
      q.EnqueueHalf(last_seq, Locate(body, ctx), now_ms, cmd.transaction_check_ms, cmd.producer,
                    cmd.queue_name);
    } else {
      q.Enqueue(last_seq, Locate(body, ctx), now_ms, cmd.delay_seconds);
    }
    result.msg_ids.push_back(id_base | last_seq);
  }
  return result;
}

// Confirms of unknown, foreign or already resolved messages are ignored: a producer may
// confirm twice (after a check-back it raced), or after the message was rolled back.
ApplyResult StateMachine::Impl::ConfirmTransaction(Queue& q, const Command& cmd) {
  if (cmd.confirms.empty() || cmd.confirms.size() > kMaxBatch) {
    return WithStatus(Status(ErrorCode::kInvalidArgument, "transaction confirm: 1 to 16 items"));
  }
  ApplyResult result;
  for (const TransactionConfirm& c : cmd.confirms) {
    if ((c.msg_id & ~kMaxMessageSeq) != id_base) continue;
    if (q.Confirm(c.msg_id & kMaxMessageSeq, c.commit) && c.commit) {
      result.msg_ids.push_back(c.msg_id);
    }
  }
  return result;
}

ApplyResult StateMachine::Impl::MoveBodies(Queue& q, const Command& cmd, const ApplyContext& ctx) {
  if (cmd.bodies.size() != cmd.moves.size()) {
    return WithStatus(Status(ErrorCode::kInvalidArgument, "body move: one body per message"));
  }
  std::vector<Queue::Move> moves;
  moves.reserve(cmd.moves.size());
  for (size_t i = 0; i < cmd.moves.size(); ++i) {
    const BodyMove& m = cmd.moves[i];
    if ((m.msg_id & ~kMaxMessageSeq) != id_base) {
      return WithStatus(
          Status(ErrorCode::kInvalidArgument, "body move: a message of another group"));
    }
    moves.push_back(
        Queue::Move{m.msg_id & kMaxMessageSeq, m.from_log_index, Locate(cmd.bodies[i], ctx)});
  }
  ApplyResult result;
  if (q.MoveBodies(moves)) {
    for (const BodyMove& m : cmd.moves) result.msg_ids.push_back(m.msg_id);
  }
  return result;
}

void StateMachine::Impl::CollectChecks(Queue& q, ApplyResult& result) const {
  for (Queue::DueCheck& due : q.TakeDueChecks()) {
    result.transaction_checks.push_back(
        TransactionCheck{std::move(due.queue_name), id_base | due.seq, std::move(due.producer)});
  }
}

ApplyResult StateMachine::Impl::ReceiveMessages(Queue& q, const Command& cmd, int64_t now_ms) {
  if (cmd.num_messages < 1 || cmd.num_messages > kMaxBatch) {
    return WithStatus(Status(ErrorCode::kInvalidArgument, "numOfMsg: 1 to 16"));
  }
  int64_t visibility_s = cmd.visibility_timeout_s.value_or(q.attributes().visibility_timeout);
  if (visibility_s < kVisibilityTimeoutMin || visibility_s > kVisibilityTimeoutMax) {
    return WithStatus(
        Status(ErrorCode::kInvalidArgument, "visibilityTimeout out of range [1, 43200]"));
  }
  ApplyResult result;
  result.status = q.Receive(cmd.num_messages, visibility_s * 1000, now_ms, result.messages);
  return result;
}

ApplyResult StateMachine::Impl::ReceiveChosen(Queue& q, const Command& cmd, int64_t now_ms) {
  if (cmd.chosen_keys.empty()) return WithStatus(Status(ErrorCode::kNoMessage, "no message"));
  if (cmd.chosen_keys.size() > kMaxBatch) {
    return WithStatus(Status(ErrorCode::kInvalidArgument, "a chosen receive of over 16"));
  }
  if (cmd.visibility_ms < kVisibilityTimeoutMin * 1000 ||
      cmd.visibility_ms > kVisibilityTimeoutMax * 1000) {
    return WithStatus(Status(ErrorCode::kInvalidArgument, "a chosen receive's visibility"));
  }
  ApplyResult result;
  // Not later than the entry's time: deadlines stay within what the record can hold.
  result.status = q.ReceiveChosen(cmd.chosen_keys, std::min(cmd.received_at_ms, now_ms),
                                  cmd.visibility_ms, result.messages);
  return result;
}

ApplyResult StateMachine::Impl::DeleteMessages(Queue& q, const Command& cmd, int64_t now_ms) {
  if (cmd.receipt_handles.empty() || cmd.receipt_handles.size() > kMaxBatch) {
    return WithStatus(Status(ErrorCode::kInvalidArgument, "receiptHandle: 1 to 16 per batch"));
  }
  ApplyResult result;
  for (uint64_t handle : cmd.receipt_handles) {
    Status st = q.DeleteMessage(handle, now_ms);
    if (!st.ok()) result.delete_failures.push_back(DeleteFailure{handle, std::move(st)});
  }
  if (!result.delete_failures.empty()) {
    result.status =
        Status(ErrorCode::kReceiptHandleInvalid,
               std::to_string(result.delete_failures.size()) + " of " +
                   std::to_string(cmd.receipt_handles.size()) + " receipt handles are invalid");
  }
  return result;
}

ApplyResult StateMachine::Impl::ApplyToQueue(Queue& q, const Command& cmd, const ApplyContext& ctx,
                                             int64_t now_ms) {
  q.Advance(now_ms);
  ApplyResult result = ApplyQueueCommand(q, cmd, ctx, now_ms);
  q.Advance(now_ms);  // leaves live entries on top of the indexes, for NextDueMs
  CollectChecks(q, result);
  return result;
}

ApplyResult StateMachine::Impl::ApplyQueueCommand(Queue& q, const Command& cmd,
                                                  const ApplyContext& ctx, int64_t now_ms) {
  switch (cmd.type) {
    case CommandType::kSetQueueAttributes: {
      Result<QueueAttributes> attributes = ApplyAttributeUpdate(q.attributes(), cmd.attributes);
      if (attributes.ok()) q.SetAttributes(*attributes, now_ms);
      return WithStatus(attributes.status());
    }
    case CommandType::kRewindQueue:
      return WithStatus(q.Rewind(cmd.rewind_start_s, now_ms));
    case CommandType::kSendMessages:
    case CommandType::kSendHalfMessages:
      return SendMessages(q, cmd, ctx, now_ms);
    case CommandType::kConfirmTransaction:
      return ConfirmTransaction(q, cmd);
    case CommandType::kMoveBodies:
      return MoveBodies(q, cmd, ctx);
    case CommandType::kReceiveMessages:
      return ReceiveMessages(q, cmd, now_ms);
    case CommandType::kReceiveChosen:
      return ReceiveChosen(q, cmd, now_ms);
    case CommandType::kDeleteMessages:
      return DeleteMessages(q, cmd, now_ms);
    default:
      CMQ_ASSERT(false, "not a per-queue command");
  }
  return {};
}

StateMachine::StateMachine(uint32_t group_id, uint32_t group_count)
    : impl_(std::make_unique<Impl>()) {
  CMQ_ASSERT(group_id < (uint64_t{1} << (64 - kMessageSeqBits)), "group id over 16 bits");
  impl_->id_base = uint64_t{group_id} << kMessageSeqBits;
  impl_->group_id = group_id;
  impl_->group_count = std::max(group_count, 1u);
  CMQ_ASSERT(impl_->group_count == 1 || (group_id >= 1 && group_id <= group_count),
             "a data group id outside 1..group_count");
}

StateMachine::~StateMachine() = default;

ApplyResult StateMachine::Apply(const Command& cmd, const ApplyContext& ctx) {
  CMQ_ASSERT(ctx.log_index >= impl_->last_index, "log index went back");
  impl_->last_index = ctx.log_index;
  impl_->last_now_ms = std::max(impl_->last_now_ms, ctx.now_ms);
  int64_t now_ms = impl_->last_now_ms;
  switch (cmd.type) {
    case CommandType::kCreateQueue:
      return impl_->CreateQueue(cmd, now_ms);
    case CommandType::kDeleteQueue:
      if (impl_->queues.erase(NameKey(cmd.queue_name)) == 0) return WithStatus(NoQueue());
      return {};
    case CommandType::kHousekeeping: {
      ApplyResult result;
      for (auto& [key, q] : impl_->queues) {
        q->Advance(now_ms);
        impl_->CollectChecks(*q, result);
      }
      for (auto& [key, t] : impl_->topics) t->DropExpired(now_ms);
      return result;
    }
    case CommandType::kSetQueueAttributes:
    case CommandType::kRewindQueue:
    case CommandType::kSendMessages:
    case CommandType::kSendHalfMessages:
    case CommandType::kConfirmTransaction:
    case CommandType::kMoveBodies:
    case CommandType::kReceiveMessages:
    case CommandType::kReceiveChosen:
    case CommandType::kDeleteMessages: {
      Queue* q = impl_->Find(cmd.queue_name);
      if (q == nullptr) return WithStatus(NoQueue());
      return impl_->ApplyToQueue(*q, cmd, ctx, now_ms);
    }
    default:
      if (cmd.type >= CommandType::kCreateTopic && cmd.type <= CommandType::kPushResults) {
        return impl_->ApplyTopicCommand(cmd, ctx, now_ms);
      }
  }
  return WithStatus(Status(ErrorCode::kInvalidArgument, "unknown command type"));
}

Result<StateMachine::Reservation> StateMachine::ReserveReceive(const Command& receive,
                                                               int64_t now_ms) {
  CMQ_ASSERT(receive.type == CommandType::kReceiveMessages, "reserving for a non-receive");
  Queue* q = impl_->Find(receive.queue_name);
  if (q == nullptr) return NoQueue();
  if (receive.num_messages < 1 || receive.num_messages > kMaxBatch) {
    return Status(ErrorCode::kInvalidArgument, "numOfMsg: 1 to 16");
  }
  int64_t visibility_s = receive.visibility_timeout_s.value_or(q->attributes().visibility_timeout);
  if (visibility_s < kVisibilityTimeoutMin || visibility_s > kVisibilityTimeoutMax) {
    return Status(ErrorCode::kInvalidArgument, "visibilityTimeout out of range [1, 43200]");
  }
  // Never before the last applied command: the command's time is clamped the same way.
  now_ms = std::max(now_ms, impl_->last_now_ms);
  Reservation out;
  out.command.type = CommandType::kReceiveChosen;
  out.command.queue_name = receive.queue_name;
  out.command.received_at_ms = now_ms;
  out.command.visibility_ms = visibility_s * 1000;
  CMQ_RETURN_IF_ERROR(q->Reserve(receive.num_messages, out.command.visibility_ms, now_ms,
                                 out.messages, out.command.chosen_keys));
  return out;
}

void StateMachine::ReleaseReservation(const Command& chosen) {
  CMQ_ASSERT(chosen.type == CommandType::kReceiveChosen, "releasing a non-chosen receive");
  if (Queue* q = impl_->Find(chosen.queue_name)) q->Release(chosen.chosen_keys);
}

void StateMachine::ReleaseReservations() {
  for (auto& [key, q] : impl_->queues) q->ReleaseAll();
}

Result<QueueInfo> StateMachine::GetQueue(std::string_view queue_name, int64_t now_ms) const {
  const Queue* q = impl_->Find(queue_name);
  if (q == nullptr) return NoQueue();
  QueueInfo info;
  q->FillInfo(std::max(now_ms, impl_->last_now_ms), info);
  return info;
}

QueueListing StateMachine::ListQueues(std::string_view search_word, uint64_t offset,
                                      uint64_t limit) const {
  std::string word = NameKey(search_word);
  QueueListing listing;
  for (const auto& [key, q] : impl_->queues) {
    if (key.find(word) == std::string::npos) continue;
    if (listing.total_count >= offset && listing.total_count - offset < limit) {
      listing.queues.emplace_back(q->id(), q->name());
    }
    ++listing.total_count;
  }
  return listing;
}

std::optional<QueueAttributes> StateMachine::GetAttributes(std::string_view queue_name) const {
  const Queue* q = impl_->Find(queue_name);
  if (q == nullptr) return std::nullopt;
  return q->attributes();
}

bool StateMachine::QueueExists(std::string_view queue_name) const {
  return impl_->Find(queue_name) != nullptr;
}

bool StateMachine::HasVisibleMessage(std::string_view queue_name, int64_t now_ms) const {
  const Queue* q = impl_->Find(queue_name);
  return q != nullptr && q->HasVisibleMessage(std::max(now_ms, impl_->last_now_ms));
}

std::optional<int64_t> StateMachine::NextDueMs(std::string_view queue_name) const {
  const Queue* q = impl_->Find(queue_name);
  return q == nullptr ? std::nullopt : q->NextDueMs();
}

uint32_t StateMachine::group_count() const {
  return impl_->group_count;
}
uint64_t StateMachine::last_applied_index() const {
  return impl_->last_index;
}
int64_t StateMachine::last_applied_time_ms() const {
  return impl_->last_now_ms;
}

uint64_t StateMachine::message_count() const {
  uint64_t total = 0;
  for (const auto& [key, q] : impl_->queues) total += q->retained_count();
  return total;
}

}  // namespace cmq::mq
