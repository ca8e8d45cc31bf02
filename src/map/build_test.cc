#include "map/build.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "policy/loader.h"

namespace moat::map {
namespace {

// Twelve web workloads (10.0.1.1-12) in three locations and two environments, one database
// (10.0.2.45) that admits role=web in env=prod.
policy::Policy Sample() {
  std::string workloads;
  for (int i = 1; i <= 12; ++i) {
    const std::string env = i % 2 == 0 ? "/orgs/1/labels/3" : "/orgs/1/labels/4";
    const std::string loc = "/orgs/1/labels/" + std::to_string(5 + i % 3);
    workloads += R"({"href": "/orgs/1/workloads/w)" + std::to_string(i) + R"(", "name": "web-)" + std::to_string(i) +
                 R"(", "labels": [{"href": "/orgs/1/labels/1"}, {"href": ")" + env + R"("}, {"href": ")" + loc +
                 R"("}], "interfaces": [{"name": "eth0", "address": "10.0.1.)" + std::to_string(i) + R"("}]},)";
  }
  const std::string bundle = R"({
    "labels": [{"href": "/orgs/1/labels/1", "key": "role", "value": "web"},
               {"href": "/orgs/1/labels/2", "key": "role", "value": "db"},
               {"href": "/orgs/1/labels/3", "key": "env", "value": "prod"},
               {"href": "/orgs/1/labels/4", "key": "env", "value": "dev"},
               {"href": "/orgs/1/labels/5", "key": "loc", "value": "eu"},
               {"href": "/orgs/1/labels/6", "key": "loc", "value": "us"},
               {"href": "/orgs/1/labels/7", "key": "loc", "value": "ap"}],
    "workloads": [)" + workloads +
                             R"(
      {"href": "/orgs/1/workloads/db", "name": "orders-db", "labels": [{"href": "/orgs/1/labels/2"}],
       "interfaces": [{"name": "eth0", "address": "10.0.2.45"}]}],
    "ip_lists": [{"href": "/orgs/1/sec_policy/active/ip_lists/1", "name": "Any", "ip_ranges": [{"from_ip": "0.0.0.0/0"}]},
                 {"href": "/orgs/1/sec_policy/active/ip_lists/2", "name": "Partners", "ip_ranges": [{"from_ip": "203.0.113.0/24"}]},
                 {"href": "/orgs/1/sec_policy/active/ip_lists/3", "name": "Partner A", "ip_ranges": [{"from_ip": "203.0.113.0/28"}]}],
    "rule_sets": [{"href": "/orgs/1/sec_policy/active/rule_sets/1", "name": "db", "scopes": [[]], "rules": [
      {"href": "/orgs/1/sec_policy/active/rule_sets/1/sec_rules/1", "enabled": true,
       "providers": [{"label": {"href": "/orgs/1/labels/2"}}],
       "consumers": [{"label": {"href": "/orgs/1/labels/1"}}, {"label": {"href": "/orgs/1/labels/3"}}],
       "ingress_services": [{"port": 5432, "proto": 6}],
       "resolve_labels_as": {"providers": ["workloads"], "consumers": ["workloads"]}}]}]})";
  auto p = policy::LoadBundle(bundle, "sample", "active");
  EXPECT_TRUE(p) << p.error().message;
  return p ? *p : policy::Policy{};
}

traffic::Flow F(const char* from, flowlog::Action action = flowlog::Action::kAccept, uint16_t port = 5432) {
  traffic::Flow f;
  f.key = {*net::ParseAddress(from), *net::ParseAddress("10.0.2.45"), port, 6, action};
  f.counts = {1, 10, 800, 100, 200};
  return f;
}

// The consumer groups each database's edges come from.
std::map<std::string, std::set<std::string>> GroupsByDatabase(const map::TrafficMap& m) {
  std::map<std::string, std::set<std::string>> to;
  for (const map::MapEdge& e : m.edges) to[e.to].insert(e.from);
  return to;
}

const map::MapEdge* Edge(const map::TrafficMap& m, const std::string& from, map::Decision d) {
  for (const map::MapEdge& e : m.edges) {
    if (e.from == from && e.decision == d) return &e;
  }
  return nullptr;
}

