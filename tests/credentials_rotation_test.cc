// Integration test of credentials that rotate under a running `moat watch`: the worker gets its
// credentials from a container-credentials endpoint on loopback (tests/credentials_server.py,
// AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN) and talks to moto
// (signature checking on, so a request signed with a deleted IAM key is refused) through that
// server's proxy, which can answer ExpiredToken for a key it is told is retired.
//   1. Renewal before expiry: the endpoint hands out key A valid for 5 minutes and 6 seconds, the
//      worker handles a message; the endpoint switches to key B; the worker must fetch B by itself
//      (A is then within 5 minutes of expiring; nothing has refused it), after which A is deleted
//      in moto and a second message must still be handled.
//   2. Renewal after ExpiredToken: the endpoint switches to key C, valid for an hour, so the worker
//      has no reason to renew B; the proxy then answers ExpiredToken to B, and a third message must
//      be handled — the worker renewed the credentials on that answer and sent the request again.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "aws/sqs.h"
#include "moat_process.h"
#include "moto.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

constexpr const char* kToken = "container-auth-token-0123";
constexpr const char* kServer = MOAT_SOURCE_DIR "/tests/credentials_server.py";
constexpr const char* kSchedule = R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})";

class CredentialsRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    Json bundle = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
    bundle["virtual_services"][0]["service_addresses"][0]["fqdn"] = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
    policy_ = dir_.Write("policy.json", bundle.dump());
    const Json urls = Json::parse(Helper("moto_queue.py", {"flow-logs"}));
    queue_ = urls["queue_url"];
    key_a_ = Json::parse(Helper("moto_keys.py", {"create", "worker"}));
    SetState(key_a_, 300 + 6, {});
    server_ = std::make_unique<Background>(
        std::vector<std::string>{"/usr/bin/env", "python3", kServer, dir_.path() + "/state.json", dir_.path() + "/port",
                                 dir_.path() + "/served.log", moto_.url(), kToken},
        std::vector<std::pair<std::string, std::string>>{}, logs_.path());
    for (int i = 0; i < 200 && ReadFile(dir_.path() + "/port").empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    proxy_ = "http://127.0.0.1:" + ReadFile(dir_.path() + "/port");
    ASSERT_NE(proxy_, "http://127.0.0.1:") << server_->err();
  }

  // Runs a Python helper against moto as the setup user; its standard output.
  std::string Helper(const char* script, std::vector<std::string> args) {
    RunOptions o;
    o.env = moto_.Environment();
    args.insert(args.begin(), {"python3", std::string(MOAT_SOURCE_DIR "/tests/") + script, moto_.url()});
    const RunResult r = RunProcess("/usr/bin/env", args, o, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r.out;
  }
  // What the endpoint hands out from now on (written whole, then renamed: it reads at every request).
  void SetState(const Json& key, int lifetime_seconds, const std::vector<std::string>& retired) {
    const Json state = {{"key", key}, {"lifetime", lifetime_seconds}, {"retired", retired}};
    dir_.Write("state.json.tmp", state.dump());
    ASSERT_EQ(std::rename((dir_.path() + "/state.json.tmp").c_str(), (dir_.path() + "/state.json").c_str()), 0);
  }
  std::unique_ptr<Background> Worker() {
    return std::make_unique<Background>(
        std::vector<std::string>{MOAT_BINARY, "watch", "--queue", queue_, "--wait-seconds", "1", "--visibility-timeout",
                                 "30"},
        std::vector<std::pair<std::string, std::string>>{
            {"AWS_ENDPOINT_URL", proxy_},
            {"AWS_REGION", "us-east-1"},
            {"AWS_ACCESS_KEY_ID", ""},  // no key of its own: only the container endpoint's
            {"AWS_SECRET_ACCESS_KEY", ""},
            {"AWS_PROFILE", ""},
            {"AWS_SHARED_CREDENTIALS_FILE", dir_.path() + "/no-credentials"},
            {"AWS_CONFIG_FILE", dir_.path() + "/no-config"},
            {"AWS_EC2_METADATA_DISABLED", "true"},
            {"AWS_CONTAINER_CREDENTIALS_FULL_URI", proxy_ + "/creds"},
            {"AWS_CONTAINER_AUTHORIZATION_TOKEN", kToken},
            {"MOAT_POLICY", policy_},
            {"MOAT_STATE", dir_.path() + "/state"},
            {"MOAT_ALLOW_BREAKING", "true"}},
        logs_.path());
  }
  void Send(const std::string& body) {
    auto r = sqs_.Call("SendMessage", {{"QueueUrl", queue_}, {"MessageBody", body}});
    ASSERT_TRUE(r) << r.error().message;
  }
  // Waits up to `seconds` for `done`.
  static bool Within(int seconds, const std::function<bool()>& done) {
    for (int i = 0; i < seconds * 4 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    return done();
  }
  static int Count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
    return n;
  }
  std::string Served() const { return ReadFile(dir_.path() + "/served.log"); }

  MotoServer moto_{"flow-logs", MOAT_SOURCE_DIR "/samples/flowlogs"};
  TempDir dir_, logs_;
  std::string policy_, queue_, proxy_;
  Json key_a_;
  std::unique_ptr<Background> server_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
  aws::QueryClient sqs_{
      {"sqs", moto_.url(), "us-east-1", aws::kSqsApiVersion},
      std::make_shared<aws::StaticCredentials>(aws::Credentials{moto_.access_key_id(), moto_.secret_access_key(), ""}),
      *transport_,
      SystemClock()};
};

