#include "aws/config.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/env.h"
#include "testing/fake_clock.h"

namespace moat::aws {
namespace {

// Answers by URL; records what was asked.
class FakeTransport : public http::Transport {
 public:
  std::map<std::string, http::Response> answers;
  std::vector<http::Request> seen;
  Result<http::Response> Send(const http::Request& r) override {
    seen.push_back(r);
    auto it = answers.find(r.method + " " + r.url);
    if (it == answers.end()) return Fail(Transient(r.url + ": connection refused"));
    return it->second;
  }
};

struct Fixture {
  moat::testing::Env env{{{"HOME", "/home/u"}}};
  std::map<std::string, std::string> files;
  FakeTransport transport;
  AwsEnvironment Aws() {
    return {env.getter(),
            [this](const std::string& p) -> std::optional<std::string> {
              auto it = files.find(p);
              if (it == files.end()) return std::nullopt;
              return it->second;
            },
            &transport};
  }
};

TEST(AwsConfigTest, EnvironmentCredentialsComeFirst) {
  Fixture f;
  f.env.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  f.env.vars["AWS_SECRET_ACCESS_KEY"] = "secret";
  f.env.vars["AWS_SESSION_TOKEN"] = "tok";
  f.files["/home/u/.aws/credentials"] = "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n";
  auto c = ResolveCredentials(f.Aws());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(c->credentials.session_token, "tok");
  EXPECT_EQ(c->source, "environment");
  f.env.vars.erase("AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(ResolveCredentials(f.Aws()).error().message,
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set");
}

TEST(AwsConfigTest, ProfilesFromTheSharedFiles) {
  Fixture f;
  f.files["/home/u/.aws/credentials"] =
      "# comment\n[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = s1\n\n"
      "[prod]\naws_access_key_id=AKIDPROD\naws_secret_access_key=s2\naws_session_token=t2\n";
  f.files["/home/u/.aws/config"] =
      "[default]\nregion = eu-west-1\n[profile dev]\nregion=us-west-2\n"
      "aws_access_key_id = AKIDDEV\naws_secret_access_key = s3\n";
  auto def = ResolveCredentials(f.Aws());
  ASSERT_TRUE(def);
  EXPECT_EQ(def->credentials.access_key_id, "AKIDDEF");
  EXPECT_EQ(def->source, "profile default (/home/u/.aws/credentials)");
  EXPECT_EQ(*ResolveRegion(f.Aws()), "eu-west-1");
  f.env.vars["AWS_PROFILE"] = "prod";
  EXPECT_EQ(ResolveCredentials(f.Aws())->credentials.session_token, "t2");
  f.env.vars["AWS_PROFILE"] = "dev";  // only in the config file, as [profile dev]
  EXPECT_EQ(ResolveCredentials(f.Aws())->credentials.access_key_id, "AKIDDEV");
  EXPECT_EQ(*ResolveRegion(f.Aws()), "us-west-2");
  f.env.vars["AWS_PROFILE"] = "nope";
  EXPECT_EQ(ResolveCredentials(f.Aws()).error().message,
            "AWS_PROFILE=nope: no access key for that profile in /home/u/.aws/credentials or /home/u/.aws/config");
  EXPECT_TRUE(f.transport.seen.empty());  // never reached for the network
}

TEST(AwsConfigTest, ContainerCredentialsWithTheirToken) {
  Fixture f;
  f.env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9911/creds";
  f.env.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = "/var/run/token";
  f.files["/var/run/token"] = "sekret-token\n";
  f.transport.answers["GET http://127.0.0.1:9911/creds"] = {
      200, {}, R"({"AccessKeyId":"ASIACONT","SecretAccessKey":"s","Token":"t","Expiration":"2030-01-01T00:00:00Z"})"};
  auto c = ResolveCredentials(f.Aws());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->credentials.access_key_id, "ASIACONT");
  EXPECT_EQ(c->credentials.session_token, "t");
  EXPECT_EQ(c->credentials.expiration, 1893456000);  // 2030-01-01T00:00:00Z
  ASSERT_EQ(f.transport.seen.size(), 1u);
  EXPECT_EQ(f.transport.seen[0].headers, (http::Headers{{"Authorization", "sekret-token"}}));
}

TEST(AwsConfigTest, AMalformedExpirationIsRefused) {
  Fixture f;
  f.env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9911/creds";
  f.transport.answers["GET http://127.0.0.1:9911/creds"] = {
      200, {}, R"({"AccessKeyId":"ASIACONT","SecretAccessKey":"s","Token":"t","Expiration":"tomorrow"})"};
  auto c = ResolveCredentials(f.Aws());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(c.error().message,
            "container credentials http://127.0.0.1:9911/creds: Expiration: not a UTC time: \"tomorrow\"");
}

TEST(AwsConfigTest, ProviderRenewsContainerCredentialsFiveMinutesBeforeTheyExpire) {
  Fixture f;
  moat::testing::FakeClock clock(1764547200000);  // 2025-12-01T00:00:00Z
  f.env.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9911/creds";
  f.transport.answers["GET http://127.0.0.1:9911/creds"] = {
      200, {}, R"({"AccessKeyId":"ASIAONE","SecretAccessKey":"s","Token":"t","Expiration":"2025-12-01T01:00:00Z"})"};
  auto provider = NewCredentialsProvider(f.Aws(), clock);
  ASSERT_EQ(provider->Get()->access_key_id, "ASIAONE");
  f.transport.answers["GET http://127.0.0.1:9911/creds"] = {
      200, {}, R"({"AccessKeyId":"ASIATWO","SecretAccessKey":"s","Token":"t","Expiration":"2025-12-01T02:00:00Z"})"};
  clock.Advance(std::chrono::minutes(55));  // 5:00 left: still good
  EXPECT_EQ(provider->Get()->access_key_id, "ASIAONE");
  clock.Advance(std::chrono::seconds(1));  // 4:59 left: renewed
  EXPECT_EQ(provider->Get()->access_key_id, "ASIATWO");
  EXPECT_EQ(f.transport.seen.size(), 2u);
}

TEST(AwsConfigTest, ProviderNeverRenewsCredentialsFromTheEnvironmentByTime) {
  Fixture f;
  moat::testing::FakeClock clock;
  f.env.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  f.env.vars["AWS_SECRET_ACCESS_KEY"] = "secret";
  auto provider = NewCredentialsProvider(f.Aws(), clock);
  ASSERT_EQ(provider->Get()->access_key_id, "AKIDENV");
  f.env.vars["AWS_ACCESS_KEY_ID"] = "AKIDNEW";
  clock.Advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(provider->Get()->access_key_id, "AKIDENV");
}

TEST(AwsConfigTest, InstanceRoleThroughImdsV2) {
  Fixture f;
  f.env.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:9912/";
  f.transport.answers["PUT http://127.0.0.1:9912/latest/api/token"] = {200, {}, "TOKEN123"};
  f.transport.answers["GET http://127.0.0.1:9912/latest/meta-data/iam/security-credentials/"] = {
      200, {}, "moat-role\n"};
  f.transport.answers["GET http://127.0.0.1:9912/latest/meta-data/iam/security-credentials/moat-role"] = {
      200, {}, R"({"Code":"Success","AccessKeyId":"ASIAROLE","SecretAccessKey":"s","Token":"t"})"};
  auto c = ResolveCredentials(f.Aws());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->credentials.access_key_id, "ASIAROLE");
  EXPECT_EQ(c->source, "instance role moat-role");
  ASSERT_EQ(f.transport.seen.size(), 3u);
  EXPECT_EQ(f.transport.seen[0].headers, (http::Headers{{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}}));
  EXPECT_EQ(f.transport.seen[1].headers, (http::Headers{{"X-aws-ec2-metadata-token", "TOKEN123"}}));
}

TEST(AwsConfigTest, NothingFoundSaysWhatToSet) {
  Fixture f;
  f.env.vars["AWS_EC2_METADATA_DISABLED"] = "true";
  auto c = ResolveCredentials(f.Aws());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(f.transport.seen.empty());
  EXPECT_FALSE(ResolveRegion(f.Aws()));
}

TEST(AwsConfigTest, RegionAndEndpoints) {
  Fixture f;
  f.env.vars["AWS_DEFAULT_REGION"] = "us-east-2";
  EXPECT_EQ(*ResolveRegion(f.Aws()), "us-east-2");
  f.env.vars["AWS_REGION"] = "us-east-1";
  EXPECT_EQ(*ResolveRegion(f.Aws()), "us-east-1");
  EXPECT_EQ(ResolveEndpoint(f.Aws(), "ec2", "us-east-1"), "https://ec2.us-east-1.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint(f.Aws(), "organizations", "cn-northwest-1"),
            "https://organizations.cn-northwest-1.amazonaws.com.cn");
  EXPECT_EQ(ResolveEndpoint(f.Aws(), "rds", "us-gov-west-1"), "https://rds.us-gov-west-1.amazonaws.com");
  f.env.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000/";
  EXPECT_EQ(ResolveEndpoint(f.Aws(), "ec2", "us-east-1"), "http://127.0.0.1:5000");
  f.env.vars["AWS_ENDPOINT_URL_SECRETSMANAGER"] = "http://127.0.0.1:5001";
  EXPECT_EQ(ResolveEndpoint(f.Aws(), "secretsmanager", "us-east-1"), "http://127.0.0.1:5001");
  EXPECT_EQ(ResolveEndpoint(f.Aws(), "rds", "us-east-1"), "http://127.0.0.1:5000");
}

TEST(AwsConfigTest, ProfileValueReadsSectionsExactly) {
  const std::string text = "[default]\nregion=a\n[profile x]\nregion = b\n[x]\nregion=c\n";
  EXPECT_EQ(ProfileValue(text, "default", "region", true), "a");
  EXPECT_EQ(ProfileValue(text, "x", "region", true), "b");
  EXPECT_EQ(ProfileValue(text, "x", "region", false), "c");
  EXPECT_EQ(ProfileValue(text, "y", "region", false), std::nullopt);
}

}  // namespace
}  // namespace moat::aws
