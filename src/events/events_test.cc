#include "events/events.h"

#include <gtest/gtest.h>

namespace moat::events {
namespace {

const Sources kSources{{"flow-logs", "logs-b"}};

const char* const kS3 = R"({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
  "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "flow-logs"},
  "object": {"key": "AWSLogs/123/vpcflowlogs/us-east-1/2024/05/01/a+b%3D1.log.gz", "size": 1024}}},
 {"eventSource": "aws:s3", "eventName": "ObjectCreated:CompleteMultipartUpload",
  "s3": {"bucket": {"name": "flow-logs"}, "object": {"key": "moat/state/applied.json"}}}]})";

TEST(EventsTest, S3NotificationGivesDecodedFlowLogObjects) {
  auto w = ParseEvent(kS3, "event", kSources);
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
      R"({\"Records\": [{\"eventSource\": \"aws:s3\", \"eventName\": \"ObjectCreated:Put\", \"s3\": {\"bucket\": {\"name\": \"logs-b\"}, \"object\": {\"key\": \"AWSLogs%2Fx.log.gz\"}}}]})" +
      "\"}]}";
  auto w = ParseEvent(body, "event", kSources);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->objects.size(), 1u);
  EXPECT_EQ(w->objects[0].key, "AWSLogs/x.log.gz");  // moto encodes '/' as %2F
  const std::string sns =
      R"({"Type": "Notification", "Message": "{\"Event\": \"s3:TestEvent\", \"Bucket\": \"logs-b\"}"})";
  auto t = ParseEvent(sns, "event", kSources);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->empty());
  EXPECT_EQ(t->ignored.size(), 1u);
}

// With no flow-log bucket configured: events other than S3 objects are unaffected.
TEST(EventsTest, CloudTrailCallsNameGroupsAndDatabases) {
  auto g = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
    "detail": {"eventName": "AuthorizeSecurityGroupIngress", "requestParameters": {"groupId": "sg-1",
    "ipPermissions": {"items": []}}}})",
                      "event", Sources{});
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->groups, std::vector<std::string>{"sg-1"});
  auto m = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
    "detail": {"eventName": "ModifySecurityGroupRules", "requestParameters": {"ModifySecurityGroupRulesRequest":
    {"GroupId": "sg-2", "SecurityGroupRule": {"tag": 1}}}}})",
                      "event", Sources{});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->groups, std::vector<std::string>{"sg-2"});
  auto c = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "source": "aws.rds",
    "detail": {"eventName": "ModifyDBCluster", "requestParameters": {"dBClusterIdentifier": "ledger"}}})",
                      "event", Sources{});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->databases, std::vector<std::string>{"cluster/ledger"});
  auto failed = ParseEvent(R"({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName":
    "ModifyDBInstance", "errorCode": "AccessDenied", "requestParameters": null}})",
                           "event", Sources{});
  ASSERT_TRUE(failed) << failed.error().message;
  EXPECT_TRUE(failed->empty());
}

TEST(EventsTest, ScheduleReconcilesEverything) {
  auto w =
      ParseEvent(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})", "event", Sources{});
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->reconcile_all);
}

// Events of member accounts forwarded to a central bus keep their own account and region.
TEST(EventsTest, WorkIsPlacedWhereTheEventOrTheObjectSaysItHappened) {
  const std::string batch =
      R"({"Records": [{"eventSource": "aws:sqs", "body": "{\"detail-type\": \"AWS API Call via CloudTrail\", )"
      R"(\"account\": \"222233334444\", \"region\": \"eu-west-1\", \"detail\": {\"eventName\": )"
      R"(\"AuthorizeSecurityGroupIngress\", \"requestParameters\": {\"groupId\": \"sg-1\"}}}"},
      {"eventSource": "aws:sqs", "body": "{\"detail-type\": \"AWS API Call via CloudTrail\", )"
      R"(\"account\": \"333344445555\", \"region\": \"us-east-1\", \"detail\": {\"eventName\": )"
      R"(\"ModifyDBInstance\", \"requestParameters\": {\"dBInstanceIdentifier\": \"orders-db\"}}}"},
      {"eventSource": "aws:sqs", "body": "{\"moat\": \"reconcile\", \"account\": \"333344445555\", )"
      R"(\"region\": \"eu-west-1\"}"}]})";
  auto w = ParseEvent(batch, "event", Sources{});
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->placed.size(), 3u);
  EXPECT_EQ(w->placed["222233334444/eu-west-1"].groups, std::vector<std::string>{"sg-1"});
  EXPECT_EQ(w->placed["333344445555/us-east-1"].databases, std::vector<std::string>{"orders-db"});
  EXPECT_TRUE(w->placed["333344445555/eu-west-1"].reconcile_all);
  EXPECT_FALSE(w->placed["333344445555/us-east-1"].reconcile_all);
  // The flat lists hold everything, for a run in one place.
  EXPECT_EQ(w->groups, std::vector<std::string>{"sg-1"});
  EXPECT_TRUE(w->reconcile_all);

  const std::string key =
      "AWSLogs/444455556666/vpcflowlogs/eu-west-1/2024/05/01/"
      "444455556666_vpcflowlogs_eu-west-1_fl-0abc_20240501T1305Z_1a2b3c4d.log.gz";
  auto o = ParseEvent(R"({"detail-type": "Object Created", "account": "111111111111", "region": "us-east-1",
    "detail": {"bucket": {"name": "flow-logs"}, "object": {"key": ")" +
                          key + R"("}}})",
                      "event", kSources);
  ASSERT_TRUE(o) << o.error().message;
  ASSERT_EQ(o->objects.size(), 1u);
  EXPECT_EQ(o->objects[0].account, "444455556666");  // the log's account, not the bucket's
  EXPECT_EQ(o->objects[0].region, "eu-west-1");
  EXPECT_TRUE(o->placed.empty());

  auto bad =
      ParseEvent(R"({"moat": "reconcile", "account": "12", "region": "eu-west-1"})", "sqs message m1", Sources{});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "sqs message m1: account: expected a 12-digit account id");
  auto bad_region =
      ParseEvent(R"({"moat": "reconcile", "account": "123456789012", "region": "x"})", "event", Sources{});
  ASSERT_FALSE(bad_region);
  EXPECT_EQ(bad_region.error().message, "event: region: expected a region name");
}

