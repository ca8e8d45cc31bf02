// Integration tests of the PCE commands through the real binary and the PCE test server:
// `moat policy show --policy pce`, `moat pce export` (loads back to the same compilation) and
// `moat pce upload-flows` on the bundled sample flow logs; and, with moto, a PCE answer that
// repeats a key refused without a change to AWS.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "aws/ec2.h"
#include "http/transport.h"
#include "moto.h"
#include "pce_server.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;
const char* const kFixture = MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json";

class PceCliTest : public ::testing::Test {
 protected:
  PceCliTest() : server_(kFixture) {}
  void SetUp() override { ASSERT_TRUE(server_.ok()) << "the PCE test server did not start (python3?)"; }

  RunResult Moat(const std::vector<std::string>& args, const std::string& secret = kPceSecret) {
    RunOptions o;
    o.cwd = MOAT_SOURCE_DIR;
    o.env = {{"ILLUMIO_PCE_HOST", server_.url()},
             {"ILLUMIO_PCE_ORG_ID", "1"},
             {"ILLUMIO_API_KEY_USERNAME", kPceUser},
             {"ILLUMIO_API_KEY_SECRET", secret}};
    return RunProcess(MOAT_BINARY, args, o, dir_.path());
  }

  PceServer server_;
  TempDir dir_;
};

TEST_F(PceCliTest, PolicyShowFromThePceEqualsTheFixture) {
  const RunResult pce = Moat({"policy", "show", "--policy", "pce", "--json"});
  ASSERT_EQ(pce.exit_code, 0) << Describe(pce);
  const RunResult file = Moat({"policy", "show", "--policy", kFixture, "--json"});
  ASSERT_EQ(file.exit_code, 0) << Describe(file);
  EXPECT_EQ(Json::parse(pce.out), Json::parse(file.out));
}

TEST_F(PceCliTest, ExportWritesABundleThatLoadsBackToTheSameResult) {
  const std::string out = dir_.path() + "/policy.json";
  const RunResult exported = Moat({"pce", "export", "--out", out});
  ASSERT_EQ(exported.exit_code, 0) << Describe(exported);
  EXPECT_NE(exported.err.find("wrote " + out), std::string::npos) << exported.err;
  const RunResult from_file = Moat({"policy", "show", "--policy", out, "--json"});
  const RunResult from_pce = Moat({"policy", "show", "--policy", "pce", "--json"});
  ASSERT_EQ(from_file.exit_code, 0) << Describe(from_file);
  EXPECT_EQ(Json::parse(from_file.out), Json::parse(from_pce.out));
}

TEST_F(PceCliTest, WrongSecretIsOneLineWithoutTheSecret) {
  const RunResult r = Moat({"pce", "export", "--out", dir_.path() + "/x.json"}, "wrong-secret-value");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "moat: pce export: GET /orgs/1/labels: 401 authentication failed: check ILLUMIO_API_KEY_USERNAME and "
            "ILLUMIO_API_KEY_SECRET\n");
  EXPECT_EQ(r.err.find("wrong-secret-value"), std::string::npos);
  EXPECT_EQ(r.out.find("wrong-secret-value"), std::string::npos);
}

