#include "compile/compile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compile/policy_case.h"
#include "compile/render.h"
#include "policy/loader.h"

namespace moat::compile {
namespace {

using Json = nlohmann::json;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kSample = std::string(MOAT_SOURCE_DIR) + "/samples/policy/orders-db.bundle.json";
const std::string kShared = std::string(MOAT_SOURCE_DIR) + "/../shared/testdata/pce/";

// The sample policy (the shared fixture's bundle): one database, an intra-scope rule for role=Web
// and an extra-scope rule for the VPN IP list.
TEST(CompileGoldenTest, OrdersDbFixtureGivesTheExpectedAllowSet) {
  auto policy = policy::LoadBundle(Read(kSample), "orders-db.bundle.json", "active");
  ASSERT_TRUE(policy) << policy.error().message;
  const Compiled c = Compile(*policy);
  const Json got = Json::parse(RenderJson(c));
  const Json want = Json::parse(R"({"targets": [{"name": "VS-RDS-orders-db",
      "fqdn": "orders-db.c9xk2example.us-east-2.rds.amazonaws.com", "addresses": ["10.0.2.45"],
      "allow": [{"protocol": 6, "from_port": 5432, "to_port": 5432,
                 "prefixes": ["10.0.1.20/31", "172.16.8.10/31", "172.16.8.12/31", "192.168.50.0/25"],
                 "provenance": [{"rule": "/orgs/1/sec_policy/active/rule_sets/24/sec_rules/61",
                                 "prefixes": ["10.0.1.20/31"]},
                                {"rule": "/orgs/1/sec_policy/active/rule_sets/24/sec_rules/62",
                                 "prefixes": ["172.16.8.10/31", "172.16.8.12/31", "192.168.50.0/25"]}]}]}],
      "warnings": ["ip list IPL-Corp-VPN: fqdn vpn.example.com cannot be expressed as a CIDR"]})");
  EXPECT_EQ(got["targets"], want["targets"]) << got.dump(1);
  EXPECT_EQ(got["warnings"], want["warnings"]) << got.dump(1);
  // And what must not be allowed: a workload outside the scope, and a loopback address.
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_FALSE(Decide(c.targets[0], *net::ParseAddress("10.9.1.99"), 6, 5432).allowed);
  EXPECT_FALSE(Decide(c.targets[0], *net::ParseAddress("127.0.0.1"), 6, 5432).allowed);
  const Decision d = Decide(c.targets[0], *net::ParseAddress("10.0.1.21"), 6, 5432);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rules, std::vector<std::string>{"/orgs/1/sec_policy/active/rule_sets/24/sec_rules/61"});
  EXPECT_FALSE(Decide(c.targets[0], *net::ParseAddress("10.0.1.21"), 6, 5433).allowed);
  EXPECT_FALSE(Decide(c.targets[0], *net::ParseAddress("192.168.50.200"), 6, 5432).allowed);  // excluded half
}

// The shared fixture and its expected compilation, when ../shared is there.
TEST(CompileGoldenTest, SharedFixtureGivesItsExpectedCompilation) {
  if (!std::filesystem::exists(kShared)) GTEST_SKIP() << "the shared PCE fixtures are not at " << kShared;
  auto policy = policy::LoadBundle(Read(kShared + "orders-db.bundle.json"), "orders-db.bundle.json", "active");
  ASSERT_TRUE(policy) << policy.error().message;
  const Json got = Json::parse(RenderJson(Compile(*policy)));
  const Json want = Json::parse(Read(kShared + "orders-db.expected.json"));
  EXPECT_EQ(got["targets"], want["targets"]) << got.dump(1);
  EXPECT_EQ(got["warnings"], want["warnings"]) << got.dump(1);
}

TEST(CompileTest, AnyScopeMatchesButAllLabelsOfAScopeAreNeeded) {
  Fixture f;
  f.pc.Workload("web-prod", {"10.0.1.1"}, {f.web_role, f.app_orders, f.env_prod});
  f.pc.Workload("web-dev", {"10.0.1.2"}, {f.web_role, f.app_orders, f.env_dev});
  // Scope 1 (app=Orders AND env=Dev) does not hold the db; scope 2 (app=Orders AND env=Prod) does.
  const size_t rs = f.pc.RuleSet(Scopes({{L(f.app_orders), L(f.env_dev)}, {L(f.app_orders), L(f.env_prod)}}));
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, false);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  // Intra-scope: the consumer must be in the scope that matched the provider (env=Prod).
  EXPECT_EQ(Prefixes(c, "db"), V({"10.0.1.1/32"}));
  // A rule set whose only scope the db fails gives it nothing.
  Fixture g;
  const size_t rs2 = g.pc.RuleSet(Scopes({{L(g.app_orders), L(g.env_dev)}}));
  g.pc.Rule(rs2, {L(g.db_role)}, {Ams()}, {Tcp(5432)}, true);
  EXPECT_TRUE(g.pc.Compile().targets.empty());
}

