#include "events/events.h"

#include <gtest/gtest.h>

namespace moat::events {
namespace {

const char* const kS3 = R"({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
  "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "flow-logs"},
  "object": {"key": "AWSLogs/123/vpcflowlogs/us-east-1/2024/05/01/a+b%3D1.log.gz", "size": 1024}}},
 {"eventSource": "aws:s3", "eventName": "ObjectCreated:CompleteMultipartUpload",
  "s3": {"bucket": {"name": "flow-logs"}, "object": {"key": "moat/state/applied.json"}}}]})";

TEST(EventsTest, S3NotificationGivesDecodedFlowLogObjects) {
  auto w = ParseEvent(kS3, "event");
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->objects.size(), 1u);
  EXPECT_EQ(w->objects[0].bucket, "flow-logs");
  EXPECT_EQ(w->objects[0].key, "AWSLogs/123/vpcflowlogs/us-east-1/2024/05/01/a b=1.log.gz");
  EXPECT_EQ(w->objects[0].size, 1024);
  ASSERT_EQ(w->ignored.size(), 1u);  // moat's own state is never a flow log
  EXPECT_NE(w->ignored[0].find("moat/state/applied.json"), std::string::npos);
}

TEST(EventsTest, SqsAndSnsWrappingsAreOpened) {
  const std::string body =
      R"({"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": )" + std::string("\"") +
      R"({\"Records\": [{\"eventSource\": \"aws:s3\", \"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"b\"}, \"object\": {\"key\": \"AWSLogs%2Fx.log.gz\"}}}]})" +
      "\"}]}";
  auto w = ParseEvent(body, "event");
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->objects.size(), 1u);
  EXPECT_EQ(w->objects[0].key, "AWSLogs/x.log.gz");  // moto encodes '/' as %2F
  const std::string sns = R"({"Type": "Notification", "Message": "{\"Event\": \"s3:TestEvent\", \"Bucket\": \"b\"}"})";
  auto t = ParseEvent(sns, "event");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->empty());
  EXPECT_EQ(t->ignored.size(), 1u);
}

TEST(EventsTest, CloudTrailCallsNameGroupsAndDatabases) {
  auto g = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
    "detail": {"eventName": "AuthorizeSecurityGroupIngress", "requestParameters": {"groupId": "sg-1",
    "ipPermissions": {"items": []}}}})",
                      "event");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->groups, std::vector<std::string>{"sg-1"});
  auto m = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
    "detail": {"eventName": "ModifySecurityGroupRules", "requestParameters": {"ModifySecurityGroupRulesRequest":
    {"GroupId": "sg-2", "SecurityGroupRule": {"tag": 1}}}}})",
                      "event");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->groups, std::vector<std::string>{"sg-2"});
  auto c = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "source": "aws.rds",
    "detail": {"eventName": "ModifyDBCluster", "requestParameters": {"dBClusterIdentifier": "ledger"}}})",
                      "event");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->databases, std::vector<std::string>{"cluster/ledger"});
  auto failed = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName":
    "ModifyDBInstance", "errorCode": "AccessDenied", "requestParameters": null}})",
                           "event");
  ASSERT_TRUE(failed) << failed.error().message;
  EXPECT_TRUE(failed->empty());
}

TEST(EventsTest, ScheduleReconcilesEverything) {
  auto w = ParseEvent(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})", "event");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->reconcile_all);
}

TEST(EventsTest, MalformedEventsNameWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"{not json", "event: not valid JSON"},
      {"[1]", "event: expected a JSON object"},
      {R"({"hello": 1})",
       "event: not an event moat knows (S3, SQS, SNS, CloudTrail through EventBridge, or a schedule)"},
      {R"({"Records": {}})", "event: Records: expected an array"},
      {R"({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"},
        "object": {"key": 7}}}]})",
       "event: Records[0].s3.object.key: expected a string"},
      {R"({"Records": [{"eventSource": "aws:sqs", "body": "{\"Records\": [{\"eventSource\": \"aws:ec2\"}]}"}]})",
       "event: Records[0].body.Records[0].eventSource: expected aws:s3, aws:sqs or aws:sns"},
      {R"({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "ModifyDBInstance",
        "requestParameters": {}}})",
       "event: detail.requestParameters: no dBInstanceIdentifier"},
  };
  for (const auto& [json, message] : cases) {
    auto w = ParseEvent(json, "event");
    ASSERT_FALSE(w) << json;
    EXPECT_EQ(w.error().message, message);
  }
}

TEST(EventsTest, KeysAreFormUrlDecoded) { EXPECT_EQ(DecodeS3Key("a+b%2Fc%3d%zz"), "a b/c=%zz"); }

// The rule itself is flowlog/object_name_test.cc's; here, that an event applies it to the key.
TEST(EventsTest, ObjectsAreFlowLogsByTheirKeyFromTheBucketRoot) {
  const std::string event = R"({"Records": [
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "team/moat/flows/x.log.gz"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "moat/flows/x.log.gz.jsonl.gz"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "moat/state/x.log.gz"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "x.log.gz.tmp"}}}]})";
  auto w = ParseEvent(event, "event");
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->objects.size(), 1u);
  EXPECT_EQ(w->objects[0].key, "team/moat/flows/x.log.gz");
  EXPECT_EQ(w->ignored, (std::vector<std::string>{
                            "s3://b/moat/flows/x.log.gz.jsonl.gz (not a flow-log file)",
                            "s3://b/moat/state/x.log.gz (not a flow-log file)",
                            "s3://b/x.log.gz.tmp (not a flow-log file)",
                        }));
}

}  // namespace
}  // namespace moat::events
