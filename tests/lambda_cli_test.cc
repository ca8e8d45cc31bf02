// Integration tests of `moat lambda`: the real binary as a Lambda custom runtime against a Runtime
// API server (tests/lambda_runtime_server.py) and moto (S3 holding the sample flow logs, EC2, RDS):
// events answered through /response and /error, the deadline, a stuck dependency, an
// initialization error (a setting it cannot use: reported, and the process ends), S3 objects of
// buckets not configured refused, and SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "aws/ec2.h"
#include "aws/s3.h"
#include "http/transport.h"
#include "moat_process.h"
#include "moto.h"
#include "pce_server.h"

extern char** environ;

namespace moat::integration {
namespace {

using Json = nlohmann::json;

class RuntimeServer {
 public:
  RuntimeServer() {
    const std::string port_file = dir_.path() + "/port";
    std::vector<std::string> args = {"python3", MOAT_SOURCE_DIR "/tests/lambda_runtime_server.py", "--port-file",
                                     port_file};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_)) {
        port_ = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  ~RuntimeServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return port_ > 0; }
  std::string api() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Invoke(const Json& event, int deadline_ms = 60000) {
    return Send(Json{{"event", event}, {"deadline_ms", deadline_ms}});
  }
  // Sends `deadline_header` as Lambda-Runtime-Deadline-Ms, as it is (null: no such header).
  std::string InvokeWithDeadlineHeader(const Json& event, const Json& deadline_header) {
    return Send(Json{{"event", event}, {"deadline_header", deadline_header}});
  }
  // Waits for `count` results (up to `seconds`).
  Json Results(size_t count, int seconds = 30) {
    http::Request r;
    r.url = "http://" + api() + "/_test/results?count=" + std::to_string(count) + "&timeout=" + std::to_string(seconds);
    r.timeout_ms = (seconds + 5) * 1000;
    auto resp = transport_->Send(r);
    return resp ? Json::parse(resp->body) : Json::array();
  }

