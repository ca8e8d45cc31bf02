#include "pce/suggest_push.h"

#include <gtest/gtest.h>

namespace moat::pce {
namespace {

using Json = nlohmann::json;

const char* const kPlaceholder = "/orgs/1/sec_policy/draft/ip_lists/moat-suggested-1";
const char* const kVs = "/orgs/1/sec_policy/draft/virtual_services/vs1";

Json Rule(const Json& consumer, int port = 5432) {
  return {{"enabled", true},
          {"description", "moat: covers 1 flows from 1 sources"},
          {"providers", {{{"virtual_service", {{"href", kVs}}}}}},
          {"consumers", {consumer}},
          {"ingress_services", {{{"port", port}, {"proto", 6}}}},
          {"resolve_labels_as", {{"providers", {"virtual_services"}}, {"consumers", {"workloads"}}}}};
}
Json Label(const std::string& href) { return {{"label", {{"href", href}}}}; }
Json List(const std::string& href) { return {{"ip_list", {{"href", href}}}}; }

// A suggestion for orders-db: one label rule, one IP-list rule, its IP list.
Json Document(const std::string& subject = "orders-db") {
  return {{"rule_sets",
           {{{"name", "moat-suggested-" + subject},
             {"description", "moat: admits the 2 flows observed to " + subject},
             {"enabled", true},
             {"scopes", Json::array({Json::array()})},
             {"rules", {Rule(Label("/orgs/1/labels/2")), Rule(List(kPlaceholder))}},
             {"external_data_set", "moat"},
             {"external_data_reference", "suggest:" + subject}}}},
          {"ip_lists",
           {{{"href", kPlaceholder},
             {"name", "moat-suggested-" + subject + "-clients"},
             {"description", "moat: sources"},
             {"ip_ranges", {{{"from_ip", "10.8.0.6"}}}},
             {"external_data_set", "moat"},
             {"external_data_reference", "suggest:" + subject + ":clients"}}}},
          {"coverage", Json::array()},
          {"notes", Json::array()}};
}

// The document as the PCE holds it after a push: hrefs given, the fields the PCE adds.
Json Pushed(Json& ip_lists) {
  Json doc = Document();
  Json list = doc["ip_lists"][0];
  list["href"] = "/orgs/1/sec_policy/draft/ip_lists/7";
  list["ip_ranges"][0]["exclusion"] = false;
  list["fqdns"] = Json::array();
  list["update_type"] = "create";
  ip_lists = Json::array({list});
  Json rs = ReplaceHrefs(doc["rule_sets"][0], {{kPlaceholder, "/orgs/1/sec_policy/draft/ip_lists/7"}});
  rs["href"] = "/orgs/1/sec_policy/draft/rule_sets/3";
  for (size_t i = 0; i < rs["rules"].size(); ++i) {
    rs["rules"][i]["href"] = "/orgs/1/sec_policy/draft/rule_sets/3/sec_rules/" + std::to_string(10 + i);
    rs["rules"][i]["unscoped_consumers"] = false;
  }
  return Json::array({rs});
}

TEST(SuggestPushTest, AnEmptyDraftGetsEveryObjectCreated) {
  auto plan = PlanPush(Document(), "[]", "[]");
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->ip_lists.size(), 1u);
  EXPECT_EQ(plan->ip_lists[0].action, PushAction::kCreate);
  EXPECT_EQ(plan->ip_lists[0].subject, "orders-db");
  EXPECT_EQ(plan->ip_lists[0].placeholder, kPlaceholder);
  EXPECT_FALSE(plan->ip_lists[0].body.contains("href"));
  EXPECT_EQ(plan->ip_lists[0].body["external_data_reference"], "suggest:orders-db:clients");
  ASSERT_EQ(plan->rule_sets.size(), 1u);
  EXPECT_EQ(plan->rule_sets[0].action, PushAction::kCreate);
  EXPECT_EQ(plan->rule_sets[0].body["rules"].size(), 2u);
  // The placeholder stays for the writer to replace with the href the PCE assigns.
  EXPECT_EQ(plan->rule_sets[0].body["rules"][1]["consumers"][0]["ip_list"]["href"], kPlaceholder);
  EXPECT_TRUE(plan->conflicts.empty());
  EXPECT_TRUE(plan->HasChanges());
  EXPECT_EQ(DescribePush(*plan),
            (std::vector<std::string>{"+ create IP list moat-suggested-orders-db-clients (orders-db)",
                                      "+ create rule set moat-suggested-orders-db (orders-db) with 2 rule(s)"}));
}

TEST(SuggestPushTest, MoatsObjectsEqualToTheSuggestionAreLeftAlone) {
  Json lists;
  const Json sets = Pushed(lists);
  auto plan = PlanPush(Document(), lists.dump(), sets.dump());
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->ip_lists.size(), 1u);
  EXPECT_EQ(plan->ip_lists[0].action, PushAction::kUnchanged);
  EXPECT_EQ(plan->ip_lists[0].href, "/orgs/1/sec_policy/draft/ip_lists/7");
  ASSERT_EQ(plan->rule_sets.size(), 1u);
  EXPECT_EQ(plan->rule_sets[0].action, PushAction::kUnchanged);
  EXPECT_TRUE(plan->rule_sets[0].body.is_null());
  EXPECT_FALSE(plan->HasChanges());
}

