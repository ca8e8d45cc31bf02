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

TEST_F(StateTest, GroupsMoatMadeRoundTripAndAVersionOneStateIsMarked) {
  EnforcedState s;
  s.targets["orders-db"] = {1, "abc", {}};
  s.groups["sg-1"] = {"orders-db", "vpc-1"};
  ASSERT_TRUE(SaveState(*Store(), s));
  auto back = LoadState(*Store());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(back->groups_recorded);
  EXPECT_EQ(back->groups, s.groups);

  std::ofstream(dir_ / "applied.json")
      << R"({"version": 1, "targets": {"db": {"time": 1, "digest": "x", "rules": []}}})";
  auto legacy = LoadState(*Store());
  ASSERT_TRUE(legacy) << legacy.error().message;
  EXPECT_FALSE(legacy->groups_recorded);
  std::ofstream(dir_ / "applied.json") << R"({"version": 2, "targets": {}, "groups": {"sg-1": {"target": 3}}})";
  auto bad = LoadState(*Store());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("groups.sg-1: expected a target and a vpc"), std::string::npos);
}

TEST_F(StateTest, WhereItWasAppliedRoundTripsAndAnOlderStateHasNoPlace) {
  EnforcedState s;
  s.applied_in = {"111122223333", "us-east-1"};
  ASSERT_TRUE(SaveState(*Store(), s));
  auto back = LoadState(*Store());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->applied_in, (AwsPlace{"111122223333", "us-east-1"}));
  // A merge keeps the stored place unless the saving run has one.
  ASSERT_TRUE(MergeAndSaveState(*Store(), EnforcedState{}, {}, {}));
  EXPECT_EQ(LoadState(*Store())->applied_in.account, "111122223333");
  EnforcedState here;
  here.applied_in = {"444455556666", "eu-west-1"};
  ASSERT_TRUE(MergeAndSaveState(*Store(), here, {}, {}));
  EXPECT_EQ(LoadState(*Store())->applied_in, here.applied_in);

  std::ofstream(dir_ / "applied.json") << R"({"version": 2, "targets": {}, "groups": {}})";
  auto older = LoadState(*Store());
  ASSERT_TRUE(older) << older.error().message;
  EXPECT_TRUE(older->applied_in.empty());
  std::ofstream(dir_ / "applied.json") << R"({"version": 2, "targets": {}, "applied_in": {"account": 1}})";
  auto bad = LoadState(*Store());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("applied_in: expected an account and a region"), std::string::npos);
}

TEST_F(StateTest, MergingKeepsWhatAConcurrentRunSaved) {
  EnforcedState theirs;
  theirs.targets["a"] = {1, "d1", {}};
  theirs.groups["sg-a"] = {"a", "vpc-1"};
  ASSERT_TRUE(SaveState(*Store(), theirs));
  EnforcedState ours;  // loaded before the other run saved
  ours.targets["b"] = {2, "d2", {}};
  ours.targets["a"] = {0, "stale", {}};
  ours.groups["sg-b"] = {"b", "vpc-1"};
  ours.groups["sg-gone"] = {"b", "vpc-1"};
  ASSERT_TRUE(MergeAndSaveState(*Store(), ours, {"b"}, {"sg-gone"}));
  auto merged = LoadState(*Store());
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->targets.at("a").digest, "d1");
  EXPECT_EQ(merged->targets.at("b").digest, "d2");
  EXPECT_EQ(merged->groups.size(), 2u);
  EXPECT_TRUE(merged->groups.count("sg-a") && merged->groups.count("sg-b"));
}

TEST_F(StateTest, EachGroupMadeHasARecordOfItsOwnThatNoSaveErases) {
  ASSERT_TRUE(RecordGroup(*Store(), "sg-1", {"cluster/ledger", "vpc-1"}));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "groups" / "sg-1.vpc-1.cluster~ledger"));
  EXPECT_TRUE(*GroupRecorded(*Store(), "sg-1", {"cluster/ledger", "vpc-1"}));
  EXPECT_FALSE(*GroupRecorded(*Store(), "sg-1", {"orders-db", "vpc-1"}));
  // A run that loaded its state before the record was made saves over it: the record stays.
  ASSERT_TRUE(SaveState(*Store(), EnforcedState{}));
  EXPECT_TRUE(*GroupRecorded(*Store(), "sg-1", {"cluster/ledger", "vpc-1"}));
  // A group found deleted is forgotten, its record removed.
  EnforcedState s;
  s.groups["sg-1"] = {"cluster/ledger", "vpc-1"};
  ASSERT_TRUE(MergeAndSaveState(*Store(), s, {}, {"sg-1"}));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "groups" / "sg-1.vpc-1.cluster~ledger"));
  EXPECT_TRUE(LoadState(*Store())->groups.empty());
}

TEST(StateDirectoryTest, FollowsXdg) {
  EXPECT_EQ(StateDirectory("/x", "/s", "/h"), "/x");
  EXPECT_EQ(StateDirectory("", "/s", "/h"), "/s/moat");
  EXPECT_EQ(StateDirectory("", "", "/h"), "/h/.local/state/moat");
}

}  // namespace
}  // namespace moat::store
