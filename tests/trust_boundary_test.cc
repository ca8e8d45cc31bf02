// Integration tests of who owns a security group, against moto_server: a group is moat's because
// moat created it (its id is in the state), never because of its tags. A foreign group carrying
// moat's tags is reported and never attached; moat's own group stripped of its tags is still
// moat's (re-tagged, its rogue rules revoked); a name someone else holds is skipped. Also: an
// apply interrupted by SIGINT or SIGTERM finishes the database in hand, records what it did and
// says how to resume.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/ec2.h"
#include "aws/rds.h"
#include "moat_process.h"
#include "moto.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

std::string Endpoint(const std::string& id) { return id + ".aaaaaaaaaa.us-east-1.rds.amazonaws.com"; }

// The sample policy with a virtual service (role Database, so a provider of the sample's rules)
// for each of `databases`.
Json Bundle(const std::vector<std::string>& databases) {
  Json b = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
  const Json vs = b["virtual_services"][0];
  b["virtual_services"] = Json::array();
  for (const std::string& id : databases) {
    Json v = vs;
    v["href"] = "/orgs/1/sec_policy/active/virtual_services/vs-" + id;
    v["name"] = "VS-RDS-" + id;
    v["service_addresses"][0]["fqdn"] = Endpoint(id);
    b["virtual_services"].push_back(v);
  }
  return b;
}

class TrustBoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    dir_.Write("policy.json", Bundle({"orders-db"}).dump());
  }
  std::string State() const { return dir_.path() + "/state"; }
  std::vector<std::string> ApplyArgs() const {
    return {MOAT_BINARY, "apply", "--policy", dir_.path() + "/policy.json", "--yes", "--json", "--state", State()};
  }
  RunResult Moat(std::vector<std::string> args) {
    RunOptions o;
    o.env = moto_.Environment();
    args.insert(args.end(), {"--state", State()});
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 180);
  }
  RunResult Apply() { return Moat({"apply", "--policy", dir_.path() + "/policy.json", "--yes", "--json"}); }

  aws::QueryClient Client(const char* service, const char* version) {
    const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
    return aws::QueryClient({service, moto_.url(), "us-east-1", version},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  }
  aws::Database Db(const std::string& id) {
    auto dbs = rds_.DescribeInstances(id);
    EXPECT_TRUE(dbs && dbs->size() == 1);
    return dbs && !dbs->empty() ? (*dbs)[0] : aws::Database{};
  }
  aws::SecurityGroup Group(const std::string& id) {
    auto g = ec2_.DescribeSecurityGroups({{"group-id", {id}}});
    EXPECT_TRUE(g && g->size() == 1);
    return g && !g->empty() ? (*g)[0] : aws::SecurityGroup{};
  }
  // A group someone made in the databases' VPC, tagged as moat's for `target`, open to the world.
  std::string ForeignGroup(const std::string& name, const std::string& target) {
    auto id = ec2_.CreateSecurityGroup(name, "not moat's", moto_.vpc_id(),
                                       {{"moat:managed", "true"}, {"moat:target", target}});
    EXPECT_TRUE(id) << id.error().message;
    EXPECT_TRUE(ec2_.AuthorizeIngress(*id, {{6, 5432, 5432, *net::ParsePrefix("0.0.0.0/0"), ""}}));
    return *id;
  }
  Json AppliedState() { return Json::parse(ReadFile(State() + "/applied.json")); }
  std::vector<Json> Audit() {
    std::vector<Json> out;
    const std::string text = ReadFile(State() + "/audit.log");
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      out.push_back(Json::parse(text.substr(start, nl - start)));
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

TEST_F(TrustBoundaryTest, AForeignGroupTaggedAsMoatsIsReportedAndNeverAttached) {
  // Someone takes moat's first group name, with moat's tags and 0.0.0.0/0, before moat runs; and
  // tags a group in another VPC as moat's for the same database.
  const std::string squatter = ForeignGroup("moat-orders-db-1", "orders-db");
  auto vpc = ec2_client_.Call("CreateVpc", {{"CidrBlock", "10.9.0.0/16"}});
  ASSERT_TRUE(vpc) << vpc.error().message;
  const std::string other_vpc = vpc->child("CreateVpcResponse").child("vpc").child_value("vpcId");
  auto elsewhere = ec2_.CreateSecurityGroup("moat-orders-db-3", "not moat's", other_vpc,
                                            {{"moat:managed", "true"}, {"moat:target", "orders-db"}});
  ASSERT_TRUE(elsewhere) << elsewhere.error().message;
  RunResult r = Apply();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json report = Json::parse(r.out);
  const Json& t = report["targets"][0];
  ASSERT_EQ(t["foreign_claims"].size(), 2u) << r.out;
  EXPECT_NE(t["foreign_claims"].dump().find(squatter), std::string::npos);
  EXPECT_NE(t["foreign_claims"].dump().find(*elsewhere + " (moat-orders-db-3) in " + other_vpc), std::string::npos);
  const std::vector<std::string> attached = Db("orders-db").security_groups;
  ASSERT_EQ(attached.size(), 1u);
  EXPECT_NE(attached[0], squatter);
  EXPECT_EQ(Group(attached[0]).name, "moat-orders-db-2");  // the name held by another is skipped
  for (const Json& line : Audit()) EXPECT_NE(line["group"], squatter) << line;
  // The state records the group moat made, and only that one.
  const Json state = AppliedState();
  EXPECT_EQ(state["version"], 2);
  ASSERT_EQ(state["groups"].size(), 1u);
  EXPECT_EQ(state["groups"][attached[0]]["target"], "orders-db");
  EXPECT_EQ(state["groups"][attached[0]]["vpc"], moto_.vpc_id());

  // Attached by hand, it is detached as any foreign group, and the text says whose it is not.
  ASSERT_TRUE(rds_.SetSecurityGroups(Db("orders-db"), {attached[0], squatter}));
  RunResult plan = Moat({"plan", "--policy", dir_.path() + "/policy.json"});
  EXPECT_NE(plan.out.find("! foreign group claims to be moat's: " + squatter), std::string::npos) << plan.out;
  ASSERT_EQ(Apply().exit_code, 0);
  EXPECT_EQ(Db("orders-db").security_groups, attached);
}

TEST_F(TrustBoundaryTest, MoatsOwnGroupStrippedOfItsTagsIsStillMoatsAndCorrected) {
  ASSERT_EQ(Apply().exit_code, 0);
  const std::string group = Db("orders-db").security_groups.at(0);
  // By hand: moat's tags removed, the world let in.
  ASSERT_TRUE(ec2_client_.Call("DeleteTags",
                               {{"ResourceId.1", group}, {"Tag.1.Key", "moat:managed"}, {"Tag.2.Key", "moat:target"}}));
  ASSERT_TRUE(ec2_.AuthorizeIngress(group, {{6, 5432, 5432, *net::ParsePrefix("0.0.0.0/0"), "debug"}}));
  RunResult r = Apply();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const aws::SecurityGroup after = Group(group);
  EXPECT_EQ(after.tags.at("moat:managed"), "true");
  EXPECT_EQ(after.tags.at("moat:target"), "orders-db");
  for (const aws::IngressRule& rule : after.ingress) EXPECT_NE(net::ToString(rule.cidr), "0.0.0.0/0");
  EXPECT_EQ(Db("orders-db").security_groups, std::vector<std::string>{group});
  bool retag = false, revoke = false;
  // Each change has its intent line before it, written before the call.
  const std::vector<Json> lines = Audit();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i]["result"] != "done") continue;
    bool intended = false;
    for (size_t j = 0; j < i; ++j) {
      intended |= lines[j]["result"] == "intent" && lines[j]["change"] == lines[i]["change"] &&
                  lines[j]["rule"] == lines[i]["rule"] && lines[j]["group_name"] == lines[i]["group_name"];
    }
    EXPECT_TRUE(intended) << lines[i];
  }
  for (const Json& line : lines) {
    retag |= line["change"] == "retag" && line["group"] == group && line["reason"] == "drift";
    revoke |= line["change"] == "revoke" && line["rule"] == "tcp 5432 from 0.0.0.0/0" && line["reason"] == "drift";
  }
  EXPECT_TRUE(retag);
  EXPECT_TRUE(revoke);
}

