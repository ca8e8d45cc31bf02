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

}  // namespace
}  // namespace moat::cli