TEST(SuggestPushTest, ChangedObjectsAreUpdatedInPlaceRuleByRule) {
  Json lists;
  Json sets = Pushed(lists);
  // The PCE holds an older suggestion: another range, another description, a rule on 6432 more.
  lists[0]["ip_ranges"] = {{{"from_ip", "10.8.0.5"}}};
  sets[0]["description"] = "moat: admits the 1 flows observed to orders-db";
  sets[0]["rules"].push_back(Rule(Label("/orgs/1/labels/9"), 6432));
  sets[0]["rules"][2]["href"] = "/orgs/1/sec_policy/draft/rule_sets/3/sec_rules/12";
  Json doc = Document();
  doc["rule_sets"][0]["rules"][0]["consumers"] = {Label("/orgs/1/labels/4")};
  auto plan = PlanPush(doc, lists.dump(), sets.dump());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->ip_lists[0].action, PushAction::kUpdate);
  EXPECT_EQ(plan->ip_lists[0].body["ip_ranges"], Json::parse(R"([{"from_ip": "10.8.0.6"}])"));
  const RuleSetPush& rs = plan->rule_sets[0];
  EXPECT_EQ(rs.action, PushAction::kUpdate);
  EXPECT_EQ(rs.href, "/orgs/1/sec_policy/draft/rule_sets/3");
  EXPECT_EQ(rs.body["description"], "moat: admits the 2 flows observed to orders-db");
  EXPECT_FALSE(rs.body.contains("rules"));
  ASSERT_EQ(rs.rules.size(), 3u);
  // The label rule changed: the first rule moat does not keep is rewritten in place.
  EXPECT_EQ(rs.rules[0].op, RulePush::Op::kUpdate);
  EXPECT_EQ(rs.rules[0].href, "/orgs/1/sec_policy/draft/rule_sets/3/sec_rules/10");
  EXPECT_EQ(rs.rules[0].body["consumers"][0]["label"]["href"], "/orgs/1/labels/4");
  // The IP-list rule is equal once its placeholder is the existing list's href.
  EXPECT_EQ(rs.rules[1].op, RulePush::Op::kUnchanged);
  EXPECT_EQ(rs.rules[1].href, "/orgs/1/sec_policy/draft/rule_sets/3/sec_rules/11");
  EXPECT_EQ(rs.rules[2].op, RulePush::Op::kDelete);
  EXPECT_EQ(rs.rules[2].href, "/orgs/1/sec_policy/draft/rule_sets/3/sec_rules/12");
  EXPECT_EQ(DescribePush(*plan)[1],
            "~ update rule set moat-suggested-orders-db (orders-db) /orgs/1/sec_policy/draft/rule_sets/3: its "
            "fields, rules 0 created, 1 updated, 1 deleted, 1 unchanged");
}

