// Integration tests of `moat watch`: S3 -> SQS -> the worker against moto (signature checking
// on). A new flow-log object reaches the queue as S3's notification, the worker reads it and
// reconciles the database it names; a malformed message is deleted, not retried; several workers
// on one queue with their state in S3 handle every message once and converge. Only objects of the
// configured flow-log buckets are read: another bucket's, or any with no bucket configured, are
// refused (never read, nothing written beside them) and their message consumed; the worker says
// when it starts and stops, and why.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/ec2.h"
#include "aws/s3.h"
#include "aws/sqs.h"
#include "moat_process.h"
#include "moto.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

constexpr const char* kSample =
    "/samples/flowlogs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/"
    "123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d_20240501T0000Z_1a2b3c4d.log.gz";

class WatchCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    Json bundle = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
    bundle["virtual_services"][0]["service_addresses"][0]["fqdn"] = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
    policy_ = dir_.Write("policy.json", bundle.dump());
    RunOptions o;
    o.env = moto_.Environment();
    const RunResult q = RunProcess(
        "/usr/bin/env", {"python3", MOAT_SOURCE_DIR "/tests/moto_queue.py", moto_.url(), "flow-logs"}, o, dir_.path());
    ASSERT_EQ(q.exit_code, 0) << Describe(q);
    const Json urls = Json::parse(q.out);
    queue_ = urls["queue_url"];
    dlq_ = urls["dlq_url"];
  }

  // `buckets`: MOAT_FLOW_LOG_BUCKET (nullptr: not set).
  std::vector<std::pair<std::string, std::string>> Env(const std::string& state,
                                                       const char* buckets = "flow-logs") const {
    auto env = moto_.Environment();
    // The sample flow log has clients the sample policy does not admit: enforce anyway.
    env.insert(env.end(), {{"MOAT_POLICY", policy_}, {"MOAT_STATE", state}, {"MOAT_ALLOW_BREAKING", "true"}});
    if (buckets != nullptr) env.emplace_back("MOAT_FLOW_LOG_BUCKET", buckets);
    return env;
  }
  std::unique_ptr<Background> Worker(const std::string& state, const char* buckets = "flow-logs") {
    TempDir& d = *logs_.emplace_back(std::make_unique<TempDir>());
    return std::make_unique<Background>(std::vector<std::string>{MOAT_BINARY, "watch", "--queue", queue_,
                                                                 "--wait-seconds", "1", "--visibility-timeout", "30"},
                                        Env(state, buckets), d.path());
  }
  aws::S3Store S3() {
    return aws::S3Store({moto_.url(), "us-east-1"},
                        std::make_shared<aws::StaticCredentials>(
                            aws::Credentials{moto_.access_key_id(), moto_.secret_access_key(), ""}),
                        *transport_, SystemClock());
  }
  // An S3 notification of a new object, as S3 sends it to the queue.
  static std::string S3Event(const std::string& bucket, const std::string& key) {
    return Json{{"Records",
                 {{{"eventVersion", "2.1"},
                   {"eventSource", "aws:s3"},
                   {"eventName", "ObjectCreated:Put"},
                   {"s3", {{"bucket", {{"name", bucket}}}, {"object", {{"key", key}, {"size", 100}}}}}}}}}
        .dump();
  }
  aws::QueryClient Client(const char* service, const char* version) {
    const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
    return aws::QueryClient({service, moto_.url(), "us-east-1", version},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  }
  void Send(const std::string& body) {
    auto r = sqs_client_.Call("SendMessage", {{"QueueUrl", queue_}, {"MessageBody", body}});
    ASSERT_TRUE(r) << r.error().message;
  }
  void PutFlowLog(const std::string& key, const std::string& bucket = "flow-logs") {
    aws::S3Store s3 = S3();
    ASSERT_TRUE(
        s3.Put("s3://" + bucket + "/" + key, ReadFile(std::string(MOAT_SOURCE_DIR) + kSample), "application/gzip"));
  }
  // The keys of a bucket under a prefix.
  std::string Keys(const std::string& bucket, const std::string& prefix) {
    auto listed = S3().Request("GET", bucket, "", "list-type=2&prefix=" + prefix);
    return listed ? listed->body : "";
  }
  // Messages visible plus in flight.
  int Pending(const std::string& url) { return QueueDepth(sqs_client_, url); }
  bool Drained(int seconds) {
    for (int i = 0; i < seconds * 4; ++i) {
      if (Pending(queue_) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }
  std::vector<aws::SecurityGroup> Managed(const std::string& target) {
    auto client = Client("ec2", aws::kEc2ApiVersion);
    aws::Ec2 ec2(client);
    auto groups = ec2.DescribeSecurityGroups({{"tag:moat:target", {target}}});
    return groups ? *groups : std::vector<aws::SecurityGroup>{};
  }

  MotoServer moto_{"flow-logs", MOAT_SOURCE_DIR "/samples/flowlogs"};
  TempDir dir_;
  std::vector<std::unique_ptr<TempDir>> logs_;
  std::string policy_, queue_, dlq_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
  aws::QueryClient sqs_client_ = Client("sqs", aws::kSqsApiVersion);
};

TEST_F(WatchCliTest, NewFlowLogObjectReachesTheWorkerThroughTheQueue) {
  auto worker = Worker(dir_.path() + "/state");
  PutFlowLog("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/02/new.log.gz");
  Send("{this is not an event");
  ASSERT_TRUE(Drained(60)) << worker->err();
  EXPECT_EQ(Pending(dlq_), 0);
  const auto groups = Managed("orders-db");
  ASSERT_EQ(groups.size(), 1u) << worker->err();
  EXPECT_EQ(groups[0].ingress.size(), 4u);
  EXPECT_EQ(worker->Stop(SIGTERM, 10), 0);
  const std::string err = worker->err();
  EXPECT_NE(err.find("new.log.gz"), std::string::npos) << err;
  EXPECT_NE(err.find("not valid JSON (deleted: retrying cannot help it)"), std::string::npos) << err;
  EXPECT_NE(worker->out().find("\"change\":\"authorize\""), std::string::npos);  // audit lines on stdout
  EXPECT_NE(ReadFile(dir_.path() + "/state/audit.log").find("\"change\":\"create-group\""), std::string::npos);
}

TEST_F(WatchCliTest, ParallelWorkersHandleEveryMessageOnceAndConverge) {
  const std::string state = "s3://flow-logs/moat/state/";
  std::vector<std::unique_ptr<Background>> workers;
  workers.reserve(3);
  for (int i = 0; i < 3; ++i) workers.push_back(Worker(state));
  for (int i = 0; i < 4; ++i) {
    Send(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})");
    PutFlowLog("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/03/part-" + std::to_string(i) + ".log.gz");
  }
  ASSERT_TRUE(Drained(120)) << workers[0]->err();
  EXPECT_EQ(Pending(dlq_), 0);
  for (auto& w : workers) EXPECT_EQ(w->Stop(SIGTERM, 15), 0) << w->err();
  // One managed group, exactly the policy, whatever the interleaving.
  const auto groups = Managed("orders-db");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].ingress.size(), 4u);
  // And nothing left to do, judged against the shared state.
  RunOptions o;
  o.env = Env(state);
  const RunResult plan = RunProcess(MOAT_BINARY, {"plan", "--detailed-exitcode"}, o, dir_.path());
  EXPECT_EQ(plan.exit_code, 0) << Describe(plan);
  int handled = 0;
  for (auto& w : workers) {
    const std::string err = w->err();
    for (size_t at = 0; (at = err.find("\"ok\":true", at)) != std::string::npos; ++at) ++handled;
  }
  EXPECT_GE(handled, 9);  // 4 schedules, 4 objects, and S3's test event: each handled once
}

