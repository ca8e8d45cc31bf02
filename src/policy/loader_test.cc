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

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  return s.replace(s.find(from), from.size(), to);
}
// The bundle with its allow rule's providers replaced.
std::string WithProviders(const std::string& providers) {
  return Replace(Bundle(), R"("providers": [{"label": {"href": "/orgs/1/labels/1"}}])", "\"providers\": " + providers);
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

// A reference that cannot be resolved is the problem of the rule that makes it, naming the field
// and why; the policy still loads, and the actor can never be matched by mistake.
TEST(LoaderTest, MissingReferenceIsTheRulesProblemNotThePolicys) {
  auto p = Load(Bundle("", R"([{"ip_list": {"href": "/orgs/1/sec_policy/active/ip_lists/99"}}])"));
  ASSERT_TRUE(p) << p.error().message;
  const Rule& r = p->rule_sets[0].rules[0];
  EXPECT_EQ(r.problem,
            "consumers[0].ip_list: IP list /orgs/1/sec_policy/active/ip_lists/99 does not exist in the active policy");
  EXPECT_FALSE(r.providers_unknown);  // a consumer: which objects the rule reaches is still known
  EXPECT_EQ(r.consumers[0].kind, ActorKind::kUnknown);
  EXPECT_TRUE(p->rule_sets[0].rules[1].problem.empty());  // the deny rule is untouched

  // On the provider side, which objects the rule reaches is not known.
  auto q = Load(WithProviders(R"([{"label": {"href": "/orgs/1/labels/77"}}])"));
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_TRUE(q->rule_sets[0].rules[0].providers_unknown);
}

TEST(LoaderTest, BadValuesAreTheObjectsProblemNamingTheField) {
  auto p = Load(Replace(Bundle(), R"({"port": 22, "proto": 6})", R"({"port": 70000, "proto": 6})"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->rule_sets[0].rules[0].problem, "ingress_services[1].port: port out of range 0-65535: 70000");
  p = Load(Replace(Bundle(), R"("address": "10.0.1.20")", R"("address": "10.0.1.999")"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->workloads[0].problem, "interfaces[0].address: not an IP address: \"10.0.1.999\"");
  EXPECT_EQ(p->workloads[0].labels, std::vector<std::string>{"/orgs/1/labels/2"});  // still selectable by label
}

TEST(LoaderTest, ActorsMoatCannotResolveAreTheRulesProblem) {
  auto p = Load(Bundle("", R"([{"virtual_server": {"href": "/orgs/1/sec_policy/active/virtual_servers/1"}}])"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->rule_sets[0].rules[0].problem,
            "consumers[0]: virtual_server /orgs/1/sec_policy/active/virtual_servers/1: a load balancer's virtual "
            "server, whose addresses moat does not know");
  p = Load(Bundle("", R"([{"label_dimension": "app"}])"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rule_sets[0].rules[0].problem,
            "consumers[0]: label_dimension \"app\": moat cannot tell which workloads it stands for");
  p = Load(Bundle("", R"([{"actors": "container_host"}])"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->rule_sets[0].rules[0].problem,
            "consumers[0]: actors \"container_host\": moat cannot tell which addresses it stands for");
  // A virtual server as a provider is never a database: the rule reaches none, which is exact.
  p = Load(WithProviders(R"([{"virtual_server": {"href": "/orgs/1/virtual_servers/1"}}])"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->rule_sets[0].rules[0].problem.empty());
  EXPECT_EQ(p->rule_sets[0].rules[0].providers[0].kind, ActorKind::kVirtualServer);
}

TEST(LoaderTest, DeletedWorkloadsResolveToNothing) {
  // Marked deleted in the actor, or deleted in the workloads collection.
  auto p = Load(Bundle("", R"([{"workload": {"href": "/orgs/1/workloads/w9", "deleted": true}},
                               {"workload": {"href": "/orgs/1/workloads/w2"}}])"));
  ASSERT_TRUE(p) << p.error().message;
  const Rule& r = p->rule_sets[0].rules[0];
  EXPECT_TRUE(r.problem.empty()) << r.problem;
  ASSERT_EQ(r.consumers.size(), 2u);
  EXPECT_EQ(r.consumers[0].kind, ActorKind::kNothing);
  EXPECT_EQ(r.consumers[0].note, "consumers[0]: workload /orgs/1/workloads/w9 is deleted: it resolves to nothing");
  EXPECT_EQ(r.consumers[1].kind, ActorKind::kNothing);
  EXPECT_EQ(r.consumers[1].note,
            "consumers[1].workload: workload /orgs/1/workloads/w2 is deleted: it resolves to nothing");
}

TEST(LoaderTest, NotJsonNotABundleOrAnObjectWithoutHrefStopsTheLoad) {
  auto p = Load("{\"labels\": [");
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().message.starts_with("p.json: not valid JSON: ")) << p.error().message;
  auto q = Load("[1, 2]");
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().message, "p.json: expected a policy bundle: an object of PCE collections");
  auto r = Load(R"({"labels": {"href": "x"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "p.json: labels: expected an array");
  auto s = Load(R"({"labels": [{"key": "role", "value": "DB"}]})");
  ASSERT_FALSE(s);  // nothing could name what it breaks
  EXPECT_EQ(s.error().message, "p.json: labels[0]: missing 'href'");
  auto t = Load(R"({"labels": [{"href": "/orgs/1/labels/1", "key": "role"}]})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->labels[0].problem, "missing 'value'");
}

TEST(LoaderTest, VersionSelectsObjectsAndReferencesFollowIt) {
  // Under draft, the active objects are not there, and the draft IP list's bad range is its own
  // problem: nothing uses it, so nothing fails.
  auto p = Load(Bundle(), "draft");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->ip_lists.size(), 1u);
  EXPECT_EQ(p->ip_lists[0].problem, "ip_ranges[0].from_ip: not an IP address or CIDR: \"not an address\"");
  EXPECT_TRUE(p->rule_sets.empty());
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
  ASSERT_TRUE(b.AddCollection(
      "workloads", R"([{"href": "/orgs/1/workloads/w", "labels": [{"href": "/orgs/1/labels/9"}]}])", "GET workloads"));
  auto p = std::move(b).Build();
  ASSERT_TRUE(p) << p.error().message;
  // A label an object carries is matched by its href: one the labels do not list matches no rule.
  EXPECT_EQ(p->workloads[0].labels, std::vector<std::string>{"/orgs/1/labels/9"});
}

TEST(LoaderTest, TwoObjectsWithOneHrefAreReportedAndNotResolvedByOrder) {
  auto p = Load(R"({"services": [
      {"href": "/orgs/1/sec_policy/active/services/4", "name": "S-HTTP", "service_ports": [{"port": 80, "proto": 6}]},
      {"href": "/orgs/1/sec_policy/active/services/4", "name": "S-WELL-KNOWN",
       "service_ports": [{"port": 1, "to_port": 1023, "proto": 6}]}],
    "rule_sets": [{"href": "/orgs/1/sec_policy/active/rule_sets/1", "scopes": [[]],
      "rules": [{"href": "/orgs/1/sec_policy/active/rule_sets/1/sec_rules/1", "providers": [{"actors": "ams"}],
                 "consumers": [{"actors": "ams"}],
                 "ingress_services": [{"href": "/orgs/1/sec_policy/active/services/4"}]}]}]})");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->warnings,
            std::vector<std::string>{"services: two objects have the href "
                                     "/orgs/1/sec_policy/active/services/4; the rules that use it fail the "
                                     "targets they reach"});
  EXPECT_EQ(p->rule_sets[0].rules[0].problem,
            "ingress_services[0]: service /orgs/1/sec_policy/active/services/4: two objects have this href, and moat "
            "does not pick one");
  EXPECT_TRUE(p->rule_sets[0].rules[0].ports.empty());
}

TEST(LoaderTest, ServicesIcmpWindowsServicesAndInlineServices) {
  auto p = Load(R"({"services": [
      {"href": "/orgs/1/sec_policy/active/services/1", "name": "ICMP", "process_name": null,
       "service_ports": [{"proto": 1, "icmp_type": null, "icmp_code": null}, {"proto": 1, "icmp_type": 8},
                         {"proto": 58, "icmp_type": 128, "icmp_code": 0}]},
      {"href": "/orgs/1/sec_policy/active/services/2", "name": "SMB", "process_name": "System",
       "windows_services": [{"service_name": "LanmanServer", "port": 445, "proto": 6}]},
      {"href": "/orgs/1/sec_policy/active/services/3", "name": "DNS client",
       "windows_services": [{"service_name": "Dnscache"}]},
      {"href": "/orgs/1/sec_policy/active/services/5", "name": "bad ICMP",
       "service_ports": [{"proto": 1, "icmp_code": 3}]}],
    "rule_sets": [{"href": "/orgs/1/sec_policy/active/rule_sets/1", "scopes": [[]],
      "rules": [{"href": "/orgs/1/sec_policy/active/rule_sets/1/sec_rules/1", "providers": [{"actors": "ams"}],
                 "consumers": [{"actors": "ams"}],
                 "ingress_services": [{"name": "inline", "external_data_set": "x", "external_data_reference": "y",
                                       "service_ports": [{"port": 5432, "proto": 6}]}]}]}]})");
  ASSERT_TRUE(p) << p.error().message;
  const auto& icmp = p->services[0];
  EXPECT_TRUE(icmp.problem.empty()) << icmp.problem;
  ASSERT_EQ(icmp.ports.size(), 3u);
  EXPECT_EQ(icmp.ports[0], (PortSpec{1, {0, 65535}}));
  EXPECT_EQ(icmp.ports[1], (PortSpec{1, IcmpRange(8, -1)}));
  EXPECT_EQ(icmp.ports[2], (PortSpec{58, IcmpRange(128, 0)}));
  const auto& smb = p->services[1];
  EXPECT_EQ(smb.ports, std::vector<PortSpec>{(PortSpec{6, {445, 445}})});
  EXPECT_EQ(smb.qualifiers,
            (std::vector<std::string>{"process_name: limited to the process \"System\"",
                                      "windows_services[0]: limited to service_name \"LanmanServer\""}));
  EXPECT_EQ(p->services[2].problem,
            "windows_services[0]: a Windows service (service_name \"Dnscache\") without a port and protocol names a "
            "program, not ports; a security group cannot express it");
  EXPECT_EQ(p->services[3].problem, "service_ports[0]: icmp_code without icmp_type");
  EXPECT_EQ(p->rule_sets[0].rules[0].ports, std::vector<PortSpec>{(PortSpec{6, {5432, 5432}})});
}

TEST(LoaderTest, RuleFlagsAndQualifiers) {
  auto p = Load(Bundle(R"(, "all_ips_except_for_in_consumers": true, "use_workload_subnets": ["consumers"],
      "machine_auth": true, "sec_connect": false, "stateless": true, "network_type": "non_brn",
      "consuming_security_principals": [{"href": "/orgs/1/security_principals/1"}], "log_flow": false)"));
  ASSERT_TRUE(p) << p.error().message;
  const Rule& r = p->rule_sets[0].rules[0];
  EXPECT_TRUE(r.all_ips_except_consumers);
  EXPECT_FALSE(r.all_ips_except_providers);
  EXPECT_TRUE(r.subnets_consumers);
  EXPECT_FALSE(r.subnets_providers);
  EXPECT_EQ(r.qualifiers,
            (std::vector<std::string>{"consuming_security_principals: limited to the users of 1 security principal(s)",
                                      "machine_auth: machine authentication", "stateless: stateless packet filtering",
                                      "network_type \"non_brn\": a type of network"}));
  EXPECT_TRUE(r.problem.empty()) << r.problem;
}

TEST(LoaderTest, WorkloadSubnetsComeFromCidrBlock) {
  auto p = Load(R"({"workloads": [{"href": "/orgs/1/workloads/w1", "name": null, "hostname": "ubuntu-db",
      "interfaces": [{"name": "eth0", "address": "fd00::200:a:0:ba74", "cidr_block": 64},
                     {"name": "eth0", "address": "10.0.186.116", "cidr_block": 8},
                     {"name": "eth1", "address": "192.168.1.5"}]}]})");
  ASSERT_TRUE(p) << p.error().message;
  const Workload& w = p->workloads[0];
  EXPECT_EQ(w.name, "");
  EXPECT_EQ(w.subnets.ToStrings(), (std::vector<std::string>{"10.0.0.0/8", "192.168.1.5/32", "fd00::/64"}));
  EXPECT_EQ(w.without_subnet, 1);
}

