// Integration tests of the PCE commands through the real binary and the PCE test server:
// `moat policy show --policy pce`, `moat pce export` (loads back to the same compilation) and
// `moat pce upload-flows` on the bundled sample flow logs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace moat::integration
