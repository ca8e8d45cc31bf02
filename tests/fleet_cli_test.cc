// Integration tests of `moat plan` and `moat apply` over an AWS Organization: the real binary
// against moto_server with signature checking on (tests/moto.h: the management account's
// orders-db and ledger in us-east-1), with tests/moto_org.py's member accounts: a (orders-db in
// us-east-1, billing-db in eu-west-1), b (reports-db in eu-west-1), c (no moat-member role) and d
// (closed). Every database sits at 10.0.2.45 in its own 10.0.0.0/16: the accounts' addresses
// overlap. The policy protects each by its endpoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/query.h"
#include "aws/sqs.h"
#include "http/transport.h"
#include "moat_process.h"
#include "moto.h"
#include "pce_server.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

constexpr const char* kExternalId = "moat-test-external-id";
constexpr const char* kManagement = "123456789012";  // moto's default account

// The sample policy's virtual service, once per database endpoint (the rules choose them by label).
Json Bundle(const std::vector<std::string>& more = {}) {
  Json b = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
  const Json vs = b["virtual_services"][0];
  b["virtual_services"] = Json::array();
  int n = 0;
  std::vector<std::string> fqdns = {"orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com",
                                    "billing-db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",
                                    "reports-db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com"};
  fqdns.insert(fqdns.end(), more.begin(), more.end());
  for (const std::string& fqdn : fqdns) {
    Json v = vs;
    if (n > 0) v["href"] = "/orgs/1/sec_policy/active/virtual_services/fleet-" + std::to_string(n);
    v["name"] = std::string("VS-") + fqdn;
    v["service_addresses"][0]["fqdn"] = fqdn;
    b["virtual_services"].push_back(v);
    ++n;
  }
  return b;
}

class FleetCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    dir_.Write("policy.json", Bundle().dump());
    RunOptions o;
    o.env = moto_.Environment();
    const RunResult r = RunProcess(
        "/usr/bin/env", {"python3", MOAT_SOURCE_DIR "/tests/moto_org.py", moto_.url(), kExternalId}, o, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    ids_ = Json::parse(r.out);
  }
  std::string Id(const char* member) const { return ids_[member].get<std::string>(); }
  std::string State() const { return dir_.path() + "/state"; }

  RunResult Moat(const char* command, std::vector<std::string> extra) {
    std::vector<std::string> args = {command, "--policy", dir_.path() + "/policy.json", "--state", State(), "--json"};
    if (std::string(command) == "apply") args.push_back("--yes");
    args.insert(args.end(), extra.begin(), extra.end());
    RunOptions o;
    o.env = moto_.Environment();
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 180);
  }

  // The place of `name` in a fleet report, or null.
  static const Json* PlaceOf(const Json& report, const std::string& account, const std::string& region) {
    for (const Json& p : report["places"]) {
      if (p["aws"]["account"] == account && p["aws"]["region"] == region) return &p;
    }
    return nullptr;
  }
  static std::vector<std::string> TargetIds(const Json& place) {
    std::vector<std::string> out;
    for (const Json& t : place["targets"])
      out.push_back(t["place"].get<std::string>() + "/" + t["id"].get<std::string>());
    return out;
  }

  std::string Helper(std::vector<std::string> args) {
    RunOptions o;
    o.env = moto_.Environment();
    args.insert(args.begin(), {"python3", MOAT_SOURCE_DIR "/tests/moto_org.py", moto_.url()});
    const RunResult r = RunProcess("/usr/bin/env", args, o, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.out.substr(0, r.out.find('\n'));
  }

  MotoServer moto_;
  TempDir dir_;
  Json ids_;
};