TEST(LoaderTest, ABindingNamesItsVirtualServiceAsBoundServiceOrBindsAContainer) {
  auto p = Load(R"({"workloads": [{"href": "/orgs/1/workloads/w1", "interfaces": []}],
    "virtual_services": [{"href": "/orgs/1/sec_policy/active/virtual_services/v1", "name": "VS"}],
    "service_bindings": [
      {"href": "/orgs/1/service_bindings/b1", "bound_service": {"href": "/orgs/1/sec_policy/active/virtual_services/v1"},
       "workload": {"href": "/orgs/1/workloads/w1"}},
      {"href": "/orgs/1/service_bindings/b2", "virtual_service": {"href": "/orgs/1/sec_policy/active/virtual_services/v1"},
       "container_workload": {"href": "/orgs/1/container_workloads/c1"}},
      {"href": "/orgs/1/service_bindings/b3", "virtual_service": {"href": "/orgs/1/sec_policy/active/virtual_services/gone"},
       "workload": {"href": "/orgs/1/workloads/w1"}}]})");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->service_bindings.size(), 2u);  // the third binds a virtual service this version does not have
  EXPECT_EQ(p->service_bindings[0].virtual_service, "/orgs/1/sec_policy/*/virtual_services/v1");
  EXPECT_EQ(p->service_bindings[0].workload, "/orgs/1/workloads/w1");
  EXPECT_EQ(p->service_bindings[1].container_workload, "/orgs/1/container_workloads/c1");
  EXPECT_TRUE(p->service_bindings[1].problem.empty());
}

