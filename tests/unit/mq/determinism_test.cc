#include <gtest/gtest.h>

#include <random>

#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Cmd;
using testing::Harness;
using testing::kStartMs;
using testing::Strings;

// Appends "|<tag><v>". (Not `"|" + std::to_string(v)`: GCC 12 -O3 warns falsely on it.)
void Add(std::string& out, char tag, int64_t v) {
  out.push_back('|');
  out.push_back(tag);
  out.append(std::to_string(v));
}

// Everything a caller can observe of one queue.
std::string Observe(const StateMachine& sm, const std::string& name, int64_t now_ms) {
  Result<QueueInfo> info = sm.GetQueue(name, now_ms);
  if (!info.ok()) return info.status().ToString();
  std::string out = info->queue_id;
  out.push_back('|');
  out.append(info->queue_name);
  for (int64_t v :
       {info->attributes.max_msg_heap_num, info->attributes.visibility_timeout,
        info->attributes.msg_retention_seconds, info->attributes.rewind_seconds,
        info->create_time_s, info->last_modify_time_s, info->min_msg_time_s,
        static_cast<int64_t>(info->active_msg_num), static_cast<int64_t>(info->inactive_msg_num),
        static_cast<int64_t>(info->delay_msg_num), static_cast<int64_t>(info->rewind_msg_num),
        sm.NextDueMs(name).value_or(-1),
        static_cast<int64_t>(sm.HasVisibleMessage(name, now_ms))}) {
    Add(out, 'v', v);
  }
  return out;
}

std::string Describe(const ApplyResult& r) {
  std::string out = r.status.ToString();
  out.push_back('|');
  out.append(r.queue_id);
  for (uint64_t id : r.msg_ids) Add(out, 'i', static_cast<int64_t>(id));
  for (const ReceivedMessage& m : r.messages) {
    for (uint64_t v : {m.msg_id, m.receipt_handle, m.body.log_index, uint64_t{m.body.offset},
                       static_cast<uint64_t>(m.next_visible_time_ms), uint64_t{m.dequeue_count}}) {
      Add(out, 'm', static_cast<int64_t>(v));
    }
  }
  for (const DeleteFailure& f : r.delete_failures) {
    Add(out, 'f', static_cast<int64_t>(f.receipt_handle));
  }
  return out;
}

Command RandomCommand(std::mt19937_64& rng, const std::vector<uint64_t>& handles) {
  static const char* kNames[] = {"a", "B", "c-1"};
  Command cmd = Cmd(CommandType::kHousekeeping, kNames[rng() % 3]);
  switch (rng() % 9) {
    case 0:
      cmd.type = CommandType::kCreateQueue;
      if (rng() % 2) cmd.attributes.rewind_seconds = 30;
      cmd.attributes.msg_retention_seconds = 60 + rng() % 60;
      break;
    case 1:
      cmd.type = CommandType::kSetQueueAttributes;
      cmd.attributes.rewind_seconds = rng() % 2 == 0 ? 0 : 20;
      break;
    case 2:
      cmd.type = rng() % 8 == 0 ? CommandType::kDeleteQueue : CommandType::kHousekeeping;
      break;
    case 3:
      cmd.type = CommandType::kRewindQueue;
      cmd.rewind_start_s = kStartMs / 1000 + static_cast<int64_t>(rng() % 200);
      break;
    case 4:
    case 5:
      cmd.type = CommandType::kSendMessages;
      cmd.bodies.assign(1 + rng() % 4, "body");
      cmd.delay_seconds = rng() % 4 == 0 ? 1 + rng() % 5 : 0;
      break;
    case 6:
    case 7:
      cmd.type = CommandType::kReceiveMessages;
      cmd.num_messages = 1 + rng() % 5;
      if (rng() % 2) cmd.visibility_timeout_s = 1 + rng() % 10;
      break;
    default:
      cmd.type = CommandType::kDeleteMessages;
      cmd.receipt_handles.push_back(handles.empty() ? 1 : handles[rng() % handles.size()]);
      break;
  }
  return cmd;
}

TEST(DeterminismTest, SameCommandsSameStateEvenWhenTimeGoesBack) {
  std::mt19937_64 rng(2024);
  Harness a(3);
  Harness b(3);
  std::vector<uint64_t> handles;
  for (int i = 0; i < 3'000; ++i) {
    int64_t step = static_cast<int64_t>(rng() % 4'000) - 1'000;  // a quarter go back
    a.now_ms += step;
    b.now_ms += step;
    Command cmd = RandomCommand(rng, handles);
    ApplyResult ra = a.Apply(cmd);
    ApplyResult rb = b.Apply(cmd);
    ASSERT_EQ(Describe(ra), Describe(rb)) << i;
    for (const ReceivedMessage& m : ra.messages) handles.push_back(m.receipt_handle);
    for (const char* name : {"a", "b", "c-1"}) {
      ASSERT_EQ(Observe(a.sm, name, a.now_ms), Observe(b.sm, name, b.now_ms)) << i;
    }
    ASSERT_EQ(a.sm.message_count(), b.sm.message_count());
  }
}

TEST(DeterminismTest, TimeGoingBackIsClampedToTheLastAppliedTime) {
  Harness h;
  ASSERT_TRUE(h.Create("q").status.ok());
  h.now_ms = kStartMs + 10'000;
  ASSERT_TRUE(h.Send("q", Strings({"first"})).status.ok());
  h.now_ms = kStartMs;  // a new leader's clock is behind
  ASSERT_TRUE(h.Send("q", Strings({"second"})).status.ok());
  ApplyResult r = h.Receive("q", 2, 5);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].enqueue_time_ms, kStartMs + 10'000);
  EXPECT_EQ(r.messages[1].next_visible_time_ms, kStartMs + 15'000);
  EXPECT_EQ(h.sm.last_applied_time_ms(), kStartMs + 10'000);
}

TEST(DeterminismTest, CommandsSharingOneEntryShareItsTimeAndIndex) {
  StateMachine sm(1);
  std::vector<Command> cmds = {Cmd(CommandType::kCreateQueue, "q"),
                               Cmd(CommandType::kSendMessages, "q"),
                               Cmd(CommandType::kSendMessages, "q")};
  cmds[1].bodies = {"one", "two"};
  cmds[2].bodies = {"three"};
  std::string payload;
  EncodeEntryHeader(payload, kStartMs, 3);
  for (const Command& c : cmds) EncodeCommand(c, payload);
  Result<DecodedEntry> entry = DecodeEntry(payload);
  ASSERT_TRUE(entry.ok());
  for (const Command& c : entry->commands) {
    ASSERT_TRUE(sm.Apply(c, ApplyContext{entry->now_ms, 9, payload}).status.ok());
  }
  Command receive = Cmd(CommandType::kReceiveMessages, "q");
  receive.num_messages = 3;
  ApplyResult r = sm.Apply(receive, ApplyContext{kStartMs, 10, {}});
  ASSERT_EQ(r.messages.size(), 3u);
  for (const ReceivedMessage& m : r.messages) {
    EXPECT_EQ(m.body.log_index, 9u);
    EXPECT_EQ(m.enqueue_time_ms, kStartMs);
  }
  EXPECT_EQ(payload.substr(r.messages[1].body.offset, r.messages[1].body.length), "two");
  EXPECT_EQ(payload.substr(r.messages[2].body.offset, r.messages[2].body.length), "three");
  EXPECT_EQ(sm.last_applied_index(), 10u);
}

}  // namespace
}  // namespace cmq::mq