// `moat watch` for the organisation: its queue (and the reconcile messages of a schedule) and a
// dead-letter queue after one failed receive.
class FleetWatchTest : public FleetCliTest {
 protected:
  void SetUp() override {
    FleetCliTest::SetUp();
    if (HasFatalFailure()) return;
    dlq_ = Queue("moat-dlq", {});
    auto arn = sqs_.Call("GetQueueAttributes", {{"QueueUrl", dlq_}, {"AttributeName.1", "QueueArn"}});
    ASSERT_TRUE(arn) << arn.error().message;
    const std::string redrive =
        Json{{"deadLetterTargetArn", aws::Text(*arn, "Value")}, {"maxReceiveCount", "1"}}.dump();
    queue_ = Queue("moat-events", {{"VisibilityTimeout", "10"}, {"RedrivePolicy", redrive}});
  }
  std::string Queue(const std::string& name, const std::vector<std::pair<std::string, std::string>>& attributes) {
    aws::Params params{{"QueueName", name}};
    int i = 1;
    for (const auto& [k, v] : attributes) {
      params.emplace_back("Attribute." + std::to_string(i) + ".Name", k);
      params.emplace_back("Attribute." + std::to_string(i++) + ".Value", v);
    }
    auto r = sqs_.Call("CreateQueue", params);
    EXPECT_TRUE(r) << r.error().message;
    return r ? aws::Text(*r, "QueueUrl") : "";
  }
  void Send(const std::string& body) {
    auto r = sqs_.Call("SendMessage", {{"QueueUrl", queue_}, {"MessageBody", body}});
    ASSERT_TRUE(r) << r.error().message;
  }
  int Pending(const std::string& url) { return QueueDepth(sqs_, url); }
  // Waits up to `seconds` for `done`.
  static bool Within(int seconds, const std::function<bool()>& done) {
    for (int i = 0; i < seconds * 10; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  std::unique_ptr<Background> Worker() {
    auto env = moto_.Environment();
    env.insert(env.end(), {{"MOAT_POLICY", dir_.path() + "/policy.json"},
                           {"MOAT_STATE", State()},
                           {"MOAT_ACCOUNTS", Id("a") + "," + Id("b")},
                           {"MOAT_REGIONS", "us-east-1,eu-west-1"},
                           {"MOAT_EXTERNAL_ID", kExternalId},
                           {"MOAT_RECONCILE_QUEUE", queue_}});
    return std::make_unique<Background>(std::vector<std::string>{MOAT_BINARY, "watch", "--queue", queue_,
                                                                 "--wait-seconds", "1", "--visibility-timeout", "10"},
                                        env, logs_.path());
  }

  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
  aws::QueryClient sqs_{
      {"sqs", moto_.url(), "us-east-1", aws::kSqsApiVersion},
      std::make_shared<aws::StaticCredentials>(aws::Credentials{moto_.access_key_id(), moto_.secret_access_key(), ""}),
      *transport_,
      SystemClock()};
  std::string queue_, dlq_;
  TempDir logs_;
};

TEST_F(FleetCliTest, TheOrganisationIsPlannedAccountByAccountAndTheUnreachableOnesAreNamed) {
  const RunResult r = Moat("plan", {"--accounts", "org", "--regions", "us-east-1,eu-west-1", "--role-name",
                                    "moat-member", "--external-id", kExternalId});
  ASSERT_EQ(r.exit_code, 1) << Describe(r);  // c and d are skipped: the run says so in its exit status
  const Json report = Json::parse(r.out);
  ASSERT_EQ(report["places"].size(), 6u) << r.out;  // management, a and b, each in two regions
  const Json* own = PlaceOf(report, kManagement, "us-east-1");
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(TargetIds(*own), std::vector<std::string>{std::string(kManagement) + "/us-east-1/orders-db"});
  const Json* a_east = PlaceOf(report, Id("a"), "us-east-1");
  const Json* a_west = PlaceOf(report, Id("a"), "eu-west-1");
  const Json* b_west = PlaceOf(report, Id("b"), "eu-west-1");
  ASSERT_TRUE(a_east != nullptr && a_west != nullptr && b_west != nullptr) << r.out;
  EXPECT_EQ(TargetIds(*a_east), std::vector<std::string>{Id("a") + "/us-east-1/orders-db"});
  EXPECT_EQ(TargetIds(*a_west), std::vector<std::string>{Id("a") + "/eu-west-1/billing-db"});
  EXPECT_EQ(TargetIds(*b_west), std::vector<std::string>{Id("b") + "/eu-west-1/reports-db"});
  // The same address in three accounts: each database is planned in its own VPC, with its own group.
  for (const Json* p : {own, a_east, a_west, b_west}) {
    const Json& t = (*p)["targets"][0];
    EXPECT_EQ(t["addresses"], Json::array({"10.0.2.45"}));
    EXPECT_TRUE(t["changes"].get<bool>());
  }
  EXPECT_NE((*own)["targets"][0]["vpc_id"], (*a_east)["targets"][0]["vpc_id"]);
  ASSERT_EQ(report["skipped"].size(), 2u) << r.out;
  std::string c_error, d_error;
  for (const Json& s : report["skipped"]) {
    (s["account"] == Id("c") ? c_error : d_error) = s["error"].get<std::string>();
  }
  EXPECT_NE(c_error.find("cannot assume arn:aws:iam::" + Id("c") + ":role/moat-member"), std::string::npos) << c_error;
  EXPECT_NE(c_error.find("AccessDenied"), std::string::npos) << c_error;
  EXPECT_EQ(d_error, "SUSPENDED in the organisation (member-d)");
  EXPECT_NE(r.err.find(Id("c") + ": skipped: cannot assume"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 of 8 account-region(s) skipped or failed"), std::string::npos) << r.err;
  EXPECT_EQ(report["calls"]["writes"], 0);
  EXPECT_FALSE(std::filesystem::exists(State() + "/" + Id("a")));  // a plan writes no state

  // The text names the account and region in every header.
  RunOptions o;
  o.env = moto_.Environment();
  const RunResult text =
      RunProcess(MOAT_BINARY,
                 {"plan", "--policy", dir_.path() + "/policy.json", "--state", State(), "--accounts", Id("a"),
                  "--regions", "us-east-1,eu-west-1", "--external-id", kExternalId, "--no-color"},
                 o, dir_.path(), 120);
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_NE(text.out.find("in account " + Id("a") + " eu-west-1\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n# " + Id("a") + "/eu-west-1/billing-db (instance "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\n# " + Id("a") + "/us-east-1/orders-db (instance "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("2 account-region(s): 2 planned, 0 skipped\n"), std::string::npos) << text.out;
}

TEST_F(FleetCliTest, ApplyEnforcesEveryMemberAndKeepsEachPlacesStateAndAudit) {
  const std::vector<std::string> where = {"--accounts",          Id("a") + "," + Id("b"), "--regions",
                                          "us-east-1,eu-west-1", "--external-id",         kExternalId};
  const RunResult applied = Moat("apply", where);
  ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  const Json report = Json::parse(applied.out);
  EXPECT_TRUE(report["executed"].get<bool>());
  EXPECT_GT(report["calls"]["writes"].get<int>(), 0);
  // Each place's state, recording where it was applied.
  const Json state = Json::parse(ReadFile(State() + "/" + Id("a") + "/eu-west-1/applied.json"));
  EXPECT_EQ(state["applied_in"], Json({{"account", Id("a")}, {"region", "eu-west-1"}}));
  EXPECT_TRUE(state["targets"].contains("billing-db"));
  EXPECT_TRUE(std::filesystem::exists(State() + "/" + Id("b") + "/eu-west-1/applied.json"));
  EXPECT_FALSE(std::filesystem::exists(State() + "/applied.json"));
  // Every audit line names its account and region.
  const std::string audit = ReadFile(State() + "/audit.log");
  EXPECT_NE(audit.find("\"account\":\"" + Id("b") + "\",\"region\":\"eu-west-1\",\"target\":\"reports-db\""),
            std::string::npos)
      << audit;
  EXPECT_EQ(audit.find("\"account\":\"" + std::string(kManagement) + "\""), std::string::npos);

  // Converged: the same run again reads and writes nothing.
  const RunResult again = Moat("apply", where);
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  const Json second = Json::parse(again.out);
  EXPECT_FALSE(second["changes"].get<bool>());
  EXPECT_EQ(second["calls"]["writes"], 0);
  // The management account was not among the places: its orders-db is as it was.
  const RunResult own = Moat("plan", {"--regions", "us-east-1"});
  ASSERT_EQ(own.exit_code, 0) << Describe(own);
  EXPECT_TRUE(Json::parse(own.out)["places"][0]["targets"][0]["changes"].get<bool>());
}

// A run over one account and region that grows to several goes on with the state it had there:
// the groups moat made are still its own, not foreign claims to replace.
TEST_F(FleetCliTest, TheAccountRegionOfTheStateKeepsItWhenTheRunGrows) {
  const RunResult single = Moat("apply", {"--target", "orders-db"});
  ASSERT_EQ(single.exit_code, 0) << Describe(single);
  const RunResult grown =
      Moat("apply", {"--accounts", std::string(kManagement) + "," + Id("a"), "--regions", "us-east-1", "--external-id",
                     kExternalId, "--target", std::string(kManagement) + "/us-east-1/orders-db"});
  ASSERT_EQ(grown.exit_code, 0) << Describe(grown);
  const Json report = Json::parse(grown.out);
  ASSERT_EQ(report["places"].size(), 1u);
  const Json& orders = report["places"][0]["targets"][0];
  EXPECT_FALSE(orders["changes"].get<bool>()) << grown.out;
  EXPECT_TRUE(orders["foreign_claims"].empty()) << grown.out;
  EXPECT_EQ(report["calls"]["writes"], 0);
  EXPECT_FALSE(std::filesystem::exists(State() + "/" + kManagement));
}

TEST_F(FleetCliTest, ABareTargetMustNameOnePlaceAndAPlacedOneChoosesIt) {
  const std::vector<std::string> where = {
      "--accounts", std::string(kManagement) + "," + Id("a"), "--regions", "us-east-1", "--external-id", kExternalId};
  std::vector<std::string> args = where;
  args.insert(args.end(), {"--target", "orders-db"});
  const RunResult ambiguous = Moat("apply", args);
  EXPECT_EQ(ambiguous.exit_code, 1) << Describe(ambiguous);
  // The candidates, by account.
  std::vector<std::string> candidates = {std::string(kManagement) + "/us-east-1/orders-db",
                                         Id("a") + "/us-east-1/orders-db"};
  std::sort(candidates.begin(), candidates.end());
  EXPECT_NE(ambiguous.err.find("--target orders-db: names a database in 2 account-regions; give one of " +
                               candidates[0] + ", " + candidates[1]),
            std::string::npos)
      << ambiguous.err;
  EXPECT_EQ(Json::parse(ambiguous.out)["calls"]["writes"], 0);
  EXPECT_FALSE(std::filesystem::exists(State() + "/audit.log") && !ReadFile(State() + "/audit.log").empty());

  args = where;
  args.insert(args.end(), {"--target", Id("a") + "/us-east-1/orders-db"});
  const RunResult placed = Moat("apply", args);
  ASSERT_EQ(placed.exit_code, 0) << Describe(placed);
  const Json report = Json::parse(placed.out);
  ASSERT_EQ(report["places"].size(), 1u);
  EXPECT_EQ(report["places"][0]["aws"]["account"], Id("a"));
  EXPECT_TRUE(report["places"][0]["targets"][0]["applied"].get<bool>());

  args = where;
  args.insert(args.end(), {"--target", "ordrs-db"});
  const RunResult typo = Moat("plan", args);
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_NE(typo.err.find("--target ordrs-db: no RDS instance or Aurora cluster in the 2 account-region(s) read"),
            std::string::npos)
      << typo.err;
}

TEST_F(FleetCliTest, AWrongExternalIdOrOptionIsRefused) {
  const RunResult wrong = Moat("plan", {"--accounts", Id("a"), "--external-id", "not-it"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find(Id("a") + ": skipped: cannot assume"), std::string::npos) << wrong.err;
  const RunResult bad = Moat("plan", {"--accounts", "12345"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--accounts: expected 12-digit account ids or org, got \"12345\""), std::string::npos)
      << bad.err;
  RunOptions o;
  o.env = moto_.Environment();
  o.env.emplace_back("MOAT_REGIONS", "eu-west-1");
  o.env.emplace_back("MOAT_ACCOUNTS", Id("b"));
  o.env.emplace_back("MOAT_EXTERNAL_ID", kExternalId);
  const RunResult from_env =
      RunProcess(MOAT_BINARY, {"plan", "--policy", dir_.path() + "/policy.json", "--state", State(), "--json"}, o,
                 dir_.path(), 120);
  ASSERT_EQ(from_env.exit_code, 0) << Describe(from_env);
  EXPECT_EQ(TargetIds(Json::parse(from_env.out)["places"][0]),
            std::vector<std::string>{Id("b") + "/eu-west-1/reports-db"});
}

// `moat pce sync` over the organisation: each account's databases with their place in their names,
// so a's orders-db and the management account's never meet; c is named and left alone.
TEST_F(FleetCliTest, PceSyncModelsEachAccountsDatabasesApart) {
  Json labels = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"))["labels"];
  dir_.Write("pce.json", Json{{"labels", labels}, {"workloads", Json::array()}}.dump());
  PceServer pce(dir_.path() + "/pce.json");
  ASSERT_TRUE(pce.ok());
  const auto sync = [&](std::vector<std::string> args) {
    RunOptions o;
    o.env = moto_.Environment();
    o.env.insert(o.env.end(), {{"ILLUMIO_PCE_HOST", pce.url()},
                               {"ILLUMIO_PCE_ORG_ID", "1"},
                               {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                               {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
    args.insert(args.begin(), {"pce", "sync", "--yes", "--json"});
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 120);
  };
  // The management account alone, as before: rds-orders-db.
  const RunResult own = sync({});
  ASSERT_EQ(own.exit_code, 0) << Describe(own);
  const RunResult fleet = sync({"--accounts", std::string(kManagement) + "," + Id("a") + "," + Id("c"), "--regions",
                                "us-east-1,eu-west-1", "--external-id", kExternalId});
  EXPECT_EQ(fleet.exit_code, 1) << Describe(fleet);  // c could not be read
  EXPECT_NE(fleet.err.find("1 account-region(s) could not be read and were left as they are in the PCE"),
            std::string::npos)
      << fleet.err;
  const Json report = Json::parse(fleet.out);
  ASSERT_EQ(report["skipped_places"].size(), 1u);
  EXPECT_NE(report["skipped_places"][0].get<std::string>().find(Id("c") + ": cannot assume"), std::string::npos);
  std::vector<std::string> names;
  for (const Json& w : report["workloads"]["create"]) names.push_back(w["name"].get<std::string>());
  std::sort(names.begin(), names.end());
  std::vector<std::string> want = {
      "rds-billing-db-" + Id("a") + "-eu-west-1", "rds-cluster-ledger-" + std::string(kManagement) + "-us-east-1",
      "rds-orders-db-" + Id("a") + "-us-east-1", "rds-orders-db-" + std::string(kManagement) + "-us-east-1"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(names, want) << fleet.out;
  EXPECT_TRUE(report["conflicts"].empty()) << fleet.out;
  // The run over one place still sees its own objects as they were: nothing to do, and even with
  // --prune the other accounts' objects are not its to delete.
  const RunResult again = sync({"--plan", "--prune"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_FALSE(Json::parse(again.out)["changes"].get<bool>()) << again.out;
}

// `moat map --plan` over several accounts: every database under its place, the unreachable named.
TEST_F(FleetCliTest, TheMapDrawsEachAccountsDatabasesUnderTheirPlace) {
  RunOptions o;
  o.env = moto_.Environment();
  const RunResult r =
      RunProcess(MOAT_BINARY,
                 {"map", "--plan", "--policy", dir_.path() + "/policy.json", "--state", State(), "--out",
                  dir_.path() + "/map.json", "--accounts", std::string(kManagement) + "," + Id("a") + "," + Id("c"),
                  "--regions", "us-east-1,eu-west-1", "--external-id", kExternalId},
                 o, dir_.path(), 120);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json map = Json::parse(ReadFile(dir_.path() + "/map.json"));
  std::vector<std::string> databases;
  for (const Json& n : map["nodes"]) {
    if (n["kind"] == "database") databases.push_back(n["id"].get<std::string>());
  }
  std::sort(databases.begin(), databases.end());
  std::vector<std::string> want = {"db:" + std::string(kManagement) + "/us-east-1/orders-db",
                                   "db:" + std::string(kManagement) + "/us-east-1/cluster/ledger",
                                   "db:" + Id("a") + "/us-east-1/orders-db", "db:" + Id("a") + "/eu-west-1/billing-db"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(databases, want) << map.dump(1).substr(0, 3000);
  EXPECT_NE(map.dump().find(Id("c") + ": skipped: cannot assume"), std::string::npos) << r.err;
  const RunResult without_plan = RunProcess(MOAT_BINARY,
                                            {"map", "--policy", dir_.path() + "/policy.json", "--state", State(),
                                             "--out", dir_.path() + "/map2.json", "--accounts", Id("a")},
                                            o, dir_.path(), 120);
  EXPECT_EQ(without_plan.exit_code, 1);
  EXPECT_NE(without_plan.err.find("--accounts and --regions need --plan"), std::string::npos) << without_plan.err;
}

// A default-format flow log of `client` connecting to 10.0.2.45:5432, both directions, an hour ago,
// logged by `account`.
std::string FlowLogOf(const std::string& account, const std::string& client) {
  const int64_t start = static_cast<int64_t>(std::time(nullptr)) - 3600;
  const std::string s = std::to_string(start), e = std::to_string(start + 59);
  return "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
         "log-status\n"
         "2 " +
         account + " eni-0a " + client + " 10.0.2.45 40000 5432 6 10 840 " + s + " " + e +
         " ACCEPT OK\n"
         "2 " +
         account + " eni-0a 10.0.2.45 " + client + " 5432 40000 6 8 620 " + s + " " + e + " ACCEPT OK\n";
}

// The initiators of the flows a place's database would cut.
std::vector<std::string> Cuts(const Json& report, const std::string& account, const std::string& region,
                              const std::string& id) {
  std::vector<std::string> out;
  for (const Json& p : report["places"]) {
    if (p["aws"]["account"] != account || p["aws"]["region"] != region) continue;
    for (const Json& t : p["targets"]) {
      if (t["id"] != id) continue;
      for (const Json& c : t["cuts"]) out.push_back(c["initiator"].get<std::string>());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every database is at 10.0.2.45. A central log archive (the Control Tower layout) holds a's log in
// us-east-1 (10.0.7.7 connects) and b's in eu-west-1 (10.0.8.8): each flow is weighed by the
// database of the account and region whose log it is in, never by every database at its address.
// b's log in us-east-1, where b has no database (10.0.5.5: a shared VPC's owner, a client's side
// of a peering), and a log whose name says no account (10.0.9.9) count for every database at
// their address. (The prefix has no '/': tests/aws_s3_test.cc says why.)
TEST_F(FleetCliTest, FlowsOfACentralArchiveAreWeighedByTheAccountAndRegionTheyWereLoggedIn) {
  const std::string a = Id("a"), b = Id("b");
  const std::string day = "2026/12/07/";
  dir_.Write("archive/logs/AWSLogs/" + a + "/vpcflowlogs/us-east-1/" + day + a +
                 "_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_20261207T0900Z_0a1b2c3d.log",
             FlowLogOf(a, "10.0.7.7"));
  dir_.Write("archive/logs/AWSLogs/" + b + "/vpcflowlogs/eu-west-1/" + day + b +
                 "_vpcflowlogs_eu-west-1_fl-0b1b2c3d4e5f60718_20261207T0900Z_0b1b2c3d.log",
             FlowLogOf(b, "10.0.8.8"));
  dir_.Write("archive/logs/AWSLogs/" + b + "/vpcflowlogs/us-east-1/" + day + b +
                 "_vpcflowlogs_us-east-1_fl-0c1b2c3d4e5f60718_20261207T0900Z_0c1b2c3d.log",
             FlowLogOf(b, "10.0.5.5"));
  const std::string elsewhere = dir_.Write("unnamed/capture.log", FlowLogOf(a, "10.0.9.9"));
  Helper({"bucket", "log-archive", dir_.path() + "/archive"});

  // moat flows over the archive: one result per account and region.
  RunOptions o;
  o.env = moto_.Environment();
  const RunResult flows = RunProcess(MOAT_BINARY, {"flows", "--json", "s3://log-archive/logs"}, o, dir_.path(), 120);
  ASSERT_EQ(flows.exit_code, 0) << Describe(flows);
  const Json places = Json::parse(flows.out)["places"];
  ASSERT_EQ(places.size(), 3u) << flows.out;
  std::vector<std::string> named;
  for (const Json& p : places) named.push_back(p["account"].get<std::string>() + "/" + p["region"].get<std::string>());
  std::sort(named.begin(), named.end());
  std::vector<std::string> want = {a + "/us-east-1", b + "/eu-west-1", b + "/us-east-1"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(named, want);

  const std::vector<std::string> where = {"--accounts",          a + "," + b,     "--regions",
                                          "us-east-1,eu-west-1", "--external-id", kExternalId};
  std::vector<std::string> recorded = where;
  recorded.insert(recorded.end(), {"--flows", "s3://log-archive/logs", "--flows", elsewhere});
  for (const std::vector<std::string>& args : {recorded, where}) {  // recording, then from the history alone
    const RunResult plan = Moat("plan", args);
    ASSERT_EQ(plan.exit_code, 1) << Describe(plan);  // held back: the cuts
    const Json report = Json::parse(plan.out);
    EXPECT_EQ(Cuts(report, a, "us-east-1", "orders-db"), (std::vector<std::string>{"10.0.5.5", "10.0.7.7", "10.0.9.9"}))
        << plan.out.substr(0, 4000);
    EXPECT_EQ(Cuts(report, b, "eu-west-1", "reports-db"),
              (std::vector<std::string>{"10.0.5.5", "10.0.8.8", "10.0.9.9"}));
    EXPECT_EQ(Cuts(report, a, "eu-west-1", "billing-db"), (std::vector<std::string>{"10.0.5.5", "10.0.9.9"}));
  }

  // A run in one account knows no other account's databases: what the others logged at its
  // address may be its own traffic seen from their side, so it counts. The management account's
  // orders-db, at 10.0.2.45 as well, weighs every flow.
  const RunResult own = Moat("plan", {"--target", "orders-db"});
  const Json mine = Json::parse(own.out);
  std::vector<std::string> cut;
  for (const Json& t : mine["targets"]) {
    for (const Json& c : t["cuts"]) cut.push_back(c["initiator"].get<std::string>());
  }
  std::sort(cut.begin(), cut.end());
  EXPECT_EQ(cut, (std::vector<std::string>{"10.0.5.5", "10.0.7.7", "10.0.8.8", "10.0.9.9"})) << own.out.substr(0, 3000);
}

// Two VPCs of member a in us-east-1, each with a database at 10.0.2.45: orders-db and its twin.
// A flow logged at one database's network interface is that database's alone (10.0.7.7 and
// 10.0.6.6), and so is one logged at a client's interface in the twin's VPC (10.0.4.4: an address
// of a VPC's own range never leaves it); one logged at an interface moat cannot place (10.0.5.5)
// counts for both. A log format without interface-id leaves the address and the place to decide,
// and both weigh every flow.
TEST_F(FleetCliTest, AFlowLoggedAtADatabasesNetworkInterfaceIsWeighedByThatDatabaseAlone) {
  const std::string a = Id("a");
  Helper({"twin", a, "us-east-1", "orders-db-twin"});
  dir_.Write("policy.json", Bundle({"orders-db-twin.aaaaaaaaaa.us-east-1.rds.amazonaws.com"}).dump());
  const Json interfaces = Json::parse(Helper({"interfaces", a, "us-east-1"}));
  const std::string orders = interfaces["orders-db"], twin = interfaces["orders-db-twin"];
  ASSERT_NE(orders, twin);
  const std::string client = Helper({"client", a, "us-east-1", "orders-db-twin"});
  const int64_t start = static_cast<int64_t>(std::time(nullptr)) - 3600;
  const std::string times = " " + std::to_string(start) + " " + std::to_string(start + 59);
  const auto record = [&](const std::string& eni, const char* client) {
    return "2 " + a + " " + eni + " " + client + " 10.0.2.45 40000 5432 6 10 840" + times + " ACCEPT OK\n";
  };
  const std::string name = "_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_20261207T0900Z_0a1b2c3d.log";
  dir_.Write("logs/AWSLogs/" + a + "/vpcflowlogs/us-east-1/2026/12/07/" + a + name,
             "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end "
             "action log-status\n" +
                 record(orders, "10.0.7.7") + record(twin, "10.0.6.6") + record("eni-0c0c0c0c0c0c0c0c0", "10.0.5.5") +
                 record(client, "10.0.4.4"));
  const std::vector<std::string> where = {"--accounts", a, "--regions", "us-east-1", "--external-id", kExternalId};
  std::vector<std::string> recorded = where;
  recorded.insert(recorded.end(), {"--flows", dir_.path() + "/logs"});
  for (const std::vector<std::string>& args : {recorded, where}) {  // recording, then from the history alone
    const RunResult plan = Moat("plan", args);
    ASSERT_EQ(plan.exit_code, 1) << Describe(plan);  // held back: the cuts
    const Json report = Json::parse(plan.out);
    EXPECT_EQ(Cuts(report, a, "us-east-1", "orders-db"), (std::vector<std::string>{"10.0.5.5", "10.0.7.7"}))
        << plan.out.substr(0, 4000);
    EXPECT_EQ(Cuts(report, a, "us-east-1", "orders-db-twin"),
              (std::vector<std::string>{"10.0.4.4", "10.0.5.5", "10.0.6.6"}));
  }

  // The same flows in a format without interface-id, in a fresh history.
  dir_.Write("plain/AWSLogs/" + a + "/vpcflowlogs/us-east-1/2026/12/07/" + a + name,
             "version account-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
             "2 " +
                 a + " 10.0.7.7 10.0.2.45 40000 5432 6 10 840" + times +
                 " ACCEPT OK\n"
                 "2 " +
                 a + " 10.0.6.6 10.0.2.45 40000 5432 6 10 840" + times + " ACCEPT OK\n");
  for (const char* file : {"/flows.sqlite", "/flows.sqlite-wal", "/flows.sqlite-shm"}) {
    std::filesystem::remove(State() + file);
  }
  std::vector<std::string> plain = where;
  plain.insert(plain.end(), {"--flows", dir_.path() + "/plain"});
  const RunResult plan = Moat("plan", plain);
  ASSERT_EQ(plan.exit_code, 1) << Describe(plan);
  const Json report = Json::parse(plan.out);
  for (const char* db : {"orders-db", "orders-db-twin"}) {
    EXPECT_EQ(Cuts(report, a, "us-east-1", db), (std::vector<std::string>{"10.0.6.6", "10.0.7.7"})) << db;
  }
}

TEST_F(FleetWatchTest, AMembersTamperIsRevertedThereAndAScheduleFansOutOneMessagePerAccountRegion) {
  const RunResult applied = Moat("apply", {"--accounts", Id("a") + "," + Id("b"), "--regions", "us-east-1,eu-west-1",
                                           "--external-id", kExternalId});
  ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  auto worker = Worker();

  // A hand-made change in member a, forwarded to the central bus: reverted in a, not elsewhere.
  const std::string group = Helper({"tamper", Id("a"), "us-east-1", "orders-db"});
  ASSERT_EQ(Helper({"open", Id("a"), "us-east-1", "orders-db"}), "1");
  const auto sent = std::chrono::steady_clock::now();
  Send(Json{{"detail-type", "AWS API Call via CloudTrail"},
            {"source", "aws.ec2"},
            {"account", Id("a")},
            {"region", "us-east-1"},
            {"detail",
             {{"eventName", "AuthorizeSecurityGroupIngress"},
              {"requestParameters", {{"groupId", group}, {"ipPermissions", {{"items", Json::array()}}}}}}}}
           .dump());
  ASSERT_TRUE(Within(30, [&] { return Helper({"open", Id("a"), "us-east-1", "orders-db"}) == "0"; })) << worker->err();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  std::printf("cross-account tamper reverted %.2f s after the event was queued\n", seconds);
  const std::string audit = ReadFile(State() + "/audit.log");
  EXPECT_NE(audit.find("\"account\":\"" + Id("a") +
                       "\",\"region\":\"us-east-1\",\"target\":\"orders-db\",\"group\":\"" + group + "\""),
            std::string::npos)
      << audit;
  EXPECT_NE(audit.find("\"reason\":\"drift\""), std::string::npos);

  // A schedule: one reconcile message per account-region, each handled as an event of its own.
  Send(Json{{"detail-type", "Scheduled Event"}, {"source", "aws.events"}, {"detail", Json::object()}}.dump());
  std::vector<std::string> accounts = {Id("a"), Id("b")};
  std::sort(accounts.begin(), accounts.end());
  Json places = Json::array();  // by account, then in the order of --regions
  for (const std::string& account : accounts) {
    for (const char* region : {"us-east-1", "eu-west-1"}) places.push_back(account + "/" + region);
  }
  ASSERT_TRUE(Within(60, [&] {
    return worker->err().find("\"fanned_out\":" + places.dump()) != std::string::npos && Pending(queue_) == 0;
  })) << worker->err();
  const std::string log = worker->err();
  for (const std::string& place : {Id("a") + "\",\"region\":\"eu-west-1", Id("a") + "\",\"region\":\"us-east-1",
                                   Id("b") + "\",\"region\":\"eu-west-1", Id("b") + "\",\"region\":\"us-east-1"}) {
    EXPECT_NE(log.find("\"reconciles\":[{\"account\":\"" + place + "\",\"policy_ok\":true"), std::string::npos)
        << place << "\n"
        << log;
  }

  // A reconcile message that cannot be done (an account this deployment does not work on) fails,
  // and goes to the dead-letter queue after its receives, naming its account and region.
  Send(Json{{"moat", "reconcile"}, {"account", Id("c")}, {"region", "us-east-1"}}.dump());
  ASSERT_TRUE(Within(45, [&] { return Pending(dlq_) == 1; })) << worker->err();
  aws::Sqs dlq(sqs_, dlq_);
  auto dead = dlq.Receive(1, 1);
  ASSERT_TRUE(dead && dead->size() == 1);
  EXPECT_EQ(Json::parse((*dead)[0].body), Json({{"moat", "reconcile"}, {"account", Id("c")}, {"region", "us-east-1"}}));
  EXPECT_NE(worker->err().find(Id("c") + "/us-east-1: not one of the account-regions this deployment works on"),
            std::string::npos)
      << worker->err();
  EXPECT_EQ(worker->Stop(SIGTERM, 30), 0);
}

}  // namespace
}  // namespace moat::integration
