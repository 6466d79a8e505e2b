// The topic catalog and subscription settings: names, limits, attributes, listing, deletion.
#include <gtest/gtest.h>

#include "mq/limits.h"
#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using testing::NumberedName;
using testing::TopicCmd;
using StringList = std::vector<std::string>;
using OptionalStrings = std::optional<StringList>;

SubscriptionUpdate Update(std::optional<std::string> protocol,
                          std::optional<std::string> endpoint = std::nullopt,
                          std::optional<std::string> strategy = std::nullopt,
                          std::optional<std::string> format = std::nullopt,
                          OptionalStrings tags = std::nullopt,
                          OptionalStrings keys = std::nullopt) {
  SubscriptionUpdate u;
  u.protocol = std::move(protocol);
  u.endpoint = std::move(endpoint);
  u.notify_strategy = std::move(strategy);
  u.notify_content_format = std::move(format);
  u.filter_tags = std::move(tags);
  u.binding_keys = std::move(keys);
  return u;
}

TEST(TopicCatalogTest, CreateGivesDefaultsAndAnIdThatIsNeverReused) {
  Harness h;
  ApplyResult r = h.CreateTopic("News");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.topic_id.rfind("topic-", 0), 0u);
  Result<TopicInfo> info = h.sm.GetTopic("news", h.now_ms);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->topic_id, r.topic_id);
  EXPECT_EQ(info->topic_name, "News");
  EXPECT_EQ(info->max_msg_size, 65'536);
  EXPECT_EQ(info->msg_retention_seconds, 86'400);
  EXPECT_EQ(info->filter_type, 1);
  EXPECT_EQ(info->create_time_s, h.now_ms / 1000);
  EXPECT_EQ(info->msg_count, 0u);
  ASSERT_TRUE(h.Apply(TopicCmd(CommandType::kDeleteTopic, "NEWS")).status.ok());
  EXPECT_EQ(h.sm.GetTopic("news", h.now_ms).status().code(), ErrorCode::kTopicNotExist);
  ApplyResult again = h.CreateTopic("news");
  EXPECT_NE(again.topic_id, r.topic_id);
}

TEST(TopicCatalogTest, NamesAreUniqueCaseInsensitivelyAndApartFromQueues) {
  Harness h;
  ASSERT_TRUE(h.Create("same").status.ok());
  ASSERT_TRUE(h.CreateTopic("same").status.ok());
  EXPECT_EQ(h.CreateTopic("SAME").status.code(), ErrorCode::kTopicExists);
  EXPECT_TRUE(h.sm.QueueExists("same"));
}

TEST(TopicCatalogTest, BadNamesAndAttributesAreRefusedNamingTheParameter) {
  Harness h;
  for (const std::string& name : {std::string(""), std::string("1abc"), std::string("a b"),
                                  std::string(65, 'a'), std::string("a.b")}) {
    ApplyResult r = h.CreateTopic(name);
    EXPECT_EQ(r.status.code(), ErrorCode::kInvalidArgument) << name;
    EXPECT_NE(r.status.message().find("topicName"), std::string::npos);
  }
  EXPECT_TRUE(h.CreateTopic(std::string(64, 'a')).status.ok());
  EXPECT_TRUE(h.CreateTopic("a-b_9").status.ok());
  for (int64_t size : {1023, 1'048'577, 0, -1}) {
    ApplyResult r = h.CreateTopic("t", std::nullopt, size);
    EXPECT_NE(r.status.message().find("maxMsgSize"), std::string::npos) << size;
  }
  for (int64_t type : {0, 3, -1}) {
    EXPECT_NE(h.CreateTopic("t", type).status.message().find("filterType"), std::string::npos);
  }
  EXPECT_TRUE(h.CreateTopic("t", 2, 1024).status.ok());
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->filter_type, 2);
}

TEST(TopicCatalogTest, AtMostAThousandTopics) {
  Harness h;
  h.keep_payloads = false;
  for (uint64_t i = 0; i < kMaxTopics; ++i) ASSERT_TRUE(h.CreateTopic(NumberedName(i)).status.ok());
  EXPECT_EQ(h.CreateTopic("one-more").status.code(), ErrorCode::kTopicLimitReached);
  EXPECT_EQ(h.CreateTopic("q1").status.code(), ErrorCode::kTopicExists);  // checked first
}