class BuildMapTest : public ::testing::Test {
 protected:
  policy::Policy policy = Sample();
  compile::Compiled compiled = compile::Compile(policy);
  MapInput Input(const std::vector<traffic::Flow>& flows) {
    MapInput in;
    in.policy = &policy;
    in.compiled = &compiled;
    in.flows = &flows;
    return in;
  }
};

TEST_F(BuildMapTest, GroupsByLabelsThenIpListsThenSubnetsAndDecides) {
  const std::vector<traffic::Flow> flows = {F("10.0.1.2"),     F("10.0.1.8"),
                                            F("10.0.1.1"),     F("203.0.113.5"),
                                            F("203.0.113.77"), F("198.51.100.9", flowlog::Action::kReject)};
  const map::TrafficMap m = BuildMap(Input(flows));
  ASSERT_EQ(m.nodes[0].id, "db:orders-db");
  EXPECT_EQ(m.nodes[0].members, std::vector<std::string>{"10.0.2.45"});
  // web-2 and web-8: env=prod, loc=ap; web-1: env=dev, loc=us.
  const map::MapEdge* prod = Edge(m, "labels:role=web,env=prod,loc=ap", map::Decision::kAllowed);
  ASSERT_NE(prod, nullptr);
  EXPECT_EQ(prod->flows, 2u);
  EXPECT_EQ(prod->rules, std::vector<std::string>{"/orgs/1/sec_policy/active/rule_sets/1/sec_rules/1"});
  EXPECT_NE(Edge(m, "labels:role=web,env=dev,loc=us", map::Decision::kNotAllowed), nullptr);
  // The most specific IP list; never "Any".
  EXPECT_NE(Edge(m, "ip-list:Partner A", map::Decision::kNotAllowed), nullptr);
  EXPECT_NE(Edge(m, "ip-list:Partners", map::Decision::kNotAllowed), nullptr);
  EXPECT_NE(Edge(m, "subnet:198.51.100.0/24", map::Decision::kRejected), nullptr);
  EXPECT_EQ(m.edges.size(), 5u);
}

TEST_F(BuildMapTest, TooManyGroupsAreCoarsenedUntilReadable) {
  std::vector<traffic::Flow> flows;
  for (int i = 1; i <= 12; ++i) flows.push_back(F(("10.0.1." + std::to_string(i)).c_str()));
  MapInput in = Input(flows);
  in.max_consumer_nodes = 6;  // 2 envs x 3 locs = 6 groups: fits
  EXPECT_EQ(BuildMap(in).nodes.size(), 1u + 6u);
  in.max_consumer_nodes = 2;  // without loc: 2 groups
  map::TrafficMap m = BuildMap(in);
  EXPECT_EQ(m.nodes.size(), 1u + 2u);
  EXPECT_NE(Edge(m, "labels:role=web,env=prod", map::Decision::kAllowed), nullptr);
  ASSERT_FALSE(m.notes.empty());
  EXPECT_NE(m.notes.back().find("grouped by role, app and env only"), std::string::npos) << m.notes.back();
  in.max_consumer_nodes = 1;  // role and app: one group (app alone would leave each workload apart)
  m = BuildMap(in);
  EXPECT_EQ(m.nodes.size(), 1u + 1u);
  EXPECT_NE(Edge(m, "labels:role=web", map::Decision::kNotAllowed), nullptr);
}

TEST_F(BuildMapTest, WithAPlanCutFlowsAreMarked) {
  const std::vector<traffic::Flow> flows = {F("10.0.1.2"), F("10.0.1.1")};
  enforce::EnforceReport plan;
  enforce::TargetReport t;
  t.id = "orders-db";
  t.policy_target = "orders-db";
  t.addresses = {"10.0.2.45"};
  t.plan.cuts.push_back({flows[1], true});
  plan.targets.push_back(t);
  MapInput in = Input(flows);
  in.plan = &plan;
  std::vector<bool> fresh = {false, true};
  in.is_new = &fresh;
  const map::TrafficMap m = BuildMap(in);
  const map::MapEdge* cut = Edge(m, "labels:role=web,env=dev,loc=us", map::Decision::kWouldCut);
  ASSERT_NE(cut, nullptr);
  EXPECT_TRUE(cut->is_new);
  const map::MapEdge* kept = Edge(m, "labels:role=web,env=prod,loc=ap", map::Decision::kAllowed);
  ASSERT_NE(kept, nullptr);
  EXPECT_FALSE(kept->is_new);
}

