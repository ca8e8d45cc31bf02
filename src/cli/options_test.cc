#include "cli/options.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/env.h"

namespace moat::cli {
namespace {

using moat::testing::Env;

class OptionsTest : public ::testing::Test {
 protected:
  OptionsTest() {
    app_.add_flag("--json", json_);
    app_.add_option("--threads", threads_);
    app_.add_option("--service-port", ports_)->expected(1, 100);
    app_.add_option("--target", targets_)->expected(1, 100);
    app_.add_option("source", sources_);
  }
  CLI::App app_;
  bool json_ = false;
  unsigned threads_ = 0;
  std::vector<uint16_t> ports_;
  std::vector<std::string> targets_, sources_;
};

TEST(EnvNameTest, UpperSnakeCaseWithPrefix) {
  EXPECT_EQ(EnvName("service-port"), "MOAT_SERVICE_PORT");
  EXPECT_EQ(EnvName("json"), "MOAT_JSON");
}

TEST_F(OptionsTest, EnvironmentFillsOptionsNotOnTheCommandLine) {
  Env env{{{"MOAT_JSON", "true"}, {"MOAT_THREADS", "3"}, {"MOAT_SERVICE_PORT", "5432,3306"}}};
  auto extra = ArgsFromEnvironment(app_, {"x.log"}, env.getter());
  ASSERT_TRUE(extra);
  EXPECT_EQ(*extra,
            (std::vector<std::string>{"--json", "--threads", "3", "--service-port", "5432", "--service-port", "3306"}));
}

TEST_F(OptionsTest, CommandLineWinsOverEnvironment) {
  Env env{{{"MOAT_THREADS", "3"}}};
  auto extra = ArgsFromEnvironment(app_, {"--threads=1"}, env.getter());
  ASSERT_TRUE(extra);
  EXPECT_TRUE(extra->empty());
}

TEST_F(OptionsTest, ListItemsSplitOnUnescapedCommas) {
  Env env{{{"MOAT_TARGET", "orders-db,tag:team=a\\,b"}}};
  auto extra = ArgsFromEnvironment(app_, {}, env.getter());
  ASSERT_TRUE(extra);
  EXPECT_EQ(*extra, (std::vector<std::string>{"--target", "orders-db", "--target", "tag:team=a,b"}));
}

TEST_F(OptionsTest, FalseBooleanAddsNothingAndGarbageIsAnError) {
  Env off{{{"MOAT_JSON", "0"}}};
  auto none = ArgsFromEnvironment(app_, {}, off.getter());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  Env bad{{{"MOAT_JSON", "maybe"}}};
  auto err = ArgsFromEnvironment(app_, {}, bad.getter());
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().message, "MOAT_JSON: expected true, false, 1 or 0, got \"maybe\"");
}

TEST_F(OptionsTest, ConfigFileFillsWhatNeitherFlagsNorEnvironmentSet) {
  const std::string text = R"(
threads = 2            # top level: for every command that has --threads
target = "ignored-for-flows"
unknown_elsewhere = 1  # top level keys of other commands are left alone

[flows]
json = true
service_port = [5432, 3306]
threads = 4            # the command's table wins over the top level
)";
  auto extra = ArgsFromConfig(app_, "flows", {"x.log"}, text, "moat.toml");
  ASSERT_TRUE(extra) << extra.error().message;
  EXPECT_EQ(*extra, (std::vector<std::string>{"--json", "--service-port", "5432", "--service-port", "3306", "--threads",
                                              "4", "--target", "ignored-for-flows"}));
  // What the command line (or the environment before it) gave is not repeated.
  auto less = ArgsFromConfig(app_, "flows", {"x.log", "--threads", "1", "--json"}, text, "moat.toml");
  ASSERT_TRUE(less);
  EXPECT_EQ(std::count(less->begin(), less->end(), "--threads"), 0);
  EXPECT_EQ(std::count(less->begin(), less->end(), "--json"), 0);
}

TEST_F(OptionsTest, ConfigFileErrorsNameTheFileAndTheKey) {
  auto bad = ArgsFromConfig(app_, "flows", {}, "[flows]\nthread = 2\n", "moat.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "moat.toml: [flows] thread: the command has no option --thread");
  auto syntax = ArgsFromConfig(app_, "flows", {}, "threads = = 2\n", "moat.toml");
  ASSERT_FALSE(syntax);
  EXPECT_TRUE(syntax.error().message.starts_with("moat.toml:1:")) << syntax.error().message;
  auto flag = ArgsFromConfig(app_, "flows", {}, "json = \"yes\"\n", "moat.toml");
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().message, "moat.toml: json: expected true or false");
  auto list = ArgsFromConfig(app_, "flows", {}, "threads = [1, 2]\n", "moat.toml");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().message, "moat.toml: threads: takes one value, not a list");
}

TEST(ConfigPathTest, CommandLineThenEnvironment) {
  Env env{{{"MOAT_CONFIG", "/etc/moat.toml"}}};
  EXPECT_EQ(ConfigPath({"--config", "a.toml"}, env.getter()), "a.toml");
  EXPECT_EQ(ConfigPath({"--config=b.toml"}, env.getter()), "b.toml");
  EXPECT_EQ(ConfigPath({}, env.getter()), "/etc/moat.toml");
}

}  // namespace
}  // namespace moat::cli
