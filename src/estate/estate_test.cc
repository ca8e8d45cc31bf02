#include "estate/estate.h"

#include <gtest/gtest.h>

namespace moat::estate {
namespace {

aws::Database Db(const std::string& id, bool cluster, std::map<std::string, std::string> tags = {}) {
  aws::Database d;
  d.id = id;
  d.cluster = cluster;
  d.tags = std::move(tags);
  return d;
}

TEST(EstateTest, SelectorsNameDatabasesByIdClusterOrTag) {
  const std::vector<aws::Database> dbs = {Db("orders-db", false, {{"team", "orders"}}), Db("ledger", true),
                                          Db("ledger", false, {{"team", "finance"}})};
  struct Case {
    std::vector<std::string> selectors;
    std::vector<std::string> chosen;  // TargetIds
    size_t errors;
  };
  const std::vector<Case> cases = {
      {{}, {"orders-db", "cluster/ledger", "ledger"}, 0},
      {{"orders-db"}, {"orders-db"}, 0},
      {{"cluster/ledger"}, {"cluster/ledger"}, 0},
      {{"ledger"}, {"cluster/ledger", "ledger"}, 0},  // a bare identifier names both kinds
      {{"cluster/ledger", "ledger"}, {"cluster/ledger", "ledger"}, 0},
      {{"tag:team"}, {"orders-db", "ledger"}, 0},
      {{"tag:team=finance", "orders-db", "tag:team=orders"}, {"ledger", "orders-db"}, 0},  // chosen once
      {{"orders-db", "typo-db"}, {"orders-db"}, 1},
      {{"tag:team="}, {}, 1},
  };
  for (const Case& c : cases) {
    std::vector<std::string> errors;
    std::vector<std::string> ids;
    for (const aws::Database* d : Choose(dbs, c.selectors, errors)) ids.push_back(TargetId(*d));
    EXPECT_EQ(ids, c.chosen) << ::testing::PrintToString(c.selectors);
    EXPECT_EQ(errors.size(), c.errors) << ::testing::PrintToString(c.selectors);
  }
  std::vector<std::string> errors;
  (void)Choose(dbs, {"typo-db"}, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "--target typo-db: no RDS instance or Aurora cluster has that identifier or tag");
}

TEST(EstateTest, TheVpcComesFromTheDatabaseElseAReadableGroup) {
  Estate e;
  aws::SecurityGroup g;
  g.id = "sg-1";
  g.name = "legacy";
  g.vpc_id = "vpc-9";
  e.foreign.push_back(g);
  e.groups_by_id["sg-1"] = &e.foreign[0];
  aws::Database db = Db("orders-db", false);
  db.security_groups = {"sg-unknown", "sg-1"};
  EXPECT_EQ(e.VpcOf(db), "vpc-9");
  db.vpc_id = "vpc-1";
  EXPECT_EQ(e.VpcOf(db), "vpc-1");
  db.security_groups = {"sg-unknown"};
  db.vpc_id.clear();
  EXPECT_EQ(e.VpcOf(db), "");
  EXPECT_EQ(e.GroupName("sg-1"), "legacy");
  EXPECT_EQ(e.GroupName("sg-unknown"), "");
  EXPECT_TRUE(e.groups_by_id.count("sg-unknown") == 0);  // looking up adds nothing
}

TEST(EstateTest, ADatabasesInterfacesAreThoseOfItsVpcThatHoldItsAddress) {
  const auto eni = [](const char* id, const char* vpc, std::vector<std::string> addresses) {
    aws::NetworkInterface n;
    n.id = id;
    n.vpc_id = vpc;
    n.private_addresses = std::move(addresses);
    return n;
  };
  const std::vector<aws::NetworkInterface> all = {
      eni("eni-1", "vpc-1", {"10.0.2.45"}), eni("eni-2", "vpc-2", {"10.0.2.45"}),  // another VPC, same range
      eni("eni-3", "vpc-1", {"10.0.2.46", "10.0.2.45"}), eni("eni-4", "vpc-1", {"10.0.2.47"})};
  EXPECT_EQ(RdsInterfacesOf({"10.0.2.45"}, "vpc-1", all), (std::vector<std::string>{"eni-1", "eni-3"}));
  EXPECT_EQ(RdsInterfacesOf({"10.0.2.45"}, "vpc-2", all), std::vector<std::string>{"eni-2"});
  EXPECT_EQ(RdsInterfacesOf({"10.0.2.45"}, "", all), (std::vector<std::string>{"eni-1", "eni-2", "eni-3"}));
  EXPECT_TRUE(RdsInterfacesOf({}, "vpc-1", all).empty());
}

}  // namespace
}  // namespace moat::estate