TEST_F(BuildMapTest, ADatabaseThePolicyCannotBeCompiledForIsNotedAndNothingToItIsMarkedAllowed) {
  compiled.targets[0].error = "rule /orgs/1/sec_policy/active/rule_sets/1/sec_rules/1: consumers[2]: virtual_server x";
  compiled.targets[0].allow.clear();
  const std::vector<traffic::Flow> flows = {F("10.0.1.2")};
  const map::TrafficMap m = BuildMap(Input(flows));
  EXPECT_EQ(Edge(m, m.edges.at(0).from, map::Decision::kAllowed), nullptr);
  EXPECT_NE(std::find(m.notes.begin(), m.notes.end(),
                      "orders-db: the policy cannot be compiled exactly for it (rule "
                      "/orgs/1/sec_policy/active/rule_sets/1/sec_rules/1: consumers[2]: virtual_server x); what it "
                      "admits is not known, so none of its flows is marked allowed"),
            m.notes.end());
}

TEST_F(BuildMapTest, EachDatabaseDrawsItsBusiestGroupsAndFoldsTheRestIntoItsOthers) {
  // Five subnets talk to the database, the busiest with the most records.
  std::vector<traffic::Flow> flows;
  for (int n = 1; n <= 5; ++n) {
    for (int k = 1; k <= n; ++k) {
      traffic::Flow f = F(("198.51." + std::to_string(n) + "." + std::to_string(k)).c_str());
      f.counts.records = static_cast<uint64_t>(n) * 10;
      flows.push_back(f);
    }
  }
  MapInput in = Input(flows);
  in.top = 2;
  const map::TrafficMap m = BuildMap(in);
  EXPECT_NE(Edge(m, "subnet:198.51.5.0/24", map::Decision::kNotAllowed), nullptr);
  EXPECT_NE(Edge(m, "subnet:198.51.4.0/24", map::Decision::kNotAllowed), nullptr);
  EXPECT_EQ(Edge(m, "subnet:198.51.3.0/24", map::Decision::kNotAllowed), nullptr);
  const map::MapEdge* others = Edge(m, "others:db:orders-db", map::Decision::kNotAllowed);
  ASSERT_NE(others, nullptr);
  EXPECT_EQ(others->flows, 1u + 2u + 3u);
  EXPECT_EQ(others->records, 10u * 1 + 20u * 2 + 30u * 3);
  const auto node =
      std::find_if(m.nodes.begin(), m.nodes.end(), [](const map::MapNode& n) { return n.id == "others:db:orders-db"; });
  ASSERT_NE(node, m.nodes.end());
  EXPECT_EQ(node->kind, map::NodeKind::kOthers);
  EXPECT_EQ(node->label, "3 other source groups");
  EXPECT_EQ(node->member_count, 6u);
  EXPECT_EQ(node->members, (std::vector<std::string>{"198.51.1.0/24", "198.51.2.0/24", "198.51.3.0/24"}));
  EXPECT_EQ(node->addresses.size(), 6u);
  EXPECT_EQ(node->addresses.front(), "198.51.1.1");
  // The folded groups are no nodes of their own; the drawn ones list every address for search.
  EXPECT_EQ(
      std::count_if(m.nodes.begin(), m.nodes.end(), [](const map::MapNode& n) { return n.kind == NodeKind::kSubnet; }),
      2);
  in.top = 4;  // one group past the top is drawn, not folded into an "others" of one
  const map::TrafficMap all = BuildMap(in);
  EXPECT_EQ(Edge(all, "others:db:orders-db", map::Decision::kNotAllowed), nullptr);
  EXPECT_NE(Edge(all, "subnet:198.51.1.0/24", map::Decision::kNotAllowed), nullptr);
}

