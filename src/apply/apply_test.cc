#include "apply/apply.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::apply {
namespace {

http::Response Ok(const std::string& body) { return {200, {}, body}; }
http::Response Ec2Error(const std::string& code) {
  return {
      400, {}, "<Response><Errors><Error><Code>" + code + "</Code><Message>m</Message></Error></Errors></Response>"};
}

plan::SgRule R(int port, const char* cidr, bool drift = false) {
  plan::SgRule r{6, port, port, *net::ParsePrefix(cidr), "moat r1"};
  r.drift = drift;
  return r;
}

std::string ActionOf(const http::Request& r) {
  const size_t start = r.body.find("Action=") + 7;
  return r.body.substr(start, r.body.find('&', start) - start);
}

class ApplyTest : public ::testing::Test {
 protected:
  aws::QueryClient Client(const char* service) {
    return aws::QueryClient({service, "http://127.0.0.1:1", "us-east-1", "v"},
                            std::make_shared<aws::StaticCredentials>(aws::Credentials{"AKID", "SECRET", ""}),
                            transport_, clock_);
  }
  std::vector<std::string> Actions() const {
    std::vector<std::string> out;
    for (const auto& r : transport_.seen) out.push_back(ActionOf(r));
    return out;
  }
  testing::ScriptedTransport transport_;
  testing::FakeClock clock_;
  aws::QueryClient ec2_client_ = Client("ec2");
  aws::QueryClient rds_client_ = Client("rds");
  aws::Ec2 ec2_{ec2_client_};
  aws::Rds rds_{rds_client_};
  MemoryAuditLog audit_;
  Env env_{&ec2_, &rds_, &audit_, &clock_, nullptr, nullptr};
};

TEST_F(ApplyTest, FirstApplyIsMakeBeforeBreak) {
  TargetWork w;
  w.db.id = "orders-db";
  w.vpc_id = "vpc-1";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"", "moat-orders-db-1", 1, true, {R(5432, "10.0.1.20/32")}, {}, {}});
  w.plan.attach = {"moat-orders-db-1"};
  w.plan.detach = {"sg-legacy"};
  w.groups.push_back({"", "moat-orders-db-1", 1, {R(5432, "10.0.1.20/32")}});
  transport_.replies = {Ok("<CreateSecurityGroupResponse><groupId>sg-new</groupId></CreateSecurityGroupResponse>"),
                        Ok("<AuthorizeSecurityGroupIngressResponse><return>true</return></"
                           "AuthorizeSecurityGroupIngressResponse>"),
                        Ok("<ModifyDBInstanceResponse/>")};
  auto out = ApplyTarget(w, env_);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(Actions(),
            (std::vector<std::string>{"CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "ModifyDBInstance"}));
  EXPECT_EQ(out->writes, 3);
  EXPECT_EQ(out->attached, std::vector<std::string>{"sg-new"});
  // The new list holds the new group only; the legacy group goes in the same call.
  EXPECT_NE(transport_.seen[2].body.find("VpcSecurityGroupId.1=sg-new"), std::string::npos);
  EXPECT_EQ(transport_.seen[2].body.find("sg-legacy"), std::string::npos);
  ASSERT_EQ(audit_.entries.size(), 4u);
  EXPECT_EQ(audit_.entries[0].change, "create-group");
  EXPECT_EQ(audit_.entries[1].rule, "tcp 5432 from 10.0.1.20/32");
  EXPECT_EQ(audit_.entries[3].change, "detach");
  EXPECT_EQ(audit_.entries[3].group, "sg-legacy");
}

TEST_F(ApplyTest, DuplicateAndNotFoundAreConverged) {
  TargetWork w;
  w.db.id = "orders-db";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"sg-m1",
                           "moat-orders-db-1",
                           1,
                           false,
                           {R(5432, "10.0.1.20/32"), R(5432, "10.0.1.21/32")},
                           {R(22, "0.0.0.0/0", true)},
                           {}});
  w.groups.push_back({"sg-m1", "moat-orders-db-1", 1, {}});
  // The rogue rule goes first (revoke: already gone), then the rules in (one already there).
  transport_.replies = {Ec2Error("InvalidPermission.NotFound"), Ec2Error("InvalidPermission.NotFound"),
                        Ec2Error("InvalidPermission.Duplicate"), Ec2Error("InvalidPermission.Duplicate"),
                        Ok("<AuthorizeSecurityGroupIngressResponse/>")};
  auto out = ApplyTarget(w, env_);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(Actions(), (std::vector<std::string>{"RevokeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                                                 "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress",
                                                 "AuthorizeSecurityGroupIngress"}));
  EXPECT_EQ(out->converged, 2);
  ASSERT_EQ(audit_.entries.size(), 3u);
  EXPECT_TRUE(audit_.entries[0].drift);
  EXPECT_EQ(audit_.entries[0].change, "revoke");
  EXPECT_NE(AuditLine(audit_.entries[0]).find("\"reason\":\"drift\""), std::string::npos);
  EXPECT_TRUE(audit_.entries[1].converged);
  EXPECT_FALSE(audit_.entries[2].converged);
}

