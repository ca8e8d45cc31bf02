#include "pce/sync_plan.h"

#include <gtest/gtest.h>

namespace moat::pce {
namespace {

using nlohmann::json;

constexpr const char* kEndpoint = "orders-db.c9xk2example.us-east-2.rds.amazonaws.com";
constexpr const char* kWorkload = "/orgs/1/workloads/0b6c7d3e-2a41-4f7b-9c1d-8e5f6a7b8c90";
constexpr const char* kDraftVs = "/orgs/1/sec_policy/draft/virtual_services/7a9e1c44-5b2d-4e8f-a1b3-c4d5e6f70812";
constexpr const char* kActiveVs = "/orgs/1/sec_policy/active/virtual_services/7a9e1c44-5b2d-4e8f-a1b3-c4d5e6f70812";
constexpr const char* kBinding = "/orgs/1/service_bindings/e3f1a2b4-6c7d-4e8f-9a0b-1c2d3e4f5a6b";

SyncDatabase Orders() {
  return {"orders-db",
          false,
          "postgres",
          kEndpoint,
          5432,
          {"10.0.2.45"},
          {{"Team", "payments"}, {"Environment", "Production"}},
          "",
          ""};
}

LabelMap Map() {
  auto m = ParseLabelMap(R"({"Team": {"label": "app", "values": {"payments": "Payments"}},
                             "Environment": {"label": "env"}})",
                         "map.json");
  EXPECT_TRUE(m) << m.error().message;
  return *m;
}

PceObjects Labels() {
  PceObjects o;
  o.labels = {{"/orgs/1/labels/1", "role", "Database"},
              {"/orgs/1/labels/6", "env", "Production"},
              {"/orgs/1/labels/10", "app", "Payments"}};
  return o;
}

PceVirtualService MoatVs(std::string href) {
  return {std::move(href),
          "VS-RDS-orders-db",
          {{5432, -1, 6}},
          {kEndpoint},
          {"/orgs/1/labels/10", "/orgs/1/labels/6"},
          "moat",
          "rds:orders-db",
          ""};
}

// orders-db as a previous sync left it, provisioned and bound.
PceObjects Synced() {
  PceObjects o = Labels();
  o.workloads = {{kWorkload,
                  "rds-orders-db",
                  kEndpoint,
                  {"10.0.2.45"},
                  {"/orgs/1/labels/10", "/orgs/1/labels/6"},
                  "moat",
                  "rds:orders-db"}};
  o.draft_virtual_services = {MoatVs(kDraftVs)};
  o.active_virtual_services = {MoatVs(kActiveVs)};
  o.service_bindings = {{kBinding, kActiveVs, kWorkload}};
  return o;
}

