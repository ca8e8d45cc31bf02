// The compiler's rules beyond the basics (compile_test.cc): a database modelled as a virtual
// service bound to workloads, per-address allow sets, IP-based provider sides, ICMP, and the
// targets a rule that cannot be compiled exactly fails — and only those.
#include <gtest/gtest.h>

#include "compile/compile.h"
#include "compile/policy_case.h"

namespace moat::compile {
namespace {

const Target* Find(const Compiled& c, const std::string& name) {
  for (const Target& t : c.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

net::Address A(const char* s) { return *net::ParseAddress(s); }

// The database as pce sync models it: an unmanaged workload rds-db (10.0.2.45) bound to VS-db.
struct VsFixture : Fixture {
  std::string vs;
  VsFixture() {
    vs = pc.VirtualService("VS-db", "db.example.rds.amazonaws.com", {Tcp(5432)}, {db_role, app_orders, env_prod});
    pc.Bind(vs, db);
  }
};

TEST(CompileSemanticsTest, RulesForTheBoundWorkloadApplyAtItsAddress) {
  VsFixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  f.pc.Workload("ops", {"10.0.9.9"}, {f.app_billing});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, Json::array(), true, kVsResolve);  // the virtual service's port
  f.pc.Rule(rs, {W(f.db)}, {L(f.app_billing)}, {Tcp(22)}, true);                    // the workload itself
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);  // the bound workload is the virtual service's target, not its own
  const Target& t = c.targets[0];
  EXPECT_EQ(t.name, "VS-db");
  EXPECT_TRUE(Decide(t, A("10.0.1.1"), 6, 5432).allowed);
  EXPECT_TRUE(Decide(t, A("10.0.9.9"), 6, 22).allowed);
  EXPECT_FALSE(Decide(t, A("10.0.9.9"), 6, 5432).allowed);
}

TEST(CompileSemanticsTest, OverrideDenyOfTheBoundWorkloadIsSubtractedFromTheVirtualService) {
  // Deny rules resolve labels as workloads: the bound workload carries role=DB, and the deny
  // reaches the database's address even though the allow rule names the virtual service.
  VsFixture f;
  f.pc.Workload("web-prod", {"10.0.1.1"}, {f.web_role, f.env_prod});
  f.pc.Workload("web-dev", {"10.0.1.2"}, {f.web_role, f.env_dev});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, Json::array(), true, kVsResolve);
  const std::string deny = f.pc.Deny(rs, {L(f.db_role)}, {L(f.env_dev)}, {Tcp(5432)}, true);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(Prefixes(c, "VS-db"), V({"10.0.1.1/32"}));
  EXPECT_EQ(Decide(c.targets[0], A("10.0.1.2"), 6, 5432).denied_by, deny);
}

TEST(CompileSemanticsTest, OverrideDenyWithAnIpListProviderDeniesAtTheAddressesItHolds) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const std::string dbs = f.pc.IpList("dbs", {{{"from_ip", "10.0.2.0/24"}}});
  const std::string other = f.pc.IpList("other", {{{"from_ip", "192.168.0.0/16"}}});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432), Tcp(6432)}, true);
  f.pc.Deny(rs, {IPL(dbs)}, {L(f.web_role)}, {Tcp(5432)}, true);
  f.pc.Deny(rs, {IPL(other)}, {L(f.web_role)}, {Tcp(6432)}, true);  // not the db's address
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_FALSE(Decide(c.targets[0], A("10.0.1.1"), 6, 5432).allowed);
  EXPECT_TRUE(Decide(c.targets[0], A("10.0.1.1"), 6, 6432).allowed);
}

