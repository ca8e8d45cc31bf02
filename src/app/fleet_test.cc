#include "app/fleet.h"

#include <gtest/gtest.h>

#include "app/enforce_fleet.h"
#include "testing/env.h"
#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::app {
namespace {

using moat::testing::Env;

constexpr const char* kOwn = "111111111111";

http::Response Identity(const std::string& account) {
  return {200,
          {},
          "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::" + account +
              ":user/ops</Arn><Account>" + account +
              "</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"};
}

http::Response Assumed(const std::string& account, const std::string& key, const std::string& expiration) {
  return {200,
          {},
          "<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::" + account +
              ":assumed-role/moat-member/moat</Arn></AssumedRoleUser><Credentials><AccessKeyId>" + key +
              "</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>" +
              expiration + "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"};
}

http::Response Denied() {
  return {403,
          {},
          "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User is not authorized to perform: "
          "sts:AssumeRole</Message></Error></ErrorResponse>"};
}

http::Response Regions() {
  return {200,
          {},
          "<DescribeRegionsResponse><regionInfo><item><regionName>us-east-1</regionName><optInStatus>opt-in-not-"
          "required</optInStatus></item><item><regionName>eu-west-1</regionName></item><item><regionName>af-south-1"
          "</regionName><optInStatus>not-opted-in</optInStatus></item></regionInfo></DescribeRegionsResponse>"};
}

std::string Header(const http::Request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

struct Fixture {
  Env env{{{"AWS_REGION", "eu-west-1"},
           {"AWS_ACCESS_KEY_ID", "AKIDHOME"},
           {"AWS_SECRET_ACCESS_KEY", "home-secret"},
           {"AWS_ENDPOINT_URL", "http://127.0.0.1:5000"}}};
  moat::testing::ScriptedTransport transport;
  moat::testing::FakeClock clock{1764547200000};  // 2025-12-01T00:00:00Z
  AwsServices home{transport,
                   aws::AwsEnvironment{env.getter(), [](const std::string&) { return std::nullopt; }, nullptr}, clock};
};

TEST(FleetTest, MembersAreReachedThroughTheirRoleAndADeniedOneIsSkipped) {
  Fixture f;
  f.transport.replies = {Identity(kOwn), Assumed("222222222222", "ASIAMEMBER2", "2025-12-01T01:00:00Z"), Denied()};
  Fleet fleet(f.home, {{"333333333333", "222222222222", kOwn}, "", {"eu-west-1", "us-east-1"}, "moat-member", "x-1"});
  auto places = fleet.Places();
  ASSERT_TRUE(places) << places.error().message;
  ASSERT_EQ(places->size(), 5u);
  EXPECT_EQ((*places)[0].Name(), "111111111111/eu-west-1");
  EXPECT_EQ((*places)[1].Name(), "111111111111/us-east-1");
  EXPECT_EQ((*places)[2].Name(), "222222222222/eu-west-1");
  EXPECT_EQ((*places)[3].Name(), "222222222222/us-east-1");
  const Place& denied = (*places)[4];
  EXPECT_EQ(denied.Name(), "333333333333");
  EXPECT_EQ(denied.aws, nullptr);
  EXPECT_NE(denied.error.find("cannot assume arn:aws:iam::333333333333:role/moat-member: sts AssumeRole"),
            std::string::npos)
      << denied.error;
  EXPECT_NE(denied.error.find("AccessDenied"), std::string::npos);
  // One AssumeRole per member account, signed with the run's own key; the own account assumes nothing.
  EXPECT_EQ(fleet.assumed_roles(), 2);
  ASSERT_EQ(f.transport.seen.size(), 3u);
  EXPECT_NE(f.transport.seen[1].body.find("Action=AssumeRole"), std::string::npos);
  EXPECT_NE(f.transport.seen[1].body.find("ExternalId=x-1"), std::string::npos);
  EXPECT_NE(Header(f.transport.seen[1], "Authorization").find("Credential=AKIDHOME/"), std::string::npos);
  // Each place's services: its region, its account (no STS call), its credentials.
  AwsServices* member = (*places)[3].aws;
  ASSERT_NE(member, nullptr);
  EXPECT_EQ(*member->Region(), "us-east-1");
  EXPECT_EQ(member->Identity()->account, "222222222222");
  f.transport.replies = {Regions()};
  auto ec2 = member->Ec2();
  ASSERT_TRUE(ec2);
  ASSERT_TRUE((*ec2)->DescribeRegions());
  const http::Request& call = f.transport.seen.back();
  EXPECT_NE(Header(call, "Authorization").find("Credential=ASIAMEMBER2/20251201/us-east-1/ec2/"), std::string::npos)
      << Header(call, "Authorization");
  EXPECT_EQ(Header(call, "X-Amz-Security-Token"), "t");
  EXPECT_EQ(f.home.calls().reads(), 4);  // a place's calls count in the run's
}

TEST(FleetTest, AMembersCredentialsAreRenewedBeforeTheyExpire) {
  Fixture f;
  f.transport.replies = {Identity(kOwn), Assumed("222222222222", "ASIAFIRST", "2025-12-01T01:00:00Z")};
  Fleet fleet(f.home, {{"222222222222"}, "", {}, "moat-member", ""});
  auto places = fleet.Places();
  ASSERT_TRUE(places) << places.error().message;
  ASSERT_EQ(places->size(), 1u);
  EXPECT_EQ((*places)[0].Name(), "222222222222/eu-west-1");
  auto ec2 = (*places)[0].aws->Ec2();
  ASSERT_TRUE(ec2);
  f.transport.replies = {Regions()};
  ASSERT_TRUE((*ec2)->DescribeRegions());
  EXPECT_EQ(fleet.assumed_roles(), 1);  // still valid: kept
  f.clock.Advance(std::chrono::minutes(56));
  f.transport.replies = {Assumed("222222222222", "ASIASECOND", "2025-12-01T02:00:00Z"), Regions()};
  ASSERT_TRUE((*ec2)->DescribeRegions());
  EXPECT_EQ(fleet.assumed_roles(), 2);
  EXPECT_NE(Header(f.transport.seen.back(), "Authorization").find("Credential=ASIASECOND/"), std::string::npos);
}

TEST(FleetTest, TheOrganisationsActiveAccountsInEveryEnabledRegion) {
  Fixture f;
  f.transport.replies = {
      Identity(kOwn),
      {200,
       {},
       R"({"Accounts":[{"Id":"444444444444","Name":"closed","Status":"SUSPENDED"},{"Id":"111111111111","Name":"central","Status":"ACTIVE"}]})"},
      Regions()};
  Fleet fleet(f.home, {{"org"}, "", {"all"}, "moat-member", ""});
  auto places = fleet.Places();
  ASSERT_TRUE(places) << places.error().message;
  ASSERT_EQ(places->size(), 3u);
  EXPECT_EQ((*places)[0].Name(), "111111111111/eu-west-1");
  EXPECT_EQ((*places)[1].Name(), "111111111111/us-east-1");
  EXPECT_EQ((*places)[2].Name(), "444444444444");
  EXPECT_EQ((*places)[2].error, "SUSPENDED in the organisation (closed)");
  EXPECT_EQ(fleet.assumed_roles(), 0);
  EXPECT_EQ(Header(f.transport.seen[1], "X-Amz-Target"), "AWSOrganizationsV20161128.ListAccounts");
  EXPECT_NE(Header(f.transport.seen[1], "Authorization").find("/us-east-1/organizations/"), std::string::npos);
}

TEST(FleetTest, AnOrganisationThatCannotBeListedStopsTheRun) {
  Fixture f;
  f.transport.replies = {Identity(kOwn), {400, {}, R"({"__type":"AccessDeniedException","Message":"no"})"}};
  Fleet fleet(f.home, {{"org"}, "", {}, "moat-member", ""});
  auto places = fleet.Places();
  ASSERT_FALSE(places);
  EXPECT_EQ(places.error().message, "--accounts org: organizations ListAccounts: AccessDeniedException: no");
}

TEST(FleetTest, OptionsAreCheckedWithOneLineErrors) {
  const auto check = [](const FleetOptions& o) {
    auto st = CheckFleetOptions(o);
    return st ? std::string() : st.error().message;
  };
  EXPECT_EQ(check({{"111111111111", "222222222222"}, "", {"eu-west-1"}, "moat-member", ""}), "");
  EXPECT_EQ(check({{"org"}, "ou-ab12-cdef3456", {"all"}, "moat-member", "ext"}), "");
  EXPECT_EQ(check({{"11111111111"}, "", {}, "moat-member", ""}),
            "--accounts: expected 12-digit account ids or org, got \"11111111111\"");
  EXPECT_EQ(check({{"org", "111111111111"}, "", {}, "moat-member", ""}),
            "--accounts: org stands alone (every active account of the organisation); got \"org,111111111111\"");
  EXPECT_EQ(check({{"111111111111", "111111111111"}, "", {}, "moat-member", ""}),
            "--accounts: 111111111111 is given twice");
  EXPECT_EQ(check({{"111111111111"}, "ou-1", {}, "moat-member", ""}), "--ou: only with --accounts org");
  EXPECT_EQ(check({{"org"}, "sales", {}, "moat-member", ""}),
            "--ou: expected an organizational unit (ou-…) or root (r-…) id, got \"sales\"");
  EXPECT_EQ(check({{}, "", {"eu-west"}, "moat-member", ""}),
            "--regions: expected region names (eu-west-1) or all, got \"eu-west\"");
  EXPECT_EQ(check({{}, "", {"all", "eu-west-1"}, "moat-member", ""}), "--regions: all stands alone");
  EXPECT_EQ(check({{}, "", {"eu-west-1"}, "role/moat", ""}),
            "--role-name: expected an IAM role name (letters, digits, +=,.@_-), got \"role/moat\"");
  EXPECT_EQ(check({{}, "", {"eu-west-1"}, "moat-member", "x"}), "--external-id: expected 2 to 1224 characters");
  EXPECT_FALSE(FleetOptions{}.Enabled());
}

TEST(FleetTest, PlacedSelectorsAndStateDirectories) {
  auto placed = ParsePlacedSelector("123456789012/eu-west-1/orders-db");
  ASSERT_TRUE(placed);
  EXPECT_EQ(placed->account, "123456789012");
  EXPECT_EQ(placed->region, "eu-west-1");
  EXPECT_EQ(placed->selector, "orders-db");
  auto cluster = ParsePlacedSelector("123456789012/us-east-1/cluster/ledger");
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->selector, "cluster/ledger");
  EXPECT_FALSE(ParsePlacedSelector("orders-db"));
  EXPECT_FALSE(ParsePlacedSelector("cluster/ledger"));
  EXPECT_FALSE(ParsePlacedSelector("tag:team=a/b"));
  EXPECT_FALSE(ParsePlacedSelector("123456789012/orders-db"));
  EXPECT_FALSE(ParsePlacedSelector("123456789012/eu-west-1/"));
  EXPECT_EQ(PlaceStateDir("/var/lib/moat/", "123456789012", "eu-west-1"), "/var/lib/moat/123456789012/eu-west-1");
  EXPECT_EQ(PlaceStateDir("s3://b/moat/state", "123456789012", "eu-west-1"),
            "s3://b/moat/state/123456789012/eu-west-1");
}

}  // namespace
}  // namespace moat::app
