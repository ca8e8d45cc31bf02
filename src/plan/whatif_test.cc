#include "plan/whatif.h"

#include <gtest/gtest.h>

#include "plan/reconcile.h"

namespace moat::plan {
namespace {

SgRule R(int protocol, int from, int to, const char* cidr) {
  return {protocol, from, to, *net::ParsePrefix(cidr), "r"};
}
SgRule Tcp(int port, const char* cidr) { return R(6, port, port, cidr); }

net::Address A(const char* s) { return *net::ParseAddress(s); }

traffic::Flow F(const char* from, const char* to, uint16_t port, flowlog::Action action = flowlog::Action::kAccept,
                uint64_t records = 1, uint8_t protocol = 6) {
  traffic::Flow f;
  f.key = {A(from), A(to), port, protocol, action};
  f.counts.records = records;
  f.counts.last = 1714525200;
  return f;
}

std::vector<const traffic::Flow*> Ptrs(const std::vector<traffic::Flow>& flows) {
  std::vector<const traffic::Flow*> out;
  out.reserve(flows.size());
  for (const traffic::Flow& f : flows) out.push_back(&f);
  return out;
}

TEST(RuleMatcherTest, PortsProtocolsAndFamilies) {
  const std::vector<SgRule> rules = {Tcp(5432, "10.0.1.0/24"),        R(6, 8000, 8100, "10.0.2.7/32"),
                                     R(-1, -1, -1, "192.168.0.0/16"), R(17, -1, -1, "10.0.3.0/24"),
                                     Tcp(5432, "2001:db8::/64"),      R(1, 8, 0, "10.0.4.0/24"),
                                     R(1, -1, -1, "10.0.5.0/24")};
  const RuleMatcher m(rules);
  EXPECT_TRUE(m.Admits(A("10.0.1.200"), 6, 5432));
  EXPECT_FALSE(m.Admits(A("10.0.1.200"), 6, 5433));
  EXPECT_FALSE(m.Admits(A("10.0.1.200"), 17, 5432));
  EXPECT_FALSE(m.Admits(A("10.0.2.200"), 6, 5432));
  EXPECT_TRUE(m.Admits(A("10.0.2.7"), 6, 8000));
  EXPECT_TRUE(m.Admits(A("10.0.2.7"), 6, 8100));
  EXPECT_FALSE(m.Admits(A("10.0.2.7"), 6, 8101));
  EXPECT_TRUE(m.Admits(A("192.168.9.9"), 50, 0));  // all traffic
  EXPECT_TRUE(m.Admits(A("10.0.3.1"), 17, 53));    // all UDP ports
  EXPECT_FALSE(m.Admits(A("10.0.3.1"), 6, 53));
  EXPECT_TRUE(m.Admits(A("2001:db8::5"), 6, 5432));
  EXPECT_FALSE(m.Admits(A("2001:db9::5"), 6, 5432));
  EXPECT_FALSE(m.Admits(A("10.0.4.1"), 1, 0));  // one ICMP type: the logs cannot tell, so it counts as cut
  EXPECT_TRUE(m.Admits(A("10.0.5.1"), 1, 0));   // every ICMP type
}

TEST(WhatIfTest, OnlyAcceptedFlowsTheRulesDoNotAdmitAreCut) {
  const std::vector<traffic::Flow> flows = {F("10.0.1.20", "10.0.2.45", 5432, flowlog::Action::kAccept, 5),
                                            F("10.0.9.9", "10.0.2.45", 5432, flowlog::Action::kAccept, 7),
                                            F("10.0.9.8", "10.0.2.45", 5432, flowlog::Action::kReject, 9),
                                            F("10.0.9.7", "10.0.2.45", 5432, flowlog::Action::kAccept, 30)};
  const RuleMatcher after(std::vector<SgRule>{Tcp(5432, "10.0.1.20/32")});
  const RuleMatcher before(std::vector<SgRule>{Tcp(5432, "10.0.1.20/32"), Tcp(5432, "10.0.9.9/32")});
  const auto ptrs = Ptrs(flows);
  auto cuts = Cuts(ptrs, after, &before, nullptr);
  ASSERT_EQ(cuts.size(), 2u);
  EXPECT_EQ(net::ToString(cuts[0].flow.key.initiator), "10.0.9.7");  // busiest first
  EXPECT_FALSE(cuts[0].breaking);                                    // the enforced rules did not admit it
  EXPECT_EQ(net::ToString(cuts[1].flow.key.initiator), "10.0.9.9");
  EXPECT_TRUE(cuts[1].breaking);
  // Never applied: the logs are the evidence, every accepted cut breaks.
  cuts = Cuts(ptrs, after, nullptr, nullptr);
  ASSERT_EQ(cuts.size(), 2u);
  EXPECT_TRUE(cuts[0].breaking && cuts[1].breaking);
  // What AWS admits now does not have 10.0.9.7 any more: cut already, not by this plan.
  const RuleMatcher now(std::vector<SgRule>{Tcp(5432, "10.0.9.9/32")});
  cuts = Cuts(ptrs, after, nullptr, &now);
  ASSERT_EQ(cuts.size(), 1u);
  EXPECT_EQ(net::ToString(cuts[0].flow.key.initiator), "10.0.9.9");
}

TEST(WhatIfTest, OneConversationLoggedTwiceIsOneCut) {
  // Logged at the client's interface and at the database's (or by two accounts): two flows of one key.
  std::vector<traffic::Flow> flows = {F("10.0.9.9", "10.0.2.45", 5432, flowlog::Action::kAccept, 3),
                                      F("10.0.9.8", "10.0.2.45", 5432, flowlog::Action::kAccept, 5),
                                      F("10.0.9.9", "10.0.2.45", 5432, flowlog::Action::kAccept, 4)};
  flows[2].counts.last = 1714528800;
  const RuleMatcher after(std::vector<SgRule>{});
  const auto cuts = Cuts(Ptrs(flows), after, nullptr, nullptr);
  ASSERT_EQ(cuts.size(), 2u);
  EXPECT_EQ(net::ToString(cuts[0].flow.key.initiator), "10.0.9.9");
  EXPECT_EQ(cuts[0].flow.counts.records, 7u);
  EXPECT_EQ(cuts[0].flow.counts.last, 1714528800);
  EXPECT_EQ(net::ToString(cuts[1].flow.key.initiator), "10.0.9.8");
}

TEST(WhatIfTest, NothingIsCutTwice) {
  const std::vector<traffic::Flow> flows = {F("10.0.9.9", "10.0.2.45", 5432)};
  const RuleMatcher after(std::vector<SgRule>{Tcp(5432, "10.0.1.20/32")});
  const auto ptrs = Ptrs(flows);
  const RuleMatcher now(std::vector<SgRule>{Tcp(5432, "10.0.1.20/32")});
  EXPECT_TRUE(Cuts(ptrs, after, nullptr, &now).empty());
}

// The what-if guard inside Reconcile.
class WhatIfGuardTest : public ::testing::Test {
 protected:
  std::vector<traffic::Flow> flows = {F("10.0.1.20", "10.0.2.45", 5432, flowlog::Action::kAccept, 12),
                                      F("10.0.1.21", "10.0.2.45", 5432, flowlog::Action::kAccept, 3)};
  std::vector<const traffic::Flow*> ptrs = Ptrs(flows);
  std::vector<SgRule> both = {Tcp(5432, "10.0.1.20/32"), Tcp(5432, "10.0.1.21/32")};
  std::vector<SgRule> one = {Tcp(5432, "10.0.1.20/32")};