TEST(TopicCatalogTest, SetAttributesChangesMaxMsgSizeOnlyAndKeepsFilterType) {
  Harness h;
  ASSERT_TRUE(h.CreateTopic("t", 2).status.ok());
  h.now_ms += 5'000;
  Command set = TopicCmd(CommandType::kSetTopicAttributes, "t");
  set.topic_max_msg_size = 2048;
  ASSERT_TRUE(h.Apply(set).status.ok());
  Result<TopicInfo> info = h.sm.GetTopic("t", h.now_ms);
  EXPECT_EQ(info->max_msg_size, 2048);
  EXPECT_EQ(info->last_modify_time_s, h.now_ms / 1000);
  EXPECT_EQ(info->filter_type, 2);
  set.topic_max_msg_size = 100;
  EXPECT_EQ(h.Apply(set).status.code(), ErrorCode::kInvalidArgument);
  set.topic_max_msg_size.reset();
  set.topic_filter_type = 1;
  EXPECT_NE(h.Apply(set).status.message().find("filterType"), std::string::npos);
  EXPECT_EQ(h.sm.GetTopic("t", h.now_ms)->max_msg_size, 2048);
  EXPECT_EQ(h.Apply(TopicCmd(CommandType::kSetTopicAttributes, "nope")).status.code(),
            ErrorCode::kTopicNotExist);
}

TEST(TopicCatalogTest, ListSearchesCaseInsensitivelyInNameOrderAndPages) {
  Harness h;
  for (const char* name : {"beta", "Alpha", "alphabet", "gamma"}) h.CreateTopic(name);
  TopicListing all = h.sm.ListTopics("", 0, 10);
  ASSERT_EQ(all.total_count, 4u);
  EXPECT_EQ(all.topics[0].second, "Alpha");
  EXPECT_EQ(all.topics[3].second, "gamma");
  TopicListing alpha = h.sm.ListTopics("ALPHA", 1, 10);
  EXPECT_EQ(alpha.total_count, 2u);
  ASSERT_EQ(alpha.topics.size(), 1u);
  EXPECT_EQ(alpha.topics[0].second, "alphabet");
  EXPECT_EQ(h.sm.ListTopics("", 2, 1).topics.at(0).second, "beta");
  EXPECT_TRUE(h.sm.ListTopics("", 9, 5).topics.empty());
}

TEST(TopicCatalogTest, DeleteIsRefusedWhileSubscriptionsExist) {
  Harness h;
  h.CreateTopic("t");
  ASSERT_TRUE(h.Subscribe("t", "s", "http", "http://x/").status.ok());
  EXPECT_EQ(h.Apply(TopicCmd(CommandType::kDeleteTopic, "t")).status.code(),
            ErrorCode::kTopicHasSubscriptions);
  ASSERT_TRUE(h.Apply(TopicCmd(CommandType::kUnsubscribe, "t", "S")).status.ok());
  EXPECT_TRUE(h.Apply(TopicCmd(CommandType::kDeleteTopic, "t")).status.ok());
  EXPECT_EQ(h.Apply(TopicCmd(CommandType::kDeleteTopic, "t")).status.code(),
            ErrorCode::kTopicNotExist);
}

TEST(SubscriptionTest, SubscribeGivesDefaultsAndAnId) {
  Harness h;
  h.CreateTopic("t");
  h.Create("q");
  ApplyResult r = h.Subscribe("t", "Sub", "queue", "Q");
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.subscription_id.rfind("subscription-", 0), 0u);
  SubscriptionInfo s = h.SubInfo("T", "sub");
  EXPECT_EQ(s.subscription_id, r.subscription_id);
  EXPECT_EQ(s.subscription_name, "Sub");
  EXPECT_EQ(s.topic_name, "t");
  EXPECT_EQ(s.protocol, "queue");
  EXPECT_EQ(s.endpoint, "Q");
  EXPECT_EQ(s.notify_strategy, "EXPONENTIAL_DECAY_RETRY");
  EXPECT_EQ(s.notify_content_format, "JSON");  // accepted for queues too (spec §10.6)
  EXPECT_TRUE(s.filter_tags.empty());
  EXPECT_TRUE(s.binding_keys.empty());
  EXPECT_EQ(s.msg_count, 0u);
  EXPECT_EQ(h.Subscribe("t", "SUB", "http", "http://a/").status.code(),
            ErrorCode::kSubscriptionExists);
  EXPECT_EQ(h.Subscribe("nope", "s", "http", "http://a/").status.code(), ErrorCode::kTopicNotExist);
  EXPECT_EQ(h.sm.GetSubscription("t", "x", 0).status().code(), ErrorCode::kSubscriptionNotExist);
  EXPECT_EQ(h.sm.GetSubscription("x", "s", 0).status().code(), ErrorCode::kTopicNotExist);
}