TEST(SuggestPushTest, AnObjectOfMoatsNameThatIsNotMoatsIsAConflictAndItsSubjectIsLeftAlone) {
  Json doc = Document();
  const Json other = Document("billing-db");
  doc["rule_sets"].push_back(other["rule_sets"][0]);
  const Json sets = Json::parse(R"([{"href": "/orgs/1/sec_policy/draft/rule_sets/5",
      "name": "moat-suggested-orders-db", "rules": [], "external_data_set": null}])");
  auto plan = PlanPush(doc, "[]", sets.dump());
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->conflicts.size(), 1u);
  EXPECT_EQ(plan->conflicts[0].subject, "orders-db");
  EXPECT_EQ(plan->conflicts[0].href, "/orgs/1/sec_policy/draft/rule_sets/5");
  EXPECT_EQ(plan->conflicts[0].why, "it is not moat's (external data: none)");
  // Neither orders-db's rule set nor its IP list; billing-db's rule set goes on.
  EXPECT_TRUE(plan->ip_lists.empty());
  ASSERT_EQ(plan->rule_sets.size(), 1u);
  EXPECT_EQ(plan->rule_sets[0].subject, "billing-db");
  EXPECT_EQ(DescribePush(*plan).back(),
            "! conflict orders-db: the draft rule set moat-suggested-orders-db /orgs/1/sec_policy/draft/rule_sets/5: "
            "it is not moat's (external data: none); nothing is written for orders-db");
}

TEST(SuggestPushTest, AnObjectWithAnotherToolsExternalDataIsNotMoats) {
  const Json lists = Json::parse(R"([{"href": "/orgs/1/sec_policy/draft/ip_lists/2",
      "name": "moat-suggested-orders-db-clients", "ip_ranges": [],
      "external_data_set": "terraform", "external_data_reference": "suggest:orders-db:clients"}])");
  auto plan = PlanPush(Document(), lists.dump(), "[]");
  ASSERT_TRUE(plan) << plan.error().message;
  ASSERT_EQ(plan->conflicts.size(), 1u);
  EXPECT_EQ(plan->conflicts[0].why, "it is not moat's (external data: terraform suggest:orders-db:clients)");
  EXPECT_FALSE(plan->HasChanges());
}

TEST(SuggestPushTest, MoatsObjectRenamedInThePceIsFoundByItsExternalDataAndRenamedBack) {
  Json lists;
  Json sets = Pushed(lists);
  sets[0]["name"] = "renamed by hand";
  auto plan = PlanPush(Document(), lists.dump(), sets.dump());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_TRUE(plan->conflicts.empty());
  EXPECT_EQ(plan->rule_sets[0].action, PushAction::kUpdate);
  EXPECT_EQ(plan->rule_sets[0].body["name"], "moat-suggested-orders-db");
}

TEST(SuggestPushTest, MalformedAnswersAndDocumentsAreErrors) {
  EXPECT_FALSE(PlanPush(Document(), "{\"not\": \"an array\"}", "[]"));
  EXPECT_EQ(PlanPush(Document(), "[]", "[{\"name\": \"x\"}]").error().message,
            "the draft rule sets: an object without an href: {\"name\":\"x\"}");
  Json doc = Document();
  doc["rule_sets"][0].erase("external_data_set");
  EXPECT_EQ(PlanPush(doc, "[]", "[]").error().message,
            "the suggestion's rule set moat-suggested-orders-db lacks a name or moat's external data");
  EXPECT_FALSE(PlanPush(Json::array(), "[]", "[]"));
}

TEST(SuggestPushTest, ReplaceHrefsReplacesEveryMappedStringAndNothingElse) {
  const Json body = {{"consumers", {List(kPlaceholder), Label(kPlaceholder + std::string("0"))}}, {"n", 3}};
  const Json got = ReplaceHrefs(body, {{kPlaceholder, "/orgs/1/sec_policy/draft/ip_lists/7"}});
  EXPECT_EQ(got["consumers"][0]["ip_list"]["href"], "/orgs/1/sec_policy/draft/ip_lists/7");
  EXPECT_EQ(got["consumers"][1]["label"]["href"], kPlaceholder + std::string("0"));
  EXPECT_EQ(got["n"], 3);
}

}  // namespace
}  // namespace moat::pce
