// The filtering rules of spec §10.5: tags (filterType 1) and routing keys (filterType 2),
// first as functions, then through publishes.
#include "mq/topic_match.h"

#include <gtest/gtest.h>

#include "unit/mq/harness.h"

namespace cmq::mq {
namespace {

using testing::Harness;
using StringList = std::vector<std::string>;

TEST(TagMatchTest, NoFilterTagsGetEverything) {
  EXPECT_TRUE(TagsMatch({}, {}));
  EXPECT_TRUE(TagsMatch({}, {"a"}));
}

TEST(TagMatchTest, FilterTagsNeedAnIntersection) {
  EXPECT_TRUE(TagsMatch({"a", "b"}, {"c", "b"}));
  EXPECT_FALSE(TagsMatch({"a", "b"}, {"c", "d"}));
  EXPECT_FALSE(TagsMatch({"a"}, {"A"}));  // tags compare exactly
}

TEST(TagMatchTest, AMessageWithoutTagsReachesOnlyTaglessSubscriptions) {
  EXPECT_FALSE(TagsMatch({"a"}, {}));
  EXPECT_TRUE(TagsMatch({}, {}));
}

struct KeyCase {
  const char* binding;
  const char* routing;
  bool match;
};

TEST(RoutingKeyMatchTest, EdgeCases) {
  const KeyCase cases[] = {
      {"#", "", true},
      {"#", "a", true},
      {"#", "a.b.c", true},
      {"#", "..", true},
      {"a.#", "a", true},
      {"a.#", "a.b.c", true},
      {"a.#", "b.a", false},
      {"#.a", "a", true},
      {"#.a", "x.y.a", true},
      {"#.a", "a.x", false},
      {"a.#.b", "a.b", true},
      {"a.#.b", "a.x.y.b", true},
      {"a.#.b", "a.x.y", false},
      {"#.#", "", true},
      {"#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", true},
      {"*", "a", true},
      {"*", "", false},   // the empty key has zero words
      {"*", ".", false},  // '*' is one non-empty word
      {"a.*", "a.", false},
      {"a.*", "a", false},
      {"a.*", "a.b", true},
      {"*.*", "a.b", true},
      {"*.*", "a.b.c", false},
      {"*.#", "", false},
      {"*.#", "a.b.c", true},
      {"a", "a", true},
      {"a", "A", false},
      {"a", "", false},
      {"a..b", "a..b", true},  // a literal empty word matches itself
      {"a.b", "a.b.c", false},
      {"1.*.0", "1.x.0", true},  // spec examples
      {"1.#.0", "1.2.3.4.4.2.2.0", true},
      {"1.#.0", "1.0", true},
      {"1.*.0", "1.0", false},
      {"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", true},
      {"*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", true},
      {"*.*.*.*.*.*.*.*.*.*.*.*.*.*.*", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", false},
  };
  for (const KeyCase& c : cases) {
    EXPECT_EQ(RoutingKeyMatches(c.binding, c.routing), c.match)
        << "'" << c.binding << "' vs '" << c.routing << "'";
  }
}

TEST(RoutingKeyMatchTest, NoBindingKeysGetEverythingAndAnyKeyMayMatch) {
  EXPECT_TRUE(BindingKeysMatch({}, ""));
  EXPECT_TRUE(BindingKeysMatch({}, "x.y"));
  EXPECT_TRUE(BindingKeysMatch({"a", "x.*"}, "x.y"));
  EXPECT_FALSE(BindingKeysMatch({"a", "x"}, "x.y"));
}

TEST(RoutingKeyValidationTest, SixteenWordsAtMostSixtyFourBytes) {
  EXPECT_TRUE(ValidateRoutingKey("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", "routingKey", true).ok());
  EXPECT_FALSE(ValidateRoutingKey("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", "routingKey", true).ok());
  EXPECT_TRUE(ValidateRoutingKey(std::string(64, 'a'), "routingKey", true).ok());
  EXPECT_FALSE(ValidateRoutingKey(std::string(65, 'a'), "routingKey", true).ok());
  EXPECT_TRUE(ValidateRoutingKey("", "routingKey", true).ok());
  EXPECT_FALSE(ValidateRoutingKey("", "bindingKey", false).ok());
}

// Through the state machine: which of a topic's queue subscriptions get a publish.
class PublishRoutingTest : public ::testing::Test {
 protected:
  // Subscribes one queue per filter list; returns the names of the queues that got it.
  StringList Reached(int64_t filter_type, const std::vector<StringList>& filters,
                     const StringList& tags, const std::string& routing_key,
                     ErrorCode expected = ErrorCode::kOk) {
    Harness h;
    h.CreateTopic("t", filter_type);
    for (size_t i = 0; i < filters.size(); ++i) {
      std::string q = testing::NumberedName(i);
      h.Create(q);
      ApplyResult r = filter_type == 1 ? h.Subscribe("t", q, "queue", q, filters[i])
                                       : h.Subscribe("t", q, "queue", q, {}, filters[i]);
      EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    }
    ApplyResult r = h.Publish("t", {"m"}, tags, routing_key);
    EXPECT_EQ(r.status.code(), expected) << r.status.ToString();
    return r.queues_fed;
  }
};

TEST_F(PublishRoutingTest, TagsSelectSubscriptions) {
  std::vector<StringList> filters = {{}, {"a"}, {"b", "c"}};
  EXPECT_EQ(Reached(1, filters, {}, ""), StringList({"q0"}));
  EXPECT_EQ(Reached(1, filters, {"a"}, ""), StringList({"q0", "q1"}));
  EXPECT_EQ(Reached(1, filters, {"c", "a"}, ""), StringList({"q0", "q1", "q2"}));
  EXPECT_EQ(Reached(1, filters, {"z"}, "ignored.on.type.1"), StringList({"q0"}));
}

TEST_F(PublishRoutingTest, BindingKeysSelectSubscriptions) {
  std::vector<StringList> filters = {{"#"}, {"a.*"}, {"a.#.b", "x"}, {}};
  EXPECT_EQ(Reached(2, filters, {}, ""), StringList({"q0", "q3"}));
  EXPECT_EQ(Reached(2, filters, {}, "a.z"), StringList({"q0", "q1", "q3"}));
  EXPECT_EQ(Reached(2, filters, {"tags-are-ignored"}, "a.q.r.b"), StringList({"q0", "q2", "q3"}));
}

TEST_F(PublishRoutingTest, NoMatchIsAnErrorAndNoSubscriptionAnother) {
  Reached(1, {{"a"}}, {"b"}, "", ErrorCode::kNoMatchingSubscription);
  Reached(2, {{"a"}}, {}, "b", ErrorCode::kNoMatchingSubscription);
  Reached(1, {}, {}, "", ErrorCode::kTopicNoSubscription);
}

}  // namespace
}  // namespace cmq::mq
