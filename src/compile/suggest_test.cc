#include "compile/suggest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <tuple>

#include "compile/suggest_cover.h"
#include "policy/loader.h"

namespace moat::compile {
namespace {

using Json = nlohmann::json;

constexpr int64_t kLast = 1714525200;  // 2024-05-01T01:00:00Z

// A policy bundle in the PCE's shapes, built one object at a time; active hrefs.
class Bundle {
 public:
  Bundle() {
    for (std::string_view c : policy::kCollections) j_[std::string(c)] = Json::array();
  }
  std::string Label(const std::string& key, const std::string& value) {
    std::string href = "/orgs/1/labels/" + std::to_string(++ids_);
    j_["labels"].push_back({{"href", href}, {"key", key}, {"value", value}});
    return href;
  }
  std::string Workload(const std::string& name, std::vector<std::string> addresses, std::vector<std::string> labels) {
    std::string href = "/orgs/1/workloads/" + name;
    Json w = {{"href", href}, {"name", name}, {"interfaces", Json::array()}, {"labels", Json::array()}};
    for (auto& a : addresses) w["interfaces"].push_back({{"name", "eth0"}, {"address", a}});
    for (auto& l : labels) w["labels"].push_back({{"href", l}});
    j_["workloads"].push_back(w);
    return href;
  }
  // A virtual service on TCP 5432 bound to a new workload `name`-host at `address`.
  std::string Database(const std::string& name, const std::string& address, std::vector<std::string> labels) {
    std::string href = "/orgs/1/sec_policy/active/virtual_services/vs-" + name;
    Json v = {{"href", href},
              {"name", name},
              {"service_ports", {{{"port", 5432}, {"proto", 6}}}},
              {"service_addresses", {{{"fqdn", name + ".example"}}}},
              {"labels", Json::array()}};
    for (auto& l : labels) v["labels"].push_back({{"href", l}});
    j_["virtual_services"].push_back(v);
    const std::string host = Workload(name + "-host", {address}, labels);
    j_["service_bindings"].push_back({{"virtual_service", {{"href", href}}}, {"workload", {{"href", host}}}});
    return href;
  }
  std::string IpList(const std::string& name, Json ranges) {
    std::string href = "/orgs/1/sec_policy/active/ip_lists/" + std::to_string(++ids_);
    j_["ip_lists"].push_back({{"href", href}, {"name", name}, {"ip_ranges", ranges}});
    return href;
  }
  // A rule in the one existing rule set (scope: all).
  std::string Rule(Json providers, Json consumers, Json ingress, const std::string& resolve_providers) {
    if (j_["rule_sets"].empty()) {
      j_["rule_sets"].push_back({{"href", "/orgs/1/sec_policy/active/rule_sets/1"},
                                 {"name", "existing"},
                                 {"enabled", true},
                                 {"scopes", Json::array({Json::array()})},
                                 {"rules", Json::array()}});
    }
    Json& rules = j_["rule_sets"][0]["rules"];
    std::string href = "/orgs/1/sec_policy/active/rule_sets/1/sec_rules/" + std::to_string(rules.size() + 1);
    rules.push_back({{"href", href},
                     {"enabled", true},
                     {"providers", providers},
                     {"consumers", consumers},
                     {"ingress_services", ingress},
                     {"resolve_labels_as", {{"providers", {resolve_providers}}, {"consumers", {"workloads"}}}}});
    return href;
  }
  // An override-deny rule in the existing rule set.
  void OverrideDeny(Json providers, Json consumers) {
    j_["rule_sets"][0]["deny_rules"].push_back({{"href", "/orgs/1/sec_policy/active/rule_sets/1/deny_rules/1"},
                                                {"enabled", true},
                                                {"providers", providers},
                                                {"consumers", consumers},
                                                {"ingress_services", Json::array()},
                                                {"override", true}});
  }
  const Json& json() const { return j_; }

