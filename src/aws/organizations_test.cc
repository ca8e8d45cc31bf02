#include "aws/organizations.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::aws {
namespace {

struct Fixture {
  moat::testing::ScriptedTransport transport;
  moat::testing::FakeClock clock{1440938160000};
  SignedClient client{{"organizations", "http://127.0.0.1:5000", "us-east-1"},
                      std::make_shared<StaticCredentials>(Credentials{"AKID", "SECRETKEY", ""}),
                      transport,
                      clock};
};

std::string Header(const http::Request& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(OrganizationsTest, ListAccountsReadsEveryPage) {
  Fixture f;
  f.transport.replies.push_back(
      {200,
       {},
       R"({"Accounts":[{"Id":"111122223333","Name":"orders","Status":"ACTIVE","Arn":"a","Email":"e"}],"NextToken":"p2"})"});
  f.transport.replies.push_back({200, {}, R"({"Accounts":[{"Id":"444455556666","Name":"old","Status":"SUSPENDED"}]})"});
  auto accounts = ListOrgAccounts(f.client);
  ASSERT_TRUE(accounts) << accounts.error().message;
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ((*accounts)[0].id, "111122223333");
  EXPECT_EQ((*accounts)[0].status, "ACTIVE");
  EXPECT_EQ((*accounts)[1].status, "SUSPENDED");
  ASSERT_EQ(f.transport.seen.size(), 2u);
  EXPECT_EQ(Header(f.transport.seen[0], "X-Amz-Target"), "AWSOrganizationsV20161128.ListAccounts");
  EXPECT_EQ(f.transport.seen[0].body, "{}");
  EXPECT_EQ(f.transport.seen[1].body, R"({"NextToken":"p2"})");
}

TEST(OrganizationsTest, AnOuIsWalkedWithItsNestedUnits) {
  Fixture f;
  f.transport.replies.push_back({200, {}, R"({"Accounts":[{"Id":"111122223333","Status":"ACTIVE"}]})"});
  f.transport.replies.push_back({200, {}, R"({"OrganizationalUnits":[{"Id":"ou-root-child"}]})"});
  f.transport.replies.push_back({200, {}, R"({"Accounts":[{"Id":"222233334444","Status":"ACTIVE"}]})"});
  f.transport.replies.push_back({200, {}, R"({"OrganizationalUnits":[]})"});
  auto accounts = ListOrgAccountsUnder(f.client, "ou-root-parent");
  ASSERT_TRUE(accounts) << accounts.error().message;
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ((*accounts)[1].id, "222233334444");
  EXPECT_EQ(f.transport.seen[0].body, R"({"ParentId":"ou-root-parent"})");
  EXPECT_EQ(Header(f.transport.seen[1], "X-Amz-Target"), "AWSOrganizationsV20161128.ListOrganizationalUnitsForParent");
  EXPECT_EQ(f.transport.seen[2].body, R"({"ParentId":"ou-root-child"})");
}

TEST(OrganizationsTest, RefusalsAndBadAnswersAreOneLineErrors) {
  Fixture f;
  f.transport.replies.push_back(
      {400,
       {},
       R"({"__type":"AccessDeniedException","Message":"You don't have permissions to access this resource."})"});
  auto denied = ListOrgAccounts(f.client);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ErrorCode::kDenied);
  EXPECT_EQ(denied.error().message,
            "organizations ListAccounts: AccessDeniedException: You don't have permissions to access this resource.");
  f.transport.replies.push_back({200, {}, R"({"Accounts":[{"Id":"12","Status":"ACTIVE"}]})"});
  auto bad_id = ListOrgAccounts(f.client);
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().message, "organizations ListAccounts: an account without a 12-digit Id");
  f.transport.replies.push_back({200, {}, "<html>"});
  auto html = ListOrgAccounts(f.client);
  ASSERT_FALSE(html);
  EXPECT_EQ(html.error().message, "organizations ListAccounts: the answer is not JSON with Accounts[]");
  f.transport.replies.push_back({200, {}, R"({"Accounts":[],"NextToken":"same"})"});
  f.transport.replies.push_back({200, {}, R"({"Accounts":[],"NextToken":"same"})"});
  auto loop = ListOrgAccounts(f.client);
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().message, "organizations ListAccounts: the same NextToken came twice");
}

}  // namespace
}  // namespace moat::aws
