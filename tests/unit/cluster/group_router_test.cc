// The list helpers of cluster/group_router.h used to merge several data groups' List*
// answers: MergePage (the page of the union, in case-insensitive name order) and PrefixFor
// (what each group is asked for, saturated).

#include "cluster/group_router.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace cmq::cluster {
namespace {

// Items named after names, with ids "id:<name>".
NamedItems Items(std::initializer_list<const char*> names) {
  NamedItems out;
  for (const char* n : names) out.emplace_back(std::string("id:") + n, n);
  return out;
}

std::vector<std::string> NamesOf(const NamedItems& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.second);
  return out;
}

TEST(MergePageTest, InterleavedPartsMergeInNameOrder) {
  std::vector<NamedItems> parts = {Items({"a", "d", "g"}), Items({"b", "e", "h"}),
                                   Items({"c", "f"})};
  auto page = MergePage(parts, 0, 100);
  EXPECT_EQ(NamesOf(page), (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g", "h"}));
  // Ids stay with their names.
  for (const auto& [id, name] : page) EXPECT_EQ(id, "id:" + name);
}

TEST(MergePageTest, OrderIgnoresCase) {
  // Byte order would put "C" (0x43) before "b" (0x62).
  auto page = MergePage({Items({"C", "e"}), Items({"b", "D"}), Items({"A"})}, 0, 10);
  EXPECT_EQ(NamesOf(page), (std::vector<std::string>{"A", "b", "C", "D", "e"}));
  // Names keep their case.
  EXPECT_EQ(page[2], (std::pair<std::string, std::string>{"id:C", "C"}));
}

TEST(MergePageTest, OffsetAndLimitApplyToTheUnion) {
  std::vector<NamedItems> parts = {Items({"a", "d", "g"}), Items({"b", "e"}), Items({"c", "f"})};
  EXPECT_EQ(NamesOf(MergePage(parts, 2, 3)), (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_EQ(NamesOf(MergePage(parts, 0, 1)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(NamesOf(MergePage(parts, 5, 10)), (std::vector<std::string>{"f", "g"}));
  EXPECT_EQ(NamesOf(MergePage(parts, 6, 1)), (std::vector<std::string>{"g"}));
}

TEST(MergePageTest, OffsetAtOrPastTheEndIsEmpty) {
  std::vector<NamedItems> parts = {Items({"a"}), Items({"b"})};
  EXPECT_TRUE(MergePage(parts, 2, 5).empty());
  EXPECT_TRUE(MergePage(parts, 1000, 5).empty());
  EXPECT_TRUE(MergePage(parts, UINT64_MAX, UINT64_MAX).empty());
  EXPECT_TRUE(MergePage(parts, 0, 0).empty());
}

TEST(MergePageTest, EmptyAndMissingPartsAreFine) {
  EXPECT_TRUE(MergePage({}, 0, 10).empty());
  EXPECT_EQ(NamesOf(MergePage({{}, Items({"x", "y"}), {}}, 1, 10)),
            (std::vector<std::string>{"y"}));
}

TEST(MergePageTest, HugeLimitIsNotAnAllocation) {
  // A limit of UINT64_MAX (offset + limit saturated) takes what there is.
  EXPECT_EQ(NamesOf(MergePage({Items({"b"}), Items({"a"})}, 0, UINT64_MAX)),
            (std::vector<std::string>{"a", "b"}));
}

TEST(PrefixForTest, IsOffsetPlusLimitSaturated) {
  EXPECT_EQ(PrefixFor(0, 20), 20u);
  EXPECT_EQ(PrefixFor(2, 3), 5u);
  EXPECT_EQ(PrefixFor(UINT64_MAX - 5, 5), UINT64_MAX);
  EXPECT_EQ(PrefixFor(UINT64_MAX - 5, 6), UINT64_MAX);  // would wrap to 0
  EXPECT_EQ(PrefixFor(UINT64_MAX, 1), UINT64_MAX);
  EXPECT_EQ(PrefixFor(uint64_t{INT64_MAX}, 50), uint64_t{INT64_MAX} + 50);
  EXPECT_EQ(PrefixFor(UINT64_MAX, UINT64_MAX), UINT64_MAX);
}

}  // namespace
}  // namespace cmq::cluster