 private:
  Json j_;
  int ids_ = 0;
};

Json Actor(const std::string& kind, const std::string& href) { return {{kind, {{"href", href}}}}; }

ObservedFlow F(const std::string& source, uint16_t port = 5432, int protocol = 6, uint64_t records = 1,
               int64_t last = kLast) {
  return {*net::ParseAddress(source), protocol, port, records, last};
}

const Target* Find(const Compiled& c, const std::string& name) {
  for (const Target& t : c.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// A loaded policy, its compilation and one suggestion.
struct Case {
  explicit Case(const Bundle& b) {
    auto p = policy::LoadBundle(b.json().dump(), "bundle.json", "active");
    EXPECT_TRUE(p) << p.error().message;
    if (p) policy = std::move(*p);
    compiled = Compile(policy);
  }
  const Suggestion& Run(const std::string& target, std::vector<ObservedFlow> flows) {
    const Target* t = Find(compiled, target);
    EXPECT_NE(t, nullptr) << target;
    s = Suggest({&policy, t, std::move(flows)});
    return s;
  }
  const Json& Rules() const { return s.rule_set["rules"]; }

  policy::Policy policy;
  Compiled compiled;
  Suggestion s;
};

// The policy as the PCE holds it once the suggestion is imported: all in draft, the rule set and
// its rules given hrefs.
const std::string kSuggested = "/orgs/1/sec_policy/draft/rule_sets/moat";

Result<policy::Policy> Merge(const Json& bundle, const Suggestion& s) {
  std::string text = bundle.dump();
  for (size_t at; (at = text.find("/sec_policy/active/")) != std::string::npos;) {
    text.replace(at, 19, "/sec_policy/draft/");
  }
  Json merged = Json::parse(text);
  for (const Json& l : s.ip_lists) merged["ip_lists"].push_back(l);
  Json rs = s.rule_set;
  rs["href"] = kSuggested;
  for (size_t i = 0; i < rs["rules"].size(); ++i)
    rs["rules"][i]["href"] = kSuggested + "/sec_rules/" + std::to_string(i);
  merged["rule_sets"].push_back(rs);
  return policy::LoadBundle(merged.dump(), "merged.json", "draft");
}

// The sources `t` admits on (protocol, port), from every rule or from the suggested ones only.
net::AddressSet Admitted(const Target& t, int protocol, uint16_t port, bool suggested_only) {
  net::AddressSet out;
  for (const AllowEntry& e : t.allow) {
    if (e.protocol != protocol || port < e.ports.from || port > e.ports.to) continue;
    for (const Provenance& pv : e.provenance) {
      if (!suggested_only || pv.rule.starts_with(kSuggested)) out.Add(pv.sources);
    }
  }
  return out;
}

// Labels web/api, orders/billing/storage, prod/staging; the orders-db virtual service.
struct Shop {
  Bundle b;
  std::string web = b.Label("role", "web"), api = b.Label("role", "api"), db = b.Label("role", "db");
  std::string orders = b.Label("app", "orders"), billing = b.Label("app", "billing");
  std::string storage = b.Label("app", "storage");
  std::string prod = b.Label("env", "prod"), staging = b.Label("env", "staging");
  std::string vs = b.Database("orders-db", "10.0.2.45", {db, storage, prod});
  // A rule that makes orders-db a target, admitting nothing observed in these tests.
  std::string existing =
      b.Rule({Actor("virtual_service", vs)}, {Actor("ip_list", b.IpList("far", {{{"from_ip", "203.0.113.0/24"}}}))},
             Json::array(), "virtual_services");
};

Json Labels(const std::vector<std::string>& hrefs) {
  Json out = Json::array();
  for (auto& h : hrefs) out.push_back(Actor("label", h));
  return out;
}

TEST(SuggestTest, ObservedWorkloadsBecomeTheirCoarsestLabelSetInAPceRuleSetBody) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("web-2", {"10.0.1.21"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("billing-web", {"10.0.1.30"}, {shop.web, shop.billing, shop.prod});
  shop.b.Workload("orders-batch", {"10.0.1.50"}, {shop.api, shop.orders, shop.staging});
  Case c(shop.b);
  const Suggestion& s = c.Run("orders-db", {F("10.0.1.20", 5432, 6, 12), F("10.0.1.21", 5432, 6, 3, kLast - 60)});
  // role=web also selects billing-web, app=orders orders-batch, env=prod the database host. Of the
  // pairs, role=web with app=orders and app=orders with env=prod qualify: role comes first.
  const Json want = {
      {"name", "moat-suggested-orders-db"},
      {"description", "moat: admits the 2 flows observed to orders-db; a draft to review before provisioning"},
      {"enabled", true},
      {"scopes", Json::array({Json::array()})},
      {"rules",
       {{{"enabled", true},
         {"description", "moat: covers 2 flows from 2 sources, last seen 2024-05-01T01:00:00Z"},
         {"providers", {Actor("virtual_service", "/orgs/1/sec_policy/draft/virtual_services/vs-orders-db")}},
         {"consumers", Labels({shop.web, shop.orders})},
         {"ingress_services", {{{"port", 5432}, {"proto", 6}}}},
         {"resolve_labels_as", {{"providers", {"virtual_services"}}, {"consumers", {"workloads"}}}}}}},
      {"external_data_set", "moat"},
      {"external_data_reference", "suggest:orders-db"}};
  EXPECT_EQ(s.rule_set, want) << s.rule_set.dump(1);
  EXPECT_TRUE(s.ip_lists.empty());
  const Json coverage = Json::parse(R"([{"rule_set": "moat-suggested-orders-db", "rule": 0,
      "flows": [{"source": "10.0.1.20", "protocol": 6, "port": 5432, "records": 12, "last": 1714525200,
                 "already_allowed": false},
                {"source": "10.0.1.21", "protocol": 6, "port": 5432, "records": 3, "last": 1714525140,
                 "already_allowed": false}],
      "workloads": ["web-1", "web-2"]}])");
  EXPECT_EQ(s.coverage, coverage) << s.coverage.dump(1);
  EXPECT_EQ(s.notes, std::vector<std::string>{"0 of 2 observed flows are already allowed by the current policy"});
}

TEST(SuggestTest, OneLabelWhenEveryWorkloadCarryingItWasObserved) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("api-1", {"10.0.1.40"}, {shop.api, shop.orders, shop.staging});
  shop.b.Workload("billing-web", {"10.0.1.30"}, {shop.web, shop.billing, shop.prod});
  Case c(shop.b);
  c.Run("orders-db", {F("10.0.1.20"), F("10.0.1.40")});
  ASSERT_EQ(c.Rules().size(), 1u) << c.s.rule_set.dump(1);
  EXPECT_EQ(c.Rules()[0]["consumers"], Labels({shop.orders}));
  EXPECT_EQ(c.s.coverage[0]["workloads"], Json::array({"api-1", "web-1"}));
}

TEST(SuggestTest, AnUnobservedWorkloadSharingTheLabelsForcesAFinerSet) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("web-2", {"10.0.1.21"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("web-stage", {"10.0.3.20"}, {shop.web, shop.orders, shop.staging});
  {
    Case c(shop.b);
    c.Run("orders-db", {F("10.0.1.20"), F("10.0.1.21"), F("10.0.3.20")});
    ASSERT_EQ(c.Rules().size(), 1u);
    EXPECT_EQ(c.Rules()[0]["consumers"], Labels({shop.web}));  // every web workload was observed
  }
  Case c(shop.b);
  c.Run("orders-db", {F("10.0.1.20"), F("10.0.1.21")});
  // role=web and app=orders select web-stage, env=prod the database: two labels it is; of the two
  // pairs that qualify, role before app.
  ASSERT_EQ(c.Rules().size(), 1u);
  EXPECT_EQ(c.Rules()[0]["consumers"], Labels({shop.web, shop.prod}));
}

TEST(SuggestTest, GreedyCoverPrefersFewerLabelsThenMoreWorkloads) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("api-1", {"10.0.1.40"}, {shop.api, shop.orders, shop.prod});
  shop.b.Workload("api-2", {"10.0.1.41"}, {shop.api, shop.orders, shop.staging});
  shop.b.Workload("web-billing", {"10.0.1.30"}, {shop.web, shop.billing, shop.prod});
  Case c(shop.b);
  c.Run("orders-db", {F("10.0.1.20"), F("10.0.1.40"), F("10.0.1.41")});
  // api-1 and api-2: role=api alone. web-1: role=web selects web-billing, app=orders is fine
  // (web-1, api-1, api-2 were all observed) and covers all three at once.
  ASSERT_EQ(c.Rules().size(), 1u) << c.s.rule_set.dump(1);
  EXPECT_EQ(c.Rules()[0]["consumers"], Labels({shop.orders}));
}

TEST(SuggestTest, AWorkloadNoLabelSetCanSelectAloneIsProposedByHref) {
  Shop shop;
  const std::string w1 = shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("web-2", {"10.0.1.21"}, {shop.web, shop.orders, shop.prod});
  const std::string bare = shop.b.Workload("bare", {"10.0.1.99"}, {});
  Case c(shop.b);
  const Suggestion& s = c.Run("orders-db", {F("10.0.1.20"), F("10.0.1.99")});
  ASSERT_EQ(c.Rules().size(), 1u) << s.rule_set.dump(1);
  EXPECT_EQ(c.Rules()[0]["consumers"], Json::array({Actor("workload", bare), Actor("workload", w1)}));
  EXPECT_EQ(s.coverage[0]["workloads"], Json::array({"bare", "web-1"}));
  EXPECT_EQ(s.notes, (std::vector<std::string>{
                         "0 of 2 observed flows are already allowed by the current policy",
                         "bare (/orgs/1/workloads/bare) has no labels: proposed by its href on tcp/5432",
                         "web-1 (/orgs/1/workloads/web-1) proposed by its href on tcp/5432: its labels role=web, "
                         "app=orders, env=prod also select web-2, not observed there"}));
}

TEST(SuggestTest, AWorkloadIsFoundByAnyOfItsAddresses) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20", "10.0.1.21", "2001:db8::20"}, {shop.web, shop.orders, shop.prod});
  Case c(shop.b);
  c.Run("orders-db", {F("10.0.1.21"), F("2001:db8::20")});
  EXPECT_TRUE(c.s.ip_lists.empty());
  ASSERT_EQ(c.Rules().size(), 1u);
  EXPECT_EQ(c.Rules()[0]["consumers"], Labels({shop.web}));
  EXPECT_EQ(c.s.coverage[0]["workloads"], Json::array({"web-1"}));
  EXPECT_EQ(c.s.coverage[0]["flows"][1]["source"], "2001:db8::20");
}

TEST(SuggestTest, IpOnlySourcesBecomeOneIpListMergedOnlyWhereExact) {
  Shop shop;
  Case c(shop.b);
  const Suggestion& s =
      c.Run("orders-db", {F("10.9.1.0"), F("10.9.1.1"), F("10.9.2.1"), F("10.9.2.2"), F("2001:db8::7")});
  ASSERT_EQ(s.ip_lists.size(), 1u);
  const Json want = {
      {"href", "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-1"},
      {"name", "moat-suggested-orders-db-clients"},
      {"description", "moat: sources observed to orders-db on tcp/5432 that are no workload's interface address"},
      {"ip_ranges",
       {{{"from_ip", "10.9.1.0/31"}},
        {{"from_ip", "10.9.2.1"}},
        {{"from_ip", "10.9.2.2"}},
        {{"from_ip", "2001:db8::7"}}}},
      {"external_data_set", "moat"},
      {"external_data_reference", "suggest:orders-db:clients"}};
  EXPECT_EQ(s.ip_lists[0], want) << s.ip_lists[0].dump(1);
  ASSERT_EQ(c.Rules().size(), 1u);
  EXPECT_EQ(c.Rules()[0]["consumers"],
            Json::array({Actor("ip_list", "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-1")}));
  EXPECT_EQ(s.coverage[0]["workloads"], Json::array());
  EXPECT_EQ(s.coverage[0]["flows"].size(), 5u);
}

TEST(SuggestTest, ReusesAFullyObservedIpListButNotAPartlyObservedOne) {
  Shop shop;
  const std::string bastions = shop.b.IpList("bastions", {{{"from_ip", "172.16.8.10"}, {"to_ip", "172.16.8.11"}}});
  shop.b.IpList("vpn", {{{"from_ip", "192.168.50.0/24"}}});
  Case c(shop.b);
  const Suggestion& s = c.Run("orders-db", {F("172.16.8.10"), F("172.16.8.11"), F("192.168.50.7")});
  ASSERT_EQ(s.ip_lists.size(), 1u);
  EXPECT_EQ(s.ip_lists[0]["ip_ranges"], Json::array({{{"from_ip", "192.168.50.7"}}}));
  ASSERT_EQ(c.Rules().size(), 1u);
  EXPECT_EQ(c.Rules()[0]["consumers"],
            Json::array({Actor("ip_list", "/orgs/1/sec_policy/draft/ip_lists/10"),
                         Actor("ip_list", "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-1")}));
  EXPECT_EQ(bastions, "/orgs/1/sec_policy/active/ip_lists/10");
  EXPECT_EQ(s.notes, (std::vector<std::string>{
                         "0 of 3 observed flows are already allowed by the current policy",
                         "IP list bastions is reused on tcp/5432: every address of it was observed",
                         "IP list vpn holds sources observed on tcp/5432 but is not reused: 255 of its addresses "
                         "were not observed"}));
}

TEST(SuggestTest, PortsShareARuleOnlyWhenTheirConsumersAreTheSame) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("api-1", {"10.0.1.40"}, {shop.api, shop.orders, shop.prod});
  Case c(shop.b);
  c.Run("orders-db", {F("10.0.1.20", 5432), F("10.0.1.20", 6432), F("10.0.1.40", 5432), F("10.9.1.1", 5432),
                      F("10.9.1.1", 6432), F("10.9.1.2", 6432), F("10.0.1.20", 53, 17), F("10.0.1.20", 0, 1)});
  const Json& rules = c.Rules();
  ASSERT_EQ(rules.size(), 4u) << c.s.rule_set.dump(1);
  // web-1 alone: role=web on icmp, tcp/6432 and udp/53; web-1 and api-1 on tcp/5432: app=orders.
  // 10.9.1.1 alone on tcp/5432, with 10.9.1.2 on tcp/6432: two lists, so that neither port opens
  // to the other's sources.
  EXPECT_EQ(rules[0]["consumers"], Labels({shop.web}));
  EXPECT_EQ(rules[0]["ingress_services"],
            Json::array({{{"proto", 1}}, {{"port", 6432}, {"proto", 6}}, {{"port", 53}, {"proto", 17}}}));
  EXPECT_EQ(rules[1]["consumers"], Labels({shop.orders}));
  EXPECT_EQ(rules[1]["ingress_services"], Json::array({{{"port", 5432}, {"proto", 6}}}));
  EXPECT_EQ(rules[2]["consumers"],
            Json::array({Actor("ip_list", "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-1")}));
  EXPECT_EQ(rules[2]["ingress_services"], Json::array({{{"port", 5432}, {"proto", 6}}}));
  EXPECT_EQ(rules[3]["consumers"],
            Json::array({Actor("ip_list", "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-2")}));
  EXPECT_EQ(rules[3]["ingress_services"], Json::array({{{"port", 6432}, {"proto", 6}}}));
  ASSERT_EQ(c.s.ip_lists.size(), 2u);
  EXPECT_EQ(c.s.ip_lists[0]["name"], "moat-suggested-orders-db-clients-1");
  EXPECT_EQ(c.s.ip_lists[0]["external_data_reference"], "suggest:orders-db:clients-1");
  EXPECT_EQ(c.s.ip_lists[1]["external_data_reference"], "suggest:orders-db:clients-2");
  EXPECT_EQ(c.s.rule_set["external_data_reference"], "suggest:orders-db");
  EXPECT_EQ(c.s.ip_lists[1]["ip_ranges"], Json::array({{{"from_ip", "10.9.1.1"}}, {{"from_ip", "10.9.1.2"}}}));
}