TEST_F(WatchCliTest, ObjectsOfAnotherBucketAreRefusedNeverReadNorWrittenBeside) {
  auto s3 = S3();
  ASSERT_TRUE(s3.Request("PUT", "other-bucket", "", ""));
  const std::string key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/02/elsewhere.log.gz";
  PutFlowLog(key, "other-bucket");
  auto worker = Worker(dir_.path() + "/state");
  Send(S3Event("other-bucket", key));
  Send(S3Event("flow-logs", "AWSLogs/../moat/state/applied.log.gz"));
  ASSERT_TRUE(Drained(60)) << worker->err();  // consumed, not left to come back
  EXPECT_EQ(Pending(dlq_), 0);
  EXPECT_EQ(worker->Stop(SIGTERM, 10), 0);
  const std::string err = worker->err();
  EXPECT_NE(err.find(": \"s3://other-bucket/" + key +
                     "\": refused: not a configured flow-log bucket (--flow-log-bucket, MOAT_FLOW_LOG_BUCKET)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("\"s3://flow-logs/AWSLogs/../moat/state/applied.log.gz\": refused: key: a '..' path segment"),
            std::string::npos)
      << err;
  EXPECT_EQ(Keys("other-bucket", "moat").find("<Key>"), std::string::npos);  // nothing written beside it
  EXPECT_TRUE(Managed("orders-db").empty());                                 // and nothing reconciled from it
  EXPECT_EQ(err.find("could not be read"), std::string::npos) << err;
}

