#include "mq/command.h"

#include <gtest/gtest.h>

#include <random>

#include "mq/entry.h"
#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Cmd;

std::vector<Command> OneOfEachType() {
  static const std::string kBodies[] = {"hello", std::string(300, 'x'), std::string("a\0b", 3)};
  std::vector<Command> out;
  Command create = Cmd(CommandType::kCreateQueue, "orders");
  create.attributes.max_msg_heap_num = 2'000'000;
  create.attributes.rewind_seconds = 0;
  create.attributes.msg_retention_seconds = 600;
  out.push_back(create);
  Command set = Cmd(CommandType::kSetQueueAttributes, "Orders-2");
  set.attributes.polling_wait_seconds = 30;
  set.attributes.visibility_timeout = -5;  // encoding does not judge ranges
  set.attributes.max_msg_size = 1'048'576;
  out.push_back(set);
  out.push_back(Cmd(CommandType::kDeleteQueue, "q"));
  Command rewind = Cmd(CommandType::kRewindQueue, "q");
  rewind.rewind_start_s = 1'700'000'000;
  out.push_back(rewind);
  Command send = Cmd(CommandType::kSendMessages, "q");
  send.bodies.assign(std::begin(kBodies), std::end(kBodies));
  send.delay_seconds = 3600;
  out.push_back(send);
  Command receive = Cmd(CommandType::kReceiveMessages, "q");
  receive.num_messages = 16;
  out.push_back(receive);
  Command receive_vt = receive;
  receive_vt.visibility_timeout_s = 43'200;
  out.push_back(receive_vt);
  Command del = Cmd(CommandType::kDeleteMessages, "q");
  del.receipt_handles = {0, 1, UINT64_MAX, (uint64_t{5} << kReceiptCountBits) | 3};
  out.push_back(del);
  out.push_back(Cmd(CommandType::kHousekeeping, ""));
  Command half = Cmd(CommandType::kSendHalfMessages, "q");
  half.bodies.assign(std::begin(kBodies), std::end(kBodies));
  half.transaction_check_ms = 5'000;
  half.producer = "client-7";
  out.push_back(half);
  Command confirm = Cmd(CommandType::kConfirmTransaction, "q");
  confirm.confirms = {{1, true}, {UINT64_MAX, false}};
  out.push_back(confirm);
  Command move = Cmd(CommandType::kMoveBodies, "q");
  move.moves = {{1, 7}, {UINT64_MAX, UINT64_MAX}, {5, 1}};
  move.bodies.assign(std::begin(kBodies), std::begin(kBodies) + 3);
  out.push_back(move);
  Command chosen = Cmd(CommandType::kReceiveChosen, "q");
  chosen.chosen_keys = {(uint64_t{9} << kReceiptCountBits) | 2, 0, UINT64_MAX};
  chosen.received_at_ms = 1'700'000'000'123;
  chosen.visibility_ms = 43'200'000;
  out.push_back(chosen);
  Command advance = Cmd(CommandType::kReceiveChosen, "q");
  advance.received_at_ms = -1;  // encoding does not judge ranges
  out.push_back(advance);
  return out;
}

std::string Encode(const Command& cmd) {
  std::string out;
  EncodeCommand(cmd, out);
  return out;
}

TEST(CommandEncodingTest, RoundTripsEveryType) {
  for (const Command& cmd : OneOfEachType()) {
    std::string bytes = Encode(cmd);
    std::string_view in = bytes;
    Result<Command> decoded = DecodeCommand(in);
    ASSERT_TRUE(decoded.ok()) << static_cast<int>(cmd.type);
    EXPECT_EQ(*decoded, cmd) << static_cast<int>(cmd.type);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CommandEncodingTest, BodyViewsPointIntoTheInput) {
  Command send = OneOfEachType()[4];
  std::string bytes = Encode(send);
  std::string_view in = bytes;
  Result<Command> decoded = DecodeCommand(in);
  ASSERT_TRUE(decoded.ok());
  for (std::string_view body : decoded->bodies) {
    EXPECT_GE(body.data(), bytes.data());
    EXPECT_LE(body.data() + body.size(), bytes.data() + bytes.size());
  }
}

TEST(CommandEncodingTest, DecodeAdvancesPastOneCommandOnly) {
  std::string bytes;
  for (const Command& cmd : OneOfEachType()) EncodeCommand(cmd, bytes);
  std::string_view in = bytes;
  for (const Command& cmd : OneOfEachType()) {
    Result<Command> decoded = DecodeCommand(in);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, cmd);
  }
  EXPECT_TRUE(in.empty());
}

TEST(CommandEncodingTest, EveryStrictPrefixIsCorruption) {
  for (const Command& cmd : OneOfEachType()) {
    std::string bytes = Encode(cmd);
    for (size_t n = 0; n < bytes.size(); ++n) {
      std::string_view in(bytes.data(), n);
      Result<Command> decoded = DecodeCommand(in);
      ASSERT_FALSE(decoded.ok()) << "type " << static_cast<int>(cmd.type) << " prefix " << n;
      EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption);
    }
  }
}

TEST(CommandEncodingTest, UnknownTypeIsCorruption) {
  for (int type : {0, 20, 200, 255}) {
    std::string bytes(1, static_cast<char>(type));
    std::string_view in = bytes;
    EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
  }
}

TEST(CommandEncodingTest, UnknownAttributeBitIsCorruption) {
  std::string bytes = Encode(Cmd(CommandType::kCreateQueue, "q"));
  bytes.back() = static_cast<char>(0x40);  // the presence byte
  std::string_view in = bytes;
  EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
}

