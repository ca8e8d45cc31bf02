// Integration tests of `moat pce sync`: the real binary against moto_server (orders-db, a
// PostgreSQL instance at 10.0.2.45 tagged team=payments, and ledger, an Aurora cluster at
// 10.0.3.60 tagged team=finance; tests/moto.h) and the PCE test server. Covers the first sync, a
// re-sync with nothing to do (zero writes), provisioning and binding in one run, a failover's
// address change, a tag change, objects not moat's left alone, --prune, PCE errors, and that no
// binding ever names a draft virtual service (the PCE's 406).
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "aws/ec2.h"
#include "aws/query.h"
#include "aws/rds.h"
#include "moat_process.h"
#include "moto.h"
#include "pce/client.h"
#include "pce_server.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

constexpr const char* kOrdersEndpoint = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
const char* const kReferenceFixture = MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json";

// Labels only: what a PCE holds before moat models anything, plus one workload that is not moat's.
Json EmptyPce() {
  Json b = Json::parse(ReadFile(kReferenceFixture));
  Json out = {{"labels", b["labels"]}, {"workloads", Json::array()}};
  for (const Json& w : b["workloads"]) {
    if (w["name"] == "web-01") out["workloads"].push_back(w);
  }
  return out;
}

class PceSyncTest : public ::testing::Test {
 protected:
  explicit PceSyncTest(const Json& pce = EmptyPce()) : bundle_(Write("pce.json", pce.dump())), pce_(bundle_) {}
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    ASSERT_TRUE(pce_.ok()) << "the PCE test server did not start (python3?)";
    dir_.Write("labels.json", R"({"team": {"label": "app", "values": {"payments": "Payments", "finance": "Finance"}},
                                  "tier": {"label": "role"}})");
  }

  std::string Write(const std::string& name, const std::string& text) {
    dir_.Write(name, text);
    return dir_.path() + "/" + name;
  }

  RunResult Moat(std::vector<std::string> args) {
    RunOptions o;
    o.env = moto_.Environment();
    o.env.insert(o.env.end(), {{"ILLUMIO_PCE_HOST", pce_.url()},
                               {"ILLUMIO_PCE_ORG_ID", "1"},
                               {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                               {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
    args.insert(args.begin(), {"pce", "sync"});
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 120);
  }
  RunResult Sync(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--label-map", dir_.path() + "/labels.json", "--yes", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Moat(args);
  }
  // A full sync: modelled, provisioned and bound.
  void SyncAll() {
    RunResult r = Sync({"--provision"});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    ASSERT_EQ(Collection("service_bindings").size(), 2u);
  }

  Json Collection(const std::string& path) {
    pce::Config c;
    c.base_url = pce_.url();
    c.user = kPceUser;
    c.secret = kPceSecret;
    auto t = http::NewCurlTransport({});
    pce::Client client(c, *t);
    auto body = client.GetCollection(path);
    EXPECT_TRUE(body) << body.error().message;
    return body ? Json::parse(*body) : Json::array();
  }
  static Json Named(const Json& objects, const std::string& name) {
    for (const Json& o : objects) {
      if (o.value("name", "") == name) return o;
    }
    return nullptr;
  }
  std::vector<std::string> Labels(const Json& object) {
    std::vector<std::string> out;
    for (const Json& l : object["labels"]) {
      for (const Json& known : Collection("labels")) {
        if (known["href"] == l["href"])
          out.push_back(known["key"].get<std::string>() + "=" + known["value"].get<std::string>());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // The API requests since the last Reset(): every write, and every answer of 400 or more.
  std::vector<std::string> Writes() {
    std::vector<std::string> out;
    for (const Json& e : Json::parse(pce_.Get("log"))) {
      if (e["method"] != "GET") out.push_back(e["method"].get<std::string>() + " " + e["path"].get<std::string>());
    }
    return out;
  }
  std::vector<std::string> Refusals() {
    std::vector<std::string> out;
    for (const Json& e : Json::parse(pce_.Get("log"))) {
      if (e.value("status", 0) >= 400) out.push_back(e.dump());
    }
    return out;
  }
  void Reset() { pce_.Post("reset", "{}"); }

  aws::QueryClient Aws(const char* service, const char* version) {
    const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
    return aws::QueryClient({service, moto_.url(), "us-east-1", version},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  }

  TempDir dir_;
  std::string bundle_;
  MotoServer moto_;
  PceServer pce_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
};

TEST_F(PceSyncTest, FirstSyncModelsEachDatabaseThenProvisionBindsAndAResyncWritesNothing) {
  RunResult plan = Moat({"--label-map", dir_.path() + "/labels.json", "--plan", "--detailed-exitcode"});
  ASSERT_EQ(plan.exit_code, 2) << Describe(plan);
  EXPECT_NE(plan.out.find("+ label app=\"Payments\" (orders-db): create"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("+ workload rds-orders-db (orders-db): create"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("+ virtual service VS-RDS-cluster-ledger (cluster/ledger): create"), std::string::npos);
  EXPECT_NE(plan.out.find("waiting orders-db: service binding waits until its virtual service is provisioned"),
            std::string::npos);
  EXPECT_TRUE(Writes().empty());  // a plan reads only

  // Without --provision: workloads and draft virtual services, and no binding yet.
  RunResult first = Sync();
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  Json report = Json::parse(first.out);
  EXPECT_EQ(report["applied"]["workloads"]["created"], 2);
  EXPECT_EQ(report["applied"]["virtual_services"]["created"], 2);
  EXPECT_EQ(report["applied"]["labels"], 2);  // app=Payments, app=Finance
  EXPECT_EQ(report["applied"]["service_bindings"]["created"], 0);
  EXPECT_EQ(report["binding_waits_for_provision"], Json::parse(R"(["cluster/ledger", "orders-db"])"));
  const Json w = Named(Collection("workloads"), "rds-orders-db");
  ASSERT_FALSE(w.is_null());
  EXPECT_EQ(w["hostname"], kOrdersEndpoint);
  EXPECT_EQ(w["interfaces"][0]["address"], "10.0.2.45");
  EXPECT_EQ(w["interfaces"].size(), 1u);
  EXPECT_EQ(w["external_data_set"], "moat");
  EXPECT_EQ(w["external_data_reference"], "rds:orders-db");
  EXPECT_EQ(Labels(w), std::vector<std::string>{"app=Payments"});
  EXPECT_EQ(Named(Collection("workloads"), "rds-cluster-ledger")["interfaces"][0]["address"], "10.0.3.60");
  const Json vs = Named(Collection("sec_policy/draft/virtual_services"), "VS-RDS-orders-db");
  ASSERT_FALSE(vs.is_null());
  EXPECT_EQ(vs["service_ports"], Json::parse(R"([{"port": 5432, "proto": 6}])"));
  EXPECT_EQ(vs["service_addresses"][0]["fqdn"], kOrdersEndpoint);
  EXPECT_EQ(vs["update_type"], "create");
  EXPECT_TRUE(Collection("sec_policy/active/virtual_services").empty());
  EXPECT_TRUE(Collection("service_bindings").empty());

  // --provision: the draft virtual services become active and are bound, in one run.
  RunResult provision = Sync({"--provision"});
  ASSERT_EQ(provision.exit_code, 0) << Describe(provision);
  report = Json::parse(provision.out);
  EXPECT_EQ(report["applied"]["provisioned"]["version"], 2);
  EXPECT_EQ(report["applied"]["provisioned"]["virtual_services"].size(), 2u);
  EXPECT_EQ(report["applied"]["service_bindings"]["created"], 2);
  EXPECT_TRUE(report["binding_waits_for_provision"].empty());
  const Json versions = Collection("sec_policy");
  ASSERT_FALSE(versions.empty());
  EXPECT_NE(versions[0]["commit_message"].get<std::string>().find("moat pce sync"), std::string::npos);
  const Json active = Named(Collection("sec_policy/active/virtual_services"), "VS-RDS-orders-db");
  ASSERT_FALSE(active.is_null());
  bool bound = false;
  for (const Json& b : Collection("service_bindings")) {
    EXPECT_NE(b["virtual_service"]["href"].get<std::string>().find("/sec_policy/active/"), std::string::npos);
    bound = bound || (b["virtual_service"]["href"] == active["href"] && b["workload"]["href"] == w["href"]);
  }
  EXPECT_TRUE(bound);

  // Nothing to do: no write at all.
  Reset();
  RunResult again = Sync({"--provision"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_FALSE(Json::parse(again.out)["changes"]);
  EXPECT_FALSE(Json::parse(again.out).contains("applied"));
  EXPECT_TRUE(Writes().empty());
  RunResult check = Moat({"--label-map", dir_.path() + "/labels.json", "--plan", "--detailed-exitcode"});
  EXPECT_EQ(check.exit_code, 0) << Describe(check);
  EXPECT_NE(check.out.find("No changes."), std::string::npos);
}

TEST_F(PceSyncTest, NoBindingEverNamesADraftVirtualService) {
  SyncAll();
  for (const Json& e : Json::parse(pce_.Get("log"))) {
    EXPECT_LT(e.value("status", 0), 400) << e.dump();
  }
}

TEST_F(PceSyncTest, AFailoverUpdatesOnlyTheWorkloadsInterfaces) {
  SyncAll();
  // orders-db's network interface moves to 10.0.2.46 (its endpoint name stays).
  aws::QueryClient ec2_client = Aws("ec2", aws::kEc2ApiVersion);
  aws::Ec2 ec2(ec2_client);
  auto enis = ec2.DescribeNetworkInterfaces({{"addresses.private-ip-address", {"10.0.2.45"}}});
  ASSERT_TRUE(enis && enis->size() == 1);
  const aws::NetworkInterface old = (*enis)[0];
  ASSERT_TRUE(ec2_client.Call("DeleteNetworkInterface", {{"NetworkInterfaceId", old.id}}));
  ASSERT_TRUE(ec2_client.Call("CreateNetworkInterface", {{"SubnetId", old.subnet_id},
                                                         {"PrivateIpAddress", "10.0.2.46"},
                                                         {"Description", "RDSNetworkInterface"},
                                                         {"SecurityGroupId.1", old.security_groups[0]}}));
  RunResult plan = Moat({"--label-map", dir_.path() + "/labels.json", "--plan"});
  EXPECT_NE(plan.out.find("~ workload rds-orders-db (orders-db): address changed 10.0.2.45 -> 10.0.2.46"),
            std::string::npos)
      << Describe(plan);
  EXPECT_NE(plan.out.find("Plan: 0 to create, 1 to update, 0 to delete."), std::string::npos) << plan.out;
  Reset();
  RunResult r = Sync({"--provision"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Writes(), std::vector<std::string>{"PUT /api/v2/orgs/1/workloads/bulk_update"});
  const Json w = Named(Collection("workloads"), "rds-orders-db");
  EXPECT_EQ(w["interfaces"].size(), 1u);
  EXPECT_EQ(w["interfaces"][0]["address"], "10.0.2.46");
  EXPECT_EQ(Labels(w), std::vector<std::string>{"app=Payments"});
  EXPECT_EQ(Collection("service_bindings").size(), 2u);  // the binding stays
}

TEST_F(PceSyncTest, ATagChangeRelabelsTheWorkloadAndTheVirtualService) {
  SyncAll();
  aws::QueryClient rds = Aws("rds", aws::kRdsApiVersion);
  ASSERT_TRUE(rds.Call("AddTagsToResource", {{"ResourceName", "arn:aws:rds:us-east-1:123456789012:db:orders-db"},
                                             {"Tags.Tag.1.Key", "team"},
                                             {"Tags.Tag.1.Value", "billing"},
                                             {"Tags.Tag.2.Key", "tier"},
                                             {"Tags.Tag.2.Value", "Database"}}));
  RunResult r = Sync({"--provision"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json report = Json::parse(r.out);
  EXPECT_EQ(report["applied"]["labels"], 1);  // app=billing; role=Database exists
  EXPECT_EQ(report["applied"]["workloads"]["updated"], 1);
  EXPECT_EQ(report["applied"]["virtual_services"]["updated"], 1);
  EXPECT_EQ(report["workloads"]["update"][0]["reason"],
            "labels changed (app \"Payments\" -> \"billing\", role (none) -> \"Database\")");
  const std::vector<std::string> want = {"app=billing", "role=Database"};
  EXPECT_EQ(Labels(Named(Collection("workloads"), "rds-orders-db")), want);
  EXPECT_EQ(Labels(Named(Collection("sec_policy/active/virtual_services"), "VS-RDS-orders-db")), want);
  EXPECT_EQ(Labels(Named(Collection("workloads"), "rds-cluster-ledger")), std::vector<std::string>{"app=Finance"});
}

TEST_F(PceSyncTest, ADeletedDatabaseIsRemovedOnlyWithPrune) {
  SyncAll();
  aws::QueryClient rds = Aws("rds", aws::kRdsApiVersion);
  ASSERT_TRUE(rds.Call("DeleteDBInstance", {{"DBInstanceIdentifier", "orders-db"}, {"SkipFinalSnapshot", "true"}}));
  Reset();
  RunResult kept = Sync({"--provision"});
  ASSERT_EQ(kept.exit_code, 0) << Describe(kept);
  EXPECT_EQ(Json::parse(kept.out)["stale"].size(), 3u);
  EXPECT_TRUE(Writes().empty());
  RunResult text = Moat({"--label-map", dir_.path() + "/labels.json", "--plan"});
  EXPECT_NE(text.out.find("stale workload rds-orders-db (orders-db): database not found (kept; --prune deletes it)"),
            std::string::npos)
      << Describe(text);

  RunResult pruned = Sync({"--provision", "--prune"});
  ASSERT_EQ(pruned.exit_code, 0) << Describe(pruned);
  const Json report = Json::parse(pruned.out);
  EXPECT_EQ(report["applied"]["service_bindings"]["deleted"], 1);
  EXPECT_EQ(report["applied"]["workloads"]["deleted"], 1);
  EXPECT_EQ(report["applied"]["virtual_services"]["deleted"], 1);
  EXPECT_GT(report["applied"]["provisioned"]["version"], 2);
  EXPECT_TRUE(Named(Collection("workloads"), "rds-orders-db").is_null());
  EXPECT_TRUE(Named(Collection("sec_policy/draft/virtual_services"), "VS-RDS-orders-db").is_null());
  EXPECT_TRUE(Named(Collection("sec_policy/active/virtual_services"), "VS-RDS-orders-db").is_null());
  EXPECT_FALSE(Named(Collection("workloads"), "rds-cluster-ledger").is_null());
  EXPECT_FALSE(Named(Collection("workloads"), "web-01").is_null());  // not moat's
  EXPECT_EQ(Collection("service_bindings").size(), 1u);
}

TEST_F(PceSyncTest, ATargetLimitsTheSyncToThatDatabase) {
  RunResult r = Sync({"--target", "cluster/ledger", "--prune"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_FALSE(Named(Collection("workloads"), "rds-cluster-ledger").is_null());
  EXPECT_TRUE(Named(Collection("workloads"), "rds-orders-db").is_null());
  // With another target, ledger's objects are out of view: not stale, not pruned.
  RunResult other = Sync({"--target", "orders-db", "--prune"});
  ASSERT_EQ(other.exit_code, 0) << Describe(other);
  EXPECT_FALSE(Named(Collection("workloads"), "rds-cluster-ledger").is_null());
  RunResult none = Sync({"--target", "nope"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(Json::parse(none.out)["errors"][0],
            "--target nope: no RDS instance or Aurora cluster has that identifier or tag");
  EXPECT_NE(none.err.find("moat: pce sync: nothing was written (see above)"), std::string::npos) << none.err;
}

TEST_F(PceSyncTest, BadInputIsOneLineAndWritesNothing) {
  Write("bad.json", R"({"team": {"label": "app", "value": {}}})");
  RunResult bad = Moat({"--label-map", dir_.path() + "/bad.json", "--yes"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_NE(bad.err.find("bad.json"), std::string::npos) << bad.err;
  EXPECT_TRUE(Json::parse(pce_.Get("log")).empty());

  RunResult missing = Moat({"--label-map", dir_.path() + "/missing.json", "--yes"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("missing.json: cannot be read"), std::string::npos) << missing.err;

  RunResult inline_map = Moat({"--label-map", R"({"team": {"label": "app", "values": {"payments": 7}}})", "--yes"});
  EXPECT_EQ(inline_map.exit_code, 1);
  EXPECT_NE(inline_map.err.find("--label-map: team.values.payments: expected a string"), std::string::npos)
      << inline_map.err;

  RunResult no_tty = Moat({"--label-map", dir_.path() + "/labels.json"});
  EXPECT_EQ(no_tty.exit_code, 1);
  EXPECT_NE(no_tty.err.find("not writing to the PCE without --yes"), std::string::npos) << no_tty.err;
  EXPECT_TRUE(Writes().empty());
}

TEST_F(PceSyncTest, OnATerminalItAsksAndOnlyYesWrites) {
  if (!std::filesystem::exists("/usr/bin/script")) GTEST_SKIP() << "script (util-linux) not installed";
  // script(1) gives the command a terminal; the answer comes from its standard input.
  const std::string command = std::string(MOAT_BINARY) + " pce sync --label-map " + dir_.path() + "/labels.json";
  RunOptions o;
  o.env = moto_.Environment();
  o.env.insert(o.env.end(), {{"ILLUMIO_PCE_HOST", pce_.url()},
                             {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                             {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
  o.stdin_path = Write("no.txt", "no\n");
  RunResult no = RunProcess("/usr/bin/script", {"-qec", command, "/dev/null"}, o, dir_.path(), 120);
  EXPECT_NE(no.out.find("+ workload rds-orders-db (orders-db): create"), std::string::npos) << Describe(no);
  EXPECT_NE(no.out.find("Write these changes to the PCE? Only 'yes' is accepted:"), std::string::npos);
  EXPECT_NE(no.out.find("Cancelled: nothing was changed."), std::string::npos) << no.out;
  EXPECT_TRUE(Writes().empty());
  o.stdin_path = Write("yes.txt", "yes\n");
  RunResult yes = RunProcess("/usr/bin/script", {"-qec", command, "/dev/null"}, o, dir_.path(), 120);
  EXPECT_EQ(yes.exit_code, 0) << Describe(yes);
  EXPECT_NE(yes.out.find("Applied: 2 label(s) created; workloads 2 created"), std::string::npos) << yes.out;
  EXPECT_EQ(Collection("workloads").size(), 3u);
}

TEST_F(PceSyncTest, ThrottlingIsWaitedOutAndAFailedCreateIsNotRepeated) {
  pce_.Faults(R"({"429": 2, "retry_after": 0})");
  RunResult throttled = Sync();
  ASSERT_EQ(throttled.exit_code, 0) << Describe(throttled);
  EXPECT_EQ(Collection("workloads").size(), 3u);  // web-01 and moat's two

  // A 503 answering a create: it may have been done, so it is not repeated and the run stops.
  Reset();
  pce_.Faults(R"({"503": 1, "method": "PUT"})");  // the workloads' bulk_update
  aws::QueryClient rds = Aws("rds", aws::kRdsApiVersion);
  ASSERT_TRUE(rds.Call("AddTagsToResource", {{"ResourceName", "arn:aws:rds:us-east-1:123456789012:db:orders-db"},
                                             {"Tags.Tag.1.Key", "team"},
                                             {"Tags.Tag.1.Value", "billing"}}));
  RunResult retried = Sync();  // an update is repeated
  ASSERT_EQ(retried.exit_code, 0) << Describe(retried);
  EXPECT_EQ(Writes(),
            (std::vector<std::string>{"POST /api/v2/orgs/1/labels", "PUT /api/v2/orgs/1/workloads/bulk_update",
                                      "PUT /api/v2/orgs/1/workloads/bulk_update",
                                      "PUT /api/v2/orgs/1/sec_policy/draft/virtual_services/bulk_update"}));
  Reset();
  pce_.Faults(R"({"503": 1, "method": "POST"})");  // the label's create
  ASSERT_TRUE(rds.Call("AddTagsToResource", {{"ResourceName", "arn:aws:rds:us-east-1:123456789012:db:orders-db"},
                                             {"Tags.Tag.1.Key", "team"},
                                             {"Tags.Tag.1.Value", "shipping"}}));
  RunResult failed = Sync();
  EXPECT_EQ(failed.exit_code, 1) << Describe(failed);
  EXPECT_NE(failed.out.find("503 server error; it may or may not have been done, so it is not repeated"),
            std::string::npos)
      << failed.out;
  EXPECT_EQ(Writes(), std::vector<std::string>{"POST /api/v2/orgs/1/labels"});
  RunResult next = Sync();
  ASSERT_EQ(next.exit_code, 0) << Describe(next);
  EXPECT_EQ(Labels(Named(Collection("workloads"), "rds-orders-db")), std::vector<std::string>{"app=shipping"});
}

TEST_F(PceSyncTest, ARefusedItemIsReportedAndTheOthersAreWritten) {
  pce_.Faults(R"({"item_error": 1})");  // the first workload of the bulk create: cluster/ledger's
  RunResult r = Sync({"--provision"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  const Json report = Json::parse(r.out);
  ASSERT_EQ(report["errors"].size(), 1u) << r.out;
  EXPECT_EQ(report["errors"][0],
            "create workload rds-cluster-ledger (cluster/ledger): test_fault: refused by the test server's item_error "
            "fault");
  EXPECT_EQ(report["applied"]["workloads"]["created"], 1);
  EXPECT_EQ(report["applied"]["service_bindings"]["created"], 1);  // orders-db's
  EXPECT_EQ(report["binding_waits_for_workload"], Json::array({"cluster/ledger"}));
  EXPECT_NE(r.err.find("moat: pce sync: not every change could be written (see above)"), std::string::npos);
  RunResult next = Sync({"--provision"});
  ASSERT_EQ(next.exit_code, 0) << Describe(next);
  EXPECT_EQ(Json::parse(next.out)["applied"]["workloads"]["created"], 1);
  EXPECT_EQ(Collection("service_bindings").size(), 2u);
}

// The reference fixture: rds-orders-db and VS-RDS-orders-db are someone else's (modelled by hand,
// external_data_set "aws-rds" and null).
class PceSyncForeignTest : public PceSyncTest {
 protected:
  PceSyncForeignTest() : PceSyncTest(Json::parse(ReadFile(kReferenceFixture))) {}
};

TEST_F(PceSyncForeignTest, ObjectsNotMoatsAreLeftAloneEvenWithPrune) {
  const Json before_w = Collection("workloads"), before_vs = Collection("sec_policy/draft/virtual_services"),
             before_b = Collection("service_bindings");
  RunResult r = Sync({"--provision", "--prune"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json report = Json::parse(r.out);
  ASSERT_EQ(report["conflicts"].size(), 1u);
  EXPECT_EQ(report["conflicts"][0]["database"], "orders-db");
  EXPECT_EQ(report["applied"]["workloads"]["created"], 1);  // ledger only
  for (const Json& o : before_w) {
    const Json now = Named(Collection("workloads"), o["name"]);
    EXPECT_EQ(now, o) << o["name"];
  }
  for (const Json& o : before_vs) EXPECT_EQ(Named(Collection("sec_policy/draft/virtual_services"), o["name"]), o);
  const Json after_b = Collection("service_bindings");
  for (const Json& b : before_b) {
    EXPECT_NE(std::find(after_b.begin(), after_b.end(), b), after_b.end()) << b.dump();
  }
  for (const std::string& w : Writes()) {
    for (const Json& o : before_w) EXPECT_EQ(w.find(o["href"].get<std::string>()), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace moat::integration
