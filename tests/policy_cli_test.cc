// Integration tests of `moat policy show`: the real binary on the sample policy (samples/policy) and on bad
// policy files, checking the JSON contract, the target filter and one-line errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "moat_process.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

const char* const kFixture = MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json";

class PolicyCliTest : public ::testing::Test {
 protected:
  RunResult Moat(const std::vector<std::string>& args) { return RunProcess(MOAT_BINARY, args, {}, dir_.path()); }
  TempDir dir_;
};

bool OneLine(const std::string& s) { return !s.empty() && s.find('\n') == s.size() - 1; }

TEST_F(PolicyCliTest, FixtureJsonIsTheExpectedCompilation) {
  const RunResult r = Moat({"policy", "show", "--policy", kFixture, "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json got = Json::parse(r.out);
  ASSERT_EQ(got["targets"].size(), 1u);
  const Json& t = got["targets"][0];
  EXPECT_EQ(t["name"], "VS-RDS-orders-db");
  EXPECT_EQ(t["addresses"], Json::array({"10.0.2.45"}));
  ASSERT_EQ(t["allow"].size(), 1u);
  EXPECT_EQ(t["allow"][0]["prefixes"],
            Json::array({"10.0.1.20/31", "172.16.8.10/31", "172.16.8.12/31", "192.168.50.0/25"}));
  EXPECT_EQ(got["warnings"], Json::array({"ip list IPL-Corp-VPN: fqdn vpn.example.com cannot be expressed as a CIDR"}));
}

TEST_F(PolicyCliTest, TextNamesTargetPrefixesAndRules) {
  const RunResult r = Moat({"policy", "show", "--policy", kFixture});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("VS-RDS-orders-db  orders-db.c9xk2example.us-east-2.rds.amazonaws.com  [10.0.2.45]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("5432/tcp"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("192.168.50.0/25"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/orgs/1/sec_policy/active/rule_sets/24/sec_rules/62"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fqdn vpn.example.com cannot be expressed as a CIDR"), std::string::npos) << r.out;
}

TEST_F(PolicyCliTest, TargetSelectsByRdsIdentifierAndUnknownTargetIsAnError) {
  const RunResult r = Moat({"policy", "show", "--policy", kFixture, "--json", "--target", "orders-db"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Json::parse(r.out)["targets"].size(), 1u);
  const RunResult bad = Moat({"policy", "show", "--policy", kFixture, "--target", "billing-db"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(OneLine(bad.err)) << bad.err;
  EXPECT_EQ(bad.err, "moat: policy show: --target billing-db: no target of the policy has that name or endpoint\n");
}

// A value moat cannot read fails the targets whose rules use it, naming the rule, the object and
// the field; the policy is still shown, and the command exits 1 with one line saying why.
TEST_F(PolicyCliTest, BadValueFailsTheTargetsThatUseItNamingTheField) {
  std::string text = ReadFile(kFixture);
  const std::string from = "\"from_ip\": \"192.168.50.0/24\"";
  text.replace(text.find(from), from.size(), "\"from_ip\": \"192.168.50.0/33\"");
  const std::string path = dir_.Write("bad.json", text);
  const RunResult r = Moat({"policy", "show", "--policy", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      r.err,
      "moat: policy show: 1 target(s) cannot be compiled exactly (their '!' lines name the rule, the field and why); "
      "plan and apply keep what moat last applied to them\n");
  EXPECT_NE(r.out.find("! cannot be compiled exactly: rule /orgs/1/sec_policy/active/rule_sets/24/sec_rules/62: "
                       "consumers[0].ip_list: IP list /orgs/1/sec_policy/active/ip_lists/7: ip_ranges[0].from_ip: "
                       "not an IP address or CIDR: \"192.168.50.0/33\""),
            std::string::npos)
      << r.out;
}

TEST_F(PolicyCliTest, MissingReferenceFailsItsTargetsAndMissingFileIsAnError) {
  std::string text = ReadFile(kFixture);
  // The rule's reference to the IP list (its last mention in the file) points at a list that is not there.
  const std::string from = "/orgs/1/sec_policy/active/ip_lists/7";
  ASSERT_NE(text.rfind(from), std::string::npos);
  text.replace(text.rfind(from), from.size(), "/orgs/1/sec_policy/active/ip_lists/8");
  const std::string path = dir_.Write("dangling.json", text);
  const RunResult r = Moat({"policy", "show", "--policy", path, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(OneLine(r.err)) << r.err;
  const Json shown = Json::parse(r.out);
  ASSERT_EQ(shown["targets"].size(), 1u);
  EXPECT_EQ(shown["targets"][0]["error"],
            "rule /orgs/1/sec_policy/active/rule_sets/24/sec_rules/62: consumers[0].ip_list: IP list "
            "/orgs/1/sec_policy/active/ip_lists/8 does not exist in the active policy");
  EXPECT_EQ(shown["targets"][0]["allow"], Json::array());
  const RunResult missing = Moat({"policy", "show", "--policy", dir_.path() + "/none.json"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "moat: policy show: " + dir_.path() + "/none.json: No such file or directory\n");
  const RunResult nothing = Moat({"policy", "show"});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_TRUE(OneLine(nothing.err)) << nothing.err;
}

TEST_F(PolicyCliTest, PolicyFromTheEnvironment) {
  RunOptions options;
  options.env = {{"MOAT_POLICY", kFixture}, {"MOAT_TARGET", "orders-db"}};
  const RunResult r = RunProcess(MOAT_BINARY, {"policy", "show", "--json"}, options, dir_.path());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(Json::parse(r.out)["targets"].size(), 1u);
}

TEST_F(PolicyCliTest, ConfigFileThenEnvironmentThenFlags) {
  const std::string config =
      dir_.Write("moat.toml", std::string("policy = \"") + kFixture + "\"\n[policy_show]\njson = true\n");
  RunResult from_file = Moat({"policy", "show", "--config", config});
  ASSERT_EQ(from_file.exit_code, 0) << Describe(from_file);
  EXPECT_EQ(from_file.out.substr(0, 1), "{");
  RunOptions env;
  env.env = {{"MOAT_JSON", "false"}, {"MOAT_CONFIG", config}};
  RunResult from_env = RunProcess(MOAT_BINARY, {"policy", "show"}, env, dir_.path());
  ASSERT_EQ(from_env.exit_code, 0) << Describe(from_env);
  EXPECT_EQ(from_env.out.substr(0, 16), "VS-RDS-orders-db");
  RunResult flag = RunProcess(MOAT_BINARY, {"policy", "show", "--json"}, env, dir_.path());
  EXPECT_EQ(flag.out.substr(0, 1), "{");
  dir_.Write("bad.toml", "[policy_show]\npolcy = \"x\"\n");
  RunResult bad = Moat({"policy", "show", "--config", dir_.path() + "/bad.toml"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "moat: policy show: " + dir_.path() +
                         "/bad.toml: [policy_show] polcy: the command has no option --polcy\n");
}

}  // namespace
}  // namespace moat::integration