TEST(EventsTest, MalformedEventsNameWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"{not json", "event: not valid JSON"},
      {"[1]", "event: expected a JSON object"},
      {R"({"hello": 1})",
       "event: not an event moat knows (S3, SQS, SNS, CloudTrail through EventBridge, or a schedule)"},
      {R"({"Records": {}})", "event: Records: expected an array"},
      {R"({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "logs-b"},
        "object": {"key": 7}}}]})",
       "event: Records[0].s3.object.key: expected a string"},
      {R"({"Records": [{"eventSource": "aws:sqs", "body": "{\"Records\": [{\"eventSource\": \"aws:ec2\"}]}"}]})",
       "event: Records[0].body.Records[0].eventSource: expected aws:s3, aws:sqs or aws:sns"},
      {R"({"detail-type": "AWS API Call via CloudTrail", "detail": {"eventName": "ModifyDBInstance",
        "requestParameters": {}}})",
       "event: detail.requestParameters: no dBInstanceIdentifier"},
  };
  for (const auto& [json, message] : cases) {
    auto w = ParseEvent(json, "event", kSources);
    ASSERT_FALSE(w) << json;
    EXPECT_EQ(w.error().message, message);
  }
}

TEST(EventsTest, KeysAreFormUrlDecoded) { EXPECT_EQ(DecodeS3Key("a+b%2Fc%3d%zz"), "a b/c=%zz"); }

// The rule itself is flowlog/object_name_test.cc's; here, that an event applies it to the key.
TEST(EventsTest, ObjectsAreFlowLogsByTheirKeyFromTheBucketRoot) {
  const std::string event = R"({"Records": [
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "logs-b"}, "object": {"key": "team/moat/flows/x.log.gz"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "logs-b"}, "object": {"key": "moat/flows/x.log.gz.jsonl.gz"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "logs-b"}, "object": {"key": "moat/state/x.log.gz"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "logs-b"}, "object": {"key": "x.log.gz.tmp"}}}]})";
  auto w = ParseEvent(event, "event", kSources);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->objects.size(), 1u);
  EXPECT_EQ(w->objects[0].key, "team/moat/flows/x.log.gz");
  EXPECT_EQ(w->ignored, (std::vector<std::string>{
                            "s3://logs-b/moat/flows/x.log.gz.jsonl.gz (not a flow-log file)",
                            "s3://logs-b/moat/state/x.log.gz (not a flow-log file)",
                            "s3://logs-b/x.log.gz.tmp (not a flow-log file)",
                        }));
}

std::string S3Record(const std::string& bucket, const std::string& key) {
  return R"({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": ")" + bucket +
         R"("}, "object": {"key": ")" + key + R"("}}})";
}