TEST_F(BuildMapTest, TheMapSaysWhatItsDataSpansAndWhichDatabasesSawNothing) {
  std::vector<traffic::Flow> flows = {F("10.0.1.2"), F("10.0.1.8"), F("192.0.2.1")};
  flows[0].counts.first = 1714521600;
  flows[0].counts.last = 1714521700;
  flows[1].counts.first = 1714525000;
  flows[1].counts.last = 1714568700;
  flows[2].key.responder = *net::ParseAddress("10.99.0.1");  // no database's
  flows[2].counts.first = 1000;
  MapInput in = Input(flows);
  in.recorded_flows = 10;
  map::TrafficMap m = BuildMap(in);
  EXPECT_EQ(m.first, 1714521600);
  EXPECT_EQ(m.last, 1714568700);
  EXPECT_EQ(m.window_flows, 2u);
  EXPECT_EQ(m.recorded_flows, 10u);
  EXPECT_TRUE(m.no_flows.empty());
  const auto web = std::find_if(m.nodes.begin(), m.nodes.end(),
                                [](const map::MapNode& n) { return n.id == "labels:role=web,env=prod,loc=ap"; });
  ASSERT_NE(web, m.nodes.end());
  EXPECT_EQ(web->labels, (std::vector<std::string>{"role=web", "env=prod", "loc=ap"}));
  EXPECT_EQ(web->addresses, (std::vector<std::string>{"10.0.1.2", "10.0.1.8"}));
  EXPECT_EQ(web->members, (std::vector<std::string>{"web-2 10.0.1.2", "web-8 10.0.1.8"}));

  const std::vector<traffic::Flow> none;
  m = BuildMap(Input(none));
  EXPECT_EQ(m.no_flows, std::vector<std::string>{"db:orders-db"});
  EXPECT_NE(std::find(m.notes.begin(), m.notes.end(), "1 of 1 database(s): no flows observed in the window"),
            m.notes.end());
  EXPECT_EQ(m.nodes.at(0).protection, Protection::kProtected);
}

TEST_F(BuildMapTest, WithAPlanEveryDatabaseIsDrawnAndTheOnesThePolicyDoesNotProtectAreMarked) {
  const std::vector<traffic::Flow> flows = {F("10.0.1.2"), []() {
                                              traffic::Flow f = F("10.0.1.3");
                                              f.key.responder = *net::ParseAddress("10.0.2.99");
                                              return f;
                                            }()};
  enforce::EnforceReport plan;
  enforce::TargetReport t;
  t.id = "orders-db";
  t.endpoint = "orders-db.abc.eu-west-1.rds.amazonaws.com";
  t.port = 5432;
  t.policy_target = "orders-db";
  t.addresses = {"10.0.2.45"};
  plan.targets.push_back(t);
  enforce::TargetReport u;
  u.id = "reports-db";
  u.endpoint = "reports-db.abc.eu-west-1.rds.amazonaws.com";
  u.port = 3306;
  u.addresses = {"10.0.2.99"};
  plan.unprotected.push_back(u);
  plan.skipped.emplace_back("reports-db", "no virtual service of the policy has its endpoint");
  MapInput in = Input(flows);
  in.plan = &plan;
  const map::TrafficMap m = BuildMap(in);
  ASSERT_GE(m.nodes.size(), 2u);
  EXPECT_EQ(m.nodes[0].id, "db:orders-db");
  EXPECT_EQ(m.nodes[0].protection, Protection::kProtected);
  EXPECT_EQ(m.nodes[0].detail, "instance orders-db.abc.eu-west-1.rds.amazonaws.com:5432, policy orders-db");
  EXPECT_EQ(m.nodes[1].id, "db:reports-db");
  EXPECT_EQ(m.nodes[1].protection, Protection::kUnprotected);
  EXPECT_NE(m.nodes[1].detail.find("not protected: no virtual service"), std::string::npos) << m.nodes[1].detail;
  // Its observed traffic is drawn; the policy admits none of it.
  bool to_reports = false;
  for (const map::MapEdge& e : m.edges) {
    if (e.to == "db:reports-db") {
      to_reports = true;
      EXPECT_EQ(e.decision, map::Decision::kNotAllowed);
    }
  }
  EXPECT_TRUE(to_reports);
}