TEST(SyncPlanTest, FirstSyncCreatesLabelsWorkloadAndDraftVirtualServiceAndWaitsForProvision) {
  const SyncPlan p = Plan({Orders()}, Map(), PceObjects{}, false);
  ASSERT_EQ(p.labels_to_create.size(), 2u);
  EXPECT_EQ(p.labels_to_create[0].label, (LabelRef{"app", "Payments"}));
  EXPECT_EQ(p.labels_to_create[1].label, (LabelRef{"env", "Production"}));
  EXPECT_EQ(p.labels_to_create[0].databases, std::vector<std::string>{"orders-db"});

  ASSERT_EQ(p.workloads_to_create.size(), 1u);
  const SyncChange& w = p.workloads_to_create[0];
  EXPECT_EQ(w.database, "orders-db");
  EXPECT_EQ(w.reason, "create (10.0.2.45; app=\"Payments\", env=\"Production\")");
  EXPECT_EQ(w.body["name"], "rds-orders-db");
  EXPECT_EQ(w.body["hostname"], kEndpoint);
  EXPECT_EQ(w.body["interfaces"], json::parse(R"([{"name":"eth0","address":"10.0.2.45"}])"));
  EXPECT_EQ(w.body["external_data_set"], "moat");
  EXPECT_EQ(w.body["external_data_reference"], "rds:orders-db");
  EXPECT_EQ(w.body["description"], "Amazon RDS postgres instance, modelled by moat");
  EXPECT_EQ(w.body["labels"], json::array());  // no label exists yet: all pending
  EXPECT_EQ(w.pending_labels, (std::vector<LabelRef>{{"app", "Payments"}, {"env", "Production"}}));

  ASSERT_EQ(p.virtual_services_to_create.size(), 1u);
  const json& vs = p.virtual_services_to_create[0].body;
  EXPECT_EQ(vs["name"], "VS-RDS-orders-db");
  EXPECT_EQ(vs["service_ports"], json::parse(R"([{"port":5432,"proto":6}])"));
  EXPECT_EQ(vs["service_addresses"], json::parse(R"([{"fqdn":"orders-db.c9xk2example.us-east-2.rds.amazonaws.com"}])"));
  EXPECT_EQ(vs["external_data_reference"], "rds:orders-db");

  EXPECT_TRUE(p.bindings_to_create.empty());
  EXPECT_EQ(p.binding_waits_for_provision, std::vector<std::string>{"orders-db"});
  EXPECT_TRUE(p.HasChanges());
  EXPECT_EQ(RenderSyncPlanText(p),
            "+ label app=\"Payments\" (orders-db): create\n"
            "+ label env=\"Production\" (orders-db): create\n"
            "+ workload rds-orders-db (orders-db): create (10.0.2.45; app=\"Payments\", env=\"Production\")\n"
            "+ virtual service VS-RDS-orders-db (orders-db): create (" +
                std::string(kEndpoint) +
                " 5432/tcp; app=\"Payments\", env=\"Production\")\n"
                "  waiting orders-db: service binding waits until its virtual service is provisioned\n"
                "Plan: 4 to create, 0 to update, 0 to delete.\n");
}

// Two accounts each with an orders-db, in a run over several: two databases, two of everything.
TEST(SyncPlanTest, DatabasesOfOneNameInTwoAccountsAreTwoDatabases) {
  SyncDatabase a = Orders(), b = Orders();
  a.place = "111122223333/eu-west-1";
  b.place = "444455556666/eu-west-1";
  b.endpoint = "orders-db.other.eu-west-1.rds.amazonaws.com";
  EXPECT_EQ(TargetId(a), "111122223333/eu-west-1/orders-db");
  const SyncPlan p = Plan({a, b}, Map(), PceObjects{}, false);
  ASSERT_EQ(p.workloads_to_create.size(), 2u);
  EXPECT_EQ(p.workloads_to_create[0].body["name"], "rds-orders-db-111122223333-eu-west-1");
  EXPECT_EQ(p.workloads_to_create[0].body["external_data_reference"], "rds:111122223333/eu-west-1/orders-db");
  EXPECT_EQ(p.workloads_to_create[1].body["name"], "rds-orders-db-444455556666-eu-west-1");
  ASSERT_EQ(p.virtual_services_to_create.size(), 2u);
  EXPECT_EQ(p.virtual_services_to_create[1].body["name"], "VS-RDS-orders-db-444455556666-eu-west-1");
  EXPECT_EQ(p.virtual_services_to_create[1].database, "444455556666/eu-west-1/orders-db");
  EXPECT_TRUE(p.conflicts.empty());
  // The objects of a run over one place are not these databases': no conflict, nothing shared.
  const SyncPlan again = Plan({a}, Map(), Synced(), false);
  EXPECT_TRUE(again.conflicts.empty());
  ASSERT_EQ(again.workloads_to_create.size(), 1u);
}

TEST(SyncPlanTest, ExistingLabelsAreReferencedByHref) {
  const SyncPlan p = Plan({Orders()}, Map(), Labels(), false);
  EXPECT_TRUE(p.labels_to_create.empty());
  ASSERT_EQ(p.workloads_to_create.size(), 1u);
  EXPECT_EQ(p.workloads_to_create[0].body["labels"],
            json::parse(R"([{"href":"/orgs/1/labels/10"},{"href":"/orgs/1/labels/6"}])"));
  EXPECT_TRUE(p.workloads_to_create[0].pending_labels.empty());
}

