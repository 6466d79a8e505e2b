#include "mq/command.h"

#include "common/encoding.h"
#include "mq/topic_command.h"

namespace cmq::mq {
namespace {

// Bit i of the attribute presence byte says whether attribute i (in this order) follows.
constexpr int kAttributeCount = 6;

std::optional<int64_t> QueueAttributeUpdate::*const kAttributeFields[kAttributeCount] = {
    &QueueAttributeUpdate::max_msg_heap_num,      &QueueAttributeUpdate::polling_wait_seconds,
    &QueueAttributeUpdate::visibility_timeout,    &QueueAttributeUpdate::max_msg_size,
    &QueueAttributeUpdate::msg_retention_seconds, &QueueAttributeUpdate::rewind_seconds,
};

void EncodeAttributes(const QueueAttributeUpdate& attrs, std::string& out) {
  uint8_t present = 0;
  for (int i = 0; i < kAttributeCount; ++i) {
    if ((attrs.*kAttributeFields[i]).has_value()) present |= static_cast<uint8_t>(1u << i);
  }
  out.push_back(static_cast<char>(present));
  for (int i = 0; i < kAttributeCount; ++i) {
    const auto& field = attrs.*kAttributeFields[i];
    if (field.has_value()) PutVarintSigned64(out, *field);
  }
}

bool DecodeAttributes(Reader& r, QueueAttributeUpdate& attrs) {
  std::string_view present_byte;
  if (!r.Bytes(1, present_byte)) return false;
  uint8_t present = static_cast<uint8_t>(present_byte[0]);
  if (present >> kAttributeCount != 0) return false;  // unknown attribute
  for (int i = 0; i < kAttributeCount; ++i) {
    if ((present & (1u << i)) == 0) continue;
    int64_t v;
    if (!r.VarintSigned64(v)) return false;
    attrs.*kAttributeFields[i] = v;
  }
  return true;
}

// A count of items each taking at least one byte cannot exceed the bytes left; checking
// this first keeps garbage from reserving huge vectors.
bool Count(Reader& r, uint64_t& n) {
  return r.Varint64(n) && n <= r.remaining();
}

bool DecodeName(Reader& r, Command& cmd) {
  std::string_view name;
  if (!r.LengthPrefixed(name)) return false;
  cmd.queue_name.assign(name);
  return true;
}

// n bodies, each length-prefixed (views into r's buffer).
bool DecodeBodies(Reader& r, Command& cmd) {
  uint64_t n;
  if (!Count(r, n)) return false;
  cmd.bodies.resize(n);
  for (auto& body : cmd.bodies) {
    if (!r.LengthPrefixed(body)) return false;
  }
  return true;
}

bool DecodeBody(Reader& r, Command& cmd) {
  if (IsTopicCommand(cmd.type)) return DecodeTopicBody(r, cmd);
  switch (cmd.type) {
    case CommandType::kCreateQueue:
    case CommandType::kSetQueueAttributes:
      return DecodeName(r, cmd) && DecodeAttributes(r, cmd.attributes);
    case CommandType::kDeleteQueue:
      return DecodeName(r, cmd);
    case CommandType::kRewindQueue:
      return DecodeName(r, cmd) && r.VarintSigned64(cmd.rewind_start_s);
    case CommandType::kSendMessages:
      return DecodeName(r, cmd) && r.VarintSigned64(cmd.delay_seconds) && DecodeBodies(r, cmd);
    case CommandType::kSendHalfMessages: {
      std::string_view producer;
      if (!DecodeName(r, cmd) || !r.VarintSigned64(cmd.transaction_check_ms) ||
          !r.LengthPrefixed(producer)) {
        return false;
      }
      cmd.producer.assign(producer);
      return DecodeBodies(r, cmd);
    }
    case CommandType::kConfirmTransaction: {
      uint64_t n;
      if (!DecodeName(r, cmd) || !Count(r, n)) return false;
      cmd.confirms.resize(n);
      for (auto& confirm : cmd.confirms) {
        std::string_view action;
        if (!r.Varint64(confirm.msg_id) || !r.Bytes(1, action)) return false;
        if (action[0] != 1 && action[0] != 2) return false;
        confirm.commit = action[0] == 1;
      }
      return true;
    }
    case CommandType::kMoveBodies: {
      uint64_t n;
      if (!DecodeName(r, cmd) || !Count(r, n)) return false;
      cmd.moves.resize(n);
      for (auto& move : cmd.moves) {
        if (!r.Varint64(move.msg_id) || !r.Varint64(move.from_log_index)) return false;
      }
      return DecodeBodies(r, cmd) && cmd.bodies.size() == cmd.moves.size();
    }
    case CommandType::kReceiveMessages: {
      std::string_view has_timeout;
      if (!DecodeName(r, cmd) || !r.Varint(cmd.num_messages) || !r.Bytes(1, has_timeout)) {
        return false;
      }
      if (has_timeout[0] == 0) return true;
      if (has_timeout[0] != 1) return false;
      int64_t v;
      if (!r.VarintSigned64(v)) return false;
      cmd.visibility_timeout_s = v;
      return true;
    }
    case CommandType::kReceiveChosen: {
      uint64_t n;
      if (!DecodeName(r, cmd) || !r.VarintSigned64(cmd.received_at_ms) ||
          !r.VarintSigned64(cmd.visibility_ms) || !Count(r, n)) {
        return false;
      }
      cmd.chosen_keys.resize(n);
      for (auto& key : cmd.chosen_keys) {
        if (!r.Varint64(key)) return false;
      }
      return true;
    }
    case CommandType::kDeleteMessages: {
      uint64_t n;
      if (!DecodeName(r, cmd) || !Count(r, n)) return false;
      cmd.receipt_handles.resize(n);
      for (auto& handle : cmd.receipt_handles) {
        if (!r.Varint64(handle)) return false;
      }
      return true;
    }
    case CommandType::kHousekeeping:
      return true;
    default:
      return false;  // unknown type
  }
}

}  // namespace

void EncodeCommand(const Command& cmd, std::string& out) {
  out.push_back(static_cast<char>(cmd.type));
  if (IsTopicCommand(cmd.type)) return EncodeTopicBody(cmd, out);
  if (cmd.type == CommandType::kHousekeeping) return;
  PutLengthPrefixed(out, cmd.queue_name);
  switch (cmd.type) {
    case CommandType::kCreateQueue:
    case CommandType::kSetQueueAttributes:
      EncodeAttributes(cmd.attributes, out);
      break;
    case CommandType::kRewindQueue:
      PutVarintSigned64(out, cmd.rewind_start_s);
      break;
    case CommandType::kSendMessages:
      PutVarintSigned64(out, cmd.delay_seconds);
      PutVarint64(out, cmd.bodies.size());
      for (std::string_view body : cmd.bodies) PutLengthPrefixed(out, body);
      break;
    case CommandType::kSendHalfMessages:
      PutVarintSigned64(out, cmd.transaction_check_ms);
      PutLengthPrefixed(out, cmd.producer);
      PutVarint64(out, cmd.bodies.size());
      for (std::string_view body : cmd.bodies) PutLengthPrefixed(out, body);
      break;
    case CommandType::kConfirmTransaction:
      PutVarint64(out, cmd.confirms.size());
      for (const TransactionConfirm& c : cmd.confirms) {
        PutVarint64(out, c.msg_id);
        out.push_back(static_cast<char>(c.commit ? 1 : 2));
      }
      break;
    case CommandType::kMoveBodies:
      PutVarint64(out, cmd.moves.size());
      for (const BodyMove& m : cmd.moves) {
        PutVarint64(out, m.msg_id);
        PutVarint64(out, m.from_log_index);
      }
      PutVarint64(out, cmd.bodies.size());
      for (std::string_view body : cmd.bodies) PutLengthPrefixed(out, body);
      break;
    case CommandType::kReceiveMessages:
      PutVarint64(out, cmd.num_messages);
      out.push_back(cmd.visibility_timeout_s.has_value() ? 1 : 0);
      if (cmd.visibility_timeout_s.has_value()) PutVarintSigned64(out, *cmd.visibility_timeout_s);
      break;
    case CommandType::kReceiveChosen:
      PutVarintSigned64(out, cmd.received_at_ms);
      PutVarintSigned64(out, cmd.visibility_ms);
      PutVarint64(out, cmd.chosen_keys.size());
      for (uint64_t key : cmd.chosen_keys) PutVarint64(out, key);
      break;
    case CommandType::kDeleteMessages:
      PutVarint64(out, cmd.receipt_handles.size());
      for (uint64_t handle : cmd.receipt_handles) PutVarint64(out, handle);
      break;
    default:  // kDeleteQueue, kHousekeeping: nothing more
      break;
  }
}

Status DecodeCommandInto(std::string_view& in, Command& out) {
  Reader r(in);
  std::string_view type_byte;
  if (!r.Bytes(1, type_byte)) return Status(ErrorCode::kCorruption, "truncated command");
  out.type = static_cast<CommandType>(static_cast<uint8_t>(type_byte[0]));
  if (!DecodeBody(r, out)) return Status(ErrorCode::kCorruption, "malformed command");
  in = r.rest();
  return Status::Ok();
}

Result<Command> DecodeCommand(std::string_view& in) {
  Command cmd;
  CMQ_RETURN_IF_ERROR(DecodeCommandInto(in, cmd));
  return cmd;
}

}  // namespace cmq::mq
