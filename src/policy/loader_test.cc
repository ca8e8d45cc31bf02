#include "policy/loader.h"

#include <gtest/gtest.h>

namespace moat::policy {
namespace {

// A bundle with one of everything, in the PCE's shapes; `extra` is spliced into the rule set's
// rule (to make it bad).
std::string Bundle(const std::string& rule_extra = "",
                   const std::string& consumers = R"([{"label": {"href": "/orgs/1/labels/2"}}])") {
  return R"({
  "labels": [{"href": "/orgs/1/labels/1", "key": "role", "value": "DB"},
             {"href": "/orgs/1/labels/2", "key": "role", "value": "Web"}],
  "label_groups": [{"href": "/orgs/1/sec_policy/active/label_groups/g1", "name": "G", "key": "role",
                    "labels": [{"href": "/orgs/1/labels/2"}], "sub_groups": []}],
  "workloads": [{"href": "/orgs/1/workloads/w1", "name": "web", "interfaces": [
                   {"name": "eth0", "address": "10.0.1.20"}, {"name": "lo", "address": "127.0.0.1", "loopback": true},
                   {"name": "eth1", "address": "fe80::1"}, {"name": "eth2", "address": "2001:db8::20"}],
                 "labels": [{"href": "/orgs/1/labels/2"}], "ven": {"href": "/orgs/1/vens/1"}},
                {"href": "/orgs/1/workloads/w2", "name": "gone", "deleted": true, "interfaces": [], "labels": []}],
  "virtual_services": [{"href": "/orgs/1/sec_policy/active/virtual_services/v1", "name": "VS",
                        "service": {"href": "/orgs/1/sec_policy/active/services/s1"},
                        "service_addresses": [{"fqdn": "db.example"}], "labels": [{"href": "/orgs/1/labels/1"}]}],
  "service_bindings": [{"virtual_service": {"href": "/orgs/1/sec_policy/active/virtual_services/v1"},
                        "workload": {"href": "/orgs/1/workloads/w1"},
                        "port_overrides": [{"port": 5432, "proto": 6, "new_port": 6432}]}],
  "ip_lists": [{"href": "/orgs/1/sec_policy/active/ip_lists/7", "name": "L",
                "ip_ranges": [{"from_ip": "10.0.0.0/8"}, {"from_ip": "10.1.0.0/16", "exclusion": true}],
                "fqdns": [{"fqdn": "x.example"}]},
               {"href": "/orgs/1/sec_policy/draft/ip_lists/8", "name": "draft only",
                "ip_ranges": [{"from_ip": "not an address"}]}],
  "services": [{"href": "/orgs/1/sec_policy/active/services/s1", "name": "S",
                "service_ports": [{"port": 5432, "proto": 6}, {"port": 8000, "to_port": 8010, "proto": 6}]}],
  "rule_sets": [{"href": "/orgs/1/sec_policy/active/rule_sets/1", "name": "RS", "enabled": true,
                 "scopes": [[{"label_group": {"href": "/orgs/1/sec_policy/active/label_groups/g1"}}]],
                 "rules": [{"href": "/orgs/1/sec_policy/active/rule_sets/1/sec_rules/1", "enabled": true,
                            "providers": [{"label": {"href": "/orgs/1/labels/1"}}],
                            "consumers": )" +
         consumers + R"(,
                            "ingress_services": [{"href": "/orgs/1/sec_policy/active/services/s1"}, {"port": 22, "proto": 6}],
                            "resolve_labels_as": {"providers": ["virtual_services"], "consumers": ["workloads"]},
                            "unscoped_consumers": true)" +
         rule_extra + R"(}],
                 "deny_rules": [{"href": "/orgs/1/sec_policy/active/rule_sets/1/deny_rules/2", "enabled": true,
                                 "providers": [{"actors": "ams"}], "consumers": [{"ip_list": {"href": "/orgs/1/sec_policy/active/ip_lists/7"}}],
                                 "ingress_services": [], "override": true}]}]
})";
}

Result<Policy> Load(const std::string& json, const std::string& version = "active") {
  return LoadBundle(json, "p.json", version);
}

TEST(LoaderTest, LoadsEveryCollectionOfTheBundle) {
  auto p = Load(Bundle());
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->labels.size(), 2u);
  ASSERT_EQ(p->workloads.size(), 1u);  // the deleted one is left out
  EXPECT_TRUE(p->workloads[0].managed);
  // Loopback and IPv6 link-local interfaces are not addresses of the workload.
  EXPECT_EQ(p->workloads[0].addresses.ToStrings(), (std::vector<std::string>{"10.0.1.20/32", "2001:db8::20/128"}));
  ASSERT_EQ(p->virtual_services.size(), 1u);
  EXPECT_EQ(p->virtual_services[0].ports.size(), 2u);  // from its service
  ASSERT_EQ(p->service_bindings.size(), 1u);
  EXPECT_EQ(p->service_bindings[0].overrides[0].to, (net::PortRange{6432, 6432}));
  ASSERT_EQ(p->ip_lists.size(), 1u);  // the draft-only list is not read under active
  EXPECT_EQ(p->ip_lists[0].addresses.Count(), (1u << 24) - (1u << 16));
  EXPECT_EQ(p->ip_lists[0].fqdns, std::vector<std::string>{"x.example"});
  ASSERT_EQ(p->rule_sets.size(), 1u);
  const auto& rules = p->rule_sets[0].rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_FALSE(rules[0].deny);
  EXPECT_TRUE(rules[0].resolve_providers.virtual_services);
  EXPECT_FALSE(rules[0].resolve_providers.workloads);
  EXPECT_EQ(rules[0].ports.size(), 3u);  // inline 22, and the service's two
  EXPECT_TRUE(rules[1].deny);
  EXPECT_TRUE(rules[1].override);
}