TEST(SuggestTest, ALoneRuleSetForTheSamePortsMergesThem) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  Case c(shop.b);
  c.Run("orders-db", {F("10.0.1.20", 5432), F("10.0.1.20", 6432)});
  ASSERT_EQ(c.Rules().size(), 1u);
  EXPECT_EQ(c.Rules()[0]["ingress_services"],
            Json::array({{{"port", 5432}, {"proto", 6}}, {{"port", 6432}, {"proto", 6}}}));
  EXPECT_EQ(c.Rules()[0]["description"], "moat: covers 2 flows from 1 sources, last seen 2024-05-01T01:00:00Z");
}

TEST(SuggestTest, AWorkloadTargetIsTheProviderWithIngressServices) {
  Bundle b;
  const std::string db = b.Label("role", "db"), web = b.Label("role", "web");
  const std::string host = b.Workload("pg-1", {"10.0.2.50"}, {db});
  b.Workload("web-1", {"10.0.1.20"}, {web});
  b.Rule({Actor("workload", host)}, Labels({web}), {{{"port", 5432}, {"proto", 6}}}, "workloads");
  Case c(b);
  c.Run("pg-1", {F("10.0.1.20", 5432, 6, 1, 0)});
  ASSERT_EQ(c.Rules().size(), 1u);
  EXPECT_EQ(c.Rules()[0]["providers"], Json::array({Actor("workload", host)}));
  EXPECT_EQ(c.Rules()[0]["resolve_labels_as"],
            Json::object({{"providers", {"workloads"}}, {"consumers", {"workloads"}}}));
  EXPECT_EQ(c.Rules()[0]["description"], "moat: covers 1 flows from 1 sources");  // no time known
  EXPECT_EQ(c.s.coverage[0]["flows"][0]["already_allowed"], true);
  EXPECT_EQ(c.s.coverage[0]["flows"][0]["last"], nullptr);
  EXPECT_EQ(c.s.notes[0], "1 of 1 observed flows are already allowed by the current policy");
}

