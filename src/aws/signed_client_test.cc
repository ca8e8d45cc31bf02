#include "aws/signed_client.h"

#include <gtest/gtest.h>

#include "aws/s3.h"
#include "aws/secrets.h"
#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::aws {
namespace {

using moat::testing::FakeClock;
using moat::testing::ScriptedTransport;

// A scripted transport whose first `failures` sends fail as a lost connection does.
class FlakyTransport : public ScriptedTransport {
 public:
  int failures = 0;
  Result<http::Response> Send(const http::Request& r) override {
    if (failures > 0) {
      --failures;
      seen.push_back(r);
      return Fail(Transient("connection reset by peer"));
    }
    return ScriptedTransport::Send(r);
  }
};

http::Response XmlReply(int status, const std::string& code) {
  return {status, {}, "<ErrorResponse><Error><Code>" + code + "</Code><Message>m</Message></Error></ErrorResponse>"};
}

std::string AuthorizationOf(const http::Request& r) {
  for (const auto& [k, v] : r.headers) {
    if (k == "Authorization") return v;
  }
  return "";
}

struct Fixture {
  FlakyTransport transport;
  FakeClock clock{1440938160000};
  std::shared_ptr<CredentialsProvider> credentials =
      std::make_shared<StaticCredentials>(Credentials{"AKID", "SECRETKEY", ""});
  SignedClient Client(RetryPolicy retry = {}) {
    return SignedClient({"ec2", "http://127.0.0.1:5000", "us-east-1"}, credentials, transport, clock, retry);
  }
};

TEST(SignedClientTest, ThrottlingServerErrorsAndLostConnectionsAreRetried) {
  Fixture f;
  f.transport.failures = 1;
  f.transport.replies = {XmlReply(400, "Throttling"),
                         XmlReply(503, "ServiceUnavailable"),
                         {429, {}, ""},
                         XmlReply(400, "SlowDown"),
                         {200, {}, "<ok/>"}};
  SignedClient client = f.Client();
  auto r = client.Send({}, "ec2 X", XmlError);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(client.requests(), 6);
  EXPECT_EQ(f.clock.sleeps().size(), 5u);
}

TEST(SignedClientTest, BackoffIsExponentialJitteredAndCapped) {
  Fixture f;
  for (int i = 0; i < 8; ++i) f.transport.replies.push_back(XmlReply(503, "InternalError"));
  SignedClient client = f.Client({8, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)});
  auto r = client.Send({}, "ec2 DescribeSecurityGroups", XmlError);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_EQ(r.error().message, "ec2 DescribeSecurityGroups: InternalError: m (gave up after 8 attempts)");
  const auto sleeps = f.clock.sleeps();
  ASSERT_EQ(sleeps.size(), 7u);
  const int64_t full[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (size_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i].count(), full[i] / 2) << i;
    EXPECT_LE(sleeps[i].count(), full[i]) << i;
  }
}

TEST(SignedClientTest, OtherAnswersAreReturnedAtOnceForTheServiceToClassify) {
  for (const char* code : {"InvalidParameterValue", "AuthFailure", "InvalidGroup.NotFound", "ExpiredToken"}) {
    Fixture f;
    f.transport.replies = {XmlReply(400, code)};
    SignedClient client = f.Client();
    auto r = client.Send({}, "ec2 X", XmlError);
    ASSERT_TRUE(r) << code;
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(client.requests(), 1) << code;  // ExpiredToken too: static credentials cannot be renewed
    EXPECT_TRUE(f.clock.sleeps().empty());
  }
}

TEST(SignedClientTest, ATransportFailureThatIsNotTransientIsNotRetried) {
  class Refusing : public http::Transport {
   public:
    Result<http::Response> Send(const http::Request&) override {
      return Fail(Error{ErrorCode::kDenied, "TLS: certificate verify failed"});
    }
  } refusing;
  FakeClock clock;
  SignedClient client({"ec2", "https://ec2.us-east-1.amazonaws.com", "us-east-1"},
                      std::make_shared<StaticCredentials>(Credentials{"AKID", "S", ""}), refusing, clock);
  auto r = client.Send({}, "ec2 X", XmlError);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kDenied);
  EXPECT_EQ(r.error().message, "ec2 X: TLS: certificate verify failed");
}