TEST(SyncPlanTest, ResyncWithEverythingPresentAndActiveHasNoChanges) {
  const SyncPlan p = Plan({Orders()}, Map(), Synced(), true);
  EXPECT_FALSE(p.HasChanges());
  EXPECT_TRUE(p.binding_waits_for_provision.empty());
  EXPECT_TRUE(p.conflicts.empty());
  EXPECT_TRUE(p.stale.empty());
  EXPECT_TRUE(p.provision_virtual_services.empty());
  EXPECT_EQ(RenderSyncPlanText(p), "No changes.\n");
  EXPECT_EQ(RenderSyncPlanJson(p)["changes"], false);
}

TEST(SyncPlanTest, AddressOrderAndCaseOfTheFqdnDoNotMatter) {
  SyncDatabase db = Orders();
  db.addresses = {"10.0.3.9", "10.0.2.45", "10.0.3.9"};
  PceObjects o = Synced();
  o.workloads[0].addresses = {"10.0.2.45", "10.0.3.9"};
  o.draft_virtual_services[0].fqdns = {"ORDERS-DB.c9xk2example.us-east-2.rds.amazonaws.com"};
  EXPECT_FALSE(Plan({db}, Map(), o, false).HasChanges());
}

TEST(SyncPlanTest, AddressChangeAfterFailoverUpdatesOnlyTheWorkloadInterfaces) {
  SyncDatabase db = Orders();
  db.addresses = {"10.0.2.46"};
  const SyncPlan p = Plan({db}, Map(), Synced(), false);
  ASSERT_EQ(p.workloads_to_update.size(), 1u);
  const SyncChange& u = p.workloads_to_update[0];
  EXPECT_EQ(u.reason, "address changed 10.0.2.45 -> 10.0.2.46");
  EXPECT_EQ(u.href, kWorkload);
  EXPECT_EQ(u.body, json::parse(R"({"href":")" + std::string(kWorkload) +
                                R"(","interfaces":[{"name":"eth0","address":"10.0.2.46"}]})"));
  EXPECT_TRUE(p.workloads_to_create.empty());
  EXPECT_TRUE(p.virtual_services_to_update.empty());
  EXPECT_TRUE(p.bindings_to_create.empty());
  EXPECT_TRUE(p.labels_to_create.empty());
  EXPECT_EQ(RenderSyncPlanText(p),
            "~ workload rds-orders-db (orders-db): address changed 10.0.2.45 -> 10.0.2.46\n"
            "Plan: 0 to create, 1 to update, 0 to delete.\n");
}

TEST(SyncPlanTest, TagChangeUpdatesLabelsAndCreatesTheMissingLabel) {
  SyncDatabase db = Orders();
  db.tags["Team"] = "billing";  // no rewrite: the value as is
  const SyncPlan p = Plan({db}, Map(), Synced(), false);
  ASSERT_EQ(p.labels_to_create.size(), 1u);
  EXPECT_EQ(p.labels_to_create[0].label, (LabelRef{"app", "billing"}));

  ASSERT_EQ(p.workloads_to_update.size(), 1u);
  SyncChange u = p.workloads_to_update[0];
  EXPECT_EQ(u.reason, "labels changed (app \"Payments\" -> \"billing\")");
  EXPECT_EQ(u.body["labels"], json::parse(R"([{"href":"/orgs/1/labels/6"}])"));
  EXPECT_EQ(u.pending_labels, std::vector<LabelRef>{(LabelRef{"app", "billing"})});

  ASSERT_EQ(p.virtual_services_to_update.size(), 1u);
  EXPECT_EQ(p.virtual_services_to_update[0].href, kDraftVs);
  EXPECT_EQ(p.virtual_services_to_update[0].reason, u.reason);
  EXPECT_EQ(p.provision_virtual_services, std::vector<std::string>{kDraftVs});

  std::vector<SyncChange> changes = {u};
  ASSERT_TRUE(ResolvePendingLabels(changes, {{"/orgs/1/labels/11", "app", "billing"}}));
  EXPECT_EQ(changes[0].body["labels"], json::parse(R"([{"href":"/orgs/1/labels/6"},{"href":"/orgs/1/labels/11"}])"));
  EXPECT_TRUE(changes[0].pending_labels.empty());
}

