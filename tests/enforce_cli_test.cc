// Integration tests of `moat plan` and `moat apply`: the real binary against moto_server with
// signature checking on (tests/moto.h: orders-db, a PostgreSQL instance, and ledger, an Aurora
// cluster, each on a hand-made group open to the world), the policy from a bundle file or the PCE
// test server. Covers the first apply, a converged re-apply costing no writes, tampering with
// rules and attachments, packing into several groups, a target that cannot fit, the guards, the
// policy source down, visibility mode, and apply refusing without a terminal.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
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

// The sample policy, pointed at moto's orders-db, plus an unmanaged workload at ledger's address
// (matched by address) admitting the VPN pool, and `extra` more /32s on orders-db.
Json Bundle(int extra = 0) {
  Json b = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
  b["virtual_services"][0]["service_addresses"][0]["fqdn"] = kOrdersEndpoint;
  Json w = b["workloads"][0];
  w["href"] = "/orgs/1/workloads/ledger";
  w["name"] = "rds-ledger";
  w["hostname"] = "ledger";
  w["interfaces"][0]["address"] = "10.0.3.60";
  b["workloads"].push_back(w);
  Json& rules = b["rule_sets"][0]["rules"];
  Json r = rules[1];  // Corp VPN to RDS
  r["href"] = "/orgs/1/sec_policy/active/rule_sets/24/sec_rules/63";
  r["providers"] = Json::array({{{"workload", {{"href", "/orgs/1/workloads/ledger"}}}}});
  r["ingress_services"] = Json::array({{{"port", 5432}, {"proto", 6}}});
  r["resolve_labels_as"] = {{"providers", {"workloads"}}, {"consumers", {"workloads"}}};
  rules.push_back(r);
  if (extra > 0) {
    Json list = b["ip_lists"][0];
    list["href"] = "/orgs/1/sec_policy/active/ip_lists/8";
    list["name"] = "IPL-Batch";
    list["fqdns"] = Json::array();
    list["ip_ranges"] = Json::array();
    for (int i = 0; i < extra; ++i) {
      // Every other address: no two merge into a wider prefix.
      const int n = 2 * i;
      list["ip_ranges"].push_back(
          {{"from_ip", "10.9." + std::to_string(n / 256) + "." + std::to_string(n % 256)}, {"exclusion", false}});
    }
    b["ip_lists"].push_back(list);
    Json batch = rules[1];
    batch["href"] = "/orgs/1/sec_policy/active/rule_sets/24/sec_rules/64";
    batch["consumers"] = Json::array({{{"ip_list", {{"href", "/orgs/1/sec_policy/active/ip_lists/8"}}}}});
    rules.push_back(batch);
  }
  return b;
}

class EnforceCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    WritePolicy(Bundle());
  }
  void WritePolicy(const Json& bundle) { dir_.Write("policy.json", bundle.dump()); }
  std::string State() const { return dir_.path() + "/state"; }

  RunResult Moat(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
    RunOptions o;
    o.env = moto_.Environment();
    o.env.insert(o.env.end(), env.begin(), env.end());
    args.insert(args.end(), {"--state", State()});
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 120);
  }
  RunResult Apply(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"apply", "--policy", dir_.path() + "/policy.json", "--yes", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Moat(args);
  }
  RunResult Plan(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"plan", "--policy", dir_.path() + "/policy.json", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Moat(args);
  }

  aws::QueryClient Client(const char* service, const char* version) {
    const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
    return aws::QueryClient({service, moto_.url(), "us-east-1", version},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  }
  std::vector<aws::SecurityGroup> Managed(const std::string& target) {
    auto groups = ec2_.DescribeSecurityGroups({{"tag:moat:target", {target}}});
    EXPECT_TRUE(groups) << groups.error().message;
    return groups ? *groups : std::vector<aws::SecurityGroup>{};
  }
  aws::Database Db(const std::string& id, bool cluster = false) {
    auto dbs = cluster ? rds_.DescribeClusters(id) : rds_.DescribeInstances(id);
    EXPECT_TRUE(dbs && dbs->size() == 1);
    return dbs && !dbs->empty() ? (*dbs)[0] : aws::Database{};
  }
  // The changes made (not the intent lines written before each call).
  std::vector<Json> Audit() {
    std::vector<Json> out;
    const std::string text = ReadFile(State() + "/audit.log");
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      Json line = Json::parse(text.substr(start, nl - start));
      if (line["result"] != "intent") out.push_back(std::move(line));
    }
    return out;
  }

  MotoServer moto_;
  TempDir dir_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
  aws::QueryClient ec2_client_ = Client("ec2", aws::kEc2ApiVersion);
  aws::QueryClient rds_client_ = Client("rds", aws::kRdsApiVersion);
  aws::Ec2 ec2_{ec2_client_};
  aws::Rds rds_{rds_client_};
};

