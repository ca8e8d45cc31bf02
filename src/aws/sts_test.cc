#include "aws/sts.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::aws {
namespace {

struct Fixture {
  moat::testing::ScriptedTransport transport;
  moat::testing::FakeClock clock{1440938160000};
  QueryClient client{{"sts", "http://127.0.0.1:5000", "eu-west-1", kStsApiVersion},
                     std::make_shared<StaticCredentials>(Credentials{"AKID", "SECRETKEY", ""}),
                     transport,
                     clock};
};

TEST(StsTest, CallerIdentityNamesTheAccountAndIsOnePost) {
  Fixture f;
  f.transport.replies.push_back({200,
                                 {},
                                 R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult><Arn>arn:aws:iam::444455556666:user/ops</Arn><UserId>AIDA</UserId>
  <Account>444455556666</Account></GetCallerIdentityResult></GetCallerIdentityResponse>)"});
  auto who = GetCallerIdentity(f.client);
  ASSERT_TRUE(who) << who.error().message;
  EXPECT_EQ(who->account, "444455556666");
  EXPECT_EQ(who->arn, "arn:aws:iam::444455556666:user/ops");
  ASSERT_EQ(f.transport.seen.size(), 1u);
  EXPECT_EQ(f.transport.seen[0].body, "Action=GetCallerIdentity&Version=2011-06-15");
}

TEST(StsTest, AnAnswerWithoutAnAccountIsAnError) {
  Fixture f;
  f.transport.replies.push_back({200, {}, "<GetCallerIdentityResponse/>"});
  auto who = GetCallerIdentity(f.client);
  ASSERT_FALSE(who);
  EXPECT_EQ(who.error().message, "sts GetCallerIdentity: the answer names no account");
}

TEST(StsTest, AssumeRoleGivesTheRolesCredentialsAndAccount) {
  Fixture f;
  f.transport.replies.push_back({200,
                                 {},
                                 R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA:moat</AssumedRoleId>
  <Arn>arn:aws:sts::111122223333:assumed-role/moat-member/moat</Arn></AssumedRoleUser>
  <Credentials><AccessKeyId>ASIAMEMBER</AccessKeyId><SecretAccessKey>member-secret</SecretAccessKey>
  <SessionToken>token</SessionToken><Expiration>2015-08-30T13:36:00Z</Expiration></Credentials>
  </AssumeRoleResult></AssumeRoleResponse>)"});
  auto role = AssumeRole(f.client, {RoleArn("eu-west-1", "111122223333", "moat-member"), "moat", "ext-1", 3600});
  ASSERT_TRUE(role) << role.error().message;
  EXPECT_EQ(role->account, "111122223333");
  EXPECT_EQ(role->credentials.access_key_id, "ASIAMEMBER");
  EXPECT_EQ(role->credentials.session_token, "token");
  EXPECT_EQ(role->credentials.expiration, 1440941760);
  ASSERT_EQ(f.transport.seen.size(), 1u);
  EXPECT_EQ(f.transport.seen[0].body,
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fmoat-member&"
            "RoleSessionName=moat&DurationSeconds=3600&ExternalId=ext-1");
}

TEST(StsTest, AssumeRoleRefusedIsADeniedErrorNamingTheRole) {
  Fixture f;
  f.transport.replies.push_back({403,
                                 {},
                                 "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not authorized to perform "
                                 "sts:AssumeRole</Message></Error></ErrorResponse>"});
  auto role = AssumeRole(f.client, {RoleArn("us-east-1", "111122223333", "moat-member"), "moat", "", 3600});
  ASSERT_FALSE(role);
  EXPECT_EQ(role.error().code, ErrorCode::kDenied);
  EXPECT_NE(role.error().message.find("AccessDenied"), std::string::npos) << role.error().message;
  EXPECT_EQ(f.transport.seen[0].body.find("ExternalId"), std::string::npos);
}

TEST(StsTest, AnAssumeRoleAnswerWithoutCredentialsOrExpiryIsAnError) {
  Fixture f;
  f.transport.replies.push_back({200, {}, "<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>"});
  f.transport.replies.push_back(
      {200,
       {},
       "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
       "</SecretAccessKey><SessionToken>T</SessionToken><Expiration>soon</Expiration></Credentials>"
       "</AssumeRoleResult></AssumeRoleResponse>"});
  const AssumeRoleRequest req{RoleArn("us-east-1", "111122223333", "r"), "moat", "", 900};
  auto none = AssumeRole(f.client, req);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "sts AssumeRole arn:aws:iam::111122223333:role/r: the answer carries no complete credentials");
  auto soon = AssumeRole(f.client, req);
  ASSERT_FALSE(soon);
  EXPECT_EQ(soon.error().message,
            "sts AssumeRole arn:aws:iam::111122223333:role/r: Expiration: not a UTC time: \"soon\"");
}

TEST(StsTest, RoleArnsFollowTheRegionsPartition) {
  EXPECT_EQ(RoleArn("eu-west-1", "111122223333", "moat-member"), "arn:aws:iam::111122223333:role/moat-member");
  EXPECT_EQ(RoleArn("cn-north-1", "111122223333", "m"), "arn:aws-cn:iam::111122223333:role/m");
  EXPECT_EQ(RoleArn("us-gov-west-1", "111122223333", "m"), "arn:aws-us-gov:iam::111122223333:role/m");
}

}  // namespace
}  // namespace moat::aws