TEST(SyncPlanTest, ResolvingALabelThatWasNotCreatedFails) {
  std::vector<SyncChange> changes = {
      {"orders-db", "workload", "rds-orders-db", "create", "", json::object(), {{"app", "x"}}}};
  const Status s = ResolvePendingLabels(changes, {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "orders-db: label app=\"x\" was not created");
}

TEST(SyncPlanTest, LabelsOfKeysTheMapDoesNotNameAreKept) {
  PceObjects o = Synced();
  o.workloads[0].label_hrefs.push_back("/orgs/1/labels/1");  // role=Database, set by hand
  EXPECT_FALSE(Plan({Orders()}, Map(), o, false).HasChanges());

  SyncDatabase db = Orders();
  db.tags.erase("Environment");
  const SyncPlan p = Plan({db}, Map(), o, false);
  ASSERT_EQ(p.workloads_to_update.size(), 1u);
  EXPECT_EQ(p.workloads_to_update[0].reason, "labels changed (env \"Production\" -> (none))");
  EXPECT_EQ(p.workloads_to_update[0].body["labels"],
            json::parse(R"([{"href":"/orgs/1/labels/1"},{"href":"/orgs/1/labels/10"}])"));
}

TEST(SyncPlanTest, PortFqdnAndNameChangesUpdateTheDraftVirtualService) {
  SyncDatabase db = Orders();
  db.port = 6432;
  db.endpoint = "orders-db-2.c9xk2example.us-east-2.rds.amazonaws.com";
  PceObjects o = Synced();
  o.workloads[0].hostname = db.endpoint;
  o.draft_virtual_services[0].name = "renamed";
  const SyncPlan p = Plan({db}, Map(), o, false);
  ASSERT_EQ(p.virtual_services_to_update.size(), 1u);
  const SyncChange& u = p.virtual_services_to_update[0];
  EXPECT_EQ(u.reason,
            "name changed \"renamed\" -> \"VS-RDS-orders-db\"; port changed 5432/tcp -> 6432/tcp; "
            "fqdn changed orders-db.c9xk2example.us-east-2.rds.amazonaws.com -> "
            "orders-db-2.c9xk2example.us-east-2.rds.amazonaws.com");
  EXPECT_EQ(u.body["service_ports"], json::parse(R"([{"port":6432,"proto":6}])"));
  EXPECT_FALSE(u.body.contains("labels"));
  EXPECT_EQ(u.body["href"], kDraftVs);  // a bulk_update item names its object
  EXPECT_TRUE(p.workloads_to_update.empty());
}

TEST(SyncPlanTest, ForeignObjectsWithTheSameNameAreAConflictAndLeftAlone) {
  PceObjects o = Labels();
  o.workloads = {{kWorkload, "rds-orders-db", kEndpoint, {"10.0.9.9"}, {}, "aws-rds", "db-orders-db"}};
  const SyncPlan p = Plan({Orders()}, Map(), o, true);
  EXPECT_FALSE(p.HasChanges());
  ASSERT_EQ(p.conflicts.size(), 1u);
  EXPECT_EQ(p.conflicts[0].database, "orders-db");
  EXPECT_EQ(p.conflicts[0].reason,
            std::string("workload named \"rds-orders-db\" exists and is not moat's (") + kWorkload + ")");
  EXPECT_TRUE(p.binding_waits_for_provision.empty());
  EXPECT_EQ(RenderSyncPlanText(p), "! conflict orders-db: " + p.conflicts[0].reason + "\nNo changes.\n");
}

TEST(SyncPlanTest, ForeignVirtualServiceFromTheReferenceFixtureIsAConflict) {
  // §8.4: a hand-made VS-RDS-orders-db without external data.
  const std::string vs = R"([{"href":")" + std::string(kActiveVs) +
                         R"(","name":"VS-RDS-orders-db","service_ports":[{"port":5432,"proto":6}],
      "service_addresses":[{"fqdn":"orders-db.c9xk2example.us-east-2.rds.amazonaws.com","description":"RDS endpoint"}],
      "labels":[{"href":"/orgs/1/labels/1","key":"role","value":"Database"}],"pce_fqdn":null,"update_type":null,
      "external_data_set":null,"external_data_reference":null}])";
  auto o = ParsePceObjects("[]", "[]", "[]", vs, "[]");
  ASSERT_TRUE(o) << o.error().message;
  const SyncPlan p = Plan({Orders()}, Map(), *o, true);
  ASSERT_EQ(p.conflicts.size(), 1u);
  EXPECT_EQ(p.conflicts[0].reason,
            "virtual service named \"VS-RDS-orders-db\" exists and is not moat's (" + std::string(kActiveVs) + ")");
  EXPECT_FALSE(p.HasChanges());
}