TEST(CommandEncodingTest, BadTimeoutFlagIsCorruption) {
  std::string bytes = Encode(Cmd(CommandType::kReceiveMessages, "q"));
  bytes.back() = 2;
  std::string_view in = bytes;
  EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
}

TEST(CommandEncodingTest, ConfirmActionOtherThanCommitOrRollbackIsCorruption) {
  Command confirm = Cmd(CommandType::kConfirmTransaction, "q");
  confirm.confirms = {{5, true}};
  for (char action : {0, 3, -1}) {
    std::string bytes = Encode(confirm);
    bytes.back() = action;
    std::string_view in = bytes;
    EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption) << int{action};
  }
}

TEST(CommandEncodingTest, AMoveWithoutOneBodyPerMessageIsCorruption) {
  Command move = Cmd(CommandType::kMoveBodies, "q");
  move.moves = {{1, 7}, {2, 7}};
  move.bodies = {"only one"};
  std::string bytes = Encode(move);
  std::string_view in = bytes;
  EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
}

TEST(CommandEncodingTest, HugeCountIsCorruptionWithoutAllocating) {
  std::string bytes = Encode(Cmd(CommandType::kDeleteMessages, "q"));
  bytes.pop_back();                              // count 0
  bytes.append("\xff\xff\xff\xff\xff\xff\x0f");  // ~2^48 handles
  std::string_view in = bytes;
  EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
}

TEST(CommandEncodingTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(42);
  int decoded = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && i % 2 == 0) bytes[0] = static_cast<char>(1 + rng() % 8);
    std::string_view in = bytes;
    Result<Command> cmd = DecodeCommand(in);
    if (cmd.ok()) {
      ++decoded;
      EXPECT_LE(in.size(), bytes.size());
    } else {
      EXPECT_EQ(cmd.status().code(), ErrorCode::kCorruption);
    }
  }
  EXPECT_GT(decoded, 0);  // the generator does reach valid commands
}

TEST(CommandEncodingTest, MutatedValidEncodingsNeverCrash) {
  std::mt19937_64 rng(7);
  for (const Command& cmd : OneOfEachType()) {
    std::string bytes = Encode(cmd);
    for (int i = 0; i < 500; ++i) {
      std::string mutated = bytes;
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
      std::string_view in = mutated;
      Result<Command> decoded = DecodeCommand(in);
      if (!decoded.ok()) {
        EXPECT_EQ(decoded.status().code(), ErrorCode::kCorruption);
      }
    }
  }
}

std::string EncodeEntry(int64_t now_ms, const std::vector<Command>& cmds) {
  std::string payload;
  EncodeEntryHeader(payload, now_ms, static_cast<uint32_t>(cmds.size()));
  for (const Command& cmd : cmds) EncodeCommand(cmd, payload);
  return payload;
}

TEST(EntryEncodingTest, RoundTripsABatch) {
  std::vector<Command> cmds = OneOfEachType();
  std::string payload = EncodeEntry(-12345, cmds);
  Result<DecodedEntry> entry = DecodeEntry(payload);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->now_ms, -12345);
  EXPECT_EQ(entry->commands, cmds);
}

TEST(EntryEncodingTest, EmptyBatchIsValid) {
  Result<DecodedEntry> entry = DecodeEntry(EncodeEntry(5, {}));
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(entry->commands.empty());
}

TEST(EntryEncodingTest, EveryStrictPrefixIsCorruption) {
  std::string payload = EncodeEntry(1'700'000'000'000, OneOfEachType());
  for (size_t n = 0; n < payload.size(); ++n) {
    Result<DecodedEntry> entry = DecodeEntry(std::string_view(payload.data(), n));
    ASSERT_FALSE(entry.ok()) << n;
    EXPECT_EQ(entry.status().code(), ErrorCode::kCorruption);
  }
}

TEST(EntryEncodingTest, TrailingBytesAreCorruption) {
  std::string payload = EncodeEntry(1, OneOfEachType()) + "x";
  EXPECT_EQ(DecodeEntry(payload).status().code(), ErrorCode::kCorruption);
}

TEST(EntryEncodingTest, UnknownVersionIsCorruption) {
  std::string payload = EncodeEntry(1, {});
  payload[0] = 2;
  EXPECT_EQ(DecodeEntry(payload).status().code(), ErrorCode::kCorruption);
}

TEST(EntryEncodingTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes(rng() % 60, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (bytes.size() > 9) {
      bytes[0] = static_cast<char>(kEntryVersion);
      bytes[9] = static_cast<char>(rng() % 4);  // a small command count
    }
    Result<DecodedEntry> entry = DecodeEntry(bytes);
    if (!entry.ok()) {
      EXPECT_EQ(entry.status().code(), ErrorCode::kCorruption);
    }
  }
}

}  // namespace
}  // namespace cmq::mq

namespace cmq::mq {
namespace {

// The byte-by-byte example of docs/command-format.md.
TEST(EntryEncodingTest, MatchesTheDocumentedExample) {
  Command send = testing::Cmd(CommandType::kSendMessages, "q");
  send.bodies = {"hi"};
  std::string payload;
  EncodeEntryHeader(payload, 1, 1);
  EncodeCommand(send, payload);
  EXPECT_EQ(payload, std::string("\x01\x01\0\0\0\0\0\0\0\x01\x05\x01q\x00\x01\x02hi", 18));
  Result<DecodedEntry> entry = DecodeEntry(payload);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->commands[0].bodies[0].data() - payload.data(), 16);
}

}  // namespace
}  // namespace cmq::mq