aws::IngressRule Rule(const char* cidr, const char* description = "") {
  return {6, 5432, 5432, *net::ParsePrefix(cidr), description};
}

TEST_F(EnforceCliTest, FirstApplyThenConvergedReapplyCostsNoWrites) {
  RunResult plan = Moat({"plan", "--policy", dir_.path() + "/policy.json", "--detailed-exitcode"});
  ASSERT_EQ(plan.exit_code, 2) << Describe(plan);
  EXPECT_NE(plan.out.find("+ group moat-orders-db-1"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("+ tcp 5432 from 10.0.1.20/31"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("- " + moto_.db_group() + " (hand-made)"), std::string::npos) << plan.out;

  RunResult first = Apply();
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  const Json report = Json::parse(first.out);
  EXPECT_TRUE(report["executed"]);
  EXPECT_EQ(report["summary"]["create"], 2);
  EXPECT_EQ(report["summary"]["detach"], 2);
  EXPECT_EQ(report["summary"]["drift"], 0);

  // orders-db: on its managed group only, which admits exactly the policy.
  const auto orders = Managed("orders-db");
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].name, "moat-orders-db-1");
  EXPECT_EQ(orders[0].tags.at("moat:managed"), "true");
  EXPECT_EQ(orders[0].tags.at("moat:policy-sha256"), report["policy"]["sha256"]);
  EXPECT_EQ(Db("orders-db").security_groups, std::vector<std::string>{orders[0].id});
  std::vector<std::string> cidrs;
  for (const auto& r : orders[0].ingress) cidrs.push_back(net::ToString(r.cidr));
  std::sort(cidrs.begin(), cidrs.end());
  EXPECT_EQ(cidrs, (std::vector<std::string>{"10.0.1.20/31", "172.16.8.10/31", "172.16.8.12/31", "192.168.50.0/25"}));
  EXPECT_NE(orders[0].ingress[0].description.find("/sec_rules/6"), std::string::npos);
  // ledger, an Aurora cluster matched by its address: set with ModifyDBCluster.
  const auto ledger = Managed("cluster/ledger");
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].name, "moat-cluster-ledger-1");
  EXPECT_EQ(Db("ledger", true).security_groups, std::vector<std::string>{ledger[0].id});
  EXPECT_EQ(ledger[0].ingress.size(), 3u);

  // Converged: no writes at all, and the same reads as a plan.
  RunResult again = Apply();
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  const Json converged = Json::parse(again.out);
  EXPECT_FALSE(converged["changes"]);
  EXPECT_EQ(converged["calls"]["write"], 0);
  EXPECT_LE(converged["calls"]["read"].get<int>(), 5);  // GetCallerIdentity, then docs/performance.md's 4
  RunResult quiet = Moat({"plan", "--policy", dir_.path() + "/policy.json", "--detailed-exitcode"});
  EXPECT_EQ(quiet.exit_code, 0) << Describe(quiet);
  EXPECT_NE(quiet.out.find("No changes."), std::string::npos) << quiet.out;
  // Every change of the first apply is in the audit log, as policy.
  const auto audit = Audit();
  EXPECT_EQ(audit.size(), 2u + 7u + 2u + 2u);  // groups, rules, attach, detach
  for (const Json& line : audit) EXPECT_EQ(line["reason"], "policy") << line.dump();
}

