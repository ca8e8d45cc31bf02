// Integration tests of the EC2 client against moto_server on loopback, with signature checking
// on: a wrong secret is refused; groups are created with tags, found by tag, and their ingress
// rules authorized and revoked, Duplicate and NotFound classified as converged.
#include <gtest/gtest.h>

#include <ctime>

#include "aws/ec2.h"
#include "aws/rds.h"
#include "moto.h"

namespace moat::integration {
namespace {

class Ec2MotoTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(moto_.ok()) << moto_.error(); }
  aws::QueryClient Client(const std::string& secret) {
    const aws::Credentials creds{moto_.access_key_id(), secret, ""};
    return aws::QueryClient({"ec2", moto_.url(), "us-east-1", aws::kEc2ApiVersion},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  }
  MotoServer moto_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
};

aws::IngressRule Rule(int port, const char* cidr, const char* description = "") {
  return {6, port, port, *net::ParsePrefix(cidr), description};
}

TEST_F(Ec2MotoTest, WrongSecretIsRefused) {
  auto client = Client("not-the-secret");
  aws::Ec2 ec2(client);
  auto r = ec2.DescribeSecurityGroups({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDenied);
  EXPECT_TRUE(r.error().message.starts_with("ec2 DescribeSecurityGroups: AuthFailure")) << r.error().message;
  EXPECT_EQ(r.error().message.find("not-the-secret"), std::string::npos);
}

TEST_F(Ec2MotoTest, ManagedGroupLifecycle) {
  auto client = Client(moto_.secret_access_key());
  aws::Ec2 ec2(client);
  auto id = ec2.CreateSecurityGroup("moat-orders-db-1", "moat: orders-db", moto_.vpc_id(),
                                    {{"moat:managed", "true"}, {"moat:target", "orders-db"}});
  ASSERT_TRUE(id) << id.error().message;
  auto found = ec2.DescribeSecurityGroups({{"tag:moat:target", {"orders-db"}}});
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, *id);
  EXPECT_EQ((*found)[0].tags.at("moat:managed"), "true");
  EXPECT_TRUE((*found)[0].ingress.empty());

  const std::vector<aws::IngressRule> rules = {Rule(5432, "10.0.1.20/31", "rule 61"), Rule(5432, "192.168.50.0/25"),
                                               Rule(5432, "2001:db8:1::/64")};
  ASSERT_TRUE(ec2.AuthorizeIngress(*id, rules));
  auto again = ec2.AuthorizeIngress(*id, {rules[0]});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict) << again.error().message;

  auto described = ec2.DescribeSecurityGroups({}, {*id});
  ASSERT_TRUE(described) << described.error().message;
  ASSERT_EQ(described->size(), 1u);
  const auto& ingress = (*described)[0].ingress;
  ASSERT_EQ(ingress.size(), 3u);
  for (const auto& r : rules)
    EXPECT_NE(std::find(ingress.begin(), ingress.end(), r), ingress.end()) << net::ToString(r.cidr);

  ASSERT_TRUE(ec2.RevokeIngress(*id, {rules[1]}));
  auto gone = ec2.RevokeIngress(*id, {rules[1]});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound) << gone.error().message;
  EXPECT_EQ((*ec2.DescribeSecurityGroups({}, {*id}))[0].ingress.size(), 2u);
}

TEST_F(Ec2MotoTest, DatabaseIsDescribedAndMovedOntoManagedGroups) {
  auto ec2_client = Client(moto_.secret_access_key());
  aws::Ec2 ec2(ec2_client);
  auto managed = ec2.CreateSecurityGroup("moat-orders-db-1", "moat: orders-db", moto_.vpc_id(),
                                         {{"moat:managed", "true"}, {"moat:target", "orders-db"}});
  ASSERT_TRUE(managed) << managed.error().message;
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::QueryClient rds_client({"rds", moto_.url(), "us-east-1", aws::kRdsApiVersion},
                              std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  aws::Rds rds(rds_client);
  auto dbs = rds.DescribeInstances("orders-db");
  ASSERT_TRUE(dbs) << dbs.error().message;
  ASSERT_EQ(dbs->size(), 1u);
  const aws::Database db = (*dbs)[0];
  EXPECT_EQ(db.id, "orders-db");
  EXPECT_FALSE(db.endpoint.empty());
  EXPECT_EQ(db.port, 5432);
  EXPECT_EQ(db.security_groups, std::vector<std::string>{moto_.db_group()});
  EXPECT_EQ(db.tags.at("team"), "payments");
  // The list replaces the whole set: make-before-break sends the old group and the new one.
  ASSERT_TRUE(rds.SetSecurityGroups(db, {moto_.db_group(), *managed}));
  EXPECT_EQ((*rds.DescribeInstances("orders-db"))[0].security_groups,
            (std::vector<std::string>{moto_.db_group(), *managed}));
  ASSERT_TRUE(rds.SetSecurityGroups(db, {*managed}));
  EXPECT_EQ((*rds.DescribeInstances("orders-db"))[0].security_groups, std::vector<std::string>{*managed});
  auto missing = rds.DescribeInstances("no-such-db");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound) << missing.error().message;
}

TEST_F(Ec2MotoTest, RuleDescriptionsTagsAndNetworkInterfaces) {
  auto client = Client(moto_.secret_access_key());
  aws::Ec2 ec2(client);
  auto id = ec2.CreateSecurityGroup("moat-orders-db-1", "moat: orders-db", moto_.vpc_id(), {});
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(ec2.AuthorizeIngress(*id, {Rule(5432, "10.0.1.20/32", "old"), Rule(5432, "2001:db8::/64", "old")}));
  auto rules = ec2.DescribeIngressRules(*id);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 2u);  // the egress rule moto adds is left out
  EXPECT_TRUE((*rules)[0].id.starts_with("sgr-"));
  std::vector<aws::IdentifiedRule> changed = *rules;
  for (auto& r : changed) r.rule.description = "moat /orgs/1/sec_policy/active/rule_sets/24/sec_rules/61";
  ASSERT_TRUE(ec2.SetRuleDescriptions(*id, changed));
  auto described = ec2.DescribeSecurityGroups({}, {*id});
  ASSERT_TRUE(described);
  for (const auto& r : (*described)[0].ingress) {
    EXPECT_EQ(r.description, "moat /orgs/1/sec_policy/active/rule_sets/24/sec_rules/61") << net::ToString(r.cidr);
  }

  ASSERT_TRUE(ec2.CreateTags({*id}, {{"moat:managed", "true"}, {"moat:target", "orders-db"}}));
  auto tagged = ec2.DescribeSecurityGroups({{"tag:moat:target", {"orders-db"}}});
  ASSERT_TRUE(tagged);
  ASSERT_EQ(tagged->size(), 1u);
  EXPECT_EQ((*tagged)[0].id, *id);

  auto enis = ec2.DescribeNetworkInterfaces({{"description", {"RDSNetworkInterface"}}, {"vpc-id", {moto_.vpc_id()}}});
  ASSERT_TRUE(enis) << enis.error().message;
  ASSERT_EQ(enis->size(), 2u);  // the stand-ins of orders-db and of the ledger cluster
  const auto& orders = (*enis)[0].security_groups[0] == moto_.db_group() ? (*enis)[0] : (*enis)[1];
  EXPECT_EQ(orders.private_addresses, std::vector<std::string>{"10.0.2.45"});
  EXPECT_EQ(orders.security_groups, std::vector<std::string>{moto_.db_group()});
  EXPECT_EQ(orders.vpc_id, moto_.vpc_id());
}

}  // namespace
}  // namespace moat::integration
