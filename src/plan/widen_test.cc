#include "plan/widen.h"

#include <gtest/gtest.h>

namespace moat::plan {
namespace {

SgRule R(const char* cidr, int port = 5432) { return {6, port, port, *net::ParsePrefix(cidr), "moat r1"}; }

std::vector<SgRule> EveryOther(int n) {
  std::vector<SgRule> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(R(("10.9.0." + std::to_string(2 * i)).c_str()));
  return out;
}

TEST(WidenTest, NoBudgetNeverWidens) {
  const Widened w = Widen(EveryOther(10), 2, 0);
  EXPECT_EQ(w.rules.size(), 10u);
  EXPECT_TRUE(w.widenings.empty());
}

TEST(WidenTest, FittingRulesAreLeftExact) {
  const Widened w = Widen(EveryOther(10), 60, 1000);
  EXPECT_EQ(w.rules.size(), 10u);
  EXPECT_EQ(w.extra, 0u);
}

TEST(WidenTest, CheapestWideningsFirstWithinTheBudget) {
  // 10.9.0.0, .2, .4, .6 into 2 rules: +2 for the first /30, then +2 more (a second /30, or the
  // /29 over everything, which costs the same).
  const Widened w = Widen(EveryOther(4), 2, 10);
  EXPECT_LE(w.rules.size(), 2u);
  EXPECT_EQ(w.extra, 4u);
  ASSERT_EQ(w.widenings.size(), 2u);
  EXPECT_EQ(w.widenings[0].extra, 2u);
  EXPECT_EQ(w.rules[0].description, "moat widened r1");
  for (const SgRule& original : EveryOther(4)) {  // still admitted
    EXPECT_TRUE(std::any_of(w.rules.begin(), w.rules.end(), [&](const SgRule& r) {
      net::AddressSet s;
      s.Add(r.cidr);
      return s.Contains(original.cidr.base);
    }));
  }
}

TEST(WidenTest, BudgetRunsOutAndTheRestStaysExact) {
  const Widened w = Widen(EveryOther(4), 1, 2);  // one /30 (+2), then nothing more is affordable
  EXPECT_EQ(w.rules.size(), 3u);
  EXPECT_EQ(w.extra, 2u);
}

TEST(WidenTest, OnlyRulesOfTheSamePortsMerge) {
  const Widened w = Widen({R("10.9.0.0", 5432), R("10.9.0.1", 5433)}, 1, 1000);
  EXPECT_EQ(w.rules.size(), 2u);
  EXPECT_TRUE(w.widenings.empty());
}

TEST(WidenTest, ReportNamesWhatWasWidened) {
  const Widened w = Widen({R("10.9.0.0"), R("10.9.0.2")}, 1, 5);
  ASSERT_EQ(w.widenings.size(), 1u);
  EXPECT_EQ(DescribeWidening(w.widenings[0]), "tcp 5432: 10.9.0.0/32, 10.9.0.2/32 -> 10.9.0.0/30 (+2 addresses)");
}

TEST(WidenTest, IPv6FamiliesCountSeparately) {
  std::vector<SgRule> rules = EveryOther(2);
  rules.push_back(R("2001:db8::/64"));
  rules.push_back(R("2001:db8:0:2::/64"));
  const Widened w = Widen(rules, 2, 10);
  EXPECT_EQ(w.rules.size(), 4u);  // two of each family fit
}

}  // namespace
}  // namespace moat::plan
