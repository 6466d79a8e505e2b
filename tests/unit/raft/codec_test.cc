#include "raft/codec.h"

#include <gtest/gtest.h>

#include "raft/conf_change.h"
#include "raft/rand.h"

namespace cmq::raft {
namespace {

Message FullMessage() {
  Message m;
  m.type = MessageType::kSnap;
  m.from = 1;
  m.to = 300;
  m.term = 1ULL << 40;
  m.log_term = 7;
  m.index = 123456789;
  m.commit = 99;
  m.reject = true;
  m.reject_hint = 42;
  m.context = std::string("ctx\0x", 5);
  m.entries = {Entry{7, 5, EntryType::kNormal, MakePayload("hello")},
               Entry{7, 6, EntryType::kConfChange,
                     MakePayload(EncodeConfChange({ConfChangeType::kAddLearner, 4}))},
               Entry{7, 7, EntryType::kNormal, nullptr}};
  m.snapshot = Snapshot{SnapshotMeta{100, 6, ConfState{{1, 2, 3}, {9}}}, MakePayload("image")};
  return m;
}

void ExpectEqual(const Message& a, const Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.log_term, b.log_term);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.reject, b.reject);
  EXPECT_EQ(a.reject_hint, b.reject_hint);
  EXPECT_EQ(a.context, b.context);
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    EXPECT_EQ(a.entries[i].term, b.entries[i].term);
    EXPECT_EQ(a.entries[i].index, b.entries[i].index);
    EXPECT_EQ(a.entries[i].type, b.entries[i].type);
    EXPECT_EQ(a.entries[i].data_view(), b.entries[i].data_view());
  }
  ASSERT_EQ(a.snapshot.has_value(), b.snapshot.has_value());
  if (a.snapshot) {
    EXPECT_EQ(a.snapshot->meta, b.snapshot->meta);
    EXPECT_EQ(*a.snapshot->data, *b.snapshot->data);
  }
}

TEST(Codec, RoundTripsEveryField) {
  Message m = FullMessage();
  auto decoded = DecodeMessage(EncodeMessage(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectEqual(m, *decoded);
}

TEST(Codec, RoundTripsEveryMessageType) {
  for (uint8_t t = 1; t <= kMaxMessageType; ++t) {
    Message m;
    m.type = static_cast<MessageType>(t);
    m.from = 2;
    m.to = 3;
    auto decoded = DecodeMessage(EncodeMessage(m));
    ASSERT_TRUE(decoded.ok());
    ExpectEqual(m, *decoded);
  }
}

TEST(Codec, RejectsEveryTruncation) {
  std::string bytes = EncodeMessage(FullMessage());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeMessage(bytes.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(Codec, RejectsTrailingBytesUnknownVersionTypeAndFlags) {
  std::string bytes = EncodeMessage(FullMessage());
  EXPECT_FALSE(DecodeMessage(bytes + "x").ok());
  std::string bad_version = bytes;
  bad_version[0] = 2;
  EXPECT_FALSE(DecodeMessage(bad_version).ok());
  std::string bad_type = bytes;
  bad_type[1] = 0;
  EXPECT_FALSE(DecodeMessage(bad_type).ok());
  bad_type[1] = static_cast<char>(kMaxMessageType + 1);
  EXPECT_FALSE(DecodeMessage(bad_type).ok());
}

TEST(Codec, RejectsHugeCountsWithoutAllocating) {
  Message m;
  m.from = 1;
  m.to = 2;
  std::string bytes = EncodeMessage(m);
  // Replace the trailing entry count (0) with a huge varint.
  bytes.pop_back();
  for (int i = 0; i < 9; ++i) bytes.push_back(static_cast<char>(0xff));
  bytes.push_back(0x01);
  EXPECT_FALSE(DecodeMessage(bytes).ok());
}

TEST(Codec, NeverCrashesOnRandomOrMutatedInput) {
  Prng prng(42);
  const std::string valid = EncodeMessage(FullMessage());
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    if (round % 2 == 0) {
      bytes.resize(prng.Below(64));
      for (char& c : bytes) c = static_cast<char>(prng.Next());
      if (!bytes.empty()) bytes[0] = static_cast<char>(kCodecVersion);
    } else {
      bytes = valid;
      for (int flips = 0; flips < 3; ++flips) {
        bytes[prng.Below(bytes.size())] = static_cast<char>(prng.Next());
      }
    }
    auto decoded = DecodeMessage(bytes);  // must return, never crash or over-read (ASan)
    if (decoded.ok()) {
      EXPECT_LE(decoded->entries.size(), bytes.size());
    }
  }
}

TEST(ConfChangeCodec, RoundTripAndGarbage) {
  for (auto type : {ConfChangeType::kAddVoter, ConfChangeType::kRemoveNode,
                    ConfChangeType::kAddLearner, ConfChangeType::kPromoteLearner}) {
    ConfChange cc{type, 77};
    auto decoded = DecodeConfChange(EncodeConfChange(cc));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, cc);
  }
  EXPECT_FALSE(DecodeConfChange("").ok());
  EXPECT_FALSE(DecodeConfChange(std::string("\x01\x09\x01", 3)).ok());  // unknown type
  EXPECT_FALSE(DecodeConfChange(std::string("\x01\x00\x00", 3)).ok());  // node 0
  EXPECT_FALSE(DecodeConfChange(EncodeConfChange({ConfChangeType::kAddVoter, 1}) + "x").ok());
}

TEST(ConfChangeCodec, ContextTravelsInVersionTwo) {
  ConfChange cc{ConfChangeType::kAddLearner, 4, "10.0.0.4:7001"};
  std::string encoded = EncodeConfChange(cc);
  EXPECT_EQ(encoded[0], 2);
  auto decoded = DecodeConfChange(encoded);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, cc);
  // Without a context the old version 1 is written, byte for byte as before.
  EXPECT_EQ(EncodeConfChange({ConfChangeType::kAddLearner, 4}), std::string("\x01\x02\x04", 3));
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_FALSE(DecodeConfChange(encoded.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeConfChange(encoded + "x").ok());
  EXPECT_FALSE(DecodeConfChange(std::string("\x02\x02\x04\x00", 4)).ok());  // empty context
}

TEST(ConfChangeRules, OneServerAtATimeValidation) {
  ConfState cs{{1, 2, 3}, {4}};
  EXPECT_TRUE(ValidateConfChange(cs, {ConfChangeType::kAddVoter, 5}).ok());
  EXPECT_FALSE(ValidateConfChange(cs, {ConfChangeType::kAddVoter, 4}).ok());
  EXPECT_FALSE(ValidateConfChange(cs, {ConfChangeType::kAddVoter, 1}).ok());
  EXPECT_TRUE(ValidateConfChange(cs, {ConfChangeType::kPromoteLearner, 4}).ok());
  EXPECT_FALSE(ValidateConfChange(cs, {ConfChangeType::kPromoteLearner, 3}).ok());
  EXPECT_FALSE(ValidateConfChange(cs, {ConfChangeType::kRemoveNode, 9}).ok());
  EXPECT_FALSE(ValidateConfChange(ConfState{{1}, {}}, {ConfChangeType::kRemoveNode, 1}).ok());
  EXPECT_EQ(ApplyConfChange(cs, {ConfChangeType::kPromoteLearner, 4}),
            (ConfState{{1, 2, 3, 4}, {}}));
  EXPECT_EQ(ApplyConfChange(cs, {ConfChangeType::kRemoveNode, 4}), (ConfState{{1, 2, 3}, {}}));
}

}  // namespace
}  // namespace cmq::raft