TEST(LoaderTest, UnknownPropertiesAreWarnedOnceEach) {
  auto p = Load(Bundle(R"(, "quantum_entanglement": true)"));
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_EQ(p->warnings[0],
            "p.json: rule_sets[0].rules[0]: rule property 'quantum_entanglement' is not known to moat (a newer "
            "PCE?); it is ignored");
}

TEST(LoaderTest, ARuleThatCannotBeReadReachesEverythingInItsScope) {
  auto p = Load(WithProviders(R"("not a list")"));
  ASSERT_TRUE(p) << p.error().message;
  const Rule& r = p->rule_sets[0].rules[0];
  EXPECT_EQ(r.problem, "providers: expected an array");
  EXPECT_TRUE(r.providers_unknown);
  auto q = Load(R"({"rule_sets": [{"href": "/orgs/1/sec_policy/active/rule_sets/1",
      "scopes": [[{"labels": {"href": "/orgs/1/labels/1"}}]], "rules": []}]})");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->rule_sets[0].problem, "scopes[0][0]: expected a label or a label_group");
}

TEST(LoaderTest, ARepeatedKeyStopsTheLoadNamingItsPath) {
  // simdjson's lookups read the first value, jq and Python the last: neither is taken.
  auto p = Load(Bundle(R"(, "enabled": false)"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "p.json: rule_sets[0].rules[0].enabled: duplicate key \"enabled\"");
  // Escapes that decode to the same key are the same key.
  p = Load(Bundle(R"(, "en\u0061bled": false)"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "p.json: rule_sets[0].rules[0].enabled: duplicate key \"enabled\"");
  p = Load(R"({"labels": [], "rule_sets": [], "labels": []})");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "p.json: labels: duplicate key \"labels\"");
  p = Load(Replace(Bundle(), R"({"label_group": {"href": "/orgs/1/sec_policy/active/label_groups/g1"}})",
                   R"({"label_group": {"href": "/orgs/1/sec_policy/active/label_groups/g1", "href": "x"}})"));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "p.json: rule_sets[0].scopes[0][0].label_group.href: duplicate key \"href\"");
  // In an object of many keys too, and in a collection of an unversioned object no rule uses.
  std::string many = R"({"labels": [{"href": "/orgs/1/labels/9", "key": "k", "value": "v")";
  for (int i = 0; i < 40; ++i) many += ", \"x" + std::to_string(i) + "\": " + std::to_string(i);
  p = Load(many + R"(, "x17": 0}]})");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message, "p.json: labels[0].x17: duplicate key \"x17\"");
  EXPECT_TRUE(Load(many + "}]}")) << "40 distinct keys are not a repeat";
}

