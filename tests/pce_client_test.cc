// Integration tests of the PCE client against the PCE test server on loopback: the policy read
// back equals the bundle it serves; auth failure, more than 500 objects (the async job), 429, 5xx,
// a garbage body, and the bulk traffic upload.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compile/compile.h"
#include "compile/render.h"
#include "pce/client.h"
#include "pce_server.h"
#include "policy/loader.h"
#include "testing/fake_clock.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;
const char* const kFixture = MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json";

class PceClientTest : public ::testing::Test {
 protected:
  explicit PceClientTest(int extra_workloads = 0) : server_(kFixture, extra_workloads) {}
  void SetUp() override { ASSERT_TRUE(server_.ok()) << "the PCE test server did not start (python3?)"; }

  pce::Config Config(const std::string& secret = kPceSecret) const {
    pce::Config c;
    c.base_url = server_.url();
    c.user = kPceUser;
    c.secret = secret;
    return c;
  }
  pce::Client Client(const std::string& secret = kPceSecret) {
    return pce::Client(Config(secret), *transport_, clock_);
  }

  PceServer server_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
  moat::testing::FakeClock clock_;
};

TEST_F(PceClientTest, PolicyReadFromThePceCompilesLikeTheBundleItServes) {
  auto client = Client();
  auto from_pce = client.FetchPolicy("active");
  ASSERT_TRUE(from_pce) << from_pce.error().message;
  std::ifstream in(kFixture);
  std::stringstream ss;
  ss << in.rdbuf();
  auto from_file = policy::LoadBundle(ss.str(), "fixture", "active");
  ASSERT_TRUE(from_file);
  EXPECT_EQ(compile::RenderJson(compile::Compile(*from_pce)), compile::RenderJson(compile::Compile(*from_file)));
  // Draft is served as well, under draft hrefs.
  auto draft = client.FetchPolicy("draft");
  ASSERT_TRUE(draft) << draft.error().message;
  EXPECT_EQ(compile::Compile(*draft).targets.size(), 1u);
}

TEST_F(PceClientTest, ExportedBundleLoadsBackToTheSameCompilation) {
  auto client = Client();
  auto bundle = client.ExportBundle("active");
  ASSERT_TRUE(bundle) << bundle.error().message;
  auto loaded = policy::LoadBundle(*bundle, "export", "active");
  ASSERT_TRUE(loaded) << loaded.error().message;
  auto fetched = client.FetchPolicy("active");
  ASSERT_TRUE(fetched);
  EXPECT_EQ(compile::RenderJson(compile::Compile(*loaded)), compile::RenderJson(compile::Compile(*fetched)));
}

TEST_F(PceClientTest, WrongSecretFailsAtOnceNamingTheRequestNotTheSecret) {
  auto client = Client("not-the-secret");
  auto r = client.GetCollection("labels");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDenied);
  EXPECT_EQ(r.error().message,
            "GET /orgs/1/labels: 401 authentication failed: check ILLUMIO_API_KEY_USERNAME and ILLUMIO_API_KEY_SECRET");
  EXPECT_EQ(r.error().message.find("not-the-secret"), std::string::npos);
  EXPECT_EQ(client.requests(), 1);  // not retried
}

TEST_F(PceClientTest, WrongOrgIsForbidden) {
  pce::Config c = Config();
  c.org_id = "2";
  pce::Client client(c, *transport_, clock_);
  auto r = client.GetCollection("labels");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDenied);
  EXPECT_TRUE(r.error().message.starts_with("GET /orgs/2/labels: 403 forbidden")) << r.error().message;
}

TEST_F(PceClientTest, TooManyRequestsWaitsAsRetryAfterSaysThenSucceeds) {
  server_.Faults(R"({"429": 2, "retry_after": 7})");
  auto client = Client();
  auto r = client.GetCollection("labels");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Json::parse(*r).size(), 6u);
  ASSERT_EQ(clock_.sleeps().size(), 2u);
  EXPECT_EQ(clock_.sleeps()[0], std::chrono::seconds(7));
  EXPECT_EQ(client.requests(), 3);
}

