#include "plan/plan.h"

#include <gtest/gtest.h>

namespace moat::plan {
namespace {

net::Prefix P(const char* s) { return *net::ParsePrefix(s); }

compile::AllowEntry Entry(int protocol, uint16_t from, uint16_t to,
                          const std::vector<std::pair<const char*, const char*>>& rules) {
  compile::AllowEntry e{protocol, {from, to}, {}, {}, {}};
  for (const auto& rule_prefix : rules) {
    const std::string rule = rule_prefix.first;
    net::AddressSet s;
    s.Add(P(rule_prefix.second));
    e.sources.Add(s);
    auto it = std::find_if(e.provenance.begin(), e.provenance.end(), [&](const auto& pv) { return pv.rule == rule; });
    if (it == e.provenance.end()) {
      e.provenance.push_back({rule, s});
    } else {
      it->sources.Add(s);
    }
  }
  return e;
}

SgRule R(int from, const char* cidr, int to = -2) { return {6, from, to == -2 ? from : to, P(cidr), ""}; }

TEST(PlanTest, DesiredRulesAreExactAndMergeAdjacentPortsOfOnePrefix) {
  compile::Target t;
  t.allow = {Entry(6, 5432, 5432, {{"r1", "10.0.1.20/32"}, {"r2", "10.0.1.21/32"}, {"r3", "192.168.0.0/25"}}),
             Entry(6, 5433, 5440, {{"r1", "10.0.1.20/31"}}), Entry(17, 53, 53, {{"r4", "2001:db8::/64"}}),
             Entry(-1, 0, 65535, {{"r5", "172.16.0.1/32"}})};
  const auto rules = DesiredRules(t);
  ASSERT_EQ(rules.size(), 4u);
  // 10.0.1.20/31 on 5432 (r1 and r2) and 5433-5440 (r1): one rule 5432-5440.
  EXPECT_EQ(rules[0], (SgRule{6, 5432, 5440, P("10.0.1.20/31"), ""}));
  EXPECT_EQ(rules[0].description, "moat r1 r2");
  EXPECT_EQ(rules[1], (SgRule{-1, -1, -1, P("172.16.0.1/32"), ""}));  // all traffic: no ports
  EXPECT_EQ(rules[2], (SgRule{6, 5432, 5432, P("192.168.0.0/25"), ""}));
  EXPECT_EQ(rules[3], (SgRule{17, 53, 53, P("2001:db8::/64"), ""}));
  EXPECT_TRUE(rules[3].v6());
}

TEST(PlanTest, DescriptionsKeepToAwsAlphabetAndLength) {
  EXPECT_EQ(SanitizeDescription("moat /orgs/1/sec_policy/active/rule_sets/24/sec_rules/61"),
            "moat /orgs/1/sec_policy/active/rule_sets/24/sec_rules/61");
  EXPECT_EQ(SanitizeDescription("é\"<x>'|\\"), "____x____");  // é is two bytes
  EXPECT_EQ(SanitizeDescription(std::string(300, 'a')).size(), 255u);
}

TEST(PlanTest, QuotasMustRespectTheProductLimit) {
  EXPECT_TRUE(Quotas{}.Validate());
  EXPECT_FALSE((Quotas{200, 6, 1000}).Validate());
  EXPECT_EQ((Quotas{200, 6, 1000}).Validate().error().message,
            "quotas: 200 rules per group x 6 groups per interface exceeds AWS's limit of 1000");
}

std::vector<SgRule> ManyRules(int n, const char* base = "10.1") {
  std::vector<SgRule> out;
  for (int i = 0; i < n; ++i) {
    const std::string cidr = std::string(base) + "." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "/32";
    out.push_back(R(5432, cidr.c_str()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PlanTest, PacksAcrossGroupsCountingFamiliesApart) {
  std::vector<SgRule> desired = ManyRules(130);
  for (int i = 0; i < 60; ++i) {
    desired.push_back({6, 5432, 5432, P(("2001:db8::" + std::to_string(i + 1) + "/128").c_str()), ""});
  }
  auto packed = Pack("orders-db", desired, {}, 0, Quotas{});
  ASSERT_TRUE(packed) << packed.error().message;
  ASSERT_EQ(packed->size(), 3u);  // 130 IPv4 need three groups of 60; the 60 IPv6 fit beside them
  EXPECT_EQ((*packed)[0].name, "moat-orders-db-1");
  EXPECT_EQ((*packed)[2].name, "moat-orders-db-3");
  size_t total = 0;
  for (const auto& g : *packed) {
    int v4 = 0, v6 = 0;
    for (const auto& r : g.rules) (r.v6() ? v6 : v4)++;
    EXPECT_LE(v4, 60);
    EXPECT_LE(v6, 60);
    total += g.rules.size();
    EXPECT_TRUE(g.id.empty());
  }
  EXPECT_EQ(total, desired.size());
}

TEST(PlanTest, PackingIsStableSoASmallChangeIsASmallDiff) {
  const auto before = ManyRules(100);
  auto first = Pack("db", before, {}, 0, Quotas{});
  ASSERT_TRUE(first);
  std::vector<GroupState> existing;
  for (const auto& g : *first) existing.push_back({"sg-" + std::to_string(g.number), g.name, g.number, g.rules});
  // One rule removed from the first group's share, one added: only those two move.
  auto after = before;
  after.erase(after.begin());
  after.push_back(R(5432, "10.9.9.9/32"));
  std::sort(after.begin(), after.end());
  auto second = Pack("db", after, existing, 0, Quotas{});
  ASSERT_TRUE(second);
  const TargetPlan plan = Diff("db", *second, existing, {"sg-1", "sg-2"}, {});
  size_t authorized = 0, revoked = 0;
  for (const auto& g : plan.groups) {
    authorized += g.authorize.size();
    revoked += g.revoke.size();
    EXPECT_FALSE(g.create);
  }
  EXPECT_EQ(authorized, 1u);
  EXPECT_EQ(revoked, 1u);
  EXPECT_TRUE(plan.attach.empty());
}

TEST(PlanTest, PlanFailsWhenTargetNeedsMoreThanFiveGroups) {
  auto r = Pack("big-db", ManyRules(301), {}, 0, Quotas{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "target big-db needs 301 IPv4 and 0 IPv6 rules, but at most 300 of each fit in 5 groups of 60 (with 0 kept "
            "foreign groups); nothing on it is changed");
  // Kept foreign groups take places too.
  EXPECT_FALSE(Pack("db", ManyRules(250), {}, 1, Quotas{}));
  EXPECT_TRUE(Pack("db", ManyRules(240), {}, 1, Quotas{}));
}

TEST(PlanTest, DriftIsRevokedAndForeignGroupsDetachedUnlessKept) {
  const std::vector<SgRule> desired = {R(5432, "10.0.1.20/31")};
  const std::vector<GroupState> existing = {
      {"sg-m1", "moat-db-1", 1, {R(5432, "10.0.1.20/31"), R(22, "0.0.0.0/0")}}};  // someone opened SSH
  auto packed = Pack("db", desired, existing, 1, Quotas{});
  ASSERT_TRUE(packed);
  const TargetPlan plan = Diff("db", *packed, existing, {"sg-m1", "sg-default", "sg-backup"}, {"sg-backup"});
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_TRUE(plan.groups[0].authorize.empty());
  ASSERT_EQ(plan.groups[0].revoke.size(), 1u);
  EXPECT_EQ(plan.groups[0].revoke[0], R(22, "0.0.0.0/0"));
  EXPECT_EQ(plan.detach, std::vector<std::string>{"sg-default"});
  EXPECT_TRUE(plan.HasChanges());
}

TEST(PlanTest, ConvergedTargetHasNoChanges) {
  std::vector<SgRule> desired = {R(5432, "10.0.1.20/31")};
  desired[0].description = "moat r1";
  const std::vector<GroupState> existing = {{"sg-m1", "moat-db-1", 1, desired}};
  auto packed = Pack("db", desired, existing, 0, Quotas{});
  ASSERT_TRUE(packed);
  EXPECT_FALSE(Diff("db", *packed, existing, {"sg-m1"}, {}).HasChanges());
  // A new target: its group is created and attached.
  auto fresh = Pack("cluster/orders", desired, {}, 0, Quotas{});
  ASSERT_TRUE(fresh);
  const TargetPlan plan = Diff("cluster/orders", *fresh, {}, {"sg-default"}, {});
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_TRUE(plan.groups[0].create);
  EXPECT_EQ(plan.groups[0].name, "moat-cluster-orders-1");
  EXPECT_EQ(plan.attach, std::vector<std::string>{"moat-cluster-orders-1"});
  EXPECT_EQ(plan.detach, std::vector<std::string>{"sg-default"});
}

TEST(PlanTest, ChangedDescriptionIsRedescribedNotReplaced) {
  std::vector<SgRule> desired = {R(5432, "10.0.1.20/31")};
  desired[0].description = "moat r2";
  std::vector<SgRule> have = desired;
  have[0].description = "moat r1";
  const std::vector<GroupState> existing = {{"sg-m1", "moat-db-1", 1, have}};
  auto packed = Pack("db", desired, existing, 0, Quotas{});
  ASSERT_TRUE(packed);
  const TargetPlan plan = Diff("db", *packed, existing, {"sg-m1"}, {});
  EXPECT_TRUE(plan.groups[0].authorize.empty());
  EXPECT_TRUE(plan.groups[0].revoke.empty());
  ASSERT_EQ(plan.groups[0].redescribe.size(), 1u);
}

}  // namespace
}  // namespace moat::plan
