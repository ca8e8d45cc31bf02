#include "aws/query.h"

#include <gtest/gtest.h>

#include "aws/ec2.h"
#include "aws/rds.h"
#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::aws {
namespace {

using moat::testing::ScriptedTransport;

struct Fixture {
  ScriptedTransport transport;
  moat::testing::FakeClock clock{1440938160000};  // 2015-08-30T12:36:00Z
  QueryClient client{{"ec2", "http://127.0.0.1:5000", "us-east-1", kEc2ApiVersion},
                     std::make_shared<StaticCredentials>(Credentials{"AKID", "SECRETKEY", ""}),
                     transport,
                     clock};
};

const char* kError = R"(<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>%s</Code><Message>msg</Message></Error></Errors><RequestID>r</RequestID></Response>)";

http::Response ErrorReply(int status, const std::string& code) {
  char buf[512];
  std::snprintf(buf, sizeof buf, kError, code.c_str());
  return {status, {}, buf};
}

TEST(QueryClientTest, SignsAFormPostWithActionAndVersion) {
  Fixture f;
  f.transport.replies.push_back({200, {}, "<DescribeSecurityGroupsResponse/>"});
  ASSERT_TRUE(f.client.Call("DescribeSecurityGroups", {{"GroupId.1", "sg-1"}}));
  ASSERT_EQ(f.transport.seen.size(), 1u);
  const http::Request& r = f.transport.seen[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.body, "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-1");
  bool auth = false;
  for (const auto& [k, v] : r.headers) {
    if (k == "Authorization") {
      auth = true;
      EXPECT_TRUE(v.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request")) << v;
      EXPECT_EQ(v.find("SECRETKEY"), std::string::npos);
    }
  }
  EXPECT_TRUE(auth);
}

TEST(QueryClientTest, ThrottlingIsRetriedWithBackoffThenGivenUp) {
  Fixture f;
  f.transport.replies = {ErrorReply(503, "RequestLimitExceeded"), ErrorReply(500, "InternalError"), {200, {}, "<ok/>"}};
  ASSERT_TRUE(f.client.Call("DescribeSecurityGroups", {}));
  EXPECT_EQ(f.clock.sleeps().size(), 2u);
  EXPECT_EQ(f.client.requests(), 3);
  Fixture g;
  for (int i = 0; i < 10; ++i) g.transport.replies.push_back(ErrorReply(503, "RequestLimitExceeded"));
  auto r = g.client.Call("AuthorizeSecurityGroupIngress", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_EQ(r.error().message,
            "ec2 AuthorizeSecurityGroupIngress: RequestLimitExceeded: msg (gave up after 6 attempts)");
}

TEST(QueryClientTest, ErrorCodesBecomeWhatTheCallerDoesNext) {
  const std::pair<const char*, ErrorCode> cases[] = {{"InvalidPermission.Duplicate", ErrorCode::kConflict},
                                                     {"InvalidPermission.NotFound", ErrorCode::kNotFound},
                                                     {"InvalidGroup.NotFound", ErrorCode::kNotFound},
                                                     {"AuthFailure", ErrorCode::kDenied},
                                                     {"UnauthorizedOperation", ErrorCode::kDenied},
                                                     {"RulesPerSecurityGroupLimitExceeded", ErrorCode::kInvalidInput}};
  for (const auto& [code, want] : cases) {
    Fixture f;
    f.transport.replies.push_back(ErrorReply(400, code));
    auto r = f.client.Call("X", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, want) << code;
    EXPECT_EQ(r.error().message, std::string("ec2 X: ") + code + ": msg");
    EXPECT_EQ(f.client.requests(), 1) << code;
  }
  Fixture rds_style;  // <ErrorResponse><Error>... as RDS and moto's auth failures answer
  rds_style.transport.replies.push_back(
      {403,
       {},
       "<ErrorResponse "
       "xmlns=\"x\"><Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error></ErrorResponse>"});
  EXPECT_EQ(rds_style.client.Call("X", {}).error().code, ErrorCode::kDenied);
}

TEST(Ec2Test, ParsesGroupsTagsAndRulesAndFollowsNextToken) {
  Fixture f;
  f.transport.replies.push_back(
      {200, {}, R"(<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<securityGroupInfo><item><groupId>sg-1</groupId><groupName>moat-orders-db-1</groupName><vpcId>vpc-1</vpcId>
<groupDescription>d</groupDescription>
<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>5432</fromPort><toPort>5432</toPort>
<groups/><ipRanges><item><cidrIp>10.0.1.20/31</cidrIp><description>rule 61</description></item></ipRanges>
<ipv6Ranges><item><cidrIpv6>2001:db8::/64</cidrIpv6></item></ipv6Ranges></item>
<item><ipProtocol>-1</ipProtocol><groups><item><groupId>sg-9</groupId></item></groups></item></ipPermissions>
<ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissionsEgress>
<tagSet><item><key>moat:managed</key><value>true</value></item></tagSet></item></securityGroupInfo>
<nextToken>page2</nextToken></DescribeSecurityGroupsResponse>)"});
  f.transport.replies.push_back(
      {200,
       {},
       R"(<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>sg-2</groupId></item></securityGroupInfo></DescribeSecurityGroupsResponse>)"});
  Ec2 ec2(f.client);
  auto groups = ec2.DescribeSecurityGroups({{"tag:moat:managed", {"true"}}});
  ASSERT_TRUE(groups) << groups.error().message;
  ASSERT_EQ(groups->size(), 2u);
  const SecurityGroup& g = (*groups)[0];
  EXPECT_EQ(g.id, "sg-1");
  EXPECT_EQ(g.tags.at("moat:managed"), "true");
  ASSERT_EQ(g.ingress.size(), 2u);  // egress is not ingress
  EXPECT_EQ(g.ingress[0].protocol, 6);
  EXPECT_EQ(g.ingress[0].from_port, 5432);
  EXPECT_EQ(net::ToString(g.ingress[0].cidr), "10.0.1.20/31");
  EXPECT_EQ(g.ingress[0].description, "rule 61");
  EXPECT_EQ(net::ToString(g.ingress[1].cidr), "2001:db8::/64");
  EXPECT_EQ(g.other_ingress, 1);
  EXPECT_NE(f.transport.seen[0].body.find("Filter.1.Name=tag%3Amoat%3Amanaged&Filter.1.Value.1=true"),
            std::string::npos);
  EXPECT_NE(f.transport.seen[1].body.find("NextToken=page2"), std::string::npos);
}

TEST(Ec2Test, AMalformedNumberInAnAnswerIsInvalidInputNamingTheField) {
  Fixture f;
  f.transport.replies.push_back({200, {}, R"(<DescribeSecurityGroupsResponse><securityGroupInfo><item>
<groupId>sg-1</groupId><ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>12abc</fromPort><toPort>12</toPort>
<ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item></ipPermissions></item></securityGroupInfo>
</DescribeSecurityGroupsResponse>)"});
  Ec2 ec2(f.client);
  auto groups = ec2.DescribeSecurityGroups({});
  ASSERT_FALSE(groups);
  EXPECT_EQ(groups.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(groups.error().message, "ec2 DescribeSecurityGroups: fromPort: not an integer in [-1, 65535]: \"12abc\"");
  Fixture g;
  g.transport.replies.push_back({200, {}, R"(<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances>
<DBInstance><DBInstanceIdentifier>orders-db</DBInstanceIdentifier><Endpoint><Address>a</Address><Port>+5432</Port>
</Endpoint></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>)"});
  Rds rds(g.client);
  auto dbs = rds.DescribeInstances();
  ASSERT_FALSE(dbs);
  EXPECT_EQ(dbs.error().message, "rds DescribeDBInstances: Port: not an integer in [0, 65535]: \"+5432\"");
}

TEST(Ec2Test, AuthorizeSendsTheWireNamesOfBothFamilies) {
  Fixture f;
  f.transport.replies.push_back(
      {200,
       {},
       "<AuthorizeSecurityGroupIngressResponse><return>true</return></AuthorizeSecurityGroupIngressResponse>"});
  Ec2 ec2(f.client);
  ASSERT_TRUE(ec2.AuthorizeIngress("sg-1", {{6, 5432, 5432, *net::ParsePrefix("10.0.1.20/31"), "moat rule 61"},
                                            {-1, -1, -1, *net::ParsePrefix("2001:db8::/64"), ""}}));
  EXPECT_EQ(
      f.transport.seen[0].body,
      "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&"
      "IpPermissions.1.FromPort=5432&IpPermissions.1.ToPort=5432&IpPermissions.1.IpRanges.1.CidrIp=10.0.1.20%2F31&"
      "IpPermissions.1.IpRanges.1.Description=moat+rule+61&IpPermissions.2.IpProtocol=-1&"
      "IpPermissions.2.Ipv6Ranges.1.CidrIpv6=2001%3Adb8%3A%3A%2F64");
}

TEST(RdsTest, ClustersAreDescribedAndModifiedAsClusters) {
  Fixture f;
  f.transport.replies.push_back({200, {}, R"(<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters>
<DBCluster><DBClusterIdentifier>orders</DBClusterIdentifier><Endpoint>orders.cluster-x.rds.amazonaws.com</Endpoint>
<Port>5432</Port><Status>available</Status><VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId>
</VpcSecurityGroupMembership></VpcSecurityGroups><TagList><Tag><Key>team</Key><Value>a</Value></Tag></TagList></DBCluster>
</DBClusters></DescribeDBClustersResult></DescribeDBClustersResponse>)"});
  f.transport.replies.push_back({200, {}, "<ModifyDBClusterResponse/>"});
  Rds rds(f.client);
  auto clusters = rds.DescribeClusters();
  ASSERT_TRUE(clusters) << clusters.error().message;
  ASSERT_EQ(clusters->size(), 1u);
  const Database& c = (*clusters)[0];
  EXPECT_TRUE(c.cluster);
  EXPECT_EQ(c.endpoint, "orders.cluster-x.rds.amazonaws.com");
  EXPECT_EQ(c.security_groups, std::vector<std::string>{"sg-1"});
  ASSERT_TRUE(rds.SetSecurityGroups(c, {"sg-1", "sg-2"}));
  EXPECT_EQ(f.transport.seen[1].body,
            "Action=ModifyDBCluster&Version=2016-11-15&DBClusterIdentifier=orders&ApplyImmediately=true&"
            "VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2");
}

}  // namespace
}  // namespace moat::aws