 private:
  std::string Send(const Json& spec) {
    http::Request r;
    r.method = "POST";
    r.url = "http://" + api() + "/_test/invoke";
    r.body = spec.dump();
    auto resp = transport_->Send(r);
    return resp ? Json::parse(resp->body)["id"].get<std::string>() : "";
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
};

Json S3Event(const std::string& bucket, const std::string& key) {
  return {{"Records",
           {{{"eventVersion", "2.1"},
             {"eventSource", "aws:s3"},
             {"eventName", "ObjectCreated:Put"},
             {"s3", {{"bucket", {{"name", bucket}}}, {"object", {{"key", key}, {"size", 100}}}}}}}}};
}

constexpr const char* kSampleKey =
    "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/"
    "123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d_20240501T0000Z_1a2b3c4d.log.gz";

class LambdaCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    ASSERT_TRUE(runtime_.ok());
    nlohmann::json bundle = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
    bundle["virtual_services"][0]["service_addresses"][0]["fqdn"] = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
    policy_ = dir_.Write("policy.json", bundle.dump());
  }
  std::vector<std::pair<std::string, std::string>> Env() const {
    auto env = moto_.Environment();
    // The sample flow log has clients the sample policy does not admit (10.0.1.22, .23): these
    // tests enforce anyway; WhatIfHoldsBackAFirstEnforcementThatCutsAClient does not.
    env.insert(env.end(), {{"AWS_LAMBDA_RUNTIME_API", runtime_.api()},
                           {"MOAT_POLICY", policy_},
                           {"MOAT_STATE", dir_.path() + "/state"},
                           {"MOAT_ALLOW_BREAKING", "true"},
                           {"MOAT_FLOW_LOG_BUCKET", "flow-logs"}});
    return env;
  }
  // `extra` replaces or adds variables; nullopt removes one.
  std::unique_ptr<Background> Start(const std::vector<std::pair<std::string, std::optional<std::string>>>& extra = {}) {
    auto env = Env();
    for (const auto& [k, v] : extra) {
      const std::string& name = k;
      auto it = std::find_if(env.begin(), env.end(), [&](const auto& kv) { return kv.first == name; });
      if (!v) {
        if (it != env.end()) env.erase(it);
      } else if (it != env.end()) {
        it->second = *v;
      } else {
        env.emplace_back(k, *v);
      }
    }
    return std::make_unique<Background>(std::vector<std::string>{MOAT_BINARY, "lambda"}, env, proc_dir_.path());
  }
  std::vector<aws::SecurityGroup> Managed(const std::string& target) {
    const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
    aws::QueryClient client({"ec2", moto_.url(), "us-east-1", aws::kEc2ApiVersion},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
    aws::Ec2 ec2(client);
    auto groups = ec2.DescribeSecurityGroups({{"tag:moat:target", {target}}});
    return groups ? *groups : std::vector<aws::SecurityGroup>{};
  }

  MotoServer moto_{"flow-logs", MOAT_SOURCE_DIR "/samples/flowlogs"};
  RuntimeServer runtime_;
  TempDir dir_, proc_dir_;
  std::string policy_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
};

TEST_F(LambdaCliTest, EventsAreAnsweredAndAFlowLogObjectReconcilesItsDatabases) {
  auto moat = Start({{"MOAT_STATE", "s3://flow-logs/moat/state/"}});
  const std::string test_id = runtime_.Invoke(Json::parse(R"({"Service": "Amazon S3", "Event": "s3:TestEvent"})"));
  const std::string bad_id = runtime_.Invoke("{this is not json");
  const std::string s3_id = runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  const Json results = runtime_.Results(3);
  ASSERT_EQ(results.size(), 3u) << moat->err();

  EXPECT_EQ(results[0]["id"], test_id);
  EXPECT_EQ(results[0]["kind"], "response");
  EXPECT_EQ(Json::parse(results[0]["body"].get<std::string>())["ignored"].size(), 1u);

  EXPECT_EQ(results[1]["id"], bad_id);
  EXPECT_EQ(results[1]["kind"], "error");
  EXPECT_EQ(results[1]["error_type"], "InvalidEvent");
  const Json bad = Json::parse(results[1]["body"].get<std::string>());
  EXPECT_EQ(bad["errorMessage"], "event: not valid JSON");
  EXPECT_EQ(bad["errorType"], "InvalidEvent");

  EXPECT_EQ(results[2]["id"], s3_id);
  ASSERT_EQ(results[2]["kind"], "response") << results[2].dump() << moat->err();
  const Json done = Json::parse(results[2]["body"].get<std::string>());
  EXPECT_TRUE(done["ok"]);
  EXPECT_EQ(done["objects"]["done"][0], std::string("s3://flow-logs/") + kSampleKey);
  EXPECT_GT(done["records"].get<int>(), 0);
  // 10.0.2.45 (orders-db's address) is in that object: orders-db is reconciled, the cluster is not.
  ASSERT_EQ(done["reconcile"]["targets"].size(), 1u) << done.dump();
  EXPECT_EQ(done["reconcile"]["targets"][0]["id"], "orders-db");
  EXPECT_TRUE(done["reconcile"]["targets"][0]["applied"]);
  EXPECT_EQ(Managed("orders-db").size(), 1u);
  EXPECT_TRUE(Managed("cluster/ledger").empty());
  // The audit lines are in the function's log.
  EXPECT_NE(moat->out().find("\"change\":\"create-group\""), std::string::npos) << moat->out();

  // The state and the audit log are in the bucket, under moat/.
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::S3Store s3({moto_.url(), "us-east-1"}, std::make_shared<aws::StaticCredentials>(creds), *transport_,
                  SystemClock());
  auto applied = s3.Get("s3://flow-logs/moat/state/applied.json");
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_TRUE(applied->has_value());
  EXPECT_NE((*applied)->find("\"orders-db\""), std::string::npos);
  auto history = s3.Get(std::string("s3://flow-logs/moat/flows/") + kSampleKey + ".jsonl.gz");
  ASSERT_TRUE(history && history->has_value());
  EXPECT_EQ((*history)->substr(0, 2), "\x1f\x8b");  // gzip
  auto snapshot = s3.Get("s3://flow-logs/moat/state/policy.json");
  ASSERT_TRUE(snapshot && snapshot->has_value());
  auto audit = s3.Request("GET", "flow-logs", "", "list-type=2&prefix=moat");
  ASSERT_TRUE(audit);
  EXPECT_NE(audit->body.find("moat/audit/"), std::string::npos) << audit->body;
  EXPECT_NE(audit->body.find(s3_id + ".jsonl"), std::string::npos) << audit->body;

  // A schedule reconciles every database; then SIGTERM while idle ends the process at once.
  runtime_.Invoke(Json::parse(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})"));
  const Json after = runtime_.Results(4);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[3]["kind"], "response") << after[3].dump();
  // Every database the policy protects: here orders-db only (the cluster is not in this policy).
  const Json scheduled = Json::parse(after[3]["body"].get<std::string>());
  ASSERT_EQ(scheduled["reconcile"]["targets"].size(), 1u) << scheduled.dump();
  EXPECT_FALSE(scheduled["reconcile"]["targets"][0]["changes"]);
  EXPECT_EQ(moat->Stop(SIGTERM, 10), 0);
}