TEST_F(EnforceCliTest, TamperingIsRevertedAndLoggedAsDrift) {
  ASSERT_EQ(Apply().exit_code, 0);
  const auto orders = Managed("orders-db");
  ASSERT_EQ(orders.size(), 1u);
  const std::string group = orders[0].id;
  // By hand: the world let in, a policy rule removed, the old group put back, and on the cluster
  // a group of someone's own attached.
  ASSERT_TRUE(ec2_.AuthorizeIngress(group, {Rule("0.0.0.0/0", "temporary debugging")}));
  ASSERT_TRUE(ec2_.RevokeIngress(group, {Rule("192.168.50.0/25")}));
  ASSERT_TRUE(rds_.SetSecurityGroups(Db("orders-db"), {group, moto_.db_group()}));
  const auto ledger = Managed("cluster/ledger");
  ASSERT_TRUE(rds_.SetSecurityGroups(Db("ledger", true), {ledger[0].id, moto_.cluster_group()}));

  RunResult plan = Moat({"plan", "--policy", dir_.path() + "/policy.json"});
  const size_t line = plan.out.find("- tcp 5432 from 0.0.0.0/0");
  ASSERT_NE(line, std::string::npos) << plan.out;
  EXPECT_NE(plan.out.substr(line, plan.out.find('\n', line) - line).find("[drift]"), std::string::npos) << plan.out;
  RunResult r = Apply();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json report = Json::parse(r.out);
  EXPECT_EQ(report["summary"]["drift"], 4);
  EXPECT_EQ(report["summary"]["authorize"], 1);
  EXPECT_EQ(report["summary"]["revoke"], 1);

  const auto after = Managed("orders-db");
  std::vector<std::string> cidrs;
  for (const auto& rule : after[0].ingress) cidrs.push_back(net::ToString(rule.cidr));
  EXPECT_EQ(std::count(cidrs.begin(), cidrs.end(), "0.0.0.0/0"), 0);
  EXPECT_EQ(std::count(cidrs.begin(), cidrs.end(), "192.168.50.0/25"), 1);
  EXPECT_EQ(Db("orders-db").security_groups, std::vector<std::string>{group});
  EXPECT_EQ(Db("ledger", true).security_groups, std::vector<std::string>{ledger[0].id});

  std::vector<Json> drift;
  for (const Json& line : Audit()) {
    if (line["drift"]) drift.push_back(line);
  }
  // What no policy admitted goes first; then the missing rule, then the attachment.
  ASSERT_EQ(drift.size(), 4u);
  EXPECT_EQ(drift[0]["change"], "revoke");
  EXPECT_EQ(drift[0]["rule"], "tcp 5432 from 0.0.0.0/0");
  EXPECT_EQ(drift[0]["reason"], "drift");
  EXPECT_EQ(drift[1]["change"], "authorize");
  EXPECT_EQ(drift[1]["rule"], "tcp 5432 from 192.168.50.0/25");
  EXPECT_EQ(drift[2]["change"], "detach");
  EXPECT_EQ(drift[2]["group"], moto_.db_group());
  EXPECT_EQ(drift[2]["group_name"], "hand-made");
  EXPECT_EQ(drift[3]["target"], "cluster/ledger");
  for (const char* key : {"time", "target", "group", "change", "reason"}) EXPECT_TRUE(drift[0].contains(key));
}