TEST_F(ApplyTest, RogueRulesAreRevokedEvenWhenTheAttachmentFails) {
  TargetWork w;
  w.db.id = "orders-db";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"sg-m1", "moat-orders-db-1", 1, false, {}, {R(5432, "0.0.0.0/0", true)}, {}, 1});
  w.plan.detach = {"sg-rogue"};
  w.plan.drift = {"sg-rogue"};
  w.groups.push_back({"sg-m1", "moat-orders-db-1", 1, {}});
  const std::string rules =
      "<DescribeSecurityGroupRulesResponse><securityGroupRuleSet><item><securityGroupRuleId>sgr-1"
      "</securityGroupRuleId><groupId>sg-m1</groupId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol>"
      "<fromPort>5432</fromPort><toPort>5432</toPort><referencedGroupInfo><groupId>sg-any</groupId>"
      "</referencedGroupInfo></item></securityGroupRuleSet></DescribeSecurityGroupRulesResponse>";
  transport_.replies = {Ok(rules),
                        Ok("<RevokeSecurityGroupIngressResponse/>"),
                        Ok("<RevokeSecurityGroupIngressResponse/>"),
                        {400,
                         {},
                         "<ErrorResponse><Error><Code>InvalidDBInstanceState</Code><Message>modifying"
                         "</Message></Error></ErrorResponse>"}};
  auto out = ApplyTarget(w, env_);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("InvalidDBInstanceState"), std::string::npos) << out.error().message;
  EXPECT_EQ(Actions(), (std::vector<std::string>{"DescribeSecurityGroupRules", "RevokeSecurityGroupIngress",
                                                 "RevokeSecurityGroupIngress", "ModifyDBInstance"}));
  ASSERT_EQ(audit_.entries.size(), 2u);
  EXPECT_EQ(audit_.entries[1].rule, "tcp 5432 from 0.0.0.0/0");
}

TEST_F(ApplyTest, MoatsTagsAreRestoredFirstAsDrift) {
  TargetWork w;
  w.db.id = "orders-db";
  w.plan.target = "orders-db";
  plan::GroupChange g{"sg-m1", "moat-orders-db-1", 1, false, {}, {}, {}};
  g.retag = true;
  w.plan.groups.push_back(g);
  w.groups.push_back({"sg-m1", "moat-orders-db-1", 1, {}});
  transport_.replies = {Ok("<CreateTagsResponse/>")};
  auto out = ApplyTarget(w, env_);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(Actions(), std::vector<std::string>{"CreateTags"});
  EXPECT_NE(transport_.seen[0].body.find("Tag.1.Key=moat%3Amanaged"), std::string::npos) << transport_.seen[0].body;
  ASSERT_EQ(audit_.entries.size(), 1u);
  EXPECT_EQ(audit_.entries[0].change, "retag");
  EXPECT_TRUE(audit_.entries[0].drift);
}

TEST_F(ApplyTest, OtherErrorsStopTheTargetAndNameIt) {
  TargetWork w;
  w.db.id = "orders-db";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"sg-m1", "moat-orders-db-1", 1, false, {R(5432, "10.0.1.20/32")}, {R(22, "0.0.0.0/0")}, {}});
  w.groups.push_back({"sg-m1", "moat-orders-db-1", 1, {}});
  transport_.replies = {Ec2Error("RulesPerSecurityGroupLimitExceeded")};
  auto out = ApplyTarget(w, env_);
  ASSERT_FALSE(out);
  EXPECT_EQ(
      out.error().message,
      "orders-db: group moat-orders-db-1: ec2 AuthorizeSecurityGroupIngress: RulesPerSecurityGroupLimitExceeded: m");
  EXPECT_EQ(transport_.seen.size(), 1u);  // nothing revoked after a failed authorize
}

TEST_F(ApplyTest, ClusterIsModifiedAsACluster) {
  TargetWork w;
  w.db.id = "ledger";
  w.db.cluster = true;
  w.plan.target = "cluster/ledger";
  w.plan.groups.push_back({"sg-m1", "moat-cluster-ledger-1", 1, false, {}, {}, {}});
  w.plan.attach = {"sg-m1"};
  w.groups.push_back({"sg-m1", "moat-cluster-ledger-1", 1, {}});
  w.kept_foreign = {"sg-ops"};
  transport_.replies = {Ok("<ModifyDBClusterResponse/>")};
  auto out = ApplyTarget(w, env_);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(Actions(), std::vector<std::string>{"ModifyDBCluster"});
  EXPECT_EQ(out->attached, (std::vector<std::string>{"sg-m1", "sg-ops"}));
}