TEST_F(BuildMapTest, AFlowIsDrawnToTheDatabaseAtItsAddressInThePlaceItWasLoggedIn) {
  // Two accounts' databases at the same address; a flow logged in account a is a's, one logged in
  // b is b's, and one of no place cannot be told apart.
  const std::vector<traffic::Flow> flows = {F("10.0.1.2"), F("10.0.1.1"), F("10.0.1.4"), F("10.0.1.6")};
  const traffic::FlowPlaces places{{"", "111111111111/us-east-1", "222222222222/us-east-1"}, {1, 2, 0, 2}};
  enforce::EnforceReport plan;
  enforce::TargetReport a;
  a.id = "111111111111/us-east-1/orders-db";
  a.place = "111111111111/us-east-1";
  a.policy_target = "orders-db";
  a.addresses = {"10.0.2.45"};
  a.plan.cuts.push_back({flows[1], true});  // b's flow, at a's address: not a's to cut
  plan.targets.push_back(a);
  enforce::TargetReport b = a;
  b.id = "222222222222/us-east-1/orders-db";
  b.place = "222222222222/us-east-1";
  b.plan.cuts = {{flows[1], true}};
  plan.targets.push_back(b);
  MapInput in = Input(flows);
  in.plan = &plan;
  in.places = &places;
  const map::TrafficMap m = BuildMap(in);
  std::map<std::string, std::set<std::string>> to = GroupsByDatabase(m);
  EXPECT_EQ(to["db:111111111111/us-east-1/orders-db"], std::set<std::string>{"labels:role=web,env=prod,loc=ap"});
  EXPECT_EQ(to["db:222222222222/us-east-1/orders-db"],
            (std::set<std::string>{"labels:role=web,env=dev,loc=us", "labels:role=web,env=prod,loc=eu"}));
  // The cut is b's alone.
  EXPECT_NE(Edge(m, "labels:role=web,env=dev,loc=us", map::Decision::kWouldCut), nullptr);
  EXPECT_EQ(Edge(m, "labels:role=web,env=prod,loc=ap", map::Decision::kWouldCut), nullptr);
  bool noted = false;
  for (const std::string& n : m.notes) noted = noted || n.starts_with("1 flow(s) go to an address several databases");
  EXPECT_TRUE(noted);

  // Without b's database, what b logged at the address (a shared VPC's owner, a client's side)
  // goes to the one database there, as the flow of no place does.
  plan.targets.pop_back();
  const map::TrafficMap one = BuildMap(in);
  std::set<std::string> groups;
  for (const map::MapEdge& e : one.edges) groups.insert(e.from);
  EXPECT_EQ(groups, (std::set<std::string>{"labels:role=web,env=prod,loc=ap", "labels:role=web,env=dev,loc=us",
                                           "labels:role=web,env=prod,loc=us", "labels:role=web,env=prod,loc=eu"}));
}

