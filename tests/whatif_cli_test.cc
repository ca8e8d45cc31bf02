// Integration tests of the what-if: `moat plan` and `moat apply` against moto_server, with flow
// logs recorded into the flow history (--flows). A first enforcement or a policy change that
// would cut observed traffic is held back unless --allow-breaking; reverting drift is never held
// back, however much traffic goes through the tampered rule or group.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "aws/ec2.h"
#include "aws/rds.h"
#include "moat_process.h"
#include "moto.h"
#include "pce_server.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

constexpr const char* kOrdersEndpoint = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";

// orders-db only: web-01 and web-02 (10.0.1.20, .21) and the VPN pool, on 5432.
Json Bundle() {
  Json b = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
  b["virtual_services"][0]["service_addresses"][0]["fqdn"] = kOrdersEndpoint;
  return b;
}

// A default-format flow log of `client` connecting to orders-db (10.0.2.45:5432), both directions.
std::string FlowLog(const std::vector<std::string>& clients, int64_t start) {
  std::string out =
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
      "log-status\n";
  int port = 40000;
  for (const std::string& c : clients) {
    const std::string s = std::to_string(start), e = std::to_string(start + 59);
    out += "2 123456789012 eni-0a " + c + " 10.0.2.45 " + std::to_string(port) + " 5432 6 10 840 " + s + " " + e +
           " ACCEPT OK\n";
    out += "2 123456789012 eni-0a 10.0.2.45 " + c + " 5432 " + std::to_string(port) + " 6 8 620 " + s + " " + e +
           " ACCEPT OK\n";
    ++port;
  }
  return out;
}

class WhatIfCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    WritePolicy(Bundle());
  }
  void WritePolicy(const Json& bundle) { dir_.Write("policy.json", bundle.dump()); }
  std::string Flows(const std::string& name, const std::vector<std::string>& clients) {
    return dir_.Write("flows/" + name, FlowLog(clients, static_cast<int64_t>(std::time(nullptr)) - 3600));
  }
  RunResult Moat(std::vector<std::string> args) {
    RunOptions o;
    o.env = moto_.Environment();
    args.insert(args.end(), {"--policy", dir_.path() + "/policy.json", "--state", dir_.path() + "/state", "--target",
                             "orders-db", "--json"});
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 120);
  }
  Json Target(const RunResult& r) {
    const Json j = Json::parse(r.out);
    for (const Json& t : j["targets"]) {
      if (t["id"] == "orders-db") return t;
    }
    ADD_FAILURE() << "no orders-db in " << r.out;
    return {};
  }
  aws::Database Db() {
    auto dbs = rds_.DescribeInstances("orders-db");
    EXPECT_TRUE(dbs && dbs->size() == 1);
    return dbs && !dbs->empty() ? (*dbs)[0] : aws::Database{};
  }
  // The managed groups of orders-db. Kept here, so that a loop over one of them stays valid.
  const std::vector<aws::SecurityGroup>& Managed() {
    auto groups = ec2_.DescribeSecurityGroups({{"tag:moat:target", {"orders-db"}}});
    EXPECT_TRUE(groups) << groups.error().message;
    managed_ = groups ? *groups : std::vector<aws::SecurityGroup>{};
    return managed_;
  }
  aws::QueryClient Client(const char* service, const char* version) {
    const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
    return aws::QueryClient({service, moto_.url(), "us-east-1", version},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  }

  MotoServer moto_;
  TempDir dir_;
  std::vector<aws::SecurityGroup> managed_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
  aws::QueryClient ec2_client_ = Client("ec2", aws::kEc2ApiVersion);
  aws::QueryClient rds_client_ = Client("rds", aws::kRdsApiVersion);
  aws::Ec2 ec2_{ec2_client_};
  aws::Rds rds_{rds_client_};
};