TEST(SyncPlanTest, AConflictedDatabaseKeepsItsOwnObjects) {
  PceObjects o = Synced();
  o.workloads.push_back({"/orgs/1/workloads/foreign", "rds-orders-db", "", {}, {}, "", ""});
  const SyncPlan p = Plan({Orders()}, Map(), o, true);
  EXPECT_EQ(p.conflicts.size(), 1u);
  EXPECT_FALSE(p.HasChanges());  // neither the foreign nor moat's workload is touched
}

TEST(SyncPlanTest, DeletedDatabaseIsOnlyReportedWithoutPrune) {
  const SyncPlan p = Plan({}, Map(), Synced(), false);
  EXPECT_FALSE(p.HasChanges());
  ASSERT_EQ(p.stale.size(), 3u);
  EXPECT_EQ(p.stale[0].kind, "workload");
  EXPECT_EQ(p.stale[1].kind, "virtual_service");
  EXPECT_EQ(p.stale[2].kind, "service_binding");
  EXPECT_EQ(p.stale[0].href, kWorkload);
  EXPECT_TRUE(p.provision_virtual_services.empty());
  EXPECT_EQ(RenderSyncPlanText(p),
            "  stale workload rds-orders-db (orders-db): database not found (kept; --prune deletes it)\n"
            "  stale virtual service VS-RDS-orders-db (orders-db): database not found (kept; --prune deletes it)\n"
            "  stale service binding rds-orders-db (orders-db): its workload or virtual service is removed (kept; "
            "--prune deletes it)\n"
            "No changes.\n");
}

TEST(SyncPlanTest, DeletedDatabaseIsRemovedWithPrune) {
  const SyncPlan p = Plan({}, Map(), Synced(), true);
  EXPECT_TRUE(p.stale.empty());
  ASSERT_EQ(p.workloads_to_delete.size(), 1u);
  EXPECT_EQ(p.workloads_to_delete[0].href, kWorkload);
  EXPECT_TRUE(p.workloads_to_delete[0].body.is_null());
  ASSERT_EQ(p.virtual_services_to_delete.size(), 1u);
  EXPECT_EQ(p.virtual_services_to_delete[0].href, kDraftVs);
  ASSERT_EQ(p.bindings_to_delete.size(), 1u);
  EXPECT_EQ(p.bindings_to_delete[0].href, kBinding);
  EXPECT_EQ(p.provision_virtual_services, std::vector<std::string>{kDraftVs});
  EXPECT_TRUE(p.HasChanges());
}

TEST(SyncPlanTest, ADatabaseWithoutAddressIsSkippedAndNeverPruned) {
  SyncDatabase db = Orders();
  db.addresses.clear();
  db.unresolved = "private address not found (2 RDS network interfaces in its VPC carry its groups)";
  db.tags["Team"] = "billing";  // a change that must wait too
  const SyncPlan p = Plan({db}, Map(), Synced(), true);
  EXPECT_FALSE(p.HasChanges());
  EXPECT_TRUE(p.stale.empty());
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].database, "orders-db");
  EXPECT_EQ(RenderSyncPlanText(p),
            "! skipped orders-db: private address not found (2 RDS network interfaces in its VPC carry its groups) "
            "(its PCE objects are left as they are)\n"
            "No changes.\n");
  EXPECT_EQ(RenderSyncPlanJson(p)["skipped"][0]["database"], "orders-db");
}