TEST(CompileTest, NestedLabelGroupsExpandInScopesAndActors) {
  Fixture f;
  const std::string inner = f.pc.Group("env", {f.env_prod});
  const std::string outer = f.pc.Group("env", {}, {inner});
  const std::string web_group = f.pc.Group("role", {f.web_role});
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role, f.app_orders, f.env_prod});
  f.pc.Workload("other", {"10.0.1.9"}, {f.app_orders, f.env_prod});
  const size_t rs = f.pc.RuleSet(Scopes({{G(outer)}}));
  f.pc.Rule(rs, {L(f.db_role)}, {G(web_group)}, {Tcp(5432)}, false);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32"}));
}

TEST(CompileTest, IntraScopeConsumersMustBeInScopeExtraScopeNeedNot) {
  Fixture f;
  f.pc.Workload("web-prod", {"10.0.1.1"}, {f.web_role, f.app_orders, f.env_prod});
  f.pc.Workload("web-other-app", {"10.0.1.2"}, {f.web_role, f.app_billing, f.env_prod});
  const size_t intra = f.pc.RuleSet(Scopes({{L(f.app_orders), L(f.env_prod)}}));
  f.pc.Rule(intra, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, false);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32"}));
  f.pc.bundle()["rule_sets"][0]["rules"][0]["unscoped_consumers"] = true;
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32", "10.0.1.2/32"}));
}

TEST(CompileTest, SameKeyLabelsOrDifferentKeysAnd) {
  Fixture f;
  f.pc.Workload("orders-web", {"10.0.1.1"}, {f.web_role, f.app_orders});
  f.pc.Workload("billing-web", {"10.0.1.2"}, {f.web_role, f.app_billing});
  f.pc.Workload("orders-batch", {"10.0.1.3"}, {f.app_orders});
  const size_t rs = f.pc.RuleSet(kAll);
  // (app=Orders OR app=Billing) AND role=Web
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.app_orders), L(f.app_billing), L(f.web_role)}, {Tcp(5432)}, true);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32", "10.0.1.2/32"}));
}

TEST(CompileTest, AmsIsEveryWorkloadManagedOrNot) {
  Fixture f;
  f.pc.Workload("a", {"10.0.1.1"}, {});
  f.pc.Workload("b", {"10.0.1.2", "2001:db8::2"}, {f.app_billing});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {W(f.db)}, {Ams()}, {Tcp(5432)}, true);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32", "10.0.1.2/32", "10.0.2.45/32", "2001:db8::2/128"}));
}

TEST(CompileTest, ExcludedActorsAreSubtracted) {
  Fixture f;
  f.pc.Workload("web-prod", {"10.0.1.1"}, {f.web_role, f.env_prod});
  f.pc.Workload("web-dev", {"10.0.1.2"}, {f.web_role, f.env_dev});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role), LX(f.env_dev)}, {Tcp(5432)}, true);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32"}));
}

TEST(CompileTest, IpListRangesBecomeExactCidrsWithExclusionsSubtracted) {
  Fixture f;
  const std::string ipl = f.pc.IpList("corp",
                                      {{{"from_ip", "10.8.0.0/24"}},
                                       {{"from_ip", "10.8.0.64/26"}, {"exclusion", true}},
                                       {{"from_ip", "10.9.0.3"}, {"to_ip", "10.9.0.9"}},
                                       {{"from_ip", "2001:db8:5::/48"}}},
                                      {{{"fqdn", "vpn.example.com"}}});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {IPL(ipl)}, {Tcp(5432)}, true);
  const Compiled c = f.pc.Compile();
  EXPECT_EQ(Prefixes(c, "db"),
            V({"10.8.0.0/26", "10.8.0.128/25", "10.9.0.3/32", "10.9.0.4/30", "10.9.0.8/31", "2001:db8:5::/48"}));
  EXPECT_EQ(c.warnings, V({"ip list corp: fqdn vpn.example.com cannot be expressed as a CIDR"}));
}