TEST(EventsTest, ObjectsOfBucketsNotConfiguredAreRefusedWithOneLineEach) {
  const std::string event = R"({"Records": [)" + S3Record("flow-logs", "AWSLogs/a.log.gz") + ", " +
                            S3Record("other-bucket", "AWSLogs/b.log.gz") + ", " + S3Record("Bad_Bucket", "c.log.gz") +
                            "]}";
  auto w = ParseEvent(event, "sqs message m1", kSources);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->objects.size(), 1u);
  EXPECT_EQ(w->objects[0].bucket, "flow-logs");
  EXPECT_EQ(w->refused, (std::vector<std::string>{
                            "sqs message m1: Records[1].s3: \"s3://other-bucket/AWSLogs/b.log.gz\": refused: not a "
                            "configured flow-log bucket (--flow-log-bucket, MOAT_FLOW_LOG_BUCKET)",
                            "sqs message m1: Records[2].s3: \"s3://Bad_Bucket/c.log.gz\": refused: not a valid S3 "
                            "bucket name: expected only lowercase letters, digits, '.' and '-'",
                        }));
  auto bridge = ParseEvent(R"({"detail-type": "Object Created", "source": "aws.s3",
    "detail": {"bucket": {"name": "other-bucket"}, "object": {"key": "AWSLogs/x.log.gz"}}})",
                           "event", kSources);
  ASSERT_TRUE(bridge) << bridge.error().message;
  EXPECT_TRUE(bridge->empty());
  ASSERT_EQ(bridge->refused.size(), 1u);
  EXPECT_TRUE(bridge->refused[0].starts_with("event: detail: \"s3://other-bucket/AWSLogs/x.log.gz\": refused: "))
      << bridge->refused[0];
}

TEST(EventsTest, WithNoBucketConfiguredEveryS3ObjectIsRefused) {
  const std::string inner =
      R"({\"Records\": [{\"eventSource\": \"aws:s3\", \"eventName\": \"ObjectCreated:Put\", )"
      R"(\"s3\": {\"bucket\": {\"name\": \"flow-logs\"}, \"object\": {\"key\": \"AWSLogs%2Fx.log.gz\"}}}]})";
  auto w = ParseEvent(R"({"Records": [{"eventSource": "aws:sqs", "body": ")" + inner + R"("}]})", "event", Sources{});
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_TRUE(w->empty());
  EXPECT_EQ(w->refused, std::vector<std::string>{
                            "event: Records[0].body.Records[0].s3: \"s3://flow-logs/AWSLogs/x.log.gz\": refused: no "
                            "flow-log bucket is configured (--flow-log-bucket, MOAT_FLOW_LOG_BUCKET): S3 events are "
                            "refused"});
}

TEST(EventsTest, KeysWithEmptyDotOrDotDotSegmentsAreRefused) {
  const std::pair<const char*, const char*> refused[] = {
      {"AWSLogs/../moat/state/x.log.gz", "a '..' path segment"},
      {"AWSLogs%2F..%2Fx.log.gz", "a '..' path segment"},  // decoded first
      {"AWSLogs/./x.log.gz", "a '.' path segment"},
      {"AWSLogs//x.log.gz", "an empty path segment"},
      {"%2Fx.log.gz", "an empty path segment"},
      {"..", "a '..' path segment"},
  };
  for (const auto& [key, why] : refused) {
    auto w = ParseEvent(R"({"Records": [)" + S3Record("flow-logs", key) + "]}", "event", kSources);
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_TRUE(w->objects.empty()) << key;
    ASSERT_EQ(w->refused.size(), 1u) << key;
    EXPECT_TRUE(w->refused[0].ends_with(std::string(": refused: key: ") + why)) << w->refused[0];
  }
  auto dots =
      ParseEvent(R"({"Records": [)" + S3Record("flow-logs", "AWSLogs/a..b/.x.log.gz") + "]}", "event", kSources);
  ASSERT_TRUE(dots);
  EXPECT_EQ(dots->objects.size(), 1u);  // dots inside a segment are a name like any other
  EXPECT_FALSE(CheckObjectKey(""));
}

TEST(EventsTest, BucketNamesFollowS3NamingRules) {
  const std::string good[] = {"flow-logs", "abc", "my.bucket-1", "123", std::string(63, 'a')};
  for (const std::string& name : good) EXPECT_TRUE(CheckBucketName(name)) << name;
  const std::pair<std::string, const char*> bad[] = {
      {"ab", "expected 3 to 63 characters"},
      {std::string(64, 'a'), "expected 3 to 63 characters"},
      {"Flow-Logs", "expected only lowercase letters, digits, '.' and '-'"},
      {"flow_logs", "expected only lowercase letters, digits, '.' and '-'"},
      {"flow/logs", "expected only lowercase letters, digits, '.' and '-'"},
      {"-flow", "expected to begin and end with a letter or a digit"},
      {"flow.", "expected to begin and end with a letter or a digit"},
      {"flow..logs", "two adjacent periods"},
      {"192.168.5.4", "shaped like an IP address"},
      {"xn--flow", "the reserved prefix xn--"},
      {"flow-s3alias", "the reserved suffix -s3alias"},
  };
  for (const auto& [name, why] : bad) {
    auto st = CheckBucketName(name);
    ASSERT_FALSE(st) << name;
    EXPECT_EQ(st.error().message, why) << name;
  }
}

}  // namespace
}  // namespace moat::events