TEST_F(LambdaCliTest, WhatIfHoldsBackAFirstEnforcementThatCutsAClient) {
  auto moat = Start({{"MOAT_ALLOW_BREAKING", "false"}});
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  const Json results = runtime_.Results(1);
  ASSERT_EQ(results.size(), 1u) << moat->err();
  EXPECT_EQ(results[0]["kind"], "error");  // Incomplete: Lambda retries, then the DLQ — loud
  EXPECT_EQ(results[0]["error_type"], "Incomplete");
  const Json body = Json::parse(Json::parse(results[0]["body"].get<std::string>())["errorMessage"].get<std::string>());
  ASSERT_EQ(body["reconcile"]["targets"].size(), 1u) << body.dump();
  const std::string held = body["reconcile"]["targets"][0]["held"];
  EXPECT_NE(held.find("would cut 1 observed flow to orders-db"), std::string::npos) << held;
  EXPECT_NE(held.find("10.0.1.23 -> 5432/tcp"), std::string::npos) << held;  // this object's client
  EXPECT_TRUE(Managed("orders-db").empty());                                 // nothing changed on it
  EXPECT_EQ(moat->Stop(SIGTERM, 10), 0);
}

TEST_F(LambdaCliTest, FlowsOfANewObjectGoToThePce) {
  PceServer pce(policy_);
  ASSERT_TRUE(pce.ok());
  auto moat = Start({{"ILLUMIO_PCE_HOST", pce.url()},
                     {"ILLUMIO_PCE_ORG_ID", "1"},
                     {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                     {"ILLUMIO_API_KEY_SECRET", moto_.secret_arn()}});  // read from Secrets Manager
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  const Json results = runtime_.Results(1);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0]["kind"], "response") << results[0].dump() << moat->err();
  const Json r = Json::parse(results[0]["body"].get<std::string>());
  ASSERT_TRUE(r.contains("pce")) << r.dump();
  EXPECT_GT(r["pce"]["sent"].get<int>(), 0);
  EXPECT_EQ(r["pce"]["failed"], 0);
  const Json uploaded = Json::parse(pce.Get("flows"));
  EXPECT_EQ(uploaded.size(), r["pce"]["received"].get<size_t>());
  EXPECT_EQ(moat->err().find(kPceSecret), std::string::npos);
  EXPECT_EQ(moat->out().find(kPceSecret), std::string::npos);
}

// The PCE test server's GET requests since its log was last reset, as "path?query".
std::vector<std::string> PceReads(PceServer& pce) {
  std::vector<std::string> out;
  for (const Json& e : Json::parse(pce.Get("log"))) {
    if (e["method"] == "GET") {
      out.push_back(e["path"].get<std::string>() + (e["query"] == "" ? "" : "?" + e["query"].get<std::string>()));
    }
  }
  return out;
}