TEST_F(EnforceCliTest, DriftRevertedWhileTheAuditLogCannotBeWrittenFailsTheRunNamingTheChanges) {
  ASSERT_EQ(Apply().exit_code, 0);
  const auto orders = Managed("orders-db");
  ASSERT_EQ(orders.size(), 1u);
  ASSERT_TRUE(ec2_.AuthorizeIngress(orders[0].id, {Rule("0.0.0.0/0", "temporary debugging")}));
  // The disk is full: the revert still happens, and the run says what went unrecorded.
  RunResult r = Apply({"--audit-log", "/dev/full"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("1 change(s) were made but could not be written to the audit log"), std::string::npos) << r.err;
  const Json report = Json::parse(r.out);
  const Json& target = report["targets"][0];
  EXPECT_EQ(target["id"], "orders-db");
  ASSERT_EQ(target["unaudited"].size(), 1u) << target.dump();
  EXPECT_NE(target["unaudited"][0].get<std::string>().find("revoke tcp 5432 from 0.0.0.0/0"), std::string::npos)
      << target.dump();
  EXPECT_NE(report["errors"][0].get<std::string>().find("audit log /dev/full"), std::string::npos) << report.dump();
  const auto after = Managed("orders-db");
  ASSERT_EQ(after.size(), 1u);
  std::vector<std::string> cidrs;
  for (const auto& rule : after[0].ingress) cidrs.push_back(net::ToString(rule.cidr));
  EXPECT_EQ(std::count(cidrs.begin(), cidrs.end(), "0.0.0.0/0"), 0);
}

TEST_F(EnforceCliTest, RulesNamingOtherGroupsAreRevokedAsDrift) {
  ASSERT_EQ(Apply({"--target", "orders-db"}).exit_code, 0);
  const std::string group = Managed("orders-db")[0].id;
  // By hand: "let the hand-made group's members in" — a rule naming a group, not a CIDR.
  auto added =
      ec2_client_.Call("AuthorizeSecurityGroupIngress", {{"GroupId", group},
                                                         {"IpPermissions.1.IpProtocol", "tcp"},
                                                         {"IpPermissions.1.FromPort", "5432"},
                                                         {"IpPermissions.1.ToPort", "5432"},
                                                         {"IpPermissions.1.Groups.1.GroupId", moto_.db_group()}});
  ASSERT_TRUE(added) << added.error().message;
  RunResult plan = Moat({"plan", "--policy", dir_.path() + "/policy.json", "--target", "orders-db"});
  EXPECT_NE(plan.out.find("- 1 rule(s) naming other groups or prefix lists [drift]"), std::string::npos) << plan.out;
  RunResult r = Apply({"--target", "orders-db"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Json::parse(r.out)["summary"]["drift"], 1);
  const auto after = Managed("orders-db");
  EXPECT_EQ(after[0].other_ingress, 0);
  EXPECT_EQ(after[0].ingress.size(), 4u);
  const Json last = Audit().back();
  EXPECT_EQ(last["rule"], "tcp 5432 from " + moto_.db_group());
  EXPECT_EQ(last["reason"], "drift");
}

TEST_F(EnforceCliTest, NewProvenanceChangesDescriptionsInPlace) {
  ASSERT_EQ(Apply({"--target", "orders-db"}).exit_code, 0);
  Json bundle = Bundle();
  Json twin = bundle["rule_sets"][0]["rules"][0];  // a second rule admitting the web tier
  twin["href"] = "/orgs/1/sec_policy/active/rule_sets/24/sec_rules/65";
  bundle["rule_sets"][0]["rules"].push_back(twin);
  WritePolicy(bundle);
  RunResult r = Apply({"--target", "orders-db"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json report = Json::parse(r.out);
  EXPECT_EQ(report["summary"]["redescribe"], 1);
  EXPECT_EQ(report["summary"]["authorize"], 0);
  EXPECT_EQ(Managed("orders-db")[0].tags.at("moat:policy-sha256"), report["policy"]["sha256"]);
  EXPECT_EQ(report["summary"]["revoke"], 0);
  const auto groups = Managed("orders-db");
  for (const auto& rule : groups[0].ingress) {
    if (net::ToString(rule.cidr) == "10.0.1.20/31") {
      EXPECT_NE(rule.description.find("sec_rules/61 /orgs/1/sec_policy/active/rule_sets/24/sec_rules/65"),
                std::string::npos)
          << rule.description;
    }
  }
}

TEST_F(EnforceCliTest, KeptForeignGroupStaysAttached) {
  RunResult r = Apply({"--keep-group", "hand-made"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto groups = Db("orders-db").security_groups;
  std::sort(groups.begin(), groups.end());
  std::vector<std::string> want = {Managed("orders-db")[0].id, moto_.db_group()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(groups, want);
}

TEST_F(EnforceCliTest, MoreThanSixtyRulesArePackedIntoSeveralGroups) {
  WritePolicy(Bundle(130));  // 4 + 130 rules on orders-db: 60 + 60 + 14
  RunResult r = Apply({"--target", "orders-db"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto groups = Managed("orders-db");
  ASSERT_EQ(groups.size(), 3u);
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  EXPECT_EQ(groups[0].name, "moat-orders-db-1");
  EXPECT_EQ(groups[0].ingress.size(), 60u);
  EXPECT_EQ(groups[1].ingress.size(), 60u);
  EXPECT_EQ(groups[2].ingress.size(), 14u);
  EXPECT_EQ(Db("orders-db").security_groups.size(), 3u);
  // Converged, and a small policy change is a small diff: one more address is one authorize.
  WritePolicy(Bundle(131));
  RunResult plan = Plan({"--target", "orders-db"});
  ASSERT_EQ(plan.exit_code, 0) << Describe(plan);
  const Json p = Json::parse(plan.out);
  EXPECT_EQ(p["summary"]["authorize"], 1);
  EXPECT_EQ(p["summary"]["revoke"], 0);
  EXPECT_EQ(p["summary"]["create"], 0);
}

TEST_F(EnforceCliTest, TargetThatCannotFitIsAPlanErrorAndNothingOnItChanges) {
  WritePolicy(Bundle(300));  // 304 rules: more than 5 x 60
  RunResult r = Apply();
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  const Json report = Json::parse(r.out);
  const Json& orders = report["targets"][0];
  EXPECT_EQ(orders["id"], "orders-db");
  EXPECT_NE(orders["error"].get<std::string>().find("needs 304 IPv4"), std::string::npos) << orders.dump();
  EXPECT_TRUE(Managed("orders-db").empty());
  EXPECT_EQ(Db("orders-db").security_groups, std::vector<std::string>{moto_.db_group()});
  // The other target is not held hostage.
  EXPECT_EQ(Managed("cluster/ledger").size(), 1u);
  EXPECT_NE(r.err.find("moat: apply: not every target"), std::string::npos) << r.err;
}

TEST_F(EnforceCliTest, OverPermissionBudgetMakesItFitAndIsReported) {
  WritePolicy(Bundle(300));  // 304 exact rules, 300 fit
  RunResult r = Apply({"--target", "orders-db", "--over-permission-budget", "16"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json report = Json::parse(r.out);
  const Json& widened = report["targets"][0]["widened"];
  ASSERT_FALSE(widened.empty());
  EXPECT_NE(widened[0].get<std::string>().find("(+"), std::string::npos) << widened.dump();
  size_t rules = 0;
  for (const auto& g : Managed("orders-db")) rules += g.ingress.size();
  EXPECT_LE(rules, 300u);
  EXPECT_EQ(Managed("orders-db").size(), 5u);
}

TEST_F(EnforceCliTest, LargeRevokeIsHeldUnlessOverriddenWhileDriftIsReverted) {
  WritePolicy(Bundle(10));
  ASSERT_EQ(Apply({"--target", "orders-db"}).exit_code, 0);
  const std::string group = Managed("orders-db")[0].id;
  ASSERT_TRUE(ec2_.AuthorizeIngress(group, {Rule("0.0.0.0/0")}));
  WritePolicy(Bundle());  // drops 10 of 14 rules
  RunResult held = Apply({"--target", "orders-db"});
  EXPECT_EQ(held.exit_code, 1) << Describe(held);
  const Json report = Json::parse(held.out);
  EXPECT_NE(report["targets"][0]["held"].get<std::string>().find("revoke 10 of 14"), std::string::npos)
      << report.dump();
  EXPECT_EQ(report["summary"]["revoke"], 1);  // the rogue rule only
  EXPECT_EQ(Managed("orders-db")[0].ingress.size(), 14u);
  RunResult forced = Apply({"--target", "orders-db", "--allow-large-revoke"});
  ASSERT_EQ(forced.exit_code, 0) << Describe(forced);
  EXPECT_EQ(Managed("orders-db")[0].ingress.size(), 4u);
}

TEST_F(EnforceCliTest, BrokenPolicyKeepsLastKnownGoodAndStillRevertsDrift) {
  ASSERT_EQ(Apply().exit_code, 0);
  const std::string group = Managed("orders-db")[0].id;
  ASSERT_TRUE(ec2_.AuthorizeIngress(group, {Rule("0.0.0.0/0")}));
  dir_.Write("policy.json", R"({"labels": [{"href": "/orgs/1/labels/1", "key": "role"})");  // truncated
  RunResult r = Apply();
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  const Json report = Json::parse(r.out);
  EXPECT_FALSE(report["policy"]["ok"]);
  EXPECT_EQ(report["summary"]["revoke"], 1);
  EXPECT_EQ(report["summary"]["drift"], 1);
  EXPECT_EQ(report["summary"]["authorize"], 0);
  EXPECT_EQ(Managed("orders-db")[0].ingress.size(), 4u);
  EXPECT_NE(r.err.find("moat: apply: the policy could not be used ("), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(EnforceCliTest, APolicyPathThatDoesNotExistIsATypoAndNothingIsWritten) {
  ASSERT_EQ(Apply().exit_code, 0);
  const std::string group = Managed("orders-db")[0].id;
  ASSERT_TRUE(ec2_.AuthorizeIngress(group, {Rule("0.0.0.0/0")}));
  RunResult r = Moat({"apply", "--policy", dir_.path() + "/polcy.json", "--yes", "--json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err, "moat: apply: --policy " + dir_.path() +
                       "/polcy.json: no such file (the last known good stands in only for a policy source that "
                       "fails, not for one that is not there)\n");
  EXPECT_EQ(Managed("orders-db")[0].ingress.size(), 5u);  // nothing written: the drift is still there

  // A path that is there but cannot be read is a failing source: the last known good is enforced.
  std::filesystem::create_directories(dir_.path() + "/a-directory");
  RunResult fallback = Moat({"apply", "--policy", dir_.path() + "/a-directory", "--yes", "--json"});
  EXPECT_EQ(fallback.exit_code, 1) << Describe(fallback);
  EXPECT_FALSE(Json::parse(fallback.out)["policy"]["ok"]);
  EXPECT_EQ(Managed("orders-db")[0].ingress.size(), 4u);
}

// A rule moat cannot compile exactly fails the database it reaches, and only that one: never
// applied, it is left untouched; applied before, what moat applied stays enforced and drift on it
// is still reverted. Qualifiers a security group cannot express are warned per rule and target.
TEST_F(EnforceCliTest, RuleThatCannotBeCompiledRefusesOnlyItsTargetAndQualifiersAreWarned) {
  const auto break_ledger = [](Json b) {
    b["rule_sets"][0]["rules"][0]["machine_auth"] = true;  // orders-db's web rule: a qualifier
    b["rule_sets"][0]["rules"][2]["consumers"].push_back({{"virtual_server", {{"href", "/orgs/1/virtual_servers/5"}}}});
    return b;
  };
  const std::string why =
      "rule /orgs/1/sec_policy/active/rule_sets/24/sec_rules/63: consumers[1]: virtual_server "
      "/orgs/1/virtual_servers/5: a load balancer's virtual server, whose addresses moat does not know";
  WritePolicy(break_ledger(Bundle()));
  RunResult plan = Moat({"plan", "--policy", dir_.path() + "/policy.json"});
  EXPECT_EQ(plan.exit_code, 1) << Describe(plan);
  EXPECT_NE(plan.out.find("! warning: rule /orgs/1/sec_policy/active/rule_sets/24/sec_rules/61: machine_auth: machine "
                          "authentication: a security group cannot express it; its addresses and ports are applied"),
            std::string::npos)
      << plan.out;
  EXPECT_NE(
      plan.out.find("! error: the policy cannot be compiled exactly for it: " + why + "; nothing on it is changed"),
      std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("+ group moat-orders-db-1"), std::string::npos) << plan.out;  // the rest is planned

  RunResult first = Apply();
  EXPECT_EQ(first.exit_code, 1) << Describe(first);
  EXPECT_EQ(Managed("orders-db").size(), 1u);
  EXPECT_TRUE(Managed("cluster/ledger").empty());
  EXPECT_EQ(Db("ledger", true).security_groups, std::vector<std::string>{moto_.cluster_group()});

  // Applied once with a policy moat can compile; then refused again, with drift on it.
  WritePolicy(Bundle());
  ASSERT_EQ(Apply().exit_code, 0);
  const std::string ledger_group = Managed("cluster/ledger")[0].id;
  ASSERT_TRUE(ec2_.AuthorizeIngress(ledger_group, {Rule("0.0.0.0/0")}));
  WritePolicy(break_ledger(Bundle()));
  RunResult refused = Apply();
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  const Json report = Json::parse(refused.out);
  const Json* ledger = nullptr;
  for (const Json& t : report["targets"]) {
    if (t["id"] == "cluster/ledger") ledger = &t;
  }
  ASSERT_NE(ledger, nullptr) << report.dump();
  EXPECT_EQ((*ledger)["held"],
            "the policy cannot be compiled exactly for it: " + why + "; what moat applied before stays enforced");
  EXPECT_EQ(report["summary"]["drift"], 1);
  EXPECT_EQ(Managed("cluster/ledger")[0].ingress.size(), 3u);  // the rogue rule is gone, the rest kept
}

// ICMP types and codes become ICMP rules of that type and code, and read back converged.
TEST_F(EnforceCliTest, IcmpTypesAndCodesRoundTrip) {
  Json b = Bundle();
  b["services"].push_back({{"href", "/orgs/1/sec_policy/active/services/90"},
                           {"name", "ping and unreachable"},
                           {"service_ports",
                            {{{"proto", 1}, {"icmp_type", 8}, {"icmp_code", 0}},
                             {{"proto", 1}, {"icmp_type", 3}, {"icmp_code", nullptr}}}}});
  b["rule_sets"][0]["rules"][0]["ingress_services"] = {{{"href", "/orgs/1/sec_policy/active/services/90"}}};
  WritePolicy(b);
  RunResult first = Apply({"--target", "orders-db"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  std::vector<std::tuple<int, int, int>> icmp;
  const auto groups = Managed("orders-db");
  ASSERT_EQ(groups.size(), 1u);
  for (const auto& r : groups[0].ingress) {
    if (r.protocol == 1) icmp.emplace_back(r.protocol, r.from_port, r.to_port);
  }
  std::sort(icmp.begin(), icmp.end());
  EXPECT_EQ(icmp, (std::vector<std::tuple<int, int, int>>{{1, 3, -1}, {1, 8, 0}}));
  RunResult again = Apply({"--target", "orders-db"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(Json::parse(again.out)["calls"]["write"], 0) << again.out;
}

TEST_F(EnforceCliTest, PceDownKeepsLastKnownGood) {
  PceServer pce(dir_.path() + "/policy.json");
  ASSERT_TRUE(pce.ok());
  const std::vector<std::pair<std::string, std::string>> env = {{"ILLUMIO_PCE_HOST", pce.url()},
                                                                {"ILLUMIO_PCE_ORG_ID", "1"},
                                                                {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                                                                {"ILLUMIO_API_KEY_SECRET", kPceSecret}};
  RunResult first = Moat({"apply", "--policy", "pce", "--yes", "--json"}, env);
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_EQ(ReadFile(State() + "/policy.json").substr(0, 1), "{");  // the snapshot enforced
  const std::string group = Managed("orders-db")[0].id;
  ASSERT_TRUE(ec2_.RevokeIngress(group, {Rule("10.0.1.20/31")}));
  pce.Faults(R"({"503": 1000})");
  RunResult down = Moat({"apply", "--policy", "pce", "--yes", "--json"}, env);
  EXPECT_EQ(down.exit_code, 1) << Describe(down);
  const Json report = Json::parse(down.out);
  EXPECT_FALSE(report["policy"]["ok"]);
  EXPECT_EQ(report["summary"]["authorize"], 1);
  EXPECT_EQ(report["summary"]["drift"], 1);
  EXPECT_EQ(Managed("orders-db")[0].ingress.size(), 4u);
  EXPECT_EQ(down.err.find(kPceSecret), std::string::npos);
  EXPECT_EQ(down.out.find(kPceSecret), std::string::npos);
}

TEST_F(EnforceCliTest, DatabaseGoneFromThePolicyKeepsWhatWasAppliedAndSaysSo) {
  ASSERT_EQ(Apply().exit_code, 0);
  const auto ledger = Managed("cluster/ledger");
  ASSERT_TRUE(ec2_.AuthorizeIngress(ledger[0].id, {Rule("0.0.0.0/0")}));
  Json bundle = Bundle();
  bundle["rule_sets"][0]["rules"].erase(2);  // the rule that made the ledger workload a provider
  WritePolicy(bundle);
  RunResult r = Apply();
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  const Json report = Json::parse(r.out);
  const Json& t = report["targets"][1];
  EXPECT_EQ(t["id"], "cluster/ledger");
  EXPECT_NE(t["held"].get<std::string>().find("stays enforced"), std::string::npos) << t.dump();
  EXPECT_EQ(report["summary"]["revoke"], 1);  // the drift only
  EXPECT_EQ(Managed("cluster/ledger")[0].ingress.size(), 3u);
}

TEST_F(EnforceCliTest, PceSecretIsReadFromSecretsManager) {
  PceServer pce(dir_.path() + "/policy.json");
  ASSERT_TRUE(pce.ok());
  RunResult r = Moat({"plan", "--policy", "pce", "--json"}, {{"ILLUMIO_PCE_HOST", pce.url()},
                                                             {"ILLUMIO_PCE_ORG_ID", "1"},
                                                             {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                                                             {"ILLUMIO_API_KEY_SECRET", moto_.secret_arn()}});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Json::parse(r.out)["policy"]["ok"]);
  EXPECT_EQ(r.out.find(kPceSecret), std::string::npos);
  RunResult missing =
      Moat({"plan", "--policy", "pce", "--json"},
           {{"ILLUMIO_PCE_HOST", pce.url()},
            {"ILLUMIO_PCE_ORG_ID", "1"},
            {"ILLUMIO_API_KEY_USERNAME", kPceUser},
            {"ILLUMIO_API_KEY_SECRET", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"}});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(Json::parse(missing.out)["policy"]["error"].get<std::string>().find(
                "ILLUMIO_API_KEY_SECRET: secretsmanager GetSecretValue arn:aws:secretsmanager:us-east-1:123456789012:"
                "secret:nope-AbCdEf: ResourceNotFoundException"),
            std::string::npos)
      << missing.out;
}

TEST_F(EnforceCliTest, VisibilityModeNeverWrites) {
  RunResult r = Apply({"--mode", "visibility"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json report = Json::parse(r.out);
  EXPECT_TRUE(report["changes"]);
  EXPECT_EQ(report["calls"]["write"], 0);
  EXPECT_TRUE(Managed("orders-db").empty());
  EXPECT_EQ(Db("orders-db").security_groups, std::vector<std::string>{moto_.db_group()});
}

TEST_F(EnforceCliTest, ApplyWithoutYesRefusesWithoutATerminal) {
  RunResult r = Moat({"apply", "--policy", dir_.path() + "/policy.json"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("moat: apply: not applying without --yes"), std::string::npos) << r.err;
  EXPECT_TRUE(Managed("orders-db").empty());
}

TEST_F(EnforceCliTest, BadTargetAndBadStateAreOneLineErrors) {
  RunResult r = Plan({"--target", "no-such-db"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(Json::parse(r.out)["errors"][0].get<std::string>().find("--target no-such-db: no RDS instance"),
            std::string::npos);
  dir_.Write("state/applied.json", "{\"targets\": 3}");
  RunResult bad = Plan();
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "moat: plan: " + State() + "/applied.json: targets: expected an object\n");
  EXPECT_TRUE(bad.out.empty());
}

// Every plan and apply names the AWS account (STS, once) and region it runs in; the state records
// where apply ran, and a run elsewhere says so, never "AWS matches the policy", and apply refuses
// to write there without --allow-other-account.
TEST_F(EnforceCliTest, EveryRunNamesItsAccountAndRegionAndARunElsewhereSaysSo) {
  RunResult first = Apply();
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  const Json aws = Json::parse(first.out)["aws"];
  const std::string account = aws["account"].get<std::string>();
  EXPECT_EQ(account.size(), 12u) << aws;
  EXPECT_EQ(aws["region"], "us-east-1");
  EXPECT_TRUE(aws["state_applied_in"].is_null()) << aws;
  const Json state = Json::parse(ReadFile(State() + "/applied.json"));
  EXPECT_EQ(state["applied_in"], (Json{{"account", account}, {"region", "us-east-1"}})) << state;
  RunResult text = Moat({"plan", "--policy", dir_.path() + "/policy.json"});
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_EQ(text.out.substr(0, text.out.find('\n')).ends_with(", in account " + account + " us-east-1"), true)
      << text.out;
  EXPECT_NE(text.out.find("No changes. AWS matches the policy."), std::string::npos) << text.out;

  // The same state, last applied in another account: the converged estate is not "matching".
  Json other = state;
  other["applied_in"]["account"] = "111122223333";
  dir_.Write("state/applied.json", other.dump());
  RunResult elsewhere = Moat({"plan", "--policy", dir_.path() + "/policy.json"});
  EXPECT_EQ(elsewhere.exit_code, 0) << Describe(elsewhere);
  EXPECT_NE(elsewhere.out.find("\n! this state was last applied in account 111122223333 us-east-1; this run is in "
                               "account " +
                               account + " us-east-1\n"),
            std::string::npos)
      << elsewhere.out;
  EXPECT_EQ(elsewhere.out.find("AWS matches the policy"), std::string::npos) << elsewhere.out;
  const Json j = Json::parse(Plan().out);
  EXPECT_EQ(j["aws"]["state_applied_in"], (Json{{"account", "111122223333"}, {"region", "us-east-1"}})) << j;

  // Another region (AWS_REGION changed): apply refuses, writing nothing, unless told to go on.
  dir_.Write("state/applied.json", state.dump());
  const std::string before = ReadFile(State() + "/applied.json");
  RunResult refused = Moat({"apply", "--policy", dir_.path() + "/policy.json", "--yes"}, {{"AWS_REGION", "eu-west-1"}});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_EQ(refused.err, "moat: apply: the state in " + State() + " was last applied in account " + account +
                             " us-east-1; this run is in account " + account +
                             " eu-west-1: give --state for this account and region, or --allow-other-account to "
                             "apply here anyway\n");
  EXPECT_EQ(ReadFile(State() + "/applied.json"), before);
  RunResult allowed = Moat({"apply", "--policy", dir_.path() + "/policy.json", "--yes", "--allow-other-account"},
                           {{"AWS_REGION", "eu-west-1"}});
  EXPECT_NE(allowed.out.find("! this state was last applied in account " + account + " us-east-1"), std::string::npos)
      << Describe(allowed);
  EXPECT_EQ(Json::parse(ReadFile(State() + "/applied.json"))["applied_in"]["region"], "eu-west-1");
}

}  // namespace
}  // namespace moat::integration