TEST(CompileSemanticsTest, OverrideDenyToEverythingButItsProvidersDeniesTheOtherDatabases) {
  // all_ips_except_for_in_providers: the deny's destination is every address but the Web
  // workloads': the db (10.0.2.45) is among them, whatever its labels.
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432), Tcp(6432)}, true);
  f.pc.Deny(rs, {L(f.web_role)}, {L(f.web_role)}, {Tcp(6432)}, true);
  f.pc.bundle()["rule_sets"][0]["deny_rules"][0]["all_ips_except_for_in_providers"] = true;
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_TRUE(Decide(c.targets[0], A("10.0.1.1"), 6, 5432).allowed);
  EXPECT_FALSE(Decide(c.targets[0], A("10.0.1.1"), 6, 6432).allowed);
  // Excepting the db itself, it denies nothing there.
  f.pc.bundle()["rule_sets"][0]["deny_rules"][0]["providers"] = Json::array({W(f.db)});
  EXPECT_TRUE(Decide(f.pc.Compile().targets[0], A("10.0.1.1"), 6, 6432).allowed);
}

TEST(CompileSemanticsTest, AnAllowRuleWithAnIpBasedProviderSideMakesNoTarget) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const std::string dbs = f.pc.IpList("dbs", {{{"from_ip", "10.0.2.0/24"}}});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {IPL(dbs)}, {L(f.web_role)}, {Tcp(5432)}, true);
  const std::string except = f.pc.Rule(rs, {L(f.web_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  f.pc.bundle()["rule_sets"][0]["rules"][1]["all_ips_except_for_in_providers"] = true;
  EXPECT_TRUE(f.pc.Compile().targets.empty()) << except;
}

TEST(CompileSemanticsTest, PortOverridesGiveEachBoundAddressItsOwnPorts) {
  Fixture f;
  const std::string other = f.pc.Workload("db-b", {"10.0.2.46"}, {f.db_role});
  const std::string vs = f.pc.VirtualService("VS-db", "db.example", {Tcp(5432)}, {f.db_role});
  f.pc.Bind(vs, f.db, {{{"port", 5432}, {"proto", 6}, {"new_port", 15432}}});
  f.pc.Bind(vs, other);
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, Json::array(), true, kVsResolve);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  const Target& t = c.targets[0];
  ASSERT_EQ(t.allow.size(), 2u);
  EXPECT_EQ(t.allow[0].ports, (net::PortRange{5432, 5432}));
  EXPECT_EQ(t.allow[0].destinations.ToStrings(), V({"10.0.2.46/32"}));
  EXPECT_EQ(t.allow[1].ports, (net::PortRange{15432, 15432}));
  EXPECT_EQ(t.allow[1].destinations.ToStrings(), V({"10.0.2.45/32"}));
  const net::Address db = A("10.0.2.45");
  EXPECT_TRUE(Decide(t, A("10.0.1.1"), 6, 15432, &db).allowed);
  EXPECT_FALSE(Decide(t, A("10.0.1.1"), 6, 5432, &db).allowed);

  // One database sees its own entries only; a database whose address is not known, or not one of
  // the bound ones, cannot be given one set.
  const Narrowed n = ForAddresses(t, {db});
  ASSERT_EQ(n.error, "");
  ASSERT_EQ(n.target.allow.size(), 1u);
  EXPECT_EQ(n.target.allow[0].ports, (net::PortRange{15432, 15432}));
  EXPECT_TRUE(n.target.allow[0].destinations.empty());
  EXPECT_EQ(ForAddresses(t, {}).error,
            "the policy gives the addresses bound to VS-db different rules, and the database's address is not known");
  EXPECT_NE(ForAddresses(t, {A("10.0.2.99")}).error.find("10.0.2.99 is not one of them"), std::string::npos);
  EXPECT_NE(ForAddresses(t, {db, A("10.0.2.46")}).error.find("one security group cannot"), std::string::npos);
}

TEST(CompileSemanticsTest, IcmpTypesAndCodesAreKeptAndOfTheirFamily) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1", "2001:db8::1"}, {f.web_role});
  const std::string ping = f.pc.Service({{{"proto", 1}, {"icmp_type", 8}, {"icmp_code", 0}},
                                         {{"proto", 1}, {"icmp_type", 3}},
                                         {{"proto", 58}, {"icmp_type", 128}}});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {{{"href", ping}}}, true);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  const auto& allow = c.targets[0].allow;
  ASSERT_EQ(allow.size(), 3u);
  EXPECT_EQ(allow[0].protocol, 1);  // type 3, every code
  EXPECT_EQ(IcmpPieces(allow[0].ports), std::vector<IcmpPiece>{(IcmpPiece{3, -1})});
  EXPECT_EQ(allow[0].sources.ToStrings(), V({"10.0.1.1/32"}));  // ICMP comes from IPv4 only
  EXPECT_EQ(IcmpPieces(allow[1].ports), std::vector<IcmpPiece>{(IcmpPiece{8, 0})});
  EXPECT_EQ(allow[2].protocol, 58);
  EXPECT_EQ(IcmpPieces(allow[2].ports), std::vector<IcmpPiece>{(IcmpPiece{128, -1})});
  EXPECT_EQ(allow[2].sources.ToStrings(), V({"2001:db8::1/128"}));
  EXPECT_EQ(IcmpPieces({0, 65535}), std::vector<IcmpPiece>{(IcmpPiece{-1, -1})});
  EXPECT_EQ(IcmpPieces({8 * 256 + 254, 9 * 256 + 255}), (std::vector<IcmpPiece>{{8, 254}, {8, 255}, {9, -1}}));
}