TEST_F(WatchCliTest, WithNoFlowLogBucketS3EventsAreRefusedAndOtherEventsHandled) {
  auto worker = Worker(dir_.path() + "/state", nullptr);
  PutFlowLog("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/02/new.log.gz");  // S3 notifies the queue
  ASSERT_TRUE(Drained(60)) << worker->err();
  EXPECT_TRUE(Managed("orders-db").empty());
  EXPECT_EQ(Keys("flow-logs", "moat").find("moat/flows/"), std::string::npos);
  Send(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})");
  ASSERT_TRUE(Drained(60)) << worker->err();
  EXPECT_EQ(Managed("orders-db").size(), 1u) << worker->err();  // a schedule is no S3 object
  EXPECT_EQ(worker->Stop(SIGTERM, 10), 0);
  const std::string err = worker->err();
  EXPECT_TRUE(err.starts_with("moat: watch: started: queue " + queue_ +
                              ", no flow-log bucket (S3 events are refused), mode enforce, state " + dir_.path() +
                              "/state\n"))
      << err;
  EXPECT_NE(err.find("new.log.gz\": refused: no flow-log bucket is configured (--flow-log-bucket, "
                     "MOAT_FLOW_LOG_BUCKET): S3 events are refused"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("moat: watch: stopped: SIGTERM"), std::string::npos) << err;
}

TEST_F(WatchCliTest, StartAndStopAreLoggedWithWhy) {
  auto worker = Worker(dir_.path() + "/state", "flow-logs,other-bucket");
  Send(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})");
  ASSERT_TRUE(Drained(60)) << worker->err();
  EXPECT_EQ(worker->Stop(SIGINT, 10), 0);
  const std::string err = worker->err();
  EXPECT_TRUE(err.starts_with("moat: watch: started: queue " + queue_ +
                              ", flow-log buckets flow-logs, other-bucket, mode enforce, state "))
      << err;
  EXPECT_TRUE(err.ends_with("moat: watch: stopped: SIGINT while waiting for messages\n")) << err;
}

TEST_F(WatchCliTest, ABadSettingStopsTheWorkerAtStart) {
  auto env = Env(dir_.path() + "/state", "Flow_Logs");
  RunOptions o;
  o.env = env;
  const RunResult bucket = RunProcess(MOAT_BINARY, {"watch", "--queue", queue_}, o, dir_.path(), 15);
  EXPECT_EQ(bucket.exit_code, 1);
  EXPECT_EQ(bucket.err,
            "moat: watch: --flow-log-bucket \"Flow_Logs\": not a valid S3 bucket name: expected only lowercase "
            "letters, digits, '.' and '-'\n");
  o.env = Env(dir_.path() + "/state");
  o.env.emplace_back("MOAT_MODE", "bogus");
  const RunResult mode = RunProcess(MOAT_BINARY, {"watch", "--queue", queue_}, o, dir_.path(), 15);
  EXPECT_EQ(mode.exit_code, 1);  // not a worker failing every message
  EXPECT_EQ(mode.err, "moat: watch: --mode: expected enforce or visibility, got \"bogus\"\n");
}

}  // namespace
}  // namespace moat::integration