TEST(SyncPlanTest, PruneNeverTouchesForeignObjects) {
  PceObjects o = Labels();
  o.workloads = {{kWorkload, "rds-gone", "", {}, {}, "aws-rds", "rds:gone"}};
  o.draft_virtual_services = {MoatVs(kDraftVs)};
  o.draft_virtual_services[0].external_data_set = "";
  o.service_bindings = {{kBinding, kActiveVs, kWorkload}};
  const SyncPlan p = Plan({}, Map(), o, true);
  EXPECT_FALSE(p.HasChanges());
  EXPECT_TRUE(p.stale.empty());
}

TEST(SyncPlanTest, BindingIsPlannedWithTheActiveHrefOnly) {
  PceObjects o = Synced();
  o.service_bindings.clear();
  const SyncPlan p = Plan({Orders()}, Map(), o, false);
  ASSERT_EQ(p.bindings_to_create.size(), 1u);
  const json& b = p.bindings_to_create[0].body;
  EXPECT_EQ(b["virtual_service"]["href"], kActiveVs);
  EXPECT_EQ(b["workload"]["href"], kWorkload);
  EXPECT_EQ(b["port_overrides"], json::array());
  EXPECT_EQ(b.dump().find("/draft/"), std::string::npos);
}

TEST(SyncPlanTest, DraftOnlyVirtualServiceGetsNoBinding) {
  PceObjects o = Synced();
  o.active_virtual_services.clear();
  o.service_bindings.clear();
  o.draft_virtual_services[0].update_type = "create";
  const SyncPlan p = Plan({Orders()}, Map(), o, false);
  EXPECT_TRUE(p.bindings_to_create.empty());
  EXPECT_EQ(p.binding_waits_for_provision, std::vector<std::string>{"orders-db"});
  EXPECT_EQ(p.provision_virtual_services, std::vector<std::string>{kDraftVs});  // pending from the last sync
  EXPECT_FALSE(p.HasChanges());
}

TEST(SyncPlanTest, ActiveVirtualServiceWithoutWorkloadWaitsForTheWorkload) {
  PceObjects o = Synced();
  o.workloads.clear();
  o.service_bindings.clear();
  const SyncPlan p = Plan({Orders()}, Map(), o, false);
  EXPECT_EQ(p.workloads_to_create.size(), 1u);
  EXPECT_TRUE(p.bindings_to_create.empty());
  EXPECT_EQ(p.binding_waits_for_workload, std::vector<std::string>{"orders-db"});
}

TEST(SyncPlanTest, PlanIsOrderedByDatabaseIdAndNamesClusters) {
  SyncDatabase a = Orders(), c = Orders();
  a.id = "alpha";
  c.id = "aurora-1";
  c.cluster = true;
  c.engine = "aurora-postgresql";
  const SyncPlan p = Plan({Orders(), c, a}, Map(), Labels(), false);
  ASSERT_EQ(p.workloads_to_create.size(), 3u);
  EXPECT_EQ(p.workloads_to_create[0].database, "alpha");
  EXPECT_EQ(p.workloads_to_create[1].database, "cluster/aurora-1");
  EXPECT_EQ(p.workloads_to_create[2].database, "orders-db");
  EXPECT_EQ(p.workloads_to_create[1].body["name"], "rds-cluster-aurora-1");
  EXPECT_EQ(p.workloads_to_create[1].body["external_data_reference"], "rds:cluster/aurora-1");
  EXPECT_EQ(p.virtual_services_to_create[1].body["name"], "VS-RDS-cluster-aurora-1");
  EXPECT_EQ(p.binding_waits_for_provision, (std::vector<std::string>{"alpha", "cluster/aurora-1", "orders-db"}));
}