TEST(SuggestTest, NeverAllWorkloadsEvenWhenEveryWorkloadWasObserved) {
  Bundle b;
  const std::string db = b.Label("role", "db"), web = b.Label("role", "web");
  const std::string host = b.Workload("pg-1", {"10.0.2.50"}, {db});
  b.Workload("web-1", {"10.0.1.20"}, {web});
  b.Rule({Actor("workload", host)}, Labels({web}), {{{"port", 5432}, {"proto", 6}}}, "workloads");
  Case c(b);
  c.Run("pg-1", {F("10.0.1.20"), F("10.0.2.50")});
  ASSERT_EQ(c.Rules().size(), 2u);
  EXPECT_EQ(c.Rules()[0]["consumers"], Labels({db}));
  EXPECT_EQ(c.Rules()[1]["consumers"], Labels({web}));
  EXPECT_EQ(c.s.notes[1],
            "every workload of the policy was observed on tcp/5432: All Workloads would admit them, and any workload "
            "added later; label sets are proposed instead");
  EXPECT_EQ(c.s.rule_set.dump().find("ams"), std::string::npos);
}

TEST(SuggestTest, RepeatedAndUnorderedFlowsGiveTheSameSuggestion) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  Case c(shop.b);
  const Suggestion a = c.Run("orders-db", {F("10.9.1.1"), F("10.0.1.20", 5432, 6, 2, kLast - 5), F("10.0.1.20")});
  const Suggestion b = c.Run("orders-db", {F("10.0.1.20"), F("10.9.1.1"), F("10.0.1.20", 5432, 6, 2, kLast - 5)});
  EXPECT_EQ(a.rule_set, b.rule_set);
  EXPECT_EQ(a.coverage, b.coverage);
  EXPECT_EQ(a.coverage[0]["flows"][0]["records"], 3);
  EXPECT_EQ(a.coverage[0]["flows"][0]["last"], kLast);
}