TEST_F(BuildMapTest, AFlowLoggedAtADatabasesInterfaceIsDrawnToThatDatabase) {
  // Two VPCs of one account and region, a database in each at the same address. Flows logged at
  // each database's interface, at a client's, and at none.
  const std::vector<traffic::Flow> flows = {F("10.0.1.2"), F("10.0.1.1"), F("10.0.1.4"), F("10.0.1.6")};
  const traffic::FlowPlaces places{{"", "111111111111/us-east-1"},
                                   {1, 1, 1, 1},
                                   {"", "eni-0aaaaaaaaaaaaaaa1", "eni-0bbbbbbbbbbbbbbb2", "eni-0ccccccccccccccc3"},
                                   {1, 2, 3, 0}};
  enforce::EnforceReport plan;
  enforce::TargetReport a;
  a.id = "orders-db";
  a.place = "111111111111/us-east-1";
  a.policy_target = "orders-db";
  a.addresses = {"10.0.2.45"};
  a.interfaces = {"eni-0aaaaaaaaaaaaaaa1"};
  plan.targets.push_back(a);
  enforce::TargetReport b = a;
  b.id = "orders-db-copy";
  b.interfaces = {"eni-0bbbbbbbbbbbbbbb2"};
  plan.targets.push_back(b);
  MapInput in = Input(flows);
  in.plan = &plan;
  in.places = &places;
  const map::TrafficMap m = BuildMap(in);
  std::map<std::string, std::set<std::string>> to = GroupsByDatabase(m);
  EXPECT_EQ(to["db:orders-db"], std::set<std::string>{"labels:role=web,env=prod,loc=ap"});
  EXPECT_EQ(to["db:orders-db-copy"], std::set<std::string>{"labels:role=web,env=dev,loc=us"});
  bool noted = false;
  for (const std::string& n : m.notes) noted = noted || n.starts_with("2 flow(s) go to an address several databases");
  EXPECT_TRUE(noted);

  // The client's interface is in the copy's VPC: the flow it logged is the copy's.
  plan.targets[0].vpc_id = "vpc-1";
  plan.targets[1].vpc_id = "vpc-2";
  plan.interface_vpcs["eni-0ccccccccccccccc3"] = "vpc-2";
  const map::TrafficMap located = BuildMap(in);
  to = GroupsByDatabase(located);
  EXPECT_EQ(to["db:orders-db-copy"],
            (std::set<std::string>{"labels:role=web,env=dev,loc=us", "labels:role=web,env=prod,loc=us"}));
  noted = false;
  for (const std::string& n : located.notes) noted = noted || n.starts_with("1 flow(s) go to an address several");
  EXPECT_TRUE(noted);
}

TEST(BuildMapNoRulesTest, AVirtualServiceNoRuleReachesYetIsADatabaseMarkedNoRules) {
  auto policy = policy::LoadBundle(R"({
    "workloads": [{"href": "/orgs/1/workloads/db", "name": "reports-db",
                   "interfaces": [{"name": "eth0", "address": "10.0.3.3"}]}],
    "virtual_services": [{"href": "/orgs/1/sec_policy/active/virtual_services/v1", "name": "VS-RDS-reports-db",
                          "service_ports": [{"port": 5432, "proto": 6}],
                          "service_addresses": [{"fqdn": "reports-db.abc.eu-west-1.rds.amazonaws.com"}]}],
    "service_bindings": [{"href": "/orgs/1/service_bindings/b1",
                          "virtual_service": {"href": "/orgs/1/sec_policy/active/virtual_services/v1"},
                          "workload": {"href": "/orgs/1/workloads/db"}}]})",
                                   "sample", "active");
  ASSERT_TRUE(policy) << policy.error().message;
  const compile::Compiled compiled = compile::Compile(*policy, {.every_virtual_service = true});
  traffic::Flow f = F("10.0.1.2");
  f.key.responder = *net::ParseAddress("10.0.3.3");
  const std::vector<traffic::Flow> flows = {f};
  MapInput in;
  in.policy = &*policy;
  in.compiled = &compiled;
  in.flows = &flows;
  const map::TrafficMap m = BuildMap(in);
  ASSERT_FALSE(m.nodes.empty());
  EXPECT_EQ(m.nodes[0].id, "db:VS-RDS-reports-db");
  EXPECT_EQ(m.nodes[0].protection, Protection::kNoRules);
  EXPECT_EQ(m.nodes[0].detail, "reports-db.abc.eu-west-1.rds.amazonaws.com");
  ASSERT_EQ(m.edges.size(), 1u);
  EXPECT_EQ(m.edges[0].decision, map::Decision::kNotAllowed);
  // The default compilation has no target for it: the map of the providers alone does not draw it.
  const compile::Compiled providers = compile::Compile(*policy);
  in.compiled = &providers;
  EXPECT_TRUE(BuildMap(in).nodes.empty());
}

}  // namespace
}  // namespace moat::map