TEST_F(WhatIfCliTest, FirstEnforcementThatWouldCutAClientIsHeldUnlessAllowed) {
  // 10.0.7.7 reaches orders-db through its wide-open legacy group; the policy does not admit it.
  const std::string log = Flows("a.log", {"10.0.1.20", "10.0.7.7"});
  RunResult plan = Moat({"plan", "--flows", log});
  ASSERT_EQ(plan.exit_code, 1) << Describe(plan);  // held back: the run says so
  Json t = Target(plan);
  EXPECT_NE(t["held"].get<std::string>().find("would cut 1 observed flow to orders-db"), std::string::npos) << t;
  ASSERT_EQ(t["cuts"].size(), 1u) << t;
  EXPECT_EQ(t["cuts"][0]["initiator"], "10.0.7.7");
  EXPECT_EQ(t["cuts"][0]["port"], 5432);
  EXPECT_EQ(t["cuts"][0]["records"], 2);  // both directions of one connection
  EXPECT_TRUE(t["cuts"][0]["breaking"]);
  EXPECT_FALSE(t["changes"]);
  EXPECT_EQ(Json::parse(plan.out)["what_if"]["flows"], 2);

  // apply changes nothing on it (the flows are already recorded: no --flows needed).
  const std::vector<std::string> before = Db().security_groups;
  RunResult held = Moat({"apply", "--yes"});
  EXPECT_EQ(held.exit_code, 1) << Describe(held);
  EXPECT_EQ(Db().security_groups, before);
  EXPECT_TRUE(Managed().empty());

  RunResult applied = Moat({"apply", "--yes", "--allow-breaking"});
  ASSERT_EQ(applied.exit_code, 0) << Describe(applied);
  t = Target(applied);
  EXPECT_TRUE(t["applied"]);
  ASSERT_EQ(t["cuts"].size(), 1u);
  ASSERT_EQ(Managed().size(), 1u);
  EXPECT_EQ(Db().security_groups, std::vector<std::string>{Managed()[0].id});
}

TEST_F(WhatIfCliTest, PolicyChangeCuttingAClientIsHeldWhileDriftIsReverted) {
  RunResult first = Moat({"apply", "--yes", "--flows", Flows("a.log", {"10.0.1.20", "10.0.1.21"})});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  // The policy drops web-02 (10.0.1.21), which talks to orders-db; someone also adds a rule.
  Json b = Bundle();
  b["workloads"][2]["interfaces"][0]["address"] = "10.0.1.77";
  WritePolicy(b);
  const auto groups = Managed();
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_TRUE(ec2_.AuthorizeIngress(groups[0].id, {{6, 5432, 5432, *net::ParsePrefix("10.0.9.0/24"), "hand-made"}}));

  RunResult held = Moat({"apply", "--yes"});
  EXPECT_EQ(held.exit_code, 1) << Describe(held);
  Json t = Target(held);
  EXPECT_NE(t["held"].get<std::string>().find("the rules moat last applied admit"), std::string::npos) << t;
  EXPECT_NE(t["held"].get<std::string>().find("10.0.1.21 -> 5432/tcp"), std::string::npos) << t;
  EXPECT_TRUE(t["applied"]);  // the drift revert went ahead
  std::vector<std::string> cidrs;
  for (const auto& r : Managed().at(0).ingress) cidrs.push_back(net::ToString(r.cidr));
  EXPECT_EQ(std::count(cidrs.begin(), cidrs.end(), "10.0.9.0/24"), 0);
  EXPECT_EQ(std::count(cidrs.begin(), cidrs.end(), "10.0.1.20/31"), 1);  // web-02 still admitted

  RunResult allowed = Moat({"apply", "--yes", "--allow-breaking"});
  ASSERT_EQ(allowed.exit_code, 0) << Describe(allowed);
  cidrs.clear();
  for (const auto& r : Managed().at(0).ingress) cidrs.push_back(net::ToString(r.cidr));
  EXPECT_EQ(std::count(cidrs.begin(), cidrs.end(), "10.0.1.21/32"), 0);
  EXPECT_EQ(std::count(cidrs.begin(), cidrs.end(), "10.0.1.77/32"), 1);
}