TEST_F(CredentialsRotationTest, WatchKeepsHandlingMessagesWhileItsCredentialsRotate) {
  auto worker = Worker();
  // The S3 test event that configuring the notification queued, and one schedule: handled with A.
  Send(kSchedule);
  ASSERT_TRUE(Within(60, [&] { return Count(worker->err(), "\"ok\":true") >= 2; })) << worker->err();
  ASSERT_EQ(Count(Served(), "served " + key_a_["id"].get<std::string>()), Count(Served(), "served "));

  // 1. B is handed out from now on; the worker fetches it before A expires, unasked.
  const Json key_b = Json::parse(Helper("moto_keys.py", {"create", "worker"}));
  SetState(key_b, 3600, {});
  ASSERT_TRUE(Within(30, [&] { return Count(Served(), "served " + key_b["id"].get<std::string>()) >= 1; }))
      << Served() << worker->err();
  Helper("moto_keys.py", {"delete", "worker", key_a_["id"]});  // requests signed with A now fail in moto
  Send(kSchedule);
  ASSERT_TRUE(Within(60, [&] { return Count(worker->err(), "\"ok\":true") >= 3; })) << worker->err();

  // 2. C is handed out, but B is good for an hour: only an ExpiredToken answer makes the worker ask.
  const Json key_c = Json::parse(Helper("moto_keys.py", {"create", "worker"}));
  SetState(key_c, 3600, {key_b["id"]});
  Send(kSchedule);
  ASSERT_TRUE(Within(60, [&] { return Count(worker->err(), "\"ok\":true") >= 4; })) << worker->err();
  const std::string served = Served();
  EXPECT_GE(Count(served, "expired " + key_b["id"].get<std::string>()), 1) << served;
  EXPECT_GE(Count(served, "served " + key_c["id"].get<std::string>()), 1) << served;

  EXPECT_EQ(worker->Stop(SIGTERM, 15), 0) << worker->err();
  const std::string err = worker->err();
  EXPECT_EQ(Count(err, "\"ok\":false"), 0) << err;
  EXPECT_EQ(err.find(key_a_["secret"].get<std::string>()), std::string::npos);  // secrets never logged
  EXPECT_EQ(err.find(key_b["secret"].get<std::string>()), std::string::npos);
  EXPECT_EQ(err.find(kToken), std::string::npos);
}

}  // namespace
}  // namespace moat::integration
