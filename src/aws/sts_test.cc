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

}  // namespace
}  // namespace moat::aws