TEST_F(PceClientTest, ServerErrorsAreRetriedWithBackoffThenGivenUp) {
  server_.Faults(R"({"503": 2})");
  auto client = Client();
  ASSERT_TRUE(client.GetCollection("labels"));
  ASSERT_EQ(clock_.sleeps().size(), 2u);
  EXPECT_LE(clock_.sleeps()[0], std::chrono::milliseconds(500));
  EXPECT_GE(clock_.sleeps()[1], std::chrono::milliseconds(500));  // doubled, jitter at most halves
  server_.Faults(R"({"503": 20})");
  auto fail = client.GetCollection("labels");
  ASSERT_FALSE(fail);
  EXPECT_EQ(fail.error().code, ErrorCode::kTransient);
  EXPECT_EQ(fail.error().message, "GET /orgs/1/labels: 503 server error (gave up after 6 attempts)");
}

TEST_F(PceClientTest, GarbageBodyIsAClearErrorAndNoPolicy) {
  server_.Faults(R"({"garbage": 1})");
  auto client = Client();
  auto r = client.FetchPolicy("active");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_TRUE(r.error().message.starts_with("GET /orgs/1/labels: the response is not a JSON array: "))
      << r.error().message;
}

TEST_F(PceClientTest, UploadSendsChunksOfAtMostAThousandAndCountsFailures) {
  std::vector<std::string> lines;
  for (int i = 0; i < 2500; ++i)
    lines.push_back("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ",10.0.2.45,5432,6");
  lines.push_back("10.0.1.20,not-an-ip,5432,6");
  auto client = Client();
  auto r = client.UploadFlows(lines);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->requests, 3);
  EXPECT_EQ(r->sent, 2501u);
  EXPECT_EQ(r->received, 2500u);
  EXPECT_EQ(r->failed, 1u);
  EXPECT_EQ(r->failed_flows, std::vector<std::string>{"10.0.1.20,not-an-ip,5432,6"});
  EXPECT_EQ(Json::parse(server_.Get("flows")).size(), 2500u);
  for (const auto& req : Json::parse(server_.Get("log"))) {
    if (req["method"] == "POST") {
      EXPECT_EQ(req["content_type"], "text/csv");
    }
  }
}

TEST(PceTlsTest, VerifiesTheCertificateUnlessToldOtherwise) {
  PceServer server(kFixture, PceServer::Tls{});
  ASSERT_TRUE(server.ok()) << "the TLS PCE test server did not start (python3, openssl?)";
  moat::testing::FakeClock clock;
  pce::Config c;
  c.base_url = server.url();
  c.user = kPceUser;
  c.secret = kPceSecret;
  {
    auto transport = http::NewCurlTransport(c.tls);  // the system's CAs: a self-signed PCE fails
    pce::Client client(c, *transport, clock);
    auto r = client.GetCollection("labels");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kDenied);
    EXPECT_NE(r.error().message.find("ILLUMIO_CA_FILE"), std::string::npos) << r.error().message;
  }
  {
    c.tls.ca_file = server.ca_file();  // ILLUMIO_CA_FILE
    auto transport = http::NewCurlTransport(c.tls);
    pce::Client client(c, *transport, clock);
    EXPECT_TRUE(client.GetCollection("labels"));
  }
  {
    c.tls = {"", false};  // ILLUMIO_ALLOW_INSECURE_TLS=true
    auto transport = http::NewCurlTransport(c.tls);
    pce::Client client(c, *transport, clock);
    EXPECT_TRUE(client.GetCollection("labels"));
  }
}

class LargePceTest : public PceClientTest {
 protected:
  LargePceTest() : PceClientTest(1200) {}
};

TEST_F(LargePceTest, MoreThanFiveHundredObjectsComeThroughTheAsyncJob) {
  auto client = Client();
  auto r = client.GetCollection("workloads");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(Json::parse(*r).size(), 1204u);
  bool async = false, polled = false, datafile = false;
  for (const auto& req : Json::parse(server_.Get("log"))) {
    async |= req["prefer"] == "respond-async";
    polled |= req["path"].get<std::string>().starts_with("/api/v2/orgs/1/jobs/");
    datafile |= req["path"].get<std::string>().starts_with("/api/v2/orgs/1/datafiles/");
  }
  EXPECT_TRUE(async && polled && datafile);
  auto policy = client.FetchPolicy("active");
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_EQ(policy->workloads.size(), 1204u);
}

}  // namespace
}  // namespace moat::integration