TEST_F(ApplyTest, ANameSomeoneElseHoldsIsSkippedAndNoGroupIsAdoptedOnItsTags) {
  TargetWork w;
  w.db.id = "orders-db";
  w.vpc_id = "vpc-1";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"", "moat-orders-db-1", 1, true, {}, {}, {}, 0});
  w.plan.attach = {"moat-orders-db-1"};
  w.groups.push_back({"", "moat-orders-db-1", 1, {}});
  std::vector<std::pair<std::string, std::string>> recorded;
  env_.created = [&](const std::string& id, const std::string& name) { recorded.emplace_back(id, name); };
  transport_.replies = {Ec2Error("InvalidGroup.Duplicate"),
                        Ok("<CreateSecurityGroupResponse><groupId>sg-new</groupId></CreateSecurityGroupResponse>"),
                        Ok("<ModifyDBInstanceResponse/>")};
  auto out = ApplyTarget(w, env_);
  ASSERT_TRUE(out) << out.error().message;
  // No DescribeSecurityGroups: whoever holds the name, and whatever its tags, it is not taken.
  EXPECT_EQ(Actions(), (std::vector<std::string>{"CreateSecurityGroup", "CreateSecurityGroup", "ModifyDBInstance"}));
  EXPECT_NE(transport_.seen[1].body.find("GroupName=moat-orders-db-2"), std::string::npos);
  EXPECT_EQ(out->created.at("moat-orders-db-2"), "sg-new");
  EXPECT_EQ(out->attached, std::vector<std::string>{"sg-new"});
  EXPECT_EQ(recorded, (std::vector<std::pair<std::string, std::string>>{{"sg-new", "moat-orders-db-2"}}));
  ASSERT_EQ(out->notes.size(), 1u);
  EXPECT_EQ(out->notes[0],
            "moat-orders-db-1 is taken in vpc-1 by a group moat did not create; made moat-orders-db-2 instead");
  EXPECT_EQ(audit_.entries[0].group_name, "moat-orders-db-2");
  EXPECT_EQ(audit_.entries[1].group_name, "moat-orders-db-2");
}

TEST_F(ApplyTest, AGroupARunSideBySideRecordedAsMoatsIsTakenAsDone) {
  TargetWork w;
  w.db.id = "orders-db";
  w.vpc_id = "vpc-1";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"", "moat-orders-db-1", 1, true, {}, {}, {}, 0});
  w.groups.push_back({"", "moat-orders-db-1", 1, {}});
  env_.recorded = [](const std::string& id) { return id == "sg-other-run"; };
  transport_.replies = {Ec2Error("InvalidGroup.Duplicate"),
                        Ok("<DescribeSecurityGroupsResponse><securityGroupInfo><item><groupId>sg-other-run</groupId>"
                           "<groupName>moat-orders-db-1</groupName></item></securityGroupInfo>"
                           "</DescribeSecurityGroupsResponse>")};
  auto out = ApplyTarget(w, env_);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(out->created.at("moat-orders-db-1"), "sg-other-run");
  EXPECT_EQ(out->converged, 1);
  EXPECT_TRUE(out->notes.empty());
}

// Keeps the intent and failed lines as well as the changes, in order: "intent create-group".
class NotingAuditLog : public AuditLog {
 public:
  Status Write(const AuditEntry& e) override {
    lines.push_back("done " + e.change);
    return {};
  }
  Status Note(const AuditEntry& e) override {
    lines.push_back(e.note + " " + e.change);
    return {};
  }
  std::vector<std::string> lines;
};

TEST_F(ApplyTest, EachCallIsPrecededByItsIntentAndAFailureIsNoted) {
  NotingAuditLog log;
  env_.audit = &log;
  TargetWork w;
  w.db.id = "orders-db";
  w.vpc_id = "vpc-1";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"", "moat-orders-db-1", 1, true, {R(5432, "10.0.1.20/32")}, {}, {}});
  w.plan.attach = {"moat-orders-db-1"};
  w.plan.detach = {"sg-legacy"};
  w.groups.push_back({"", "moat-orders-db-1", 1, {R(5432, "10.0.1.20/32")}});
  transport_.replies = {Ok("<CreateSecurityGroupResponse><groupId>sg-new</groupId></CreateSecurityGroupResponse>"),
                        Ok("<AuthorizeSecurityGroupIngressResponse/>"),
                        {400,
                         {},
                         "<ErrorResponse><Error><Code>InvalidDBInstanceState</Code><Message>m"
                         "</Message></Error></ErrorResponse>"}};
  ASSERT_FALSE(ApplyTarget(w, env_));
  EXPECT_EQ(log.lines,
            (std::vector<std::string>{"intent create-group", "done create-group", "intent authorize", "done authorize",
                                      "intent attach", "intent detach", "failed attach", "failed detach"}));
}

