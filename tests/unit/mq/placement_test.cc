// Placement of names on data groups: pinned values (a change would move the queues of every
// running cluster), case folding, range, and an even spread.
#include "mq/placement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cmq::mq {
namespace {

// If one of these fails, placement changed: existing clusters would look for their queues
// in the wrong groups. Do not update the numbers; restore the function.
TEST(PlacementTest, PinnedValues) {
  struct Case {
    const char* name;
    uint32_t g2, g3, g5, g16;
  };
  for (const Case& c : std::vector<Case>{{"orders", 2, 1, 5, 12},
                                         {"payments", 2, 3, 5, 14},
                                         {"q", 1, 2, 4, 7},
                                         {"topic-a", 2, 2, 5, 4},
                                         {"a", 2, 2, 5, 16},
                                         {"queue_0001", 2, 1, 2, 8}}) {
    EXPECT_EQ(GroupOfName(c.name, 2), c.g2) << c.name;
    EXPECT_EQ(GroupOfName(c.name, 3), c.g3) << c.name;
    EXPECT_EQ(GroupOfName(c.name, 5), c.g5) << c.name;
    EXPECT_EQ(GroupOfName(c.name, 16), c.g16) << c.name;
  }
}

// tests/fault/run.py publishes to topic "fault-topic" subscribed by queue "fault" so that
// its copies cross data groups (3 groups, the default): they must stay apart.
TEST(PlacementTest, TheFaultHarnessTopicAndQueueLiveInDifferentGroups) {
  EXPECT_EQ(GroupOfName("fault", 3), 3u);
  EXPECT_EQ(GroupOfName("fault-topic", 3), 2u);
}

TEST(PlacementTest, NamesFoldCaseLikeNameKey) {
  for (uint32_t n : {2u, 3u, 7u, 64u}) {
    EXPECT_EQ(GroupOfName("Orders", n), GroupOfName("orders", n));
    EXPECT_EQ(GroupOfName("ORDERS_Q-1", n), GroupOfName("orders_q-1", n));
  }
}

TEST(PlacementTest, OneGroupHoldsEverything) {
  for (const char* name : {"orders", "payments", "q", ""}) {
    EXPECT_EQ(GroupOfName(name, 0), 1u);
    EXPECT_EQ(GroupOfName(name, 1), 1u);
    // Whatever the id of the single group.
    EXPECT_TRUE(IsPlacedOn(name, 7, 1));
    EXPECT_TRUE(IsPlacedOn(name, 0, 0));
  }
  EXPECT_TRUE(IsPlacedOn("orders", 1, 3));
  EXPECT_FALSE(IsPlacedOn("orders", 2, 3));
}

TEST(PlacementTest, SpreadsNamesEvenlyInRange) {
  std::vector<uint32_t> count(4, 0);
  for (int i = 0; i < 10'000; ++i) {
    std::string name = "queue-";
    name.append(std::to_string(i));
    uint32_t g = GroupOfName(name, 3);
    ASSERT_GE(g, 1u);
    ASSERT_LE(g, 3u);
    ++count[g];
  }
  for (uint32_t g = 1; g <= 3; ++g) {
    EXPECT_GE(count[g], 2'500u) << "group " << g;
    EXPECT_LE(count[g], 4'200u) << "group " << g;
  }
}

}  // namespace
}  // namespace cmq::mq
