#include "compile/compile.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

const std::string kShared = std::string(MOAT_SOURCE_DIR) + "/../shared/testdata/pce/";

TEST(CompileGoldenTest, OrdersDbFixtureGivesTheExpectedAllowSet) {
  auto policy = policy::LoadBundle(Read(kShared + "orders-db.bundle.json"), "orders-db.bundle.json", "active");
  ASSERT_TRUE(policy) << policy.error().message;
  const Compiled c = Compile(*policy);
  Json got = Json::parse(RenderJson(c));
  Json want = Json::parse(Read(kShared + "orders-db.expected.json"));
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

// A small policy written in the PCE's shapes, for one semantic rule at a time.
class PolicyCase {
 public:
  std::string Label(const std::string& key, const std::string& value) {
    std::string href = "/orgs/1/labels/" + std::to_string(++ids_);
    bundle_["labels"].push_back({{"href", href}, {"key", key}, {"value", value}});
    return href;
  }
  std::string Group(const std::string& key, std::vector<std::string> labels, std::vector<std::string> subs = {}) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/label_groups/" + std::to_string(++ids_);
    Json g = {{"href", href},
              {"name", "LG" + std::to_string(ids_)},
              {"key", key},
              {"labels", Json::array()},
              {"sub_groups", Json::array()}};
    for (auto& l : labels) g["labels"].push_back({{"href", l}});
    for (auto& s : subs) g["sub_groups"].push_back({{"href", s}});
    bundle_["label_groups"].push_back(g);
    return href;
  }
  std::string Workload(const std::string& name, std::vector<std::string> addresses, std::vector<std::string> labels) {
    std::string href = "/orgs/1/workloads/w" + std::to_string(++ids_);
    Json w = {{"href", href},
              {"name", name},
              {"hostname", name + ".internal"},
              {"interfaces", Json::array()},
              {"labels", Json::array()}};
    for (auto& a : addresses) w["interfaces"].push_back({{"name", "eth0"}, {"address", a}});
    for (auto& l : labels) w["labels"].push_back({{"href", l}});
    bundle_["workloads"].push_back(w);
    return href;
  }
  std::string VirtualService(const std::string& name, const std::string& fqdn, Json ports,
                             std::vector<std::string> labels) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/virtual_services/vs" + std::to_string(++ids_);
    Json v = {{"href", href},
              {"name", name},
              {"service_ports", ports},
              {"service_addresses", {{{"fqdn", fqdn}}}},
              {"labels", Json::array()}};
    for (auto& l : labels) v["labels"].push_back({{"href", l}});
    bundle_["virtual_services"].push_back(v);
    return href;
  }
  void Bind(const std::string& vs, const std::string& workload, Json overrides = Json::array()) {
    bundle_["service_bindings"].push_back(
        {{"virtual_service", {{"href", vs}}}, {"workload", {{"href", workload}}}, {"port_overrides", overrides}});
  }
  std::string IpList(const std::string& name, Json ranges, Json fqdns = Json::array()) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/ip_lists/" + std::to_string(++ids_);
    bundle_["ip_lists"].push_back({{"href", href}, {"name", name}, {"ip_ranges", ranges}, {"fqdns", fqdns}});
    return href;
  }
  std::string Service(Json ports) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/services/" + std::to_string(++ids_);
    bundle_["services"].push_back({{"href", href}, {"name", "S" + std::to_string(ids_)}, {"service_ports", ports}});
    return href;
  }
  // A rule set; returns its index for adding rules.
  size_t RuleSet(Json scopes, bool enabled = true) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/rule_sets/" + std::to_string(++ids_);
    bundle_["rule_sets"].push_back({{"href", href},
                                    {"name", "RS" + std::to_string(ids_)},
                                    {"enabled", enabled},
                                    {"scopes", scopes},
                                    {"rules", Json::array()},
                                    {"deny_rules", Json::array()}});
    return bundle_["rule_sets"].size() - 1;
  }
  std::string Rule(size_t rs, Json providers, Json consumers, Json ingress, bool unscoped,
                   Json resolve = {{"providers", {"workloads"}}, {"consumers", {"workloads"}}}, bool enabled = true) {
    Json& set = bundle_["rule_sets"][rs];
    std::string href = set["href"].get<std::string>() + "/sec_rules/" + std::to_string(++ids_);
    set["rules"].push_back({{"href", href},
                            {"enabled", enabled},
                            {"providers", providers},
                            {"consumers", consumers},
                            {"ingress_services", ingress},
                            {"unscoped_consumers", unscoped},
                            {"resolve_labels_as", resolve}});
    return href;
  }
  std::string Deny(size_t rs, Json providers, Json consumers, Json ingress, bool override) {
    Json& set = bundle_["rule_sets"][rs];
    std::string href = set["href"].get<std::string>() + "/deny_rules/" + std::to_string(++ids_);
    set["deny_rules"].push_back({{"href", href},
                                 {"enabled", true},
                                 {"providers", providers},
                                 {"consumers", consumers},
                                 {"ingress_services", ingress},
                                 {"override", override}});
    return href;
  }
  void SetVersion(const std::string& v) { version_ = v; }
  Json& bundle() { return bundle_; }

  Compiled Compile(const std::string& version = "active") {
    auto p = policy::LoadBundle(bundle_.dump(), "case.json", version);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    return p ? moat::compile::Compile(*p) : Compiled{};
  }

 private:
  Json bundle_ = Json::object();
  int ids_ = 0;
  std::string version_ = "active";
};

Json L(const std::string& href) { return {{"label", {{"href", href}}}}; }
Json LX(const std::string& href) { return {{"label", {{"href", href}}}, {"exclusion", true}}; }
Json G(const std::string& href) { return {{"label_group", {{"href", href}}}}; }
Json W(const std::string& href) { return {{"workload", {{"href", href}}}}; }
Json IPL(const std::string& href) { return {{"ip_list", {{"href", href}}}}; }
Json Ams() { return {{"actors", "ams"}}; }
Json Tcp(int port, int to = -1) {
  Json j = {{"port", port}, {"proto", 6}};
  if (to >= 0) j["to_port"] = to;
  return j;
}
// One empty scope: everything.
const Json kAll = Json::array({Json::array()});
// Scopes, each a list of labels or label groups.
Json Scopes(std::initializer_list<std::vector<Json>> scopes) {
  Json out = Json::array();
  for (const auto& s : scopes) out.push_back(Json(s));
  return out;
}
const Json kVsResolve = {{"providers", {"virtual_services"}}, {"consumers", {"workloads"}}};

std::vector<std::string> Prefixes(const Compiled& c, const std::string& target, size_t entry = 0) {
  for (const Target& t : c.targets) {
    if (t.name == target && entry < t.allow.size()) return t.allow[entry].sources.ToStrings();
  }
  return {};
}
using V = std::vector<std::string>;

// The database: a provider workload db (10.0.2.45) labelled role=DB, app=Orders, env=Prod.
struct Fixture {
  PolicyCase pc;
  std::string db_role, web_role, app_orders, app_billing, env_prod, env_dev, db;
  Fixture() {
    db_role = pc.Label("role", "DB");
    web_role = pc.Label("role", "Web");
    app_orders = pc.Label("app", "Orders");
    app_billing = pc.Label("app", "Billing");
    env_prod = pc.Label("env", "Prod");
    env_dev = pc.Label("env", "Dev");
    db = pc.Workload("db", {"10.0.2.45"}, {db_role, app_orders, env_prod});
  }
};

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

}  // namespace
}  // namespace moat::compile
