#include "plan/reconcile.h"

#include <gtest/gtest.h>

namespace moat::plan {
namespace {

SgRule R(int port, const char* cidr, const char* description = "moat r1") {
  return {6, port, port, *net::ParsePrefix(cidr), description};
}

std::vector<SgRule> Rules(int n, int port = 5432) {
  std::vector<SgRule> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back(R(port, ("10.0.1." + std::to_string(i) + "/32").c_str()));
  return out;
}

GroupState Group(const std::vector<SgRule>& rules) { return {"sg-m1", "moat-db-1", 1, rules}; }

size_t Count(const Reconciled& r, std::vector<SgRule> GroupChange::*which, bool drift) {
  size_t n = 0;
  for (const GroupChange& g : r.plan.groups)
    n += static_cast<size_t>(
        std::count_if((g.*which).begin(), (g.*which).end(), [&](const SgRule& x) { return x.drift == drift; }));
  return n;
}

TEST(ReconcileTest, FirstApplyIsAllPolicy) {
  ReconcileInput in{"db", Rules(3), std::nullopt, {}, {"sg-legacy"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->policy_applied);
  EXPECT_TRUE(r->held.empty());
  ASSERT_EQ(r->plan.groups.size(), 1u);
  EXPECT_TRUE(r->plan.groups[0].create);
  EXPECT_EQ(Count(*r, &GroupChange::authorize, false), 3u);
  EXPECT_EQ(r->plan.detach, std::vector<std::string>{"sg-legacy"});
  EXPECT_TRUE(r->plan.drift.empty());
}

TEST(ReconcileTest, ConvergedTargetHasNoChanges) {
  ReconcileInput in{"db", Rules(3), Rules(3), {Group(Rules(3))}, {"sg-m1"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->plan.HasChanges());
}

TEST(ReconcileTest, HandMadeChangesAreDrift) {
  // Someone added 0.0.0.0/0, removed one rule, and attached a group of their own.
  std::vector<SgRule> tampered = Rules(2);
  tampered.push_back(R(5432, "0.0.0.0/0", "temp access"));
  ReconcileInput in{"db", Rules(3), Rules(3), {Group(tampered)}, {"sg-m1", "sg-rogue"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(Count(*r, &GroupChange::authorize, true), 1u);
  EXPECT_EQ(Count(*r, &GroupChange::revoke, true), 1u);
  EXPECT_EQ(Count(*r, &GroupChange::authorize, false) + Count(*r, &GroupChange::revoke, false), 0u);
  EXPECT_EQ(r->plan.detach, std::vector<std::string>{"sg-rogue"});
  EXPECT_TRUE(r->plan.IsDrift("sg-rogue"));
}

TEST(ReconcileTest, KeptForeignGroupStays) {
  ReconcileInput in{"db", Rules(1), Rules(1), {Group(Rules(1))}, {"sg-m1", "sg-ops"}, {"sg-ops"}, {}, {}, {},
                    {},   {},       false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->plan.HasChanges());
}

TEST(ReconcileTest, PolicySourceDownKeepsLastAppliedAndRevertsDrift) {
  std::vector<SgRule> tampered = Rules(3);
  tampered.push_back(R(22, "0.0.0.0/0", ""));
  ReconcileInput in{"db", std::nullopt, Rules(3), {Group(tampered)}, {"sg-m1"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->policy_applied);
  EXPECT_EQ(Count(*r, &GroupChange::revoke, true), 1u);
  EXPECT_EQ(Count(*r, &GroupChange::authorize, true) + Count(*r, &GroupChange::authorize, false), 0u);
}

TEST(ReconcileTest, PolicySourceDownAndNeverAppliedChangesNothing) {
  ReconcileInput in{"db", std::nullopt, std::nullopt, {}, {"sg-legacy"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->plan.HasChanges());
  EXPECT_FALSE(r->held.empty());
}

TEST(ReconcileTest, LargeRevokeIsHeldButDriftIsStillReverted) {
  // The policy drops 3 of 4 rules (75% > 50%) while someone added a rogue rule.
  std::vector<SgRule> tampered = Rules(4);
  tampered.push_back(R(5432, "0.0.0.0/0", ""));
  ReconcileInput in{"db", Rules(1), Rules(4), {Group(tampered)}, {"sg-m1"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_NE(r->held.find("revoke 3 of 4"), std::string::npos) << r->held;
  EXPECT_FALSE(r->policy_applied);
  EXPECT_EQ(Count(*r, &GroupChange::revoke, true), 1u);  // the rogue rule
  EXPECT_EQ(Count(*r, &GroupChange::revoke, false), 0u);
  // With the override, the policy change goes through.
  in.guards.allow_large_revoke = true;
  auto forced = Reconcile(in);
  ASSERT_TRUE(forced);
  EXPECT_TRUE(forced->held.empty());
  EXPECT_EQ(Count(*forced, &GroupChange::revoke, false), 3u);
  EXPECT_EQ(Count(*forced, &GroupChange::revoke, true), 1u);
}

TEST(ReconcileTest, RevokeWithinTheShareIsApplied) {
  ReconcileInput in{"db", Rules(3), Rules(4), {Group(Rules(4))}, {"sg-m1"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->held.empty());
  EXPECT_EQ(Count(*r, &GroupChange::revoke, false), 1u);
}

TEST(ReconcileTest, EmptyingATargetNeedsTheOverride) {
  ReconcileInput in{"db", std::vector<SgRule>{}, Rules(1), {Group(Rules(1))}, {"sg-m1"}, {}, {}, {}, {}, {}, {}, false};
  in.guards.max_revoke_share = 1.0;
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_NE(r->held.find("no rules"), std::string::npos) << r->held;
  EXPECT_FALSE(r->plan.HasChanges());
  in.guards.allow_empty = true;
  auto forced = Reconcile(in);
  ASSERT_TRUE(forced);
  EXPECT_EQ(Count(*forced, &GroupChange::revoke, false), 1u);
}

TEST(ReconcileTest, FloodedGroupDoesNotTripTheGuard) {
  // 100 rogue rules in the managed group: the guard compares with what moat applied, not with AWS.
  std::vector<SgRule> flooded = Rules(2);
  for (int i = 0; i < 50; ++i) flooded.push_back(R(5432, ("172.16.0." + std::to_string(i) + "/32").c_str(), ""));
  ReconcileInput in{"db", Rules(2), Rules(2), {Group(flooded)}, {"sg-m1"}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->held.empty());
  EXPECT_EQ(Count(*r, &GroupChange::revoke, true), 50u);
}

TEST(ReconcileTest, TargetThatCannotFitIsAnError) {
  ReconcileInput in{"db", Rules(301), std::nullopt, {}, {}, {}, {}, {}, {}, {}, {}, false};
  auto r = Reconcile(in);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("nothing on it is changed"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace moat::plan
