#include "enforce/target.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace moat::enforce {
namespace {

// A policy target admitting `sources` on TCP 5432 at `address`, reached by endpoint `fqdn`.
compile::Target PolicyTarget(const std::string& name, const std::string& fqdn, const char* address,
                             const char* sources) {
  compile::Target t;
  t.name = name;
  t.fqdn = fqdn;
  t.addresses.Add(*net::ParseAddress(address));
  compile::AllowEntry e;
  e.protocol = 6;
  e.ports = {5432, 5432};
  e.sources.Add(*net::ParsePrefix(sources));
  e.provenance.push_back({"/orgs/1/sec_policy/active/rule_sets/1/sec_rules/1", e.sources});
  t.allow.push_back(e);
  return t;
}

aws::SecurityGroup Group(const std::string& id, const std::string& name, std::vector<aws::IngressRule> ingress = {}) {
  aws::SecurityGroup g;
  g.id = id;
  g.name = name;
  g.vpc_id = "vpc-1";
  g.ingress = std::move(ingress);
  return g;
}

aws::IngressRule Open(const char* cidr) { return {6, 5432, 5432, *net::ParsePrefix(cidr), "hand-made"}; }

// One database, orders-db at 10.0.1.20, with the given groups attached; `managed` carry moat's tags.
struct Fixture {
  estate::Estate estate;
  compile::Compiled compiled;
  RunInputs run;