TEST(LoaderTest, ARepeatedKeyInACollectionFromThePceStopsTheLoad) {
  PolicyBuilder b("active");
  auto st = b.AddCollection("rule_sets",
                            R"([{"href": "/orgs/1/sec_policy/active/rule_sets/1", "enabled": false, "enabled": true}])",
                            "GET /orgs/1/sec_policy/active/rule_sets");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "GET /orgs/1/sec_policy/active/rule_sets: rule_sets[0].enabled: duplicate key \"enabled\"");
}

// An inline ingress service in place of the bundle's {"port": 22, "proto": 6}.
std::string WithInlinePort(const std::string& port) { return Replace(Bundle(), R"({"port": 22, "proto": 6})", port); }

TEST(LoaderTest, PortValuesIllumioDoesNotDocumentAreRefusedNeverEveryPort) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"port": -1, "proto": 6})", "ingress_services[1].port: port out of range 0-65535: -1"},
      {R"({"port": 65536, "proto": 6})", "ingress_services[1].port: port out of range 0-65535: 65536"},
      {R"({"port": 22, "to_port": -1, "proto": 6})", "ingress_services[1].to_port: port out of range 0-65535: -1"},
      {R"({"port": 22, "to_port": 21, "proto": 6})", "ingress_services[1].to_port: to_port is below port"},
      {R"({"to_port": 22, "proto": 6})", "ingress_services[1].to_port: to_port without port"},
      {R"({"port": null, "to_port": 22, "proto": 6})", "ingress_services[1].to_port: to_port without port"},
      {R"({"port": 22, "proto": -1})",
       "ingress_services[1].port: only TCP (proto 6) and UDP (proto 17) have ports; proto is -1"},
      {R"({"port": 22, "proto": 47})",
       "ingress_services[1].port: only TCP (proto 6) and UDP (proto 17) have ports; proto is 47"},
      {R"({"port": 22, "proto": 256})", "ingress_services[1].proto: protocol out of range -1-255: 256"},
      {R"({"port": 22, "proto": -2})", "ingress_services[1].proto: protocol out of range -1-255: -2"},
      {R"({"port": 8, "proto": 1})",
       "ingress_services[1].port: ICMP has types and codes (icmp_type, icmp_code), not ports"},
      {R"({"to_port": 8, "proto": 58, "icmp_type": 128})",
       "ingress_services[1].to_port: ICMP has types and codes (icmp_type, icmp_code), not ports"},
      {R"({"proto": 6, "icmp_type": 8})",
       "ingress_services[1].icmp_type: only ICMP (proto 1) and ICMPv6 (proto 58) have types and codes"},
      {R"({"proto": 17, "icmp_code": 0})",
       "ingress_services[1].icmp_code: only ICMP (proto 1) and ICMPv6 (proto 58) have types and codes"},
      {R"({"proto": 1, "icmp_type": -1})", "ingress_services[1].icmp_type: out of range 0-255: -1"},
      {R"({"proto": 1, "icmp_type": 3, "icmp_code": 256})", "ingress_services[1].icmp_code: out of range 0-255: 256"},
      {R"({"port": "22", "proto": 6})", "ingress_services[1].port: expected an integer"},
      {R"({"port": 22.5, "proto": 6})", "ingress_services[1].port: expected an integer"},
      {R"({"port": 22, "proto": "tcp"})", "ingress_services[1].proto: expected an integer"},
  };
  for (const auto& [port, problem] : cases) {
    auto p = Load(WithInlinePort(port));
    ASSERT_TRUE(p) << port << ": " << p.error().message;
    const Rule& r = p->rule_sets[0].rules[0];
    EXPECT_EQ(r.problem, problem) << port;
    for (const PortSpec& s : r.ports) EXPECT_NE(s.ports, (net::PortRange{0, 65535})) << port;
  }
}

