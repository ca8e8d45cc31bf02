#include "map/build.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace moat::map