TEST(SyncPlanTest, HostileTagValuesSurviveIntoJson) {
  SyncDatabase db = Orders();
  const std::string hostile = "Pay\"ments\\ \xE2\x9C\x93 \n{\"x\":1}";
  db.tags["Team"] = hostile;
  const SyncPlan p = Plan({db}, Map(), Labels(), false);
  ASSERT_EQ(p.labels_to_create.size(), 1u);
  EXPECT_EQ(p.labels_to_create[0].label.value, hostile);
  const json back = json::parse(RenderSyncPlanJson(p).dump());
  EXPECT_EQ(back["labels"]["create"][0]["value"], hostile);
  EXPECT_EQ(back["workloads"]["create"][0]["pending_labels"][0]["value"], hostile);
  const std::string text = RenderSyncPlanText(p);
  EXPECT_NE(text.find("+ label app=\"Pay\\\"ments\\\\ \xE2\x9C\x93 \\n{\\\"x\\\":1}\" (orders-db): create\n"),
            std::string::npos)
      << text;

  db.tags["Team"] = "bad \xFF byte";  // not UTF-8: replaced, never thrown
  const json j = RenderSyncPlanJson(Plan({db}, Map(), Labels(), false));
  EXPECT_NE(j.dump(-1, ' ', false, json::error_handler_t::replace).find("bad \xEF\xBF\xBD byte"), std::string::npos);
}

TEST(SyncPlanTest, JsonNamesEveryList) {
  const json j = RenderSyncPlanJson(Plan({Orders()}, Map(), PceObjects{}, false));
  EXPECT_EQ(j["changes"], true);
  EXPECT_EQ(j["workloads"]["create"][0]["database"], "orders-db");
  EXPECT_EQ(j["workloads"]["create"][0]["kind"], "workload");
  EXPECT_FALSE(j["workloads"]["create"][0].contains("href"));
  EXPECT_EQ(j["virtual_services"]["update"], json::array());
  EXPECT_EQ(j["service_bindings"]["create"], json::array());
  EXPECT_EQ(j["binding_waits_for_provision"], json::parse(R"(["orders-db"])"));
  EXPECT_EQ(j["binding_waits_for_workload"], json::array());
  EXPECT_EQ(j["provision"]["virtual_services"], json::array());
  EXPECT_EQ(j["conflicts"], json::array());
  EXPECT_EQ(j["stale"], json::array());
}

TEST(SyncPlanTest, ParsesPceCollectionsAsGetReturnsThem) {
  const std::string labels =
      R"([{"href":"/orgs/1/labels/1","key":"role","value":"Database","deleted":false,"external_data_set":null},
          {"href":"/orgs/1/labels/2","key":"role","value":"Old","deleted":true}])";
  const std::string workloads = R"([{"href":")" + std::string(kWorkload) + R"(","name":"rds-orders-db",
      "hostname":"orders-db.c9xk2example.us-east-2.rds.amazonaws.com","public_ip":null,
      "interfaces":[{"name":"eth0","address":"10.0.2.45","cidr_block":24,"default_gateway_address":null}],
      "labels":[{"href":"/orgs/1/labels/1","key":"role","value":"Database"}],"ven":null,"deleted":false,
      "external_data_set":"moat","external_data_reference":"rds:orders-db"}])";
  const std::string draft = R"([{"href":")" + std::string(kDraftVs) + R"(","name":"VS-RDS-orders-db",
      "service_ports":[{"port":5432,"proto":6}],"service_addresses":[{"fqdn":"a.example"},{"ip":"10.0.0.1","port":1}],
      "labels":[],"update_type":"update","external_data_set":"moat","external_data_reference":"rds:orders-db"}])";
  const std::string bindings = R"([{"href":")" + std::string(kBinding) + R"(",
      "virtual_service":{"href":")" +
                               std::string(kActiveVs) + R"(","name":"VS-RDS-orders-db"},
      "workload":{"href":")" + std::string(kWorkload) +
                               R"(","name":"rds-orders-db"},"port_overrides":[]}])";
  auto o = ParsePceObjects(labels, workloads, draft, "[]", bindings);
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_EQ(o->labels.size(), 1u);
  ASSERT_EQ(o->workloads.size(), 1u);
  EXPECT_EQ(o->workloads[0].addresses, std::vector<std::string>{"10.0.2.45"});
  EXPECT_EQ(o->workloads[0].label_hrefs, std::vector<std::string>{"/orgs/1/labels/1"});
  EXPECT_EQ(o->workloads[0].external_data_reference, "rds:orders-db");
  ASSERT_EQ(o->draft_virtual_services.size(), 1u);
  EXPECT_EQ(o->draft_virtual_services[0].service_ports, (std::vector<PceServicePort>{{5432, -1, 6}}));
  EXPECT_EQ(o->draft_virtual_services[0].fqdns, std::vector<std::string>{"a.example"});
  EXPECT_EQ(o->draft_virtual_services[0].update_type, "update");
  ASSERT_EQ(o->service_bindings.size(), 1u);
  EXPECT_EQ(o->service_bindings[0].virtual_service_href, kActiveVs);
  EXPECT_EQ(o->service_bindings[0].workload_href, kWorkload);
}