constexpr const char* kVersionRequest = "/api/v2/orgs/1/sec_policy?max_results=1";

std::vector<std::pair<std::string, std::optional<std::string>>> PceEnv(const PceServer& pce) {
  return {{"MOAT_POLICY", "pce"},
          {"ILLUMIO_PCE_HOST", pce.url()},
          {"ILLUMIO_PCE_ORG_ID", "1"},
          {"ILLUMIO_API_KEY_USERNAME", kPceUser},
          {"ILLUMIO_API_KEY_SECRET", kPceSecret}};
}

// The answer to the `n`th invocation (1-based), which must be a response.
Json Answer(const Json& results, size_t n) {
  if (results.size() < n) return Json::object();
  const Json& r = results[n - 1];
  return r["kind"] == "response" ? Json::parse(r["body"].get<std::string>()) : Json::object();
}

// One process, one flow-log object after another: the policy is read whole for the first, then
// each event asks the PCE for its policy version only; a provisioning is read whole at the next
// event, and enforced by it.
TEST_F(LambdaCliTest, AnUnchangedPcePolicyCostsOneRequestPerEventAndAProvisioningIsReadAtTheNext) {
  PceServer pce(policy_);
  ASSERT_TRUE(pce.ok());
  auto moat = Start(PceEnv(pce));
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  ASSERT_TRUE(Answer(runtime_.Results(1), 1)["reconcile"]["policy_ok"]) << moat->err();
  const std::vector<std::string> first = PceReads(pce);
  ASSERT_EQ(first.size(), 9u);  // the version, then the eight collections
  EXPECT_EQ(first[0], kVersionRequest);

  pce.Post("reset", "{}");
  for (size_t event = 2; event <= 4; ++event) {
    runtime_.Invoke(S3Event("flow-logs", kSampleKey));
    const Json answer = Answer(runtime_.Results(event), event);
    EXPECT_TRUE(answer["reconcile"]["policy_ok"]) << answer.dump() << moat->err();
  }
  EXPECT_EQ(PceReads(pce), std::vector<std::string>(3, kVersionRequest));

  // The VPN's IP list grows by 10.77.0.0/16, and is provisioned.
  Json vpn = Json::parse(pce.Api("GET", "sec_policy/draft/ip_lists/7", ""));
  Json ranges = vpn["ip_ranges"];
  ranges.push_back({{"from_ip", "10.77.0.0/16"}, {"exclusion", false}});
  pce.Api("PUT", "sec_policy/draft/ip_lists/7", Json{{"ip_ranges", ranges}}.dump());
  const Json provisioned = Json::parse(pce.Api("POST", "sec_policy", R"({"update_description": "VPN grows"})"));
  ASSERT_EQ(provisioned["version"], 2) << provisioned.dump();
  pce.Post("reset", "{}");
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  EXPECT_TRUE(Answer(runtime_.Results(5), 5)["reconcile"]["policy_ok"]) << moat->err();
  EXPECT_EQ(PceReads(pce).size(), 9u);
  const auto groups = Managed("orders-db");
  ASSERT_EQ(groups.size(), 1u);
  bool grown = false;
  for (const aws::IngressRule& r : groups[0].ingress) grown = grown || net::ToString(r.cidr) == "10.77.0.0/16";
  EXPECT_TRUE(grown) << "the provisioned range is not enforced";
  EXPECT_EQ(moat->err().find(kPceSecret), std::string::npos);
  EXPECT_EQ(moat->Stop(SIGTERM, 10), 0);
}

