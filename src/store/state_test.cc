#include "store/state.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace moat::store {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("moat-state-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<StateStore> Store() const { return std::make_unique<DirectoryStateStore>(dir_.string()); }
  std::filesystem::path dir_;
};

TEST_F(StateTest, MissingStateIsEmpty) {
  auto s = LoadState(*Store());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->targets.empty());
}

TEST_F(StateTest, RoundTrips) {
  EnforcedState s;
  s.targets["cluster/ledger"] = {1764398567,
                                 "abc",
                                 {{6, 5432, 5432, *net::ParsePrefix("10.0.1.20/32"), "moat r1"},
                                  {-1, -1, -1, *net::ParsePrefix("2001:db8::/64"), ""}}};
  ASSERT_TRUE(SaveState(*Store(), s));
  ASSERT_TRUE(SaveSnapshot(*Store(), "{}", "abc"));
  auto back = LoadState(*Store());
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->targets.size(), 1u);
  const AppliedTarget& t = back->targets.at("cluster/ledger");
  EXPECT_EQ(t.time, 1764398567);
  EXPECT_EQ(t.digest, "abc");
  EXPECT_EQ(t.rules, s.targets["cluster/ledger"].rules);
  EXPECT_EQ(t.rules[0].description, "moat r1");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "policy.json"));
}

TEST_F(StateTest, InvalidStateNamesTheFileAndThePlace) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "applied.json")
      << R"({"targets": {"db": {"time": 1, "digest": "x", "rules": [{"protocol": 6}]}}})";
  auto s = LoadState(*Store());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            (dir_ / "applied.json").string() +
                ": targets.db.rules[0]: expected protocol, from_port, to_port, cidr and description");
  std::ofstream(dir_ / "applied.json") << "{not json";
  EXPECT_FALSE(LoadState(*Store()));
}

TEST(StateDirectoryTest, FollowsXdg) {
  EXPECT_EQ(StateDirectory("/x", "/s", "/h"), "/x");
  EXPECT_EQ(StateDirectory("", "/s", "/h"), "/s/moat");
  EXPECT_EQ(StateDirectory("", "", "/h"), "/h/.local/state/moat");
}

}  // namespace
}  // namespace moat::store