TEST(CompileTest, PortsComeFromServicesOrInlineOrTheVirtualService) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const std::string svc = f.pc.Service({Tcp(5432), {{"port", 53}, {"proto", 17}}});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {{{"href", svc}}, Tcp(8000, 8010)}, true);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  const auto& allow = c.targets[0].allow;
  ASSERT_EQ(allow.size(), 3u);
  EXPECT_EQ(allow[0].protocol, 6);
  EXPECT_EQ(allow[0].ports, (net::PortRange{5432, 5432}));
  EXPECT_EQ(allow[1].ports, (net::PortRange{8000, 8010}));
  EXPECT_EQ(allow[2].protocol, 17);
  EXPECT_EQ(allow[2].ports, (net::PortRange{53, 53}));

  // A virtual-service rule with no ingress services takes the virtual service's ports.
  Fixture g;
  g.pc.Workload("web", {"10.0.1.1"}, {g.web_role});
  const std::string vs = g.pc.VirtualService("VS-db", "db.example.rds.amazonaws.com", {Tcp(3306)}, {g.db_role});
  g.pc.Bind(vs, g.db);
  const size_t rs2 = g.pc.RuleSet(kAll);
  g.pc.Rule(rs2, {L(g.db_role)}, {L(g.web_role)}, Json::array(), true, kVsResolve);
  const Compiled c2 = g.pc.Compile();
  ASSERT_EQ(c2.targets.size(), 1u);
  EXPECT_EQ(c2.targets[0].name, "VS-db");
  EXPECT_EQ(c2.targets[0].fqdn, "db.example.rds.amazonaws.com");
  EXPECT_EQ(c2.targets[0].addresses.ToStrings(), V({"10.0.2.45/32"}));
  ASSERT_EQ(c2.targets[0].allow.size(), 1u);
  EXPECT_EQ(c2.targets[0].allow[0].ports, (net::PortRange{3306, 3306}));
}

TEST(CompileTest, PortOverridesOfTheBindingReplaceTheVirtualServicePort) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const std::string vs = f.pc.VirtualService("VS-db", "db.example", {Tcp(5432)}, {f.db_role});
  f.pc.Bind(vs, f.db, {{{"port", 5432}, {"proto", 6}, {"new_port", 15432}, {"new_to_port", 15433}}});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, Json::array(), true, kVsResolve);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  ASSERT_EQ(c.targets[0].allow.size(), 1u);
  EXPECT_EQ(c.targets[0].allow[0].ports, (net::PortRange{15432, 15433}));
}

TEST(CompileTest, DisabledRulesAndRuleSetsDoNothing) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const size_t on = f.pc.RuleSet(kAll);
  f.pc.Rule(on, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true,
            {{"providers", {"workloads"}}, {"consumers", {"workloads"}}},
            /*enabled=*/false);
  const size_t off = f.pc.RuleSet(kAll, /*enabled=*/false);
  f.pc.Rule(off, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  EXPECT_TRUE(f.pc.Compile().targets.empty());
}

TEST(CompileTest, DraftOnlyObjectsAreIgnoredUnderActive) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  f.pc.SetVersion("draft");
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  EXPECT_TRUE(f.pc.Compile("active").targets.empty());
  EXPECT_EQ(Prefixes(f.pc.Compile("draft"), "db"), V({"10.0.1.1/32"}));
}

TEST(CompileTest, OverrideDenyIsSubtractedPlainDenyOnlyReported) {
  Fixture f;
  f.pc.Workload("web-1", {"10.0.1.1"}, {f.web_role});
  f.pc.Workload("web-2", {"10.0.1.2"}, {f.web_role, f.env_dev});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5000, 6000)}, true);
  const std::string od = f.pc.Deny(rs, {L(f.db_role)}, {L(f.env_dev)}, {Tcp(5432)}, true);
  const std::string plain = f.pc.Deny(rs, {L(f.db_role)}, {W(f.db)}, {Tcp(5500)}, false);
  f.pc.Workload("web-3", {"10.0.2.45"}, {});  // the deny's consumer: the db's own address
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  const Target& t = c.targets[0];
  // 5000-5431 and 5433-6000 keep both; 5432 loses web-2.
  ASSERT_EQ(t.allow.size(), 3u);
  EXPECT_EQ(t.allow[0].ports, (net::PortRange{5000, 5431}));
  EXPECT_EQ(t.allow[0].sources.ToStrings(), V({"10.0.1.1/32", "10.0.1.2/32"}));
  EXPECT_EQ(t.allow[1].ports, (net::PortRange{5432, 5432}));
  EXPECT_EQ(t.allow[1].sources.ToStrings(), V({"10.0.1.1/32"}));
  EXPECT_EQ(t.allow[2].ports, (net::PortRange{5433, 6000}));
  const Decision d = Decide(t, *net::ParseAddress("10.0.1.2"), 6, 5432);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.denied_by, od);
  EXPECT_TRUE(Decide(t, *net::ParseAddress("10.0.1.2"), 6, 5431).allowed);
  (void)plain;
}