// A new process (a cold Lambda container) with the state in S3: the version request, and the
// policy from the copy the first one kept there.
TEST_F(LambdaCliTest, AColdStartReadsThePceCopyFromTheStateWithOneRequest) {
  PceServer pce(policy_);
  ASSERT_TRUE(pce.ok());
  auto env = PceEnv(pce);
  env.emplace_back("MOAT_STATE", "s3://flow-logs/moat/state/");
  {
    auto warm = Start(env);
    runtime_.Invoke(S3Event("flow-logs", kSampleKey));
    ASSERT_TRUE(Answer(runtime_.Results(1), 1)["reconcile"]["policy_ok"]) << warm->err();
    EXPECT_EQ(warm->Stop(SIGTERM, 10), 0);
  }
  EXPECT_EQ(PceReads(pce).size(), 9u);
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::S3Store s3({moto_.url(), "us-east-1"}, std::make_shared<aws::StaticCredentials>(creds), *transport_,
                  SystemClock());
  auto copy = s3.Get("s3://flow-logs/moat/state/pce-policy.json");
  ASSERT_TRUE(copy && copy->has_value());
  EXPECT_EQ(Json::parse(**copy)["version"], 1);
  EXPECT_EQ((*copy)->find(kPceSecret), std::string::npos);

  pce.Post("reset", "{}");
  auto cold = Start(env);
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  EXPECT_TRUE(Answer(runtime_.Results(2), 2)["reconcile"]["policy_ok"]) << cold->err();
  EXPECT_EQ(PceReads(pce), std::vector<std::string>{kVersionRequest});
  EXPECT_EQ(cold->err().find("moat: warning:"), std::string::npos) << cold->err();

  // A copy someone altered is not used: a warning, and the policy read from the PCE.
  Json altered = Json::parse(**copy);
  altered["bundle"] = ReadFile(policy_);
  ASSERT_TRUE(s3.Put("s3://flow-logs/moat/state/pce-policy.json", altered.dump(), "application/json"));
  EXPECT_EQ(cold->Stop(SIGTERM, 10), 0);
  pce.Post("reset", "{}");
  auto again = Start(env);
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  EXPECT_TRUE(Answer(runtime_.Results(3), 3)["reconcile"]["policy_ok"]) << again->err();
  EXPECT_EQ(PceReads(pce).size(), 9u);
  EXPECT_EQ(again->Stop(SIGTERM, 10), 0);
  EXPECT_NE(again->err().find("moat: warning: s3://flow-logs/moat/state/pce-policy.json: the copy of the PCE's "
                              "policy is not used: mac: does not match"),
            std::string::npos)
      << again->err();
}

// The PCE fails the version request: the run does not use the policy it holds, but enforces the
// last known good and fails, as for any failure of the policy source.
TEST_F(LambdaCliTest, AFailedVersionRequestFallsBackToTheLastKnownGood) {
  PceServer pce(policy_);
  ASSERT_TRUE(pce.ok());
  auto moat = Start(PceEnv(pce));
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  ASSERT_TRUE(Answer(runtime_.Results(1), 1)["reconcile"]["policy_ok"]) << moat->err();
  pce.Faults(R"({"garbage": 1, "method": "GET"})");  // the version request's answer
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  const Json results = runtime_.Results(2);
  ASSERT_EQ(results.size(), 2u) << moat->err();
  Json body = Json::parse(results[1]["body"].get<std::string>());
  if (body.contains("errorMessage")) body = Json::parse(body["errorMessage"].get<std::string>());
  EXPECT_FALSE(body["reconcile"]["policy_ok"]) << body.dump();
  EXPECT_NE(body["reconcile"]["policy_error"].get<std::string>().find(
                "GET /orgs/1/sec_policy?max_results=1: the response is not a JSON array"),
            std::string::npos)
      << body.dump();
  EXPECT_EQ(PceReads(pce).back(), kVersionRequest);  // nothing read whole after it
}