TEST(SuggestTest, SaysWhenAnOverrideDenyRuleRemovesObservedFlows) {
  Shop shop;
  shop.b.OverrideDeny({Actor("virtual_service", shop.vs)},
                      {Actor("ip_list", shop.b.IpList("blocked", {{{"from_ip", "10.9.1.0/24"}}}))});
  Case c(shop.b);
  c.Run("orders-db", {F("10.9.1.1"), F("10.9.1.2"), F("10.9.2.1")});
  EXPECT_EQ(c.Rules().size(), 1u);  // still suggested: it was observed (before the deny rule, perhaps)
  const std::string note =
      "override-deny rule /orgs/1/sec_policy/active/rule_sets/1/deny_rules/1 removes 2 observed flows (e.g. 10.9.1.1 "
      "on tcp/5432): no allow rule can admit them while it stands";
  EXPECT_NE(std::find(c.s.notes.begin(), c.s.notes.end(), note), c.s.notes.end()) << Json(c.s.notes).dump(1);
}

TEST(SuggestTest, SaysWhenThePolicyCannotBeCompiledForTheTarget) {
  Shop shop;
  Case c(shop.b);
  Target refused = *Find(c.compiled, "orders-db");
  refused.error = "rule r: consumers[0]: label_dimension \"app\"";
  refused.allow.clear();
  c.s = Suggest({&c.policy, &refused, {F("10.9.1.1")}});
  const std::string note =
      "the policy cannot be compiled exactly for it (rule r: consumers[0]: label_dimension \"app\"): which observed "
      "flows it already admits is not known; every flow is counted as not admitted";
  EXPECT_NE(std::find(c.s.notes.begin(), c.s.notes.end(), note), c.s.notes.end()) << Json(c.s.notes).dump(1);
}