  Fixture(std::vector<aws::SecurityGroup> managed, std::vector<aws::SecurityGroup> foreign,
          std::vector<std::string> attached) {
    aws::Database db;
    db.id = "orders-db";
    db.endpoint = "orders-db.abc.us-east-1.rds.amazonaws.com";
    db.port = 5432;
    db.vpc_id = "vpc-1";
    db.security_groups = std::move(attached);
    estate.databases.push_back(db);
    estate.managed = std::move(managed);
    estate.foreign = std::move(foreign);
    for (const aws::SecurityGroup& g : estate.managed) {
      estate.managed_by_target["orders-db"].push_back(&g);
      estate.groups_by_id[g.id] = &g;
    }
    for (const aws::SecurityGroup& g : estate.foreign) estate.groups_by_id[g.id] = &g;
    estate.chosen.push_back(&estate.databases[0]);
    estate.addresses[&estate.databases[0]].addresses = {"10.0.1.20"};
    compiled.targets.push_back(PolicyTarget("orders-db-vs", db.endpoint, "10.0.1.20", "10.0.2.0/24"));
    run.compiled = &compiled;
  }
  const aws::Database& db() const { return estate.databases[0]; }
};

// Accepted flows on 5432 to 10.0.1.20 (the fixture's database), one record each.
std::vector<traffic::Flow> FlowsFrom(const std::vector<const char*>& initiators) {
  std::vector<traffic::Flow> flows(initiators.size());
  for (size_t i = 0; i < flows.size(); ++i) {
    flows[i].key = {*net::ParseAddress(initiators[i]), *net::ParseAddress("10.0.1.20"), 5432, 6,
                    flowlog::Action::kAccept};
    flows[i].counts.records = 1;
  }
  return flows;
}

// The initiators of the flows the fixture's plan would cut, as a database of `place` weighs them.
std::vector<std::string> CutFrom(Fixture& f, uint32_t place) {
  f.run.observed_place = place;
  std::vector<std::string> out;
  for (const plan::CutFlow& c : PlanTarget(f.estate, f.db(), std::nullopt, f.run).report.plan.cuts) {
    out.push_back(net::ToString(c.flow.key.initiator));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<plan::SgRule> AppliedRules() {
  return {{6, 5432, 5432, *net::ParsePrefix("10.0.2.0/24"), "moat orders-db-vs"}};
}

TEST(PlanTargetTest, FirstPlanCreatesAGroupAndDetachesTheForeignOnes) {
  Fixture f({}, {Group("sg-legacy", "legacy", {Open("0.0.0.0/0")})}, {"sg-legacy"});
  Planned p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  ASSERT_TRUE(p.skipped.empty());
  const TargetReport& t = p.report;
  EXPECT_TRUE(t.error.empty()) << t.error;
  EXPECT_EQ(t.policy_target, "orders-db-vs");
  EXPECT_EQ(t.matched_by, "endpoint");
  EXPECT_EQ(t.vpc_id, "vpc-1");
  ASSERT_EQ(t.plan.plan.groups.size(), 1u);
  EXPECT_TRUE(t.plan.plan.groups[0].create);
  EXPECT_EQ(t.plan.plan.detach, std::vector<std::string>{"sg-legacy"});
  EXPECT_EQ(t.plan.desired.size(), 1u);
}

TEST(PlanTargetTest, MoatsGroupThatLostItsTagsIsRetaggedAsDriftAndAClaimIsReported) {
  aws::SecurityGroup managed = Group("sg-m1", "moat-orders-db-1", {Open("10.0.2.0/24")});
  managed.ingress[0].description = "moat orders-db-vs";
  aws::SecurityGroup claimant = Group("sg-x", "moat-orders-db-2", {Open("0.0.0.0/0")});
  Fixture f({managed}, {claimant}, {"sg-m1", "sg-x"});
  f.estate.tags_missing.insert("sg-m1");
  f.estate.foreign_claims["orders-db"] = {"sg-x (moat-orders-db-2) in vpc-1: tagged moat:target=orders-db"};
  Planned p = PlanTarget(f.estate, f.db(), AppliedRules(), f.run);
  const TargetReport& t = p.report;
  ASSERT_TRUE(t.error.empty()) << t.error;
  ASSERT_EQ(t.plan.plan.groups.size(), 1u);
  EXPECT_TRUE(t.plan.plan.groups[0].retag);
  EXPECT_TRUE(t.plan.plan.HasChanges());
  EXPECT_EQ(t.plan.plan.detach, std::vector<std::string>{"sg-x"});  // tagged or not, it is not moat's
  EXPECT_EQ(t.foreign_claims.size(), 1u);
}

TEST(PlanTargetTest, AKeptGroupStaysAndItsRulesCount) {
  // --keep-group by name; a second, unreadable foreign group is attached too.
  Fixture f({}, {Group("sg-legacy", "legacy", {Open("10.9.0.0/16")})}, {"sg-legacy", "sg-unreadable"});
  f.run.keep_groups = {"legacy"};
  Planned p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  const TargetReport& t = p.report;
  ASSERT_TRUE(t.error.empty()) << t.error;
  EXPECT_EQ(t.plan.plan.detach, std::vector<std::string>{"sg-unreadable"});
  // Group names come only from groups that were read: no empty name for the unreadable one.
  for (const auto& [id, name] : t.group_names) EXPECT_FALSE(name.empty()) << id;
  EXPECT_EQ(t.group_names.count("sg-unreadable"), 0u);
  EXPECT_EQ(t.group_names.at("sg-legacy"), "legacy");
}

TEST(PlanTargetTest, AKeepGroupThatNamesNothingInsertsNoEmptyName) {
  // An unreadable group and a --keep-group naming no group: before, looking the name up added
  // an empty entry for the unreadable group, which the plan then showed.
  Fixture f({}, {}, {"sg-unreadable"});
  f.run.keep_groups = {"no-such-group"};
  Planned p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  EXPECT_TRUE(p.report.group_names.empty());
  EXPECT_EQ(p.report.plan.plan.detach, std::vector<std::string>{"sg-unreadable"});
}

TEST(PlanTargetTest, DriftOnTheManagedGroupIsRevertedEvenWhenThePolicyFailed) {
  aws::SecurityGroup managed = Group("sg-m1", "moat-orders-db-1", {Open("10.0.2.0/24"), Open("0.0.0.0/0")});
  managed.ingress[0].description = "moat orders-db-vs";
  Fixture f({managed}, {}, {"sg-m1"});
  f.run.compiled = nullptr;  // the policy could not be read
  Planned p = PlanTarget(f.estate, f.db(), AppliedRules(), f.run);
  ASSERT_TRUE(p.skipped.empty());
  const TargetReport& t = p.report;
  ASSERT_TRUE(t.error.empty()) << t.error;
  ASSERT_EQ(t.plan.plan.groups.size(), 1u);
  ASSERT_EQ(t.plan.plan.groups[0].revoke.size(), 1u);
  EXPECT_EQ(net::ToString(t.plan.plan.groups[0].revoke[0].cidr), "0.0.0.0/0");
  EXPECT_TRUE(t.plan.plan.groups[0].revoke[0].drift);
  EXPECT_FALSE(t.plan.policy_applied);
}

TEST(PlanTargetTest, ADatabaseThePolicyDoesNotProtectIsSkippedUnlessNamed) {
  Fixture f({}, {}, {});
  f.compiled.targets.clear();
  Planned p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  EXPECT_NE(p.skipped.find("no virtual service of the policy has its endpoint"), std::string::npos) << p.skipped;
  f.run.named_targets = true;
  p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  EXPECT_TRUE(p.skipped.empty());
  EXPECT_NE(p.report.error.find("left untouched"), std::string::npos) << p.report.error;
}

TEST(PlanTargetTest, ADatabaseGoneFromThePolicyKeepsWhatWasApplied) {
  aws::SecurityGroup managed = Group("sg-m1", "moat-orders-db-1", {Open("10.0.2.0/24")});
  managed.ingress[0].description = "moat orders-db-vs";
  Fixture f({managed}, {}, {"sg-m1"});
  f.compiled.targets.clear();
  Planned p = PlanTarget(f.estate, f.db(), AppliedRules(), f.run);
  ASSERT_TRUE(p.report.error.empty()) << p.report.error;
  EXPECT_FALSE(p.report.plan.plan.HasChanges());
  EXPECT_NE(p.report.plan.held.find("what it applied stays enforced"), std::string::npos);
}

TEST(PlanTargetTest, ATargetThePolicyCannotCompileKeepsWhatWasApplied) {
  aws::SecurityGroup managed = Group("sg-m1", "moat-orders-db-1", {Open("10.0.2.0/24")});
  managed.ingress[0].description = "moat orders-db-vs";
  Fixture f({managed}, {}, {"sg-m1"});
  f.compiled.targets[0].error = "rule /r/1: consumers[0]: not supported";
  f.compiled.targets[0].allow.clear();
  Planned p = PlanTarget(f.estate, f.db(), AppliedRules(), f.run);
  EXPECT_TRUE(p.report.error.empty()) << p.report.error;
  EXPECT_NE(p.report.plan.held.find("cannot be compiled exactly"), std::string::npos);
  p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  EXPECT_NE(p.report.error.find("nothing on it is changed"), std::string::npos);
}

TEST(PlanTargetTest, ALargeRevokeIsHeldBackByTheGuard) {
  // Applied: 10.0.2.0/24; the policy now admits a /32 elsewhere: everything applied is revoked.
  aws::SecurityGroup managed = Group("sg-m1", "moat-orders-db-1", {Open("10.0.2.0/24")});
  managed.ingress[0].description = "moat orders-db-vs";
  Fixture f({managed}, {}, {"sg-m1"});
  f.compiled.targets[0] = PolicyTarget("orders-db-vs", f.db().endpoint, "10.0.1.20", "10.7.7.7/32");
  Planned p = PlanTarget(f.estate, f.db(), AppliedRules(), f.run);
  EXPECT_NE(p.report.plan.held.find("revoke"), std::string::npos) << p.report.plan.held;
  f.run.guards.allow_large_revoke = true;
  p = PlanTarget(f.estate, f.db(), AppliedRules(), f.run);
  EXPECT_TRUE(p.report.plan.held.empty()) << p.report.plan.held;
  EXPECT_TRUE(p.report.plan.policy_applied);
}

TEST(PlanTargetTest, TheWhatIfListsObservedFlowsThePlanWouldCut) {
  // Today a hand-made group admits everyone; the policy admits 10.0.2.0/24.
  Fixture f({}, {Group("sg-legacy", "legacy", {Open("0.0.0.0/0")})}, {"sg-legacy"});
  std::vector<traffic::Flow> flows(2);
  flows[0].key.initiator = *net::ParseAddress("10.0.2.5");
  flows[1].key.initiator = *net::ParseAddress("10.8.0.9");  // not admitted by the policy
  for (traffic::Flow& fl : flows) {
    fl.key.responder = *net::ParseAddress("10.0.1.20");
    fl.key.protocol = 6;
    fl.key.port = 5432;
    fl.key.action = flowlog::Action::kAccept;
    fl.counts.records = 1;
  }
  const ObservedIndex index(flows, nullptr);
  f.run.observed = &index;
  Planned p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  // The logs saw it accepted: cutting it breaks observed traffic, so the change is held back...
  EXPECT_NE(p.report.plan.held.find("would cut 1 observed flow"), std::string::npos) << p.report.plan.held;
  // ...unless --allow-breaking; the plan lists the flow it cuts.
  f.run.guards.allow_breaking = true;
  p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  EXPECT_TRUE(p.report.plan.held.empty()) << p.report.plan.held;
  ASSERT_EQ(p.report.plan.cuts.size(), 1u);
  EXPECT_EQ(p.report.plan.cuts[0].flow.key.initiator, *net::ParseAddress("10.8.0.9"));
}

TEST(PlanTargetTest, TheWhatIfWeighsTheFlowsOfItsPlaceAndOfPlacesWithoutADatabaseThere) {
  Fixture f({}, {Group("sg-legacy", "legacy", {Open("0.0.0.0/0")})}, {"sg-legacy"});
  // None of them admitted by the policy; logged in place 1, in place 2, and in no known place.
  const std::vector<traffic::Flow> flows = FlowsFrom({"10.8.0.1", "10.8.0.2", "10.8.0.3"});
  const traffic::FlowPlaces places{{"", "a", "b"}, {1, 2, 0}};
  ObservedIndex index(flows, &places);
  f.run.observed = &index;
  f.run.guards.allow_breaking = true;
  const auto cut = [&](uint32_t place) { return CutFrom(f, place); };
  const auto everything = std::vector<std::string>{"10.8.0.1", "10.8.0.2", "10.8.0.3"};
  // Place 2 has no database at the address (a shared VPC's owner, a client's side): what it logged
  // there counts for the database of place 1.
  const net::Address at = *net::ParseAddress("10.0.1.20");
  index.AddDatabase(1, at);
  EXPECT_EQ(cut(1), everything);
  // With a database of its own there, place 2's flows are that one's alone.
  index.AddDatabase(2, at);
  index.AddDatabase(3, at);
  EXPECT_EQ(cut(1), (std::vector<std::string>{"10.8.0.1", "10.8.0.3"}));
  EXPECT_EQ(cut(2), (std::vector<std::string>{"10.8.0.2", "10.8.0.3"}));
  EXPECT_EQ(cut(3), std::vector<std::string>{"10.8.0.3"});  // nothing logged there
  EXPECT_EQ(cut(ObservedIndex::kEveryPlace), everything);
}

TEST(PlanTargetTest, AFlowLoggedAtAnotherDatabasesInterfaceIsNotWeighed) {
  // orders-db (eni-0aaa...) and a database of another VPC of the same place (eni-0bbb...) share
  // 10.0.1.20. None of the clients is admitted by the policy.
  Fixture f({}, {Group("sg-legacy", "legacy", {Open("0.0.0.0/0")})}, {"sg-legacy"});
  f.estate.addresses[&f.estate.databases[0]].interfaces = {"eni-0aaaaaaaaaaaaaaa1"};
  const std::vector<traffic::Flow> flows = FlowsFrom({"10.8.0.1", "10.8.0.2", "10.8.0.3", "10.8.0.4", "10.8.0.5"});
  // Logged at orders-db's interface, at the other database's, at a client's, at none known, and
  // at orders-db's again in another place (a shared VPC's owner logs the participant's interfaces).
  const traffic::FlowPlaces places{{"", "1/us-east-1", "2/us-east-1"},
                                   {1, 1, 1, 1, 2},
                                   {"", "eni-0aaaaaaaaaaaaaaa1", "eni-0bbbbbbbbbbbbbbb2", "eni-0ccccccccccccccc3"},
                                   {1, 2, 3, 0, 1}};
  ObservedIndex index(flows, &places);
  const net::Address at = *net::ParseAddress("10.0.1.20");
  index.AddDatabase(1, at, {"eni-0aaaaaaaaaaaaaaa1"});
  index.AddDatabase(1, at, {"eni-0bbbbbbbbbbbbbbb2"});
  index.AddDatabase(2, at, {});
  f.run.observed = &index;
  f.run.guards.allow_breaking = true;
  const auto cut = [&](uint32_t place) { return CutFrom(f, place); };
  const auto own = std::vector<std::string>{"10.8.0.1", "10.8.0.3", "10.8.0.4", "10.8.0.5"};
  EXPECT_EQ(cut(1), own);
  EXPECT_EQ(cut(ObservedIndex::kEveryPlace), own);
  // 10.8.0.3's interface is in the other database's VPC: an address of a VPC's own range never
  // leaves it, so that database's alone. One in a VPC without a database there changes nothing.
  EXPECT_EQ(index.OtherInterfaces(1, at), std::vector<std::string>{"eni-0ccccccccccccccc3"});
  index.AddDatabase(1, at, {"eni-0bbbbbbbbbbbbbbb2"}, "vpc-2");
  index.SetInterfaceVpc("eni-0ccccccccccccccc3", "vpc-3");
  EXPECT_EQ(cut(1), own);
  index.SetInterfaceVpc("eni-0ccccccccccccccc3", "vpc-2");
  EXPECT_EQ(cut(1), (std::vector<std::string>{"10.8.0.1", "10.8.0.4", "10.8.0.5"}));
  index.AddDatabase(1, at, {"eni-0aaaaaaaaaaaaaaa1"}, "vpc-1");
  index.SetInterfaceVpc("eni-0ccccccccccccccc3", "vpc-1");
  EXPECT_EQ(cut(1), own);

  // With no database's interfaces read, places and addresses decide, as without interfaces.
  ObservedIndex by_place(flows, &places);
  by_place.AddDatabase(1, at);
  by_place.AddDatabase(2, at);
  f.run.observed = &by_place;
  EXPECT_EQ(cut(1), (std::vector<std::string>{"10.8.0.1", "10.8.0.2", "10.8.0.3", "10.8.0.4"}));
}

TEST(PlanTargetTest, AnEndpointPortThePolicyDoesNotAdmitIsAWarning) {
  Fixture f({}, {}, {});
  f.estate.databases[0].port = 3306;
  Planned p = PlanTarget(f.estate, f.db(), std::nullopt, f.run);
  ASSERT_FALSE(p.report.warnings.empty());
  EXPECT_EQ(p.report.warnings.back(), "the policy admits nothing on its endpoint port 3306");
}

TEST(TouchedTest, AnEventTouchesTheDatabasesItNames) {
  aws::SecurityGroup managed = Group("sg-m1", "moat-orders-db-1");
  Fixture f({managed}, {}, {"sg-legacy"});
  EXPECT_TRUE(Touched(f.estate, f.db(), {{"orders-db"}, {}, {}}));
  EXPECT_TRUE(Touched(f.estate, f.db(), {{}, {"sg-legacy"}, {}}));
  EXPECT_TRUE(Touched(f.estate, f.db(), {{}, {"sg-m1"}, {}}));
  EXPECT_TRUE(Touched(f.estate, f.db(), {{}, {}, {"10.0.1.20"}}));
  EXPECT_FALSE(Touched(f.estate, f.db(), {{"other-db"}, {"sg-other"}, {"10.0.1.21"}}));
}

}  // namespace
}  // namespace moat::enforce