TEST_F(WhatIfCliTest, TrafficThroughATamperedRuleNeverHoldsTheRevertBack) {
  RunResult first = Moat({"apply", "--yes"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  // Someone opens orders-db to 10.0.7.7, and 10.0.7.7 uses it at once; re-attaching the legacy
  // group too.
  const auto groups = Managed();
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_TRUE(ec2_.AuthorizeIngress(groups[0].id, {{6, 5432, 5432, *net::ParsePrefix("10.0.7.7/32"), "hand-made"}}));
  ASSERT_TRUE(rds_.SetSecurityGroups(Db(), {groups[0].id, moto_.db_group()}));
  const std::string log = Flows("b.log", {"10.0.7.7", "10.0.1.20"});

  RunResult plan = Moat({"plan", "--flows", log});
  EXPECT_EQ(plan.exit_code, 0) << Describe(plan);
  Json t = Target(plan);
  EXPECT_EQ(t["held"], "");
  ASSERT_EQ(t["cuts"].size(), 1u) << t;  // listed, so nobody is surprised
  EXPECT_EQ(t["cuts"][0]["initiator"], "10.0.7.7");
  EXPECT_FALSE(t["cuts"][0]["breaking"]);

  RunResult apply = Moat({"apply", "--yes"});
  ASSERT_EQ(apply.exit_code, 0) << Describe(apply);
  EXPECT_EQ(Db().security_groups, std::vector<std::string>{groups[0].id});
  for (const auto& r : Managed().at(0).ingress) EXPECT_NE(net::ToString(r.cidr), "10.0.7.7/32");
}

// Without --flows, plan only reads the flow history: the store is opened read-only, nothing in it
// changes (no run recorded, no journal), and a state directory moat may not write serves. Root
// (as in CI) is not stopped by the modes; there this checks that nothing is written.
TEST_F(WhatIfCliTest, PlanReadsTheFlowHistoryWithoutWritingIt) {
  RunResult recorded = Moat({"plan", "--flows", Flows("a.log", {"10.0.1.20", "10.0.7.7"})});
  ASSERT_EQ(recorded.exit_code, 1) << Describe(recorded);
  const std::string state = dir_.path() + "/state", store = state + "/flows.sqlite";
  const std::string bytes = ReadFile(store);
  struct stat before {};
  ASSERT_EQ(stat(store.c_str(), &before), 0);
  ASSERT_EQ(chmod(store.c_str(), 0444), 0);
  ASSERT_EQ(chmod(state.c_str(), 0555), 0);

  RunResult plan = Moat({"plan"});
  chmod(state.c_str(), 0755);
  EXPECT_EQ(plan.exit_code, 1) << Describe(plan);  // held back by the history's 10.0.7.7
  const Json t = Target(plan);
  ASSERT_EQ(t["cuts"].size(), 1u) << t;
  EXPECT_EQ(t["cuts"][0]["initiator"], "10.0.7.7");
  EXPECT_EQ(Json::parse(plan.out)["what_if"]["flows"], 2);

  struct stat after {};
  ASSERT_EQ(stat(store.c_str(), &after), 0);
  EXPECT_EQ(ReadFile(store), bytes);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_FALSE(std::filesystem::exists(store + "-journal"));
  if (std::filesystem::exists(store + "-wal")) {
    EXPECT_EQ(std::filesystem::file_size(store + "-wal"), 0u);
  }
}

TEST_F(WhatIfCliTest, WithoutFlowHistoryThePlanSaysSo) {
  RunResult plan = Moat({"plan"});
  EXPECT_EQ(plan.exit_code, 0) << Describe(plan);
  EXPECT_TRUE(Json::parse(plan.out)["what_if"].is_null());
  RunOptions o;
  o.env = moto_.Environment();
  RunResult text =
      RunProcess(MOAT_BINARY, {"plan", "--policy", dir_.path() + "/policy.json", "--state", dir_.path() + "/state"}, o,
                 dir_.path(), 120);
  EXPECT_NE(text.out.find("what-if: no flow history"), std::string::npos) << text.out;
  RunResult bad = Moat({"plan", "--since", "7 days"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--since"), std::string::npos) << bad.err;
}

// --flows naming no flow log is the operator's mistake: one line, exit 1, before AWS is read.
TEST_F(WhatIfCliTest, FlowsThatYieldNoFlowLogObjectAreAnError) {
  std::filesystem::create_directories(dir_.path() + "/empty");
  RunResult plan = Moat({"plan", "--flows", dir_.path() + "/empty"});
  EXPECT_EQ(plan.exit_code, 1) << Describe(plan);
  EXPECT_EQ(plan.err, "moat: plan: --flows " + dir_.path() +
                          "/empty: no flow-log files found (directories are searched for *.log and *.log.gz)\n");
  EXPECT_TRUE(plan.out.empty()) << plan.out;
  const std::string notes = dir_.Write("notes/a.log", "not a flow log\n");
  RunResult apply = Moat({"apply", "--yes", "--flows", notes});
  EXPECT_EQ(apply.exit_code, 1) << Describe(apply);
  EXPECT_NE(apply.err.find("moat: apply: --flows: none of the 1 object(s) given could be read as a flow log"),
            std::string::npos)
      << apply.err;
  EXPECT_TRUE(Managed().empty());
}

// Flow logs older than the default window (--since 30d): the plan says how many flows the history
// holds and that none falls in the window; apply refuses unless --since is given, since the
// what-if would check nothing and the plan would cut clients seen in the logs.
TEST_F(WhatIfCliTest, AWindowHoldingNoneOfTheHistoryIsSaidLoudlyAndApplyRefusesIt) {
  constexpr int64_t kOld = 1714521600;  // 2024-05-01 00:00:00 UTC
  const std::string log = dir_.Write("flows/old.log", FlowLog({"10.0.1.20", "10.0.7.7"}, kOld));
  RunResult plan = Moat({"plan", "--flows", log});
  ASSERT_EQ(plan.exit_code, 0) << Describe(plan);
  const Json j = Json::parse(plan.out);
  EXPECT_EQ(j["what_if"]["flows"], 0);
  EXPECT_EQ(j["what_if"]["recorded"], 2);
  EXPECT_EQ(j["what_if"]["first"], kOld);
  EXPECT_EQ(j["what_if"]["last"], kOld + 59);
  EXPECT_EQ(j["what_if"]["empty_window"], true);
  ASSERT_FALSE(j["warnings"].empty()) << j;
  EXPECT_NE(j["warnings"][0].get<std::string>().find("holds none of its 2 recorded flow(s)"), std::string::npos) << j;
  EXPECT_NE(j["warnings"][0].get<std::string>().find("--since all or --since 2024-05-01"), std::string::npos) << j;
  RunOptions o;
  o.env = moto_.Environment();
  RunResult text = RunProcess(
      MOAT_BINARY,
      {"plan", "--policy", dir_.path() + "/policy.json", "--state", dir_.path() + "/state", "--target", "orders-db"}, o,
      dir_.path(), 120);
  EXPECT_NE(text.out.find("what-if: 0 of 2 recorded flow(s) fall in the window (since "), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("; the history spans 2024-05-01T00:00:00Z to 2024-05-01T00:00:59Z\n"), std::string::npos)
      << text.out;

  const std::vector<std::string> before = Db().security_groups;
  RunResult refused = Moat({"apply", "--yes"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_NE(refused.err.find("moat: apply: the flow-history window (since "), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("give --since all or --since 2024-05-01"), std::string::npos) << refused.err;
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_TRUE(refused.out.empty());
  EXPECT_EQ(Db().security_groups, before);
  EXPECT_TRUE(Managed().empty());
  // With the whole history, the what-if sees the client the policy would cut.
  RunResult all = Moat({"apply", "--yes", "--since", "all"});
  EXPECT_EQ(all.exit_code, 1) << Describe(all);
  ASSERT_EQ(Target(all)["cuts"].size(), 1u) << all.out;
  EXPECT_TRUE(Managed().empty());
  // A window given on purpose is the operator's choice: applied, with the warning.
  RunResult chosen = Moat({"apply", "--yes", "--since", "30d"});
  EXPECT_EQ(chosen.exit_code, 0) << Describe(chosen);
  EXPECT_EQ(Json::parse(chosen.out)["what_if"]["empty_window"], true);
  EXPECT_EQ(Managed().size(), 1u);
}

TEST_F(WhatIfCliTest, MapWithThePlanReadsThePcePolicyOnceAndMarksWhatThePlanWouldCut) {
  PceServer pce(dir_.path() + "/policy.json");
  ASSERT_TRUE(pce.ok()) << "the PCE test server did not start (python3?)";
  RunOptions o;
  o.env = moto_.Environment();
  o.env.insert(o.env.end(), {{"ILLUMIO_PCE_HOST", pce.url()},
                             {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                             {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
  const std::string log = Flows("today.log", {"10.0.1.20", "10.0.7.7"});
  RunResult r = RunProcess(MOAT_BINARY,
                           {"map", "--out", dir_.path() + "/map.json", "--plan", "--policy", "pce", "--flows", log,
                            "--state", dir_.path() + "/state", "--target", "orders-db"},
                           o, dir_.path(), 120);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json map = Json::parse(ReadFile(dir_.path() + "/map.json"));
  std::map<std::string, std::string> decision;
  for (const Json& e : map["edges"]) decision[e["from"].get<std::string>()] = e["decision"];
  EXPECT_EQ(decision["labels:role=Web,app=Consumer,env=Development,loc=Amazon"], "allowed") << map.dump(1);
  EXPECT_EQ(decision["subnet:10.0.7.0/24"], "would-cut") << map.dump(1);
  // The map and the plan share one read of the policy: each collection once.
  int rule_sets = 0;
  for (const Json& e : Json::parse(pce.Get("log")))
    rule_sets += e["path"] == "/api/v2/orgs/1/sec_policy/active/rule_sets";
  EXPECT_EQ(rule_sets, 1);
}

TEST_F(WhatIfCliTest, MapWithThePlanDrawsEveryDatabaseProtectedOrNotAndAnUnknownTargetIsAnErrorEverywhere) {
  // Clients of orders-db (protected by the policy) and of the ledger cluster (10.0.3.60: no object
  // of the policy is it).
  std::string log = FlowLog({"10.0.1.20"}, static_cast<int64_t>(std::time(nullptr)) - 3600);
  const std::string s = std::to_string(std::time(nullptr) - 3000);
  log += "2 123456789012 eni-0b 10.0.1.77 10.0.3.60 41000 5432 6 10 840 " + s + " " + s + " ACCEPT OK\n";
  const std::string flows = dir_.Write("flows/both.log", log);
  RunOptions o;
  o.env = moto_.Environment();
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--policy", dir_.path() + "/policy.json", "--state", dir_.path() + "/state"});
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 120);
  };
  RunResult r = run({"map", "--out", dir_.path() + "/map.json", "--plan", "--flows", flows});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("2 of 2 recorded flow(s) fall in the window"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  const Json map = Json::parse(ReadFile(dir_.path() + "/map.json"));
  std::map<std::string, Json> databases;
  for (const Json& n : map["nodes"]) {
    if (n["kind"] == "database") databases[n["id"].get<std::string>()] = n;
  }
  ASSERT_EQ(databases.count("db:orders-db"), 1u) << map.dump(1);
  ASSERT_EQ(databases.count("db:cluster/ledger"), 1u) << map.dump(1);
  EXPECT_EQ(databases["db:orders-db"]["protection"], "protected");
  EXPECT_EQ(databases["db:cluster/ledger"]["protection"], "unprotected");
  EXPECT_NE(databases["db:cluster/ledger"]["detail"].get<std::string>().find("not protected"), std::string::npos);
  bool ledger_edge = false;
  for (const Json& e : map["edges"]) ledger_edge = ledger_edge || e["to"] == "db:cluster/ledger";
  EXPECT_TRUE(ledger_edge) << map.dump(1);
  // Named, an unprotected database is drawn too.
  r = run({"map", "--out", dir_.path() + "/ledger.json", "--plan", "--target", "cluster/ledger"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json ledger = Json::parse(ReadFile(dir_.path() + "/ledger.json"));
  ASSERT_FALSE(ledger["nodes"].empty());
  EXPECT_EQ(ledger["nodes"][0]["id"], "db:cluster/ledger");
  // A --target that names no database: exit 1, naming it, in map, plan and apply alike; nothing
  // written.
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"map", "--out", dir_.path() + "/none.json", "--plan"}, {"plan"}, {"apply", "--yes"}}) {
    args.insert(args.end(), {"--target", "ordrs-db"});
    r = run(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << "\n" << Describe(r);
    EXPECT_NE(r.err.find("--target ordrs-db: no RDS instance or Aurora cluster has that identifier"), std::string::npos)
        << args[0] << "\n"
        << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/none.json"));
  EXPECT_TRUE(Managed().empty());
}

}  // namespace
}  // namespace moat::integration