TEST(SuggestTest, NothingToSuggestWithoutFlows) {
  Shop shop;
  Case c(shop.b);
  c.Run("orders-db", {});
  EXPECT_TRUE(c.s.rule_set.is_null());
  EXPECT_EQ(c.s.notes, std::vector<std::string>{"no flows observed to orders-db: nothing to suggest"});
}

TEST(SuggestTest, TheMergedSuggestionLoadsAndAdmitsTheObservedFlows) {
  Shop shop;
  shop.b.Workload("web-1", {"10.0.1.20"}, {shop.web, shop.orders, shop.prod});
  shop.b.Workload("web-2", {"10.0.1.21"}, {shop.web, shop.orders, shop.staging});
  Case c(shop.b);
  c.Run("orders-db", {F("10.0.1.20"), F("10.9.1.0"), F("10.9.1.1")});
  auto merged = Merge(shop.b.json(), c.s);
  ASSERT_TRUE(merged) << merged.error().message;
  const Compiled after = Compile(*merged);
  const Target* t = Find(after, "orders-db");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Admitted(*t, 6, 5432, true).ToStrings(), (std::vector<std::string>{"10.0.1.20/32", "10.9.1.0/31"}));
}

TEST(SuggestTest, ADocumentNumbersPlaceholdersAcrossTargets) {
  Shop shop;
  const std::string vs2 = shop.b.Database("billing-db", "10.0.2.46", {shop.db, shop.billing, shop.prod});
  shop.b.Rule({Actor("virtual_service", vs2)}, Labels({shop.api}), Json::array(), "virtual_services");
  Case c(shop.b);
  const Json doc = SuggestDocument({{&c.policy, Find(c.compiled, "orders-db"), {F("10.9.1.1")}},
                                    {&c.policy, Find(c.compiled, "billing-db"), {F("10.9.1.2")}}});
  ASSERT_EQ(doc["rule_sets"].size(), 2u);
  EXPECT_EQ(doc["rule_sets"][0]["name"], "moat-suggested-billing-db");
  EXPECT_EQ(doc["ip_lists"][0]["href"], "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-1");
  EXPECT_EQ(doc["ip_lists"][1]["href"], "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-2");
  EXPECT_EQ(doc["ip_lists"][1]["name"], "moat-suggested-orders-db-clients");
  EXPECT_EQ(doc["coverage"][1]["rule_set"], "moat-suggested-orders-db");
  EXPECT_EQ(doc["notes"][0], "billing-db: 0 of 1 observed flows are already allowed by the current policy");
}