TEST_F(LambdaCliTest, CloudTrailCallRevertsATamperAtOnce) {
  auto moat = Start();
  runtime_.Invoke(Json::parse(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})"));
  ASSERT_EQ(runtime_.Results(1).size(), 1u);
  const auto groups = Managed("orders-db");
  ASSERT_EQ(groups.size(), 1u);
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::QueryClient client({"ec2", moto_.url(), "us-east-1", aws::kEc2ApiVersion},
                          std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  aws::Ec2 ec2(client);
  ASSERT_TRUE(ec2.AuthorizeIngress(groups[0].id, {{6, 5432, 5432, *net::ParsePrefix("0.0.0.0/0"), "by hand"}}));
  runtime_.Invoke(
      {{"detail-type", "AWS API Call via CloudTrail"},
       {"source", "aws.ec2"},
       {"detail",
        {{"eventName", "AuthorizeSecurityGroupIngress"}, {"requestParameters", {{"groupId", groups[0].id}}}}}});
  const Json results = runtime_.Results(2);
  ASSERT_EQ(results.size(), 2u);
  ASSERT_EQ(results[1]["kind"], "response") << results[1].dump();
  const Json r = Json::parse(results[1]["body"].get<std::string>());
  EXPECT_EQ(r["reconcile"]["drift_reverted"], 1);
  ASSERT_EQ(r["reconcile"]["targets"].size(), 1u);
  EXPECT_EQ(Managed("orders-db")[0].ingress.size(), groups[0].ingress.size());
}

// The PCE holds every request past any timeout: the policy's time budget (half the invocation's
// time) runs out, the last known good is enforced, and the tamper is reverted before the deadline.
TEST_F(LambdaCliTest, AHangingPceDoesNotStopTheDriftRevert) {
  PceServer pce(policy_);
  ASSERT_TRUE(pce.ok());
  auto moat = Start({{"MOAT_POLICY", "pce"},
                     {"ILLUMIO_PCE_HOST", pce.url()},
                     {"ILLUMIO_PCE_ORG_ID", "1"},
                     {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                     {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
  runtime_.Invoke(Json::parse(R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})"));
  ASSERT_EQ(runtime_.Results(1).size(), 1u) << moat->err();
  const auto groups = Managed("orders-db");
  ASSERT_EQ(groups.size(), 1u) << moat->err();
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::QueryClient client({"ec2", moto_.url(), "us-east-1", aws::kEc2ApiVersion},
                          std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  aws::Ec2 ec2(client);
  ASSERT_TRUE(ec2.AuthorizeIngress(groups[0].id, {{6, 5432, 5432, *net::ParsePrefix("0.0.0.0/0"), "by hand"}}));
  pce.Faults(R"({"hang": 600})");
  const auto start = std::chrono::steady_clock::now();
  runtime_.Invoke(
      {{"detail-type", "AWS API Call via CloudTrail"},
       {"source", "aws.ec2"},
       {"detail",
        {{"eventName", "AuthorizeSecurityGroupIngress"}, {"requestParameters", {{"groupId", groups[0].id}}}}}},
      20000);
  const Json results = runtime_.Results(2, 40);
  ASSERT_EQ(results.size(), 2u) << moat->err();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_NE(results[1]["error_type"], "Timeout") << results[1].dump();
  const auto after = Managed("orders-db");
  ASSERT_EQ(after.size(), 1u);
  for (const aws::IngressRule& r : after[0].ingress) EXPECT_NE(net::ToString(r.cidr), "0.0.0.0/0");
  EXPECT_NE(results[1].dump().find("the time budget for the PCE ran out"), std::string::npos) << results[1].dump();
  pce.Faults(R"({"hang": 0})");
}

TEST_F(LambdaCliTest, StuckDependencyIsReportedAtTheDeadline) {
  // S3 answers nothing: the watchdog reports a timeout at the deadline and the process ends.
  auto moat = Start({{"AWS_ENDPOINT_URL_S3", "http://" + runtime_.api() + "/hang"}});
  const std::string id = runtime_.Invoke(S3Event("flow-logs", kSampleKey), 7000);
  const Json results = runtime_.Results(1, 30);
  ASSERT_EQ(results.size(), 1u) << moat->err();
  EXPECT_EQ(results[0]["id"], id);
  EXPECT_EQ(results[0]["kind"], "error");
  EXPECT_EQ(results[0]["error_type"], "Timeout");
  EXPECT_EQ(moat->Stop(0, 10), 1);
}

TEST_F(LambdaCliTest, MalformedDeadlineIsLoggedAndTheInvocationStillAnswered) {
  auto moat = Start();
  const std::string bad = runtime_.InvokeWithDeadlineHeader(S3Event("flow-logs", kSampleKey), "12abc");
  const std::string missing = runtime_.InvokeWithDeadlineHeader(S3Event("flow-logs", kSampleKey), nullptr);
  const Json results = runtime_.Results(2);
  ASSERT_EQ(results.size(), 2u) << moat->err();
  EXPECT_EQ(results[0]["id"], bad);
  EXPECT_EQ(results[0]["kind"], "response") << results[0].dump();
  EXPECT_EQ(results[1]["id"], missing);
  EXPECT_EQ(results[1]["kind"], "response") << results[1].dump();
  EXPECT_EQ(moat->Stop(SIGTERM, 10), 0);
  EXPECT_NE(moat->err().find("moat: lambda: invocation " + bad +
                             ": Lambda-Runtime-Deadline-Ms \"12abc\": not a whole number of milliseconds; using a "
                             "deadline 60 s from now"),
            std::string::npos)
      << moat->err();
  EXPECT_NE(moat->err().find("moat: lambda: invocation " + missing +
                             ": Lambda-Runtime-Deadline-Ms is missing; using a deadline 60 s from now"),
            std::string::npos)
      << moat->err();
}

TEST_F(LambdaCliTest, ShortDeadlineLeavesObjectsAndSaysSo) {
  auto moat = Start();
  runtime_.Invoke(S3Event("flow-logs", kSampleKey), 3000);  // within the reserve kept for the answer
  const Json results = runtime_.Results(1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["kind"], "error");
  EXPECT_EQ(results[0]["error_type"], "Incomplete");
  const Json body = Json::parse(results[0]["body"].get<std::string>());
  const Json report = Json::parse(body["errorMessage"].get<std::string>());
  EXPECT_EQ(report["objects"]["left"][0], std::string("s3://flow-logs/") + kSampleKey);
  EXPECT_TRUE(report["objects"]["done"].empty());
}

TEST_F(LambdaCliTest, InitializationErrorIsReported) {
  auto moat = Start({{"MOAT_POLICY", ""}});
  const Json results = runtime_.Results(1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0]["kind"], "init_error");
  EXPECT_NE(results[0]["body"].get<std::string>().find("no policy given"), std::string::npos);
  EXPECT_EQ(moat->Stop(0, 10), 1);
  EXPECT_EQ(moat->err(), "moat: lambda: no policy given: set MOAT_POLICY to pce or a bundle file\n");
}

TEST_F(LambdaCliTest, InvalidSettingIsAnInitErrorAndTheFunctionNeverPolls) {
  const std::pair<const char*, const char*> cases[] = {
      {"MOAT_MODE", "--mode: expected enforce or visibility, got \"bogus\""},
      {"MOAT_FLOW_LOG_BUCKET",
       "--flow-log-bucket \"bogus_bucket\": not a valid S3 bucket name: expected only "
       "lowercase letters, digits, '.' and '-'"},
      {"MOAT_RULES_PER_GROUP", "the function's options are not valid (see its log)"},  // not a number
  };
  const std::string queued = runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  for (size_t i = 0; i < std::size(cases); ++i) {
    const auto& [variable, message] = cases[i];
    auto moat = Start({{variable, variable == std::string("MOAT_FLOW_LOG_BUCKET") ? "bogus_bucket" : "bogus"}});
    EXPECT_EQ(moat->Stop(0, 15), 1) << variable << ": " << moat->err();  // ended by itself
    const Json results = runtime_.Results(i + 1, 5);
    ASSERT_EQ(results.size(), i + 1) << variable << ": " << moat->err();
    EXPECT_EQ(results[i]["kind"], "init_error");
    EXPECT_EQ(results[i]["error_type"], "InvalidConfiguration");
    const Json body = Json::parse(results[i]["body"].get<std::string>());
    EXPECT_EQ(body["errorType"], "InvalidConfiguration");
    EXPECT_EQ(body["errorMessage"], message) << variable;
    EXPECT_NE(moat->err().find(std::string("moat: lambda: ")), std::string::npos);
  }
  // The invocation queued meanwhile was never taken by a function that could not run it.
  auto moat = Start();
  const Json results = runtime_.Results(std::size(cases) + 1);
  ASSERT_EQ(results.size(), std::size(cases) + 1) << moat->err();
  EXPECT_EQ(results.back()["id"], queued);
  EXPECT_EQ(results.back()["kind"], "response") << results.back().dump();
  EXPECT_EQ(moat->Stop(SIGTERM, 10), 0);
}

TEST_F(LambdaCliTest, S3ObjectsOfBucketsNotConfiguredAreRefusedAndNotRead) {
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::S3Store s3({moto_.url(), "us-east-1"}, std::make_shared<aws::StaticCredentials>(creds), *transport_,
                  SystemClock());
  ASSERT_TRUE(s3.Request("PUT", "other-bucket", "", ""));
  ASSERT_TRUE(s3.Put(std::string("s3://other-bucket/") + kSampleKey,
                     ReadFile(std::string(MOAT_SOURCE_DIR "/samples/flowlogs/") + kSampleKey), "application/gzip"));
  auto configured = Start();
  const std::string other = runtime_.Invoke(S3Event("other-bucket", kSampleKey));
  const Json results = runtime_.Results(1);
  ASSERT_EQ(results.size(), 1u) << configured->err();
  EXPECT_EQ(results[0]["id"], other);
  ASSERT_EQ(results[0]["kind"], "response") << results[0].dump();  // refused: no retry can change that
  const Json r = Json::parse(results[0]["body"].get<std::string>());
  EXPECT_TRUE(r["objects"]["done"].empty());
  ASSERT_EQ(r["refused"].size(), 1u) << r.dump();
  EXPECT_EQ(r["refused"][0], std::string("event: Records[0].s3: \"s3://other-bucket/") + kSampleKey +
                                 "\": refused: not a configured flow-log bucket (--flow-log-bucket, "
                                 "MOAT_FLOW_LOG_BUCKET)");
  EXPECT_FALSE(r.contains("reconcile"));
  EXPECT_EQ(configured->Stop(SIGTERM, 10), 0);
  EXPECT_NE(configured->err().find("moat: lambda: invocation " + other + ": event: Records[0].s3: "), std::string::npos)
      << configured->err();
  auto history = s3.Request("GET", "other-bucket", "", "list-type=2&prefix=moat");
  ASSERT_TRUE(history);
  EXPECT_EQ(history->body.find("<Key>"), std::string::npos) << history->body;  // nothing written beside it
  EXPECT_TRUE(Managed("orders-db").empty());

  // With no flow-log bucket configured, every S3 object is refused.
  auto unconfigured = Start({{"MOAT_FLOW_LOG_BUCKET", std::nullopt}});
  runtime_.Invoke(S3Event("flow-logs", kSampleKey));
  const Json after = runtime_.Results(2);
  ASSERT_EQ(after.size(), 2u) << unconfigured->err();
  const Json none = Json::parse(after[1]["body"].get<std::string>());
  ASSERT_EQ(none["refused"].size(), 1u) << none.dump();
  EXPECT_TRUE(none["refused"][0].get<std::string>().ends_with(
      "refused: no flow-log bucket is configured (--flow-log-bucket, MOAT_FLOW_LOG_BUCKET): S3 events are refused"));
  EXPECT_TRUE(Managed("orders-db").empty());
  EXPECT_EQ(unconfigured->Stop(SIGTERM, 10), 0);
  EXPECT_NE(unconfigured->err().find("moat: lambda: started: no flow-log bucket (S3 events are refused)"),
            std::string::npos)
      << unconfigured->err();
}

}  // namespace
}  // namespace moat::integration