TEST(LoaderTest, DocumentedPortValuesAreRead) {
  const std::pair<std::string, PortSpec> cases[] = {
      {R"({"proto": 6})", PortSpec{6, {0, 65535}}},  // every port of the protocol
      {R"({"port": null, "proto": 17})", PortSpec{17, {0, 65535}}},
      {R"({"proto": -1})", PortSpec{kAllProtocols, {0, 65535}}},
      {R"({"proto": 47})", PortSpec{47, {0, 65535}}},
      {R"({"port": 0, "proto": 17})", PortSpec{17, {0, 0}}},
      {R"({"port": 65535, "to_port": 65535, "proto": 6})", PortSpec{6, {65535, 65535}}},
      {R"({"port": 8000, "to_port": null, "proto": 6})", PortSpec{6, {8000, 8000}}},
      {R"({"proto": 1, "icmp_type": 255, "icmp_code": null})", PortSpec{1, IcmpRange(255, -1)}},
  };
  for (const auto& [port, spec] : cases) {
    auto p = Load(WithInlinePort(port));
    ASSERT_TRUE(p) << port << ": " << p.error().message;
    const Rule& r = p->rule_sets[0].rules[0];
    EXPECT_TRUE(r.problem.empty()) << port << ": " << r.problem;
    EXPECT_EQ(r.ports.front(), spec) << port;  // before the service's, added when it resolves
  }
}

TEST(LoaderTest, RefusedPortsOfServicesVirtualServicesAndOverridesAreTheirProblem) {
  auto p = Load(
      Replace(Bundle(), R"({"port": 5432, "proto": 6}, {"port": 8000)", R"({"port": -1, "proto": 6}, {"port": 8000)"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->services[0].problem, "service_ports[0].port: port out of range 0-65535: -1");
  EXPECT_EQ(p->rule_sets[0].rules[0].problem,
            "ingress_services[0]: service /orgs/1/sec_policy/active/services/s1: service_ports[0].port: port out of "
            "range 0-65535: -1");
  p = Load(Replace(Bundle(), R"("service": {"href": "/orgs/1/sec_policy/active/services/s1"})",
                   R"("service_ports": [{"port": 5432, "to_port": 5431, "proto": 6}])"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->virtual_services[0].problem, "service_ports[0].to_port: to_port is below port");
  p = Load(Replace(Bundle(), R"("port_overrides": [{"port": 5432, "proto": 6,)",
                   R"("port_overrides": [{"port": 5432, "proto": 300,)"));
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->service_bindings[0].problem, "port_overrides[0].proto: protocol out of range 0-255: 300");
}

}  // namespace
}  // namespace moat::policy