TEST(SuggestCoverTest, TwoLabelsOfOneKeyAreNeverOneLabelSet) {
  Shop shop;
  // A workload carrying two role labels (the PCE forbids it; a bundle file can hold it).
  shop.b.Workload("odd", {"10.0.1.20"}, {shop.web, shop.api});
  shop.b.Workload("api-1", {"10.0.1.40"}, {shop.api});
  shop.b.Workload("web-1", {"10.0.1.21"}, {shop.web});
  Case c(shop.b);
  const LabelIndex ix(c.policy);
  WorkloadBits observed(ix.workloads());
  observed.Set(c.policy.workload_index.at("/orgs/1/workloads/odd"));
  const LabelCover cover = CoverWithLabels(ix, observed);
  EXPECT_TRUE(cover.sets.empty());
  EXPECT_EQ(cover.by_href.size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// The key property, over generated policies: merged into the policy, the suggestion admits every
// observed flow, and what its rules admit on a port is exactly observed sources plus the other
// interface addresses of workloads observed there — never an address of a workload that was not
// observed there, nor any other address. The merged policy as a whole admits on a port at most
// what the original policy admitted there plus that.

namespace property {

using Port = std::pair<int, uint16_t>;

struct Generated {
  Bundle b;
  std::string target;
  std::vector<ObservedFlow> flows;
};

std::string V4(int a, int b, int c, int d) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." + std::to_string(d);
}

// ~40 workloads with random labels of five keys, three small IP lists and a wide one, a rule or
// two admitting some of them; then random sources on two or three ports.
Generated Generate(uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto chance = [&](unsigned pct) { return rng() % 100 < pct; };
  Generated g;
  Bundle& b = g.b;
  const std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
      {"role", {"web", "api", "worker", "batch"}},
      {"app", {"orders", "billing", "search"}},
      {"env", {"prod", "staging"}},
      {"loc", {"east", "west"}},
      {"team", {"a", "b"}}};
  std::vector<std::vector<std::string>> labels;
  for (const auto& [key, values] : keys) {
    labels.emplace_back();
    for (const auto& v : values) labels.back().push_back(b.Label(key, v));
  }
  const std::vector<std::string> db = {b.Label("role", "db"), labels[1][0], labels[2][0]};
  const bool vs = seed % 2 == 0;
  g.target = vs ? "db" : "db-host";
  Json provider;
  if (vs) {
    provider = Actor("virtual_service", b.Database("db", "10.0.2.45", db));
  } else {
    provider = Actor("workload", b.Workload("db-host", {"10.0.2.45"}, db));
  }
  const int n = 36 + static_cast<int>(pick(9));
  std::vector<std::vector<std::string>> addresses;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> own;
    for (size_t k = 0; k < keys.size() && !chance(5); ++k) {
      if (chance(k == 4 ? 30 : 80)) own.push_back(labels[k][pick(labels[k].size())]);
    }
    addresses.push_back({V4(10, 0, 1 + i / 100, i % 100 + 10)});
    if (chance(15)) addresses.back().push_back(V4(10, 1, 0, i + 10));
    if (chance(3)) addresses.back().clear();  // no interface: can never be observed
    b.Workload("w" + std::to_string(i), addresses.back(), own);
  }
  std::vector<std::vector<std::string>> small;
  for (int k = 0; k < 3; ++k) {
    small.emplace_back();
    const int size = 2 + static_cast<int>(pick(2));
    for (int j = 0; j < size; ++j) small.back().push_back(V4(10, 9, 0, k * 8 + j));
    b.IpList("small-" + std::to_string(k), {{{"from_ip", small.back().front()}, {"to_ip", small.back().back()}}});
  }
  const std::string wide = b.IpList("wide", {{{"from_ip", "10.9.1.0/24"}}});
  const Json ingress = vs ? Json::array() : Json::array({{{"port", 5432}, {"proto", 6}}});
  b.Rule({provider}, {Actor("label", labels[0][pick(4)])}, ingress, vs ? "virtual_services" : "workloads");
  if (chance(50)) b.Rule({provider}, {Actor("ip_list", wide)}, ingress, vs ? "virtual_services" : "workloads");

  std::vector<Port> ports = {{6, 5432}, {6, 5433}};
  if (chance(50)) ports.push_back({17, 53});
  const unsigned q = std::vector<unsigned>{15, 40, 70, 100}[pick(4)];
  for (const Port& p : ports) {
    auto flow = [&](const std::string& source) {
      g.flows.push_back(F(source, p.second, p.first, 1 + pick(100), kLast - static_cast<int64_t>(pick(3600))));
    };
    const unsigned port_q = chance(10) ? 0 : q;  // now and then a port with IP-only sources alone
    for (const auto& a : addresses) {
      if (!a.empty() && chance(port_q)) flow(a[pick(a.size())]);
    }
    for (size_t i = pick(7); i > 0; --i) {
      const size_t where = pick(3);
      flow(where == 0   ? V4(10, 9, 0, static_cast<int>(pick(24)))
           : where == 1 ? V4(10, 9, 1, static_cast<int>(pick(16)))
                        : V4(10, 8, 0, static_cast<int>(pick(8))));
    }
    for (const auto& list : small) {
      if (chance(30)) {
        for (const auto& a : list) flow(a);
      }
    }
  }
  return g;
}

// The workloads of `p` that carry every label of `labels`.
std::set<size_t> Select(const policy::Policy& p, const std::vector<std::string>& labels) {
  std::set<size_t> out;
  for (size_t w = 0; w < p.workloads.size(); ++w) {
    const auto& own = p.workloads[w].labels;
    if (std::all_of(labels.begin(), labels.end(),
                    [&](const std::string& l) { return std::find(own.begin(), own.end(), l) != own.end(); })) {
      out.insert(w);
    }
  }
  return out;
}

bool Within(const std::set<size_t>& a, const std::set<size_t>& b) {
  return std::includes(b.begin(), b.end(), a.begin(), a.end());
}

// The fewest labels of workload `w` that select observed workloads only (by brute force), or -1.
int CoarsestSize(const policy::Policy& p, size_t w, const std::set<size_t>& observed) {
  const auto& own = p.workloads[w].labels;
  int best = -1;
  for (uint32_t mask = 1; mask < (1u << own.size()); ++mask) {
    std::vector<std::string> subset;
    for (size_t i = 0; i < own.size(); ++i) {
      if (mask >> i & 1) subset.push_back(own[i]);
    }
    if (Within(Select(p, subset), observed) && (best < 0 || static_cast<int>(subset.size()) < best)) {
      best = static_cast<int>(subset.size());
    }
  }
  return best;
}

struct Observed {
  std::map<Port, net::AddressSet> sources;     // every observed source
  std::map<Port, std::set<size_t>> workloads;  // workloads with an observed address
  std::map<Port, net::AddressSet> justified;   // sources, and every address of those workloads
};

Observed Observe(const policy::Policy& p, const std::vector<ObservedFlow>& flows) {
  Observed o;
  for (const ObservedFlow& f : flows) {
    const Port port{f.protocol, f.port};
    o.sources[port].Add(f.source);
    o.justified[port].Add(f.source);
    o.workloads[port];  // present even when only IP-only sources were observed
    for (size_t w = 0; w < p.workloads.size(); ++w) {
      if (!p.workloads[w].addresses.Contains(f.source)) continue;
      o.workloads[port].insert(w);
      o.justified[port].Add(p.workloads[w].addresses);
    }
  }
  return o;
}

net::AddressSet Minus(net::AddressSet a, const net::AddressSet& b) {
  a.Subtract(b);
  return a;
}