TEST_F(PceCliTest, UploadFlowsSendsTheDistinctAcceptedFlowsOfTheSamples) {
  const RunResult r = Moat({"pce", "upload-flows", "samples/flowlogs"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json flows = Json::parse(server_.Get("flows"));
  EXPECT_GT(flows.size(), 5u);
  bool has_orders = false;
  for (const auto& f : flows) {
    has_orders |= f[0] == "10.0.1.20" && f[1] == "10.0.2.45" && f[2] == 5432 && f[3] == 6;
    EXPECT_NE(f[0], "198.51.100.23");  // the scanner was only ever rejected
  }
  EXPECT_TRUE(has_orders) << flows.dump();
  EXPECT_NE(r.out.find("distinct flows sent in 1 requests; the PCE received " + std::to_string(flows.size())),
            std::string::npos)
      << r.out;
}

// The PCE answers the rule set with "enabled" twice: false first (what moat read before it refused
// repeats), true last (what jq and Python read). moat reads neither: the policy is refused naming
// the key's path, the policy last applied stays enforced, and AWS is not written to.
TEST(PceAnswerTest, ARuleSetWithARepeatedKeyIsRefusedAndChangesNothing) {
  MotoServer moto;
  ASSERT_TRUE(moto.ok()) << moto.error();
  TempDir dir;
  Json bundle = Json::parse(ReadFile(kFixture));
  bundle["virtual_services"][0]["service_addresses"][0]["fqdn"] = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
  bundle["rule_sets"][0]["enabled"] = true;
  PceServer pce(dir.Write("policy.json", bundle.dump()));
  ASSERT_TRUE(pce.ok());
  RunOptions o;
  o.env = moto.Environment();
  o.env.insert(o.env.end(), {{"ILLUMIO_PCE_HOST", pce.url()},
                             {"ILLUMIO_PCE_ORG_ID", "1"},
                             {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                             {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
  const auto moat = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--policy", "pce"});
    if (args[0] != "policy") args.insert(args.end(), {"--state", dir.path() + "/state", "--target", "orders-db"});
    return RunProcess(MOAT_BINARY, args, o, dir.path(), 120);
  };
  const RunResult first = moat({"apply", "--yes", "--json"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);

  std::string rule_sets = bundle["rule_sets"].dump();
  const std::string enabled = R"("enabled":true)";
  ASSERT_NE(rule_sets.find(enabled), std::string::npos);
  rule_sets.replace(rule_sets.find(enabled), enabled.size(), R"("enabled":false,"enabled":true)");
  pce.Post("raw", Json{{"path", "sec_policy/active/rule_sets"}, {"body", rule_sets}}.dump());
  // The active policy's version did not change, so moat would use its copy of it: without the copy
  // it reads the whole policy, and meets the repeated key.
  std::filesystem::remove(dir.path() + "/state/pce-policy.json");
  const std::string why = "GET /orgs/1/sec_policy/active/rule_sets: rule_sets[0].enabled: duplicate key \"enabled\"";

  const RunResult refused = moat({"apply", "--yes", "--json"});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  const Json report = Json::parse(refused.out);
  EXPECT_FALSE(report["policy"]["ok"]) << refused.out;
  EXPECT_NE(report["policy"]["error"].get<std::string>().find(why), std::string::npos) << refused.out;
  EXPECT_EQ(report["calls"]["write"], 0) << refused.out;
  const RunResult show = moat({"policy", "show"});
  EXPECT_EQ(show.exit_code, 1) << Describe(show);
  EXPECT_NE(show.err.find(why), std::string::npos) << show.err;
  EXPECT_EQ(show.err.find('\n'), show.err.size() - 1) << show.err;

  pce.Post("reset", "{}");  // the PCE answers as before: AWS still matches what was applied
  const RunResult again = moat({"plan", "--detailed-exitcode"});
  EXPECT_EQ(again.exit_code, 0) << Describe(again);
}

// A PCE that holds every request: after --policy-timeout, apply enforces what it last applied
// (drift reverted), instead of waiting out six attempts of a minute each.
TEST(PceAnswerTest, AHangingPceIsGivenUpAfterThePolicyTimeoutAndDriftIsStillReverted) {
  MotoServer moto;
  ASSERT_TRUE(moto.ok()) << moto.error();
  TempDir dir;
  Json bundle = Json::parse(ReadFile(kFixture));
  bundle["virtual_services"][0]["service_addresses"][0]["fqdn"] = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
  PceServer pce(dir.Write("policy.json", bundle.dump()));
  ASSERT_TRUE(pce.ok());
  RunOptions o;
  o.env = moto.Environment();
  o.env.insert(o.env.end(), {{"ILLUMIO_PCE_HOST", pce.url()},
                             {"ILLUMIO_PCE_ORG_ID", "1"},
                             {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                             {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
  const auto apply = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {
        "apply", "--yes", "--json", "--policy", "pce", "--state", dir.path() + "/state", "--target", "orders-db"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunProcess(MOAT_BINARY, args, o, dir.path(), 120);
  };
  const RunResult first = apply({});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  const Json state = Json::parse(ReadFile(dir.path() + "/state/applied.json"));
  ASSERT_EQ(state["groups"].size(), 1u);
  const std::string moat_group = state["groups"].begin().key();
  const aws::Credentials creds{moto.access_key_id(), moto.secret_access_key(), ""};
  auto transport = http::NewCurlTransport({});
  aws::QueryClient client({"ec2", moto.url(), "us-east-1", aws::kEc2ApiVersion},
                          std::make_shared<aws::StaticCredentials>(creds), *transport, SystemClock());
  aws::Ec2 ec2(client);
  ASSERT_TRUE(ec2.AuthorizeIngress(moat_group, {{6, 5432, 5432, *net::ParsePrefix("0.0.0.0/0"), "by hand"}}));

  pce.Faults(R"({"hang": 600})");
  const auto start = std::chrono::steady_clock::now();
  const RunResult hung = apply({"--policy-timeout", "3"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(hung.exit_code, 1) << Describe(hung);
  const Json report = Json::parse(hung.out);
  EXPECT_FALSE(report["policy"]["ok"]);
  EXPECT_NE(report["policy"]["error"].get<std::string>().find("the time budget for the PCE ran out"), std::string::npos)
      << hung.out;
  EXPECT_EQ(report["summary"]["drift"], 1) << hung.out;
  auto after = ec2.DescribeSecurityGroups({{"group-id", {moat_group}}});
  ASSERT_TRUE(after && after->size() == 1);
  for (const aws::IngressRule& r : (*after)[0].ingress) EXPECT_NE(net::ToString(r.cidr), "0.0.0.0/0");
  pce.Faults(R"({"hang": 0})");
}

}  // namespace
}  // namespace moat::integration