TEST(CompileTest, PlainDenyOverlappingAnAllowIsReported) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  const std::string deny = f.pc.Deny(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, false);
  const Compiled c = f.pc.Compile();
  EXPECT_EQ(Prefixes(c, "db"), V({"10.0.1.1/32"}));  // deny cannot take it away
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0], "deny rule " + deny +
                               " overlaps what allow rules admit to db; allow wins over deny, so it is only reported");
}

TEST(CompileTest, IPv6ConsumersAndLoopbackIgnored) {
  Fixture f;
  f.pc.Workload("web", {"2001:db8:1::10", "::1", "fe80::1", "127.0.0.1"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"2001:db8:1::10/128"}));
}

TEST(CompileTest, ConsumersResolvingToNothingAreWarned) {
  Fixture f;
  const size_t rs = f.pc.RuleSet(kAll);
  const std::string r = f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_TRUE(c.targets[0].allow.empty());
  EXPECT_EQ(c.warnings, V({"rule " + r + ": consumers resolve to no address"}));
}

TEST(CompileTest, AllProtocolsRuleIsItsOwnEntry) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {{{"proto", -1}}}, true);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets[0].allow.size(), 1u);
  EXPECT_EQ(c.targets[0].allow[0].protocol, policy::kAllProtocols);
  EXPECT_TRUE(Decide(c.targets[0], *net::ParseAddress("10.0.1.1"), 17, 53).allowed);
}

// A database modelled in the PCE (a virtual service bound to its workload) before any rule names it.
TEST(CompileOptionsTest, EveryVirtualServiceMakesARulelessVirtualServiceATargetWithNoAllowSet) {
  Fixture f;
  const std::string rds = f.pc.Workload("rds-ledger", {"10.0.3.60"}, {});
  const std::string vs =
      f.pc.VirtualService("VS-RDS-ledger", "ledger.example.rds.amazonaws.com", Json::array({Tcp(5432)}), {});
  f.pc.Bind(vs, rds);
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  auto policy = policy::LoadBundle(f.pc.bundle().dump(), "case.json", "active");
  ASSERT_TRUE(policy) << policy.error().message;

  // The default, which plan and apply use: providers only.
  const Compiled providers = Compile(*policy);
  ASSERT_EQ(providers.targets.size(), 1u);
  EXPECT_EQ(providers.targets[0].name, "db");
  EXPECT_TRUE(providers.targets[0].provider);

  const Compiled every = Compile(*policy, {.every_virtual_service = true});
  ASSERT_EQ(every.targets.size(), 2u);
  EXPECT_EQ(every.targets[0].name, "VS-RDS-ledger");
  EXPECT_FALSE(every.targets[0].provider);
  EXPECT_EQ(every.targets[0].fqdn, "ledger.example.rds.amazonaws.com");
  EXPECT_EQ(every.targets[0].addresses.ToStrings(), V({"10.0.3.60/32"}));
  EXPECT_TRUE(every.targets[0].allow.empty());
  EXPECT_TRUE(every.targets[0].error.empty()) << every.targets[0].error;
  EXPECT_FALSE(Decide(every.targets[0], *net::ParseAddress("10.0.1.20"), 6, 5432).allowed);
  // The provider keeps what it had.
  EXPECT_EQ(every.targets[1].name, "db");
  EXPECT_TRUE(every.targets[1].provider);
  EXPECT_EQ(Prefixes(every, "db"), Prefixes(providers, "db"));
}

// A virtual service that a rule already reaches is a target once, as a provider.
TEST(CompileOptionsTest, EveryVirtualServiceKeepsAProviderVirtualServiceOnce) {
  Fixture f;
  const std::string vs =
      f.pc.VirtualService("VS-RDS-orders", "orders.example.rds.amazonaws.com", Json::array({Tcp(5432)}), {f.db_role});
  f.pc.Bind(vs, f.db);
  f.pc.Workload("web", {"10.0.1.20"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, Json::array(), true, kVsResolve);
  auto policy = policy::LoadBundle(f.pc.bundle().dump(), "case.json", "active");
  ASSERT_TRUE(policy) << policy.error().message;
  const Compiled every = Compile(*policy, {.every_virtual_service = true});
  ASSERT_EQ(every.targets.size(), 1u);
  EXPECT_TRUE(every.targets[0].provider);
  EXPECT_EQ(Prefixes(every, "VS-RDS-orders"), V({"10.0.1.20/32"}));
}

}  // namespace
}  // namespace moat::compile