TEST(LoaderTest, MissingReferenceNamesTheHrefAndWhereItIs) {
  auto p = Load(Bundle("", R"([{"ip_list": {"href": "/orgs/1/sec_policy/active/ip_lists/99"}}])"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(p.error().message,
            "p.json: rule_sets[0].rules[0].consumers[0].ip_list.href: IP list /orgs/1/sec_policy/*/ip_lists/99 "
            "does not exist in the active policy");
}

TEST(LoaderTest, BadValuesNameTheJsonPath) {
  auto Replace = [](std::string s, const std::string& from, const std::string& to) {
    return s.replace(s.find(from), from.size(), to);
  };
  auto p = Load(Replace(Bundle(), R"({"port": 22, "proto": 6})", R"({"port": 70000, "proto": 6})"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "p.json: rule_sets[0].rules[0].ingress_services[1].port: port out of range 0-65535: 70000");
  p = Load(Replace(Bundle(), R"("address": "10.0.1.20")", R"("address": "10.0.1.999")"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "p.json: workloads[0].interfaces[0].address: not an IP address: \"10.0.1.999\"");
}

TEST(LoaderTest, UnknownActorIsAnErrorNotASilentSkip) {
  auto p = Load(Bundle("", R"([{"virtual_server": {"href": "/orgs/1/sec_policy/active/virtual_servers/1"}}])"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "p.json: rule_sets[0].rules[0].consumers[0]: unsupported actor: expected one of actors=ams, label, "
            "label_group, workload, virtual_service, ip_list");
}

TEST(LoaderTest, NotJsonOrNotABundle) {
  auto p = Load("{\"labels\": [");
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().message.starts_with("p.json: not valid JSON: ")) << p.error().message;
  auto q = Load("[1, 2]");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message, "p.json: expected a policy bundle: an object of PCE collections");
  auto r = Load(R"({"labels": {"href": "x"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "p.json: labels: expected an array");
  auto s = Load(R"({"labels": [{"href": "/orgs/1/labels/1", "key": "role"}]})");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "p.json: labels[0]: missing 'value'");
}

TEST(LoaderTest, VersionSelectsObjectsAndReferencesFollowIt) {
  // Under draft, the active objects are not there: the rule set itself is active-only.
  auto p = Load(Bundle(), "draft");
  ASSERT_FALSE(p);  // the draft IP list is bad, and it is read now
  EXPECT_EQ(p.error().message,
            "p.json: ip_lists[1].ip_ranges[0].from_ip: not an IP address or CIDR: \"not an address\"");
  EXPECT_FALSE(Load(Bundle(), "latest"));
  EXPECT_TRUE(IsPolicyVersion("80"));
  EXPECT_FALSE(IsPolicyVersion("080"));
  EXPECT_EQ(HrefId("/orgs/1/sec_policy/draft/ip_lists/7"), "/orgs/1/sec_policy/*/ip_lists/7");
  EXPECT_EQ(HrefId("/orgs/1/labels/7"), "/orgs/1/labels/7");
  EXPECT_EQ(HrefAtVersion("/orgs/1/sec_policy/draft/virtual_services/u1", "active"),
            "/orgs/1/sec_policy/active/virtual_services/u1");
  EXPECT_EQ(HrefAtVersion("/orgs/1/sec_policy/80/ip_lists/7", "draft"), "/orgs/1/sec_policy/draft/ip_lists/7");
  EXPECT_EQ(HrefAtVersion("/orgs/1/workloads/w1", "draft"), "/orgs/1/workloads/w1");
}

TEST(LoaderTest, CollectionsCanArriveOneByOne) {
  PolicyBuilder b("active");
  ASSERT_TRUE(
      b.AddCollection("labels", R"([{"href": "/orgs/1/labels/1", "key": "role", "value": "DB"}])", "GET labels"));
  auto bad = b.AddCollection(
      "workloads", R"([{"href": "/orgs/1/workloads/w", "labels": [{"href": "/orgs/1/labels/9"}]}])", "GET workloads");
  ASSERT_TRUE(bad);  // references are checked at Build()
  auto p = std::move(b).Build();
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            "GET workloads: workloads[0].labels[0].href: label /orgs/1/labels/9 does not exist in the active policy");
}

}  // namespace
}  // namespace moat::policy