TEST(SignedClientTest, ExpiredTokenRenewsTheCredentialsOnceAndSendsAgain) {
  for (const char* code : {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}) {
    Fixture f;
    int fetches = 0;
    f.credentials = std::make_shared<RefreshingCredentials>(
        [&]() -> Result<Credentials> {
          ++fetches;
          return Credentials{"ASIA" + std::to_string(fetches), "secret", "token", 0};
        },
        f.clock);
    f.transport.replies = {XmlReply(400, code), {200, {}, "<ok/>"}};
    SignedClient client = f.Client();
    auto r = client.Send({}, "ec2 X", XmlError);
    ASSERT_TRUE(r) << code;
    EXPECT_EQ(r->status, 200) << code;
    ASSERT_EQ(f.transport.seen.size(), 2u);
    EXPECT_NE(AuthorizationOf(f.transport.seen[0]).find("Credential=ASIA1/"), std::string::npos);
    EXPECT_NE(AuthorizationOf(f.transport.seen[1]).find("Credential=ASIA2/"), std::string::npos);
    EXPECT_TRUE(f.clock.sleeps().empty());  // a renewal, not a backoff
  }
}

TEST(SignedClientTest, ASecondExpiredTokenIsTheAnswer) {
  Fixture f;
  int fetches = 0;
  f.credentials = std::make_shared<RefreshingCredentials>(
      [&]() -> Result<Credentials> {
        ++fetches;
        return Credentials{"ASIA" + std::to_string(fetches), "secret", "token", 0};
      },
      f.clock);
  f.transport.replies = {XmlReply(400, "ExpiredToken"), XmlReply(400, "ExpiredToken"), {200, {}, "<ok/>"}};
  SignedClient client = f.Client();
  auto r = client.Send({}, "ec2 X", XmlError);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(client.requests(), 2);
}

TEST(SignedClientTest, S3PutAnsweredSlowDownAndServiceUnavailableIsRetried) {
  ScriptedTransport t;
  FakeClock clock{1440938160000};
  t.replies = {XmlReply(503, "SlowDown"), XmlReply(503, "ServiceUnavailable"), {200, {}, ""}};
  S3Store s3({"http://127.0.0.1:1", "us-east-1"}, std::make_shared<StaticCredentials>(Credentials{"AKID", "S", ""}), t,
             clock);
  ASSERT_TRUE(s3.Put("s3://bkt/moat/state/applied.json", "{}", "application/json"));
  ASSERT_EQ(t.seen.size(), 3u);
  for (const http::Request& r : t.seen) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.url, "http://127.0.0.1:1/bkt/moat/state/applied.json");
    EXPECT_EQ(r.body, "{}");
  }
  EXPECT_EQ(clock.sleeps().size(), 2u);
}

TEST(SignedClientTest, S3GivesUpWithATransientErrorNamingTheRequest) {
  ScriptedTransport t;
  FakeClock clock{1440938160000};
  for (int i = 0; i < 6; ++i) t.replies.push_back(XmlReply(503, "SlowDown"));
  S3Store s3({"http://127.0.0.1:1", "us-east-1"}, std::make_shared<StaticCredentials>(Credentials{"AKID", "S", ""}), t,
             clock);
  auto st = s3.Put("s3://bkt/k", "{}", "application/json");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kTransient);
  EXPECT_EQ(st.error().message, "s3 PUT s3://bkt/k: SlowDown: m (gave up after 6 attempts)");
}

TEST(SignedClientTest, SecretsManagerSpeaksJsonAndIsRetried) {
  ScriptedTransport t;
  FakeClock clock{1440938160000};
  t.replies = {{400, {}, R"({"__type":"ThrottlingException","message":"slow down"})"},
               {200, {}, R"({"Name":"moat/pce","SecretString":"s3cr3t"})"},
               {400, {}, R"({"__type":"com.amazonaws#ResourceNotFoundException","Message":"no such secret"})"}};
  SignedClient client({"secretsmanager", "http://127.0.0.1:1", "us-east-1"},
                      std::make_shared<StaticCredentials>(Credentials{"AKID", "S", ""}), t, clock);
  auto value = GetSecretString(client, "moat/pce");
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(*value, "s3cr3t");
  EXPECT_EQ(clock.sleeps().size(), 1u);
  ASSERT_EQ(t.seen.size(), 2u);
  EXPECT_EQ(t.seen[1].body, R"({"SecretId":"moat/pce"})");
  auto missing = GetSecretString(client, "gone");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "secretsmanager GetSecretValue gone: ResourceNotFoundException: no such secret");
}

}  // namespace
}  // namespace moat::aws