TEST(CompileSemanticsTest, ARuleThatCannotBeCompiledFailsOnlyTheTargetsItReaches) {
  Fixture f;
  const std::string other = f.pc.Workload("other-db", {"10.0.2.46"}, {f.db_role, f.app_billing});
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const size_t orders = f.pc.RuleSet(Scopes({{L(f.app_orders)}}));
  const std::string bad = f.pc.Rule(orders, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, false);
  f.pc.bundle()["rule_sets"][0]["rules"][0]["consumers"].push_back(
      {{"virtual_server", {{"href", "/orgs/1/virtual_servers/1"}}}});
  const size_t billing = f.pc.RuleSet(Scopes({{L(f.app_billing)}}));
  f.pc.Rule(billing, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 2u);
  const Target* db = Find(c, "db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->error, "rule " + bad +
                           ": consumers[1]: virtual_server /orgs/1/virtual_servers/1: a load balancer's "
                           "virtual server, whose addresses moat does not know");
  EXPECT_TRUE(db->allow.empty());
  const Target* ok = Find(c, "other-db");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->error, "");
  EXPECT_EQ(ok->allow.size(), 1u);
  (void)other;
}

TEST(CompileSemanticsTest, UnknownProvidersFailEveryObjectInTheScopeEvenOneNoOtherRuleReaches) {
  Fixture f;
  f.pc.Workload("billing-db", {"10.0.2.46"}, {f.db_role, f.app_billing});
  const size_t orders = f.pc.RuleSet(Scopes({{L(f.app_orders)}}));
  const std::string bad = f.pc.Rule(orders, {L("/orgs/1/labels/404")}, {Ams()}, {Tcp(5432)}, false);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);  // db is in the scope; billing-db is not
  EXPECT_EQ(c.targets[0].name, "db");
  EXPECT_EQ(c.targets[0].error,
            "rule " + bad + ": providers[0].label: label /orgs/1/labels/404 does not exist in the active policy");
}

TEST(CompileSemanticsTest, ARuleSetWhoseScopeCannotBeReadFailsWhatItsRulesCouldReach) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const std::string web_target = f.pc.Workload("web-api", {"10.0.1.9"}, {f.web_role, f.app_billing});
  const size_t rs = f.pc.RuleSet(Scopes({{G("/orgs/1/sec_policy/active/label_groups/404")}}));
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, false);
  const size_t ok = f.pc.RuleSet(kAll);
  f.pc.Rule(ok, {L(f.app_billing)}, {L(f.web_role)}, {Tcp(443)}, true);
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_NE(Find(c, "db")->error.find("label group /orgs/1/sec_policy/active/label_groups/404 does not exist"),
            std::string::npos);
  EXPECT_EQ(Find(c, "web-api")->error, "");  // not a DB: the broken rule set's rule cannot reach it
  (void)web_target;
}