// An audit log whose writes fail from the `fail_from`th on (1-based), keeping the ones before.
class FailingAuditLog : public AuditLog {
 public:
  explicit FailingAuditLog(int fail_from) : fail_from_(fail_from) {}
  Status Write(const AuditEntry& entry) override {
    if (++writes_ >= fail_from_) return Fail(Error{ErrorCode::kTransient, "audit log /x: No space left on device"});
    return kept.Write(entry);
  }
  MemoryAuditLog kept;

 private:
  int fail_from_;
  int writes_ = 0;
};

TargetWork FirstApply() {
  TargetWork w;
  w.db.id = "orders-db";
  w.vpc_id = "vpc-1";
  w.plan.target = "orders-db";
  w.plan.groups.push_back({"", "moat-orders-db-1", 1, true, {R(5432, "10.0.1.20/32")}, {}, {}});
  w.plan.attach = {"moat-orders-db-1"};
  w.plan.detach = {"sg-legacy"};
  w.groups.push_back({"", "moat-orders-db-1", 1, {R(5432, "10.0.1.20/32")}});
  w.group_names = {{"sg-legacy", "legacy"}};
  return w;
}

TEST_F(ApplyTest, ChangesTheAuditLogCannotRecordAreNamedAndTheApplyGoesOn) {
  FailingAuditLog audit(2);
  env_.audit = &audit;
  transport_.replies = {Ok("<CreateSecurityGroupResponse><groupId>sg-new</groupId></CreateSecurityGroupResponse>"),
                        Ok("<AuthorizeSecurityGroupIngressResponse/>"), Ok("<ModifyDBInstanceResponse/>")};
  auto out = ApplyTarget(FirstApply(), env_);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(Actions(),
            (std::vector<std::string>{"CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "ModifyDBInstance"}));
  ASSERT_EQ(audit.kept.entries.size(), 1u);
  EXPECT_EQ(audit.kept.entries[0].change, "create-group");
  EXPECT_EQ(out->unaudited, (std::vector<std::string>{
                                "orders-db: authorize tcp 5432 from 10.0.1.20/32, group sg-new (moat-orders-db-1)",
                                "orders-db: attach, group sg-new (moat-orders-db-1)",
                                "orders-db: detach, group sg-legacy (legacy)",
                            }));
  EXPECT_EQ(out->audit_error, "audit log /x: No space left on device");
}

TEST_F(ApplyTest, AFailedTargetStillSaysWhichOfItsChangesWereNotAudited) {
  FailingAuditLog audit(1);
  env_.audit = &audit;
  transport_.replies = {Ok("<CreateSecurityGroupResponse><groupId>sg-new</groupId></CreateSecurityGroupResponse>"),
                        Ec2Error("RulesPerSecurityGroupLimitExceeded")};
  auto out = ApplyTarget(FirstApply(), env_);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message,
            "orders-db: group moat-orders-db-1: ec2 AuthorizeSecurityGroupIngress: RulesPerSecurityGroupLimitExceeded: "
            "m; not audited (audit log /x: No space left on device): orders-db: create-group, group sg-new "
            "(moat-orders-db-1)");
}

TEST_F(ApplyTest, AllChangesAuditedLeavesUnauditedEmpty) {
  transport_.replies = {Ok("<CreateSecurityGroupResponse><groupId>sg-new</groupId></CreateSecurityGroupResponse>"),
                        Ok("<AuthorizeSecurityGroupIngressResponse/>"), Ok("<ModifyDBInstanceResponse/>")};
  auto out = ApplyTarget(FirstApply(), env_);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(audit_.entries.size(), 4u);
  EXPECT_TRUE(out->unaudited.empty());
  EXPECT_EQ(out->audit_error, "");
}

TEST(DescribeRuleTest, ReadsLikeARule) {
  EXPECT_EQ(DescribeRule({-1, -1, -1, *net::ParsePrefix("10.0.0.0/8"), ""}), "all traffic from 10.0.0.0/8");
  EXPECT_EQ(DescribeRule({17, 1000, 2000, *net::ParsePrefix("::/0"), ""}), "udp 1000-2000 from ::/0");
}

}  // namespace
}  // namespace moat::apply