// What the merged policy admits, against what was observed and what the original admitted.
void CheckAdmitted(const policy::Policy& p, const Observed& o, const std::vector<ObservedFlow>& flows,
                   const Target& before, const Target& after) {
  for (const ObservedFlow& f : flows) {
    const Decision d = Decide(after, f.source, f.protocol, f.port);
    EXPECT_TRUE(
        std::any_of(d.rules.begin(), d.rules.end(), [](const std::string& r) { return r.starts_with(kSuggested); }))
        << net::ToString(f.source) << " on " << f.port;
  }
  for (const auto& [port, justified] : o.justified) {
    const net::AddressSet suggested = Admitted(after, port.first, port.second, true);
    EXPECT_TRUE(Minus(suggested, justified).empty())
        << port.second << ": " << Minus(suggested, justified).ToStrings()[0];
    for (size_t w = 0; w < p.workloads.size(); ++w) {
      if (o.workloads.at(port).contains(w)) continue;
      EXPECT_TRUE(suggested.Intersect(p.workloads[w].addresses).empty())
          << p.workloads[w].name << " was not observed on " << port.second;
    }
    net::AddressSet allowed = Admitted(before, port.first, port.second, false);
    allowed.Add(justified);
    EXPECT_TRUE(Minus(Admitted(after, port.first, port.second, false), allowed).empty()) << port.second;
  }
}

std::vector<std::string> Refs(const Json& consumers, const std::string& kind) {
  std::vector<std::string> out;
  for (const Json& a : consumers) {
    if (a.contains(kind)) out.push_back(a[kind]["href"]);
  }
  return out;
}

// Each rule's consumers, against the flows the coverage says it covers: label sets select only
// workloads observed on each of the rule's ports, and are as coarse as the workloads they cover
// allow; hrefs only for workloads no label set can select alone.
void CheckRules(const policy::Policy& p, const Observed& o, const Suggestion& s, const Target& before,
                size_t flow_count) {
  size_t covered = 0;
  EXPECT_EQ(s.rule_set.dump().find("\"actors\""), std::string::npos);
  for (const Json& entry : s.coverage) {
    const Json& rule = s.rule_set["rules"][entry["rule"].get<size_t>()];
    const std::vector<std::string> labels = Refs(rule["consumers"], "label");
    const std::vector<std::string> hrefs = Refs(rule["consumers"], "workload");
    for (const Json& service : rule["ingress_services"]) {
      const Port port{service["proto"], service.value("port", 0)};
      if (!labels.empty()) {
        EXPECT_TRUE(Within(Select(p, labels), o.workloads.at(port))) << rule.dump();
      }
    }
    for (const Json& f : entry["flows"]) {
      ++covered;
      const Port port{f["protocol"], f["port"]};
      const net::Address source = *net::ParseAddress(f["source"].get<std::string>());
      EXPECT_EQ(f["already_allowed"], Decide(before, source, port.first, port.second).allowed);
      for (size_t w = 0; w < p.workloads.size(); ++w) {
        if (!p.workloads[w].addresses.Contains(source)) continue;
        const int coarsest = CoarsestSize(p, w, o.workloads.at(port));
        if (!labels.empty()) {
          EXPECT_EQ(static_cast<int>(labels.size()), coarsest) << p.workloads[w].name;
        }
        if (!hrefs.empty()) {
          EXPECT_EQ(coarsest, -1) << p.workloads[w].name;
          EXPECT_NE(std::find(hrefs.begin(), hrefs.end(), p.workloads[w].href), hrefs.end());
        }
        EXPECT_FALSE(labels.empty() && hrefs.empty()) << "a workload source covered by an IP list";
      }
    }
  }
  EXPECT_EQ(covered, flow_count);
}

TEST(SuggestPropertyTest, MergedSuggestionAdmitsExactlyTheObservedOnGeneratedPolicies) {
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Generated g = Generate(seed);
    Case c(g.b);
    const Target* before = Find(c.compiled, g.target);
    ASSERT_NE(before, nullptr);
    const Suggestion s = c.Run(g.target, g.flows);
    auto merged = Merge(g.b.json(), s);
    ASSERT_TRUE(merged) << merged.error().message;
    const Compiled compiled = Compile(*merged);
    const Target* after = Find(compiled, g.target);
    ASSERT_NE(after, nullptr);
    const Observed o = Observe(c.policy, g.flows);
    std::set<std::tuple<net::Address, int, uint16_t>> distinct;
    for (const ObservedFlow& f : g.flows) distinct.insert({f.source, f.protocol, f.port});
    CheckAdmitted(c.policy, o, g.flows, *before, *after);
    CheckRules(c.policy, o, s, *before, distinct.size());
    // The same flows in another order give the same suggestion.
    std::shuffle(g.flows.begin(), g.flows.end(), std::mt19937(seed));
    const Suggestion again = c.Run(g.target, g.flows);
    EXPECT_EQ(again.rule_set, s.rule_set);
    EXPECT_EQ(again.ip_lists, s.ip_lists);
    EXPECT_EQ(again.coverage, s.coverage);
    EXPECT_EQ(again.notes, s.notes);
    if (HasFailure()) break;
  }
}

}  // namespace property
}  // namespace
}  // namespace moat::compile