TEST(SyncPlanTest, PceParseErrorsNameTheCollectionAndIndex) {
  auto error = [](const std::string& labels, const std::string& workloads, const std::string& draft) {
    auto o = ParsePceObjects(labels, workloads, draft, "[]", "[]");
    return o ? std::string("no error") : o.error().message;
  };
  EXPECT_EQ(error("[]", R"([{"href":"/w/1"},{"href":"/w/2","interfaces":[{"address":7}]}])", "[]"),
            "workloads[1].interfaces[0].address: expected a string");
  EXPECT_EQ(error("[]", "[]", R"([{"name":"x"}])"), "sec_policy/draft/virtual_services[0]: missing 'href'");
  EXPECT_EQ(error("[]", "[]", R"([{"href":"/v","service_ports":[{"port":"5432"}]}])"),
            "sec_policy/draft/virtual_services[0].service_ports[0].port: expected an integer");
  EXPECT_EQ(error("[]", "[]", R"([{"href":"/v","service_ports":[{"port":-1,"proto":6}]}])"),
            "sec_policy/draft/virtual_services[0].service_ports[0].port: port out of range 0-65535: -1");
  EXPECT_EQ(error("[]", R"([{"href":"/w/1","name":"a","name":"b"}])", "[]"),
            "workloads[0].name: duplicate key \"name\"");
  EXPECT_EQ(error("{}", "[]", "[]"), "labels: expected an array");
  EXPECT_EQ(error("[", "[]", "[]").rfind("labels: not valid JSON: ", 0), 0u);
}

TEST(LabelMapTest, ParsesTagsLabelKeysAndRewrites) {
  const LabelMap m = Map();
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.entries[0].tag, "Team");
  EXPECT_EQ(m.entries[0].label_key, "app");
  EXPECT_EQ(m.entries[0].values.at("payments"), "Payments");
  EXPECT_EQ(m.entries[1].tag, "Environment");
  EXPECT_EQ(m.entries[1].label_key, "env");
  EXPECT_TRUE(m.entries[1].values.empty());
}

TEST(LabelMapTest, ErrorsNameTheFileAndTheKey) {
  auto error = [](std::string_view json) {
    auto m = ParseLabelMap(json, "labels.json");
    return m ? std::string("no error") : m.error().message;
  };
  EXPECT_EQ(error("[]"), "labels.json: expected an object");
  EXPECT_EQ(error(R"({"Team": "app"})"), "labels.json: Team: expected an object");
  EXPECT_EQ(error(R"({"Team": {}})"), "labels.json: Team: missing 'label'");
  EXPECT_EQ(error(R"({"Team": {"label": ""}})"),
            "labels.json: Team.label: label key must be non-empty without spaces: \"\"");
  EXPECT_EQ(error(R"({"Team": {"label": "my app"}})"),
            "labels.json: Team.label: label key must be non-empty without spaces: \"my app\"");
  EXPECT_EQ(error(R"({"Team": {"label": "app", "value": {}}})"),
            "labels.json: Team.value: unknown key (expected 'label' or 'values')");
  EXPECT_EQ(error(R"({"Team": {"label": "app", "values": {"a": 1}}})"),
            "labels.json: Team.values.a: expected a string");
  EXPECT_EQ(error(R"({"Team": {"label": "app"}, "Owner": {"label": "app"}})"),
            "labels.json: Owner: label key \"app\" is already mapped from tag \"Team\"");
  EXPECT_EQ(error(R"({"Team": {"label": "app", "label": "team"}})"),
            "labels.json: Team.label: duplicate key \"label\"");
  EXPECT_EQ(error("{").rfind("labels.json: not valid JSON: ", 0), 0u);
}

}  // namespace
}  // namespace moat::pce
