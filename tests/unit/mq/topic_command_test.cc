// Encoding of the topic and subscription commands (types 9-17, docs/command-format.md).
#include <gtest/gtest.h>

#include <random>

#include "mq/command.h"
#include "mq/entry.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::TopicCmd;

std::vector<Command> OneOfEachTopicType() {
  static const std::string kBodies[] = {"hello", std::string(200, 'y'), std::string("\0z", 2)};
  std::vector<Command> out;
  Command create = TopicCmd(CommandType::kCreateTopic, "news");
  out.push_back(create);
  create.topic_max_msg_size = 1'048'576;
  create.topic_filter_type = 2;
  out.push_back(create);
  Command set = TopicCmd(CommandType::kSetTopicAttributes, "News");
  set.topic_max_msg_size = -3;  // encoding does not judge ranges
  out.push_back(set);
  out.push_back(TopicCmd(CommandType::kDeleteTopic, "t"));
  Command publish = TopicCmd(CommandType::kPublishMessages, "t");
  publish.bodies.assign(std::begin(kBodies), std::end(kBodies));
  publish.msg_tags = {"a", "bb", ""};
  publish.routing_key = "x.*.#";
  out.push_back(publish);
  Command bare_publish = TopicCmd(CommandType::kPublishMessages, "t");
  bare_publish.bodies = {"b"};
  out.push_back(bare_publish);
  Command subscribe = TopicCmd(CommandType::kSubscribe, "t", "s");
  subscribe.subscription = {"http",
                            "http://h/p",
                            "BACKOFF_RETRY",
                            "SIMPLIFIED",
                            std::vector<std::string>{"a"},
                            std::vector<std::string>{"k.#", ""}};
  out.push_back(subscribe);
  Command set_sub = TopicCmd(CommandType::kSetSubscriptionAttributes, "t", "s");
  set_sub.subscription.filter_tags.emplace();  // present and empty: not the same as absent
  out.push_back(set_sub);
  out.push_back(TopicCmd(CommandType::kSetSubscriptionAttributes, "t", "s"));
  out.push_back(TopicCmd(CommandType::kUnsubscribe, "t", "s"));
  out.push_back(TopicCmd(CommandType::kClearSubscriptionFilterTags, "t", "s"));
  Command results = TopicCmd(CommandType::kPushResults, "t", "s");
  results.push_results = {{1, true, 0}, {UINT64_MAX, false, 1'700'000'000'000}, {7, false, -1}};
  out.push_back(results);
  return out;
}

std::string Encode(const Command& cmd) {
  std::string out;
  EncodeCommand(cmd, out);
  return out;
}

TEST(TopicCommandEncodingTest, RoundTripsEveryType) {
  for (const Command& cmd : OneOfEachTopicType()) {
    std::string bytes = Encode(cmd);
    std::string_view in = bytes;
    Result<Command> decoded = DecodeCommand(in);
    ASSERT_TRUE(decoded.ok()) << static_cast<int>(cmd.type);
    EXPECT_EQ(*decoded, cmd) << static_cast<int>(cmd.type);
    EXPECT_TRUE(in.empty());
  }
}

TEST(TopicCommandEncodingTest, RoundTripsInOneEntry) {
  std::vector<Command> cmds = OneOfEachTopicType();
  std::string payload;
  EncodeEntryHeader(payload, 99, static_cast<uint32_t>(cmds.size()));
  for (const Command& cmd : cmds) EncodeCommand(cmd, payload);
  Result<DecodedEntry> entry = DecodeEntry(payload);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->commands, cmds);
  for (std::string_view body : entry->commands[4].bodies) {  // views into the payload
    EXPECT_GE(body.data(), payload.data());
    EXPECT_LE(body.data() + body.size(), payload.data() + payload.size());
  }
}

TEST(TopicCommandEncodingTest, EveryStrictPrefixIsCorruption) {
  for (const Command& cmd : OneOfEachTopicType()) {
    std::string bytes = Encode(cmd);
    for (size_t n = 0; n < bytes.size(); ++n) {
      std::string_view in(bytes.data(), n);
      ASSERT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption)
          << static_cast<int>(cmd.type) << " prefix " << n;
    }
  }
}

TEST(TopicCommandEncodingTest, UnknownTypesAfterTheTopicOnesAreCorruption) {
  for (int type : {18, 100, 255}) {
    std::string bytes = Encode(TopicCmd(CommandType::kDeleteTopic, "t"));
    bytes[0] = static_cast<char>(type);
    std::string_view in = bytes;
    EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption) << type;
  }
}

TEST(TopicCommandEncodingTest, UnknownPresenceBitsAreCorruption) {
  std::string topic = Encode(TopicCmd(CommandType::kCreateTopic, "t"));
  topic.back() = 0x04;
  std::string_view in = topic;
  EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
  std::string sub = Encode(TopicCmd(CommandType::kSubscribe, "t", "s"));
  sub.back() = 0x40;
  in = sub;
  EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
}

TEST(TopicCommandEncodingTest, DeliveredFlagOtherThanZeroOrOneIsCorruption) {
  Command results = TopicCmd(CommandType::kPushResults, "t", "s");
  results.push_results = {{5, true, 0}};
  std::string bytes = Encode(results);
  bytes[bytes.size() - 2] = 2;  // [msg id 05][delivered][next attempt 00]
  std::string_view in = bytes;
  EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
}

TEST(TopicCommandEncodingTest, HugeCountsAreCorruptionWithoutAllocating) {
  for (CommandType type : {CommandType::kPublishMessages, CommandType::kPushResults}) {
    std::string bytes = Encode(TopicCmd(type, "t", "s"));
    // Cut the count 0 (push results), or the body count, tag count and routing key.
    bytes.resize(bytes.size() - (type == CommandType::kPushResults ? 1 : 3));
    bytes.append("\xff\xff\xff\xff\xff\xff\x0f");
    std::string_view in = bytes;
    EXPECT_EQ(DecodeCommand(in).status().code(), ErrorCode::kCorruption);
  }
}

TEST(TopicCommandEncodingTest, RandomAndMutatedBytesNeverCrash) {
  std::mt19937_64 rng(11);
  int decoded = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty()) bytes[0] = static_cast<char>(9 + rng() % 9);
    std::string_view in = bytes;
    Result<Command> cmd = DecodeCommand(in);
    if (cmd.ok()) {
      ++decoded;
    } else {
      EXPECT_EQ(cmd.status().code(), ErrorCode::kCorruption);
    }
  }
  EXPECT_GT(decoded, 0);
  for (const Command& cmd : OneOfEachTopicType()) {
    std::string bytes = Encode(cmd);
    for (int i = 0; i < 500; ++i) {
      std::string mutated = bytes;
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
      std::string_view in = mutated;
      Result<Command> result = DecodeCommand(in);
      if (!result.ok()) {
        EXPECT_EQ(result.status().code(), ErrorCode::kCorruption);
      }
    }
  }
}

// The byte-by-byte example of docs/command-format.md.
TEST(TopicCommandEncodingTest, MatchesTheDocumentedExample) {
  Command publish = TopicCmd(CommandType::kPublishMessages, "t");
  publish.bodies = {"hi"};
  publish.msg_tags = {"a"};
  publish.routing_key = "k";
  EXPECT_EQ(Encode(publish), std::string("\x0c\x01t\x01\x02hi\x01\x01"
                                         "a\x01k",
                                         12));
}

}  // namespace
}  // namespace cmq::mq