TEST_F(TrustBoundaryTest, StateAndAuditLogArePrivateWhateverTheUmask) {
  const mode_t old = ::umask(0);
  RunResult r = Apply();
  ::umask(old);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* file : {"applied.json", "audit.log", "policy.json"}) {
    struct stat st {};
    ASSERT_EQ(::stat((State() + "/" + file).c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST_F(TrustBoundaryTest, AStateFromBeforeTheRecordTakesTaggedGroupsOnceAndRecordsThem) {
  ASSERT_EQ(Apply().exit_code, 0);
  const std::string group = Db("orders-db").security_groups.at(0);
  Json state = AppliedState();
  state.erase("groups");
  state["version"] = 1;
  dir_.Write("state/applied.json", state.dump());
  RunResult r = Apply();
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Db("orders-db").security_groups, std::vector<std::string>{group});
  EXPECT_EQ(AppliedState()["groups"][group]["target"], "orders-db");
}

// The sample policy over `n` more instances in moto, all protected.
std::vector<std::string> AddDatabases(aws::QueryClient& rds, int n) {
  std::vector<std::string> ids = {"orders-db"};
  for (int i = 0; i < n; ++i) {
    const std::string id = "fleet-" + std::to_string(i);
    auto made = rds.Call("CreateDBInstance", {{"DBInstanceIdentifier", id},
                                              {"DBInstanceClass", "db.t3.micro"},
                                              {"Engine", "postgres"},
                                              {"AllocatedStorage", "20"},
                                              {"DBSubnetGroupName", "db-subnets"}});
    EXPECT_TRUE(made) << made.error().message;
    ids.push_back(id);
  }
  return ids;
}

TEST_F(TrustBoundaryTest, SigintDuringApplyFinishesTheDatabaseInHandAndSavesWhatWasDone) {
  const std::vector<std::string> ids = AddDatabases(rds_client_, 12);
  dir_.Write("policy.json", Bundle(ids).dump());
  Background apply(ApplyArgs(), moto_.Environment(), dir_.path());
  // Once the first database's changes are in the audit log, Ctrl-C.
  for (int i = 0; i < 600 && Audit().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(Audit().empty()) << apply.err();
  const int status = apply.Stop(SIGINT, 60);
  ASSERT_EQ(status, 130) << apply.out() << apply.err();
  EXPECT_NE(apply.err().find("interrupted: "), std::string::npos) << apply.err();
  const Json report = Json::parse(apply.out());
  const int done = report["interrupted"]["applied"];
  EXPECT_GE(done, 1);
  EXPECT_LT(done, static_cast<int>(ids.size()));
  // What was done is recorded: each applied database, each group made.
  const Json state = AppliedState();
  EXPECT_EQ(static_cast<int>(state["targets"].size()), done);
  int attached_to_moat = 0;
  for (const std::string& id : ids) {
    const auto groups = Db(id).security_groups;
    if (groups.size() == 1 && state["groups"].contains(groups[0])) ++attached_to_moat;
  }
  EXPECT_EQ(attached_to_moat, done);

  // Running it again applies the rest, and nothing of the first run is made twice.
  RunResult again = Apply();
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(AppliedState()["targets"].size(), ids.size());
  EXPECT_EQ(AppliedState()["groups"].size(), ids.size());
}

TEST_F(TrustBoundaryTest, SigtermDuringApplyExits143) {
  const std::vector<std::string> ids = AddDatabases(rds_client_, 12);
  dir_.Write("policy.json", Bundle(ids).dump());
  Background apply(ApplyArgs(), moto_.Environment(), dir_.path());
  for (int i = 0; i < 600 && Audit().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(apply.Stop(SIGTERM, 60), 143) << apply.out() << apply.err();
  EXPECT_NE(apply.out().find("\"interrupted\""), std::string::npos);
}

}  // namespace
}  // namespace moat::integration