  ReconcileInput Input(std::optional<std::vector<SgRule>> wanted, std::optional<std::vector<SgRule>> last,
                       std::vector<SgRule> in_group, std::vector<std::string> attached) {
    ReconcileInput in;
    in.target_id = "orders-db";
    in.wanted = std::move(wanted);
    in.last_applied = std::move(last);
    if (!attached.empty() && attached[0] == "sg-m1")
      in.managed.push_back({"sg-m1", "moat-orders-db-1", 1, std::move(in_group)});
    in.attached = std::move(attached);
    in.observed = ptrs;
    for (const std::string& g : in.attached) {
      if (g == "sg-legacy" || g == "sg-rogue") in.foreign_rules.push_back(Tcp(5432, "0.0.0.0/0"));
    }
    in.guards.max_revoke_share = 1.0;
    return in;
  }
};

TEST_F(WhatIfGuardTest, FirstEnforcementThatCutsObservedTrafficIsHeldAndChangesNothing) {
  auto r = Reconcile(Input(one, std::nullopt, {}, {"sg-legacy"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->held.find("would cut 1 observed flow to orders-db"), std::string::npos) << r->held;
  EXPECT_NE(r->held.find("10.0.1.21 -> 5432/tcp (3 records"), std::string::npos) << r->held;
  EXPECT_NE(r->held.find("--allow-breaking"), std::string::npos);
  EXPECT_FALSE(r->policy_applied);
  EXPECT_FALSE(r->plan.HasChanges());  // the legacy group stays: nothing is cut
  ASSERT_EQ(r->cuts.size(), 1u);
  EXPECT_TRUE(r->cuts[0].breaking);
}

TEST_F(WhatIfGuardTest, AllowBreakingAppliesAndListsTheCut) {
  ReconcileInput in = Input(one, std::nullopt, {}, {"sg-legacy"});
  in.guards.allow_breaking = true;
  auto r = Reconcile(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->held.empty());
  EXPECT_TRUE(r->policy_applied);
  EXPECT_EQ(r->plan.detach, std::vector<std::string>{"sg-legacy"});
  ASSERT_EQ(r->cuts.size(), 1u);
  EXPECT_EQ(net::ToString(r->cuts[0].flow.key.initiator), "10.0.1.21");
}

TEST_F(WhatIfGuardTest, FirstEnforcementThatKeepsObservedTrafficGoesAhead) {
  auto r = Reconcile(Input(both, std::nullopt, {}, {"sg-legacy"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->held.empty());
  EXPECT_TRUE(r->cuts.empty());
  EXPECT_TRUE(r->plan.HasChanges());
}

TEST_F(WhatIfGuardTest, PolicyChangeCuttingAdmittedTrafficIsHeldWhileDriftIsReverted) {
  // Applied: both clients. Now the policy drops 10.0.1.21, which talks; and someone added a rule.
  std::vector<SgRule> group = both;
  group.push_back(Tcp(5432, "0.0.0.0/0"));
  auto r = Reconcile(Input(one, both, group, {"sg-m1", "sg-rogue"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->held.find("that the rules moat last applied admit"), std::string::npos) << r->held;
  EXPECT_FALSE(r->policy_applied);
  EXPECT_EQ(r->desired, both);
  ASSERT_EQ(r->plan.groups.size(), 1u);
  ASSERT_EQ(r->plan.groups[0].revoke.size(), 1u);  // the rogue rule still goes
  EXPECT_TRUE(r->plan.groups[0].revoke[0].drift);
  EXPECT_EQ(r->plan.detach, std::vector<std::string>{"sg-rogue"});  // and the rogue group
  EXPECT_TRUE(r->cuts.empty());                                     // what stays enforced admits both
}

TEST_F(WhatIfGuardTest, TrafficThroughATamperedRuleNeverHoldsTheRevertBack) {
  // Applied: one client. 10.0.1.21 talks through a rule added by hand; the policy did not move.
  std::vector<SgRule> group = both;
  auto r = Reconcile(Input(one, one, group, {"sg-m1"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->held.empty()) << r->held;
  ASSERT_EQ(r->plan.groups.size(), 1u);
  ASSERT_EQ(r->plan.groups[0].revoke.size(), 1u);
  EXPECT_TRUE(r->plan.groups[0].revoke[0].drift);
  ASSERT_EQ(r->cuts.size(), 1u);  // listed, so nobody is surprised
  EXPECT_FALSE(r->cuts[0].breaking);
}

TEST_F(WhatIfGuardTest, TrafficThroughAReattachedGroupNeverHoldsTheDetachBack) {
  // Applied: one client; someone re-attached the legacy wide-open group and 10.0.1.21 uses it; at
  // the same time the policy changed in a way that breaks nothing (10.0.1.22 added).
  std::vector<SgRule> wanted = one;
  wanted.push_back(Tcp(5432, "10.0.1.22/32"));
  auto r = Reconcile(Input(wanted, one, one, {"sg-m1", "sg-legacy"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->held.empty()) << r->held;
  EXPECT_TRUE(r->policy_applied);
  EXPECT_EQ(r->plan.detach, std::vector<std::string>{"sg-legacy"});
  ASSERT_EQ(r->cuts.size(), 1u);
  EXPECT_FALSE(r->cuts[0].breaking);
}

TEST_F(WhatIfGuardTest, KeptGroupsAdmitTrafficToo) {
  ReconcileInput in = Input(one, std::nullopt, {}, {"sg-legacy", "sg-keep"});
  in.keep = {"sg-keep"};
  in.kept_rules = {Tcp(5432, "10.0.1.0/24")};
  auto r = Reconcile(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->held.empty()) << r->held;
  EXPECT_TRUE(r->cuts.empty());
}

TEST_F(WhatIfGuardTest, FlowsAlreadyCutByAnEarlierApplyAreNotListed) {
  // Applied: one client; 10.0.1.21 talked before that, through the legacy group now gone.
  auto r = Reconcile(Input(one, one, one, {"sg-m1"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->held.empty());
  EXPECT_FALSE(r->plan.HasChanges());
  EXPECT_TRUE(r->cuts.empty());
}

TEST_F(WhatIfGuardTest, AGroupNamingAnotherGroupCountsAsAdmittingEverything) {
  ReconcileInput in = Input(one, std::nullopt, {}, {"sg-app"});
  in.foreign_references = true;  // sg-app admits "the members of sg-clients": not known here
  auto r = Reconcile(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->held.find("would cut 1 observed flow"), std::string::npos) << r->held;
}

TEST_F(WhatIfGuardTest, RejectedFlowsAreNeverCut) {
  flows = {F("10.0.1.21", "10.0.2.45", 5432, flowlog::Action::kReject, 40)};
  ptrs = Ptrs(flows);
  auto r = Reconcile(Input(one, std::nullopt, {}, {"sg-legacy"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->held.empty());
  EXPECT_TRUE(r->cuts.empty());
}

}  // namespace
}  // namespace moat::plan