TEST(CompileSemanticsTest, ConsumersWhoseAddressesAreNotKnownFailTheTarget) {
  // A virtual service bound to a container workload, as a consumer; an FQDN in an override
  // deny's consumers (leaving it out would deny less than the rule).
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const std::string vs = f.pc.VirtualService("VS-app", "app.example", {Tcp(8080)}, {f.app_billing});
  f.pc.bundle()["service_bindings"].push_back(
      {{"virtual_service", {{"href", vs}}}, {"container_workload", {{"href", "/orgs/1/container_workloads/c1"}}}});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {L(f.db_role)}, {{{"virtual_service", {{"href", vs}}}}}, {Tcp(5432)}, true);
  EXPECT_NE(Find(f.pc.Compile(), "db")->error.find("is bound to container workload /orgs/1/container_workloads/c1"),
            std::string::npos);

  Fixture g;
  g.pc.Workload("web", {"10.0.1.1"}, {g.web_role});
  const std::string ipl = g.pc.IpList("vpn", {{{"from_ip", "192.168.0.0/16"}}}, {{{"fqdn", "vpn.example.com"}}});
  const size_t rs2 = g.pc.RuleSet(kAll);
  g.pc.Rule(rs2, {L(g.db_role)}, {L(g.web_role)}, {Tcp(5432)}, true);
  g.pc.Deny(rs2, {L(g.db_role)}, {IPL(ipl)}, {Tcp(5432)}, true);
  EXPECT_NE(Find(g.pc.Compile(), "db")->error.find("fqdn vpn.example.com cannot be expressed"), std::string::npos);
}

TEST(CompileSemanticsTest, QualifiersAreWarnedPerTargetAndTheirAddressesAndPortsApplied) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  const std::string r = f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, true);
  f.pc.bundle()["rule_sets"][0]["rules"][0]["machine_auth"] = true;
  const Compiled c = f.pc.Compile();
  ASSERT_EQ(c.targets.size(), 1u);
  EXPECT_EQ(c.targets[0].warnings,
            V({"rule " + r +
               ": machine_auth: machine authentication: a security group cannot express it; its addresses and ports "
               "are applied"}));
  EXPECT_EQ(Prefixes(c, "db"), V({"10.0.1.1/32"}));
}

TEST(CompileSemanticsTest, AnExclusionAloneSelectsWhatCarriesAnotherLabelOfItsKey) {
  // Policy Exclusions: "all but X" applies to what carries another label of X's type.
  Fixture f;
  f.pc.Workload("dev", {"10.0.1.1"}, {f.env_dev});
  f.pc.Workload("prod", {"10.0.1.2"}, {f.env_prod});
  f.pc.Workload("no-env", {"10.0.1.3"}, {f.web_role});
  const size_t rs = f.pc.RuleSet(kAll);
  f.pc.Rule(rs, {W(f.db)}, {LX(f.env_prod)}, {Tcp(5432)}, true);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32"}));

  // In a scope too: a scope "env all but Dev" holds the db (env=Prod), not what has no env.
  Fixture g;
  g.pc.Workload("web-prod", {"10.0.1.1"}, {g.web_role, g.env_prod});
  g.pc.Workload("web-none", {"10.0.1.3"}, {g.web_role});
  const size_t scoped = g.pc.RuleSet(Json::array({Json::array({LX(g.env_dev)})}));
  g.pc.Rule(scoped, {L(g.db_role)}, {L(g.web_role)}, {Tcp(5432)}, false);
  EXPECT_EQ(Prefixes(g.pc.Compile(), "db"), V({"10.0.1.1/32"}));
}

TEST(CompileSemanticsTest, ScopesPastSixtyFourAreNotIgnored) {
  Fixture f;
  f.pc.Workload("web", {"10.0.1.1"}, {f.web_role, f.app_orders, f.env_prod});
  Json scopes = Json::array();
  for (int i = 0; i < 70; ++i) scopes.push_back(Json::array({L(f.pc.Label("app", "A" + std::to_string(i)))}));
  scopes.push_back(Json::array({L(f.app_orders)}));  // the 71st holds the db
  const size_t rs = f.pc.RuleSet(scopes);
  f.pc.Rule(rs, {L(f.db_role)}, {L(f.web_role)}, {Tcp(5432)}, false);
  EXPECT_EQ(Prefixes(f.pc.Compile(), "db"), V({"10.0.1.1/32"}));
}

}  // namespace
}  // namespace moat::compile
