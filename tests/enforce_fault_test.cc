// Apply through a faulty network: every EC2 and RDS call is first answered with throttling (or a
// 503) by a transport standing between moat and moto; the run still converges, and a second run
// finds nothing to do.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/enforce.h"
#include "moat_process.h"
#include "moto.h"
#include "store/local_store.h"
#include "testing/fake_clock.h"

namespace moat::integration {
namespace {

// Answers the first attempt of every request with an error, alternating EC2-style throttling,
// RDS-style throttling and a bare 503; the retry goes through.
class FaultTransport : public http::Transport {
 public:
  explicit FaultTransport(http::Transport& inner) : inner_(inner) {}
  Result<http::Response> Send(const http::Request& r) override {
    if (r.body != last_body_) {
      last_body_ = r.body;
      ++faults;
      switch (faults % 3) {
        case 0:
          return http::Response{
              503, {}, "<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>"};
        case 1:
          return http::Response{400, {}, "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"};
        default:
          return http::Response{503, {}, "Service Unavailable"};
      }
    }
    return inner_.Send(r);
  }
  int faults = 0;

 private:
  http::Transport& inner_;
  std::string last_body_;
};

TEST(EnforceFaultTest, ThrottledCallsAreRetriedAndTheEstateConverges) {
  MotoServer moto;
  ASSERT_TRUE(moto.ok()) << moto.error();
  TempDir dir;
  nlohmann::json bundle = nlohmann::json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
  bundle["virtual_services"][0]["service_addresses"][0]["fqdn"] = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com";
  const std::string policy = dir.Write("policy.json", bundle.dump());

  auto curl = http::NewCurlTransport({});
  FaultTransport faulty(*curl);
  const auto vars = moto.Environment();
  aws::AwsEnvironment env;
  env.getenv = [vars](const char* name) -> const char* {
    for (const auto& [k, v] : vars) {
      if (k == name) return v.c_str();
    }
    return nullptr;
  };
  env.read_file = [](const std::string&) { return std::optional<std::string>(); };

  moat::testing::FakeClock clock;  // the AWS clients' backoff: recorded, not waited
  auto run = [&] {
    app::AwsServices aws(faulty, env, clock);
    store::LocalStore local;
    app::EnforceRequest req;
    req.policy = policy;
    req.state_dir = dir.path() + "/state";
    req.execute = true;
    app::EnforceDeps deps;
    deps.policy = {&local, nullptr};
    deps.aws = &aws;
    deps.clock = &clock;
    return app::RunEnforce(req, deps);
  };
  auto first = run();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->Failed()) << enforce::RenderPlanText(*first);
  EXPECT_TRUE(first->HasChanges());
  EXPECT_GE(faulty.faults, 8);  // reads and writes alike were throttled once
  ASSERT_EQ(first->targets.size(), 1u);
  EXPECT_TRUE(first->targets[0].applied);

  auto second = run();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(second->HasChanges()) << enforce::RenderPlanText(*second);
  EXPECT_EQ(second->writes, 0);
}

}  // namespace
}  // namespace moat::integration