// Each bad setting, and the parameter its message must name.
TEST(SubscriptionTest, EveryParameterIsValidated) {
  Harness h;
  h.CreateTopic("t");
  h.Create("q");
  struct Case {
    SubscriptionUpdate update;
    const char* parameter;
  };
  std::vector<Case> cases = {
      {Update("smtp", "x"), "protocol"},
      {Update(std::nullopt, "q"), "protocol"},
      {Update("queue", std::nullopt), "endpoint"},
      {Update("queue", "1q"), "endpoint"},
      {Update("http", "ftp://x"), "endpoint"},
      {Update("http", "http://a b"), "endpoint"},
      {Update("http", "http://x\t"), "endpoint"},
      {Update("http", "http://" + std::string(494, 'a')), "endpoint"},
      {Update("http", "HTTP://x"), "endpoint"},
      {Update("http", "http://x", "RETRY"), "notifyStrategy"},
      {Update("http", "http://x", std::nullopt, "XML"), "notifyContentFormat"},
      {Update("http", "http://x", std::nullopt, std::nullopt,
              StringList{"a", "b", "c", "d", "e", "f"}),
       "filterTag"},
      {Update("http", "http://x", std::nullopt, std::nullopt, StringList{std::string(17, 't')}),
       "filterTag"},
      {Update("http", "http://x", std::nullopt, std::nullopt, StringList{""}), "filterTag"},
      {Update("http", "http://x", std::nullopt, std::nullopt, std::nullopt,
              StringList{"a", "b", "c", "d", "e", "f"}),
       "bindingKey"},
      {Update("http", "http://x", std::nullopt, std::nullopt, std::nullopt,
              StringList{std::string(65, 'k')}),
       "bindingKey"},
      {Update("http", "http://x", std::nullopt, std::nullopt, std::nullopt,
              StringList{"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q"}),
       "bindingKey"},
      {Update("http", "http://x", std::nullopt, std::nullopt, std::nullopt, StringList{""}),
       "bindingKey"},
  };
  for (const Case& c : cases) {
    Command cmd = TopicCmd(CommandType::kSubscribe, "t", "s");
    cmd.subscription = c.update;
    ApplyResult r = h.Apply(cmd);
    EXPECT_EQ(r.status.code(), ErrorCode::kInvalidArgument) << c.parameter;
    EXPECT_NE(r.status.message().find(c.parameter), std::string::npos) << r.status.ToString();
  }
  EXPECT_NE(h.Subscribe("t", "9s", "queue", "q").status.message().find("subscriptionName"),
            std::string::npos);
  EXPECT_EQ(h.Subscribe("t", "s", "queue", "missing").status.code(), ErrorCode::kQueueNotExist);
  // The limits themselves are allowed.
  Command ok = TopicCmd(CommandType::kSubscribe, "t", "s");
  ok.subscription = Update("http", "https://" + std::string(492, 'a'), "BACKOFF_RETRY",
                           "SIMPLIFIED", StringList{"a", "b", "c", "d", std::string(16, 'e')},
                           StringList{"a", "b", "c", "d", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p"});
  ASSERT_TRUE(h.Apply(ok).status.ok()) << h.Apply(ok).status.ToString();
  SubscriptionInfo s = h.SubInfo("t", "s");
  EXPECT_EQ(s.notify_strategy, "BACKOFF_RETRY");
  EXPECT_EQ(s.notify_content_format, "SIMPLIFIED");
  EXPECT_EQ(s.filter_tags, ok.subscription.filter_tags);
  EXPECT_EQ(s.binding_keys, ok.subscription.binding_keys);
}

TEST(SubscriptionTest, AtMostAHundredPerTopic) {
  Harness h;
  h.CreateTopic("t");
  h.CreateTopic("u");
  for (uint64_t i = 0; i < kMaxSubscriptionsPerTopic; ++i) {
    ASSERT_TRUE(h.Subscribe("t", NumberedName(i), "http", "http://x/").status.ok());
  }
  EXPECT_EQ(h.Subscribe("t", "more", "http", "http://x/").status.code(),
            ErrorCode::kSubscriptionLimitReached);
  EXPECT_TRUE(h.Subscribe("u", "more", "http", "http://x/").status.ok());  // per topic
}

TEST(SubscriptionTest, SetReplacesPresentFieldsAndKeepsProtocolAndEndpoint) {
  Harness h;
  h.CreateTopic("t");
  ASSERT_TRUE(h.Subscribe("t", "s", "http", "http://x/", {"a"}, {"k"}).status.ok());
  h.now_ms += 3'000;
  Command set = TopicCmd(CommandType::kSetSubscriptionAttributes, "t", "s");
  set.subscription.notify_strategy = "BACKOFF_RETRY";
  set.subscription.filter_tags = std::vector<std::string>{"b", "c"};
  ASSERT_TRUE(h.Apply(set).status.ok());
  SubscriptionInfo s = h.SubInfo("t", "s");
  EXPECT_EQ(s.notify_strategy, "BACKOFF_RETRY");
  EXPECT_EQ(s.notify_content_format, "JSON");
  EXPECT_EQ(s.filter_tags, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(s.binding_keys, (std::vector<std::string>{"k"}));
  EXPECT_EQ(s.last_modify_time_s, h.now_ms / 1000);
  Command same = TopicCmd(CommandType::kSetSubscriptionAttributes, "t", "s");
  same.subscription.protocol = "http";
  same.subscription.endpoint = "http://x/";
  EXPECT_TRUE(h.Apply(same).status.ok());  // unchanged values are fine
  for (auto change : {Update("queue"), Update(std::nullopt, "http://y/")}) {
    Command bad = TopicCmd(CommandType::kSetSubscriptionAttributes, "t", "s");
    bad.subscription = change;
    EXPECT_EQ(h.Apply(bad).status.code(), ErrorCode::kInvalidArgument);
  }
  Command bad_tags = TopicCmd(CommandType::kSetSubscriptionAttributes, "t", "s");
  bad_tags.subscription.notify_content_format = "SIMPLIFIED";
  bad_tags.subscription.filter_tags = std::vector<std::string>(6, "x");
  EXPECT_EQ(h.Apply(bad_tags).status.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(h.SubInfo("t", "s").notify_content_format, "JSON");  // a failed set changes nothing
  ASSERT_TRUE(h.Apply(TopicCmd(CommandType::kClearSubscriptionFilterTags, "t", "S")).status.ok());
  EXPECT_TRUE(h.SubInfo("t", "s").filter_tags.empty());
  EXPECT_EQ(h.SubInfo("t", "s").binding_keys, (std::vector<std::string>{"k"}));
  EXPECT_EQ(h.Apply(TopicCmd(CommandType::kClearSubscriptionFilterTags, "t", "x")).status.code(),
            ErrorCode::kSubscriptionNotExist);
  EXPECT_EQ(h.Apply(TopicCmd(CommandType::kUnsubscribe, "t", "x")).status.code(),
            ErrorCode::kSubscriptionNotExist);
}

TEST(SubscriptionTest, ListSearchesAndPagesWithFullInfo) {
  Harness h;
  h.CreateTopic("t");
  for (const char* name : {"b-sub", "A-sub", "c"}) h.Subscribe("t", name, "http", "http://x/");
  Result<SubscriptionListing> all = h.sm.ListSubscriptions("t", "", 0, 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->total_count, 3u);
  EXPECT_EQ(all->subscriptions[0].subscription_name, "A-sub");
  EXPECT_EQ(all->subscriptions[0].endpoint, "http://x/");
  Result<SubscriptionListing> page = h.sm.ListSubscriptions("t", "SUB", 1, 1);
  EXPECT_EQ(page->total_count, 2u);
  ASSERT_EQ(page->subscriptions.size(), 1u);
  EXPECT_EQ(page->subscriptions[0].subscription_name, "b-sub");
  EXPECT_EQ(h.sm.ListSubscriptions("x", "", 0, 1).status().code(), ErrorCode::kTopicNotExist);
}

}  // namespace
}  // namespace cmq::mq
