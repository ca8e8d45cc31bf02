#include "aws/config.h"

#include <simdjson.h>

#include <algorithm>

#include "base/strings.h"

namespace moat::aws {
namespace {

std::string Get(const AwsEnvironment& env, const char* name) {
  const char* v = env.getenv(name);
  return v == nullptr ? "" : v;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

std::string Home(const AwsEnvironment& env) { return Get(env, "HOME"); }

std::string Profile(const AwsEnvironment& env) {
  const std::string p = Get(env, "AWS_PROFILE");
  return p.empty() ? "default" : p;
}

std::string CredentialsFile(const AwsEnvironment& env) {
  const std::string f = Get(env, "AWS_SHARED_CREDENTIALS_FILE");
  return f.empty() ? Home(env) + "/.aws/credentials" : f;
}

std::string ConfigFile(const AwsEnvironment& env) {
  const std::string f = Get(env, "AWS_CONFIG_FILE");
  return f.empty() ? Home(env) + "/.aws/config" : f;
}

// The credentials of a JSON document of the container endpoint or IMDS.
Result<Credentials> ParseCredentialsJson(const std::string& body, const std::string& where) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view id, secret, token;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc["AccessKeyId"].get(id) != simdjson::SUCCESS ||
      doc["SecretAccessKey"].get(secret) != simdjson::SUCCESS) {
    return Fail(InvalidInput(where + ": not a credentials document"));
  }
  if (doc["Token"].get(token) != simdjson::SUCCESS) token = {};
  Credentials c{std::string(id), std::string(secret), std::string(token)};
  std::string_view expiration;
  if (doc["Expiration"].get(expiration) == simdjson::SUCCESS) {
    std::optional<int64_t> t = ParseUtc(expiration);
    if (!t) return Fail(InvalidInput(where + ": Expiration: not a UTC time: " + Quote(expiration)));
    c.expiration = *t;
  }
  return c;
}

Result<http::Response> Call(const AwsEnvironment& env, http::Request req) {
  if (env.transport == nullptr) return Fail(Internal("no HTTP transport for " + req.url));
  req.timeout_ms = 2000;
  auto r = env.transport->Send(req);
  if (!r) return Fail(std::move(r).error());
  if (r->status != 200) return Fail(Transient(req.method + " " + req.url + ": HTTP " + std::to_string(r->status)));
  return r;
}

std::optional<Result<ResolvedCredentials>> FromContainer(const AwsEnvironment& env) {
  std::string url;
  if (const std::string rel = Get(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); !rel.empty()) {
    url = "http://169.254.170.2" + rel;
  } else {
    url = Get(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  }
  if (url.empty()) return std::nullopt;
  http::Request req;
  req.url = url;
  std::string token = Get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (const std::string file = Get(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    auto t = env.read_file(file);
    if (!t) return Fail(NotFound("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: " + file + ": cannot be read"));
    token = Trim(*t);
  }
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  auto r = Call(env, req);
  if (!r) return Fail(std::move(r).error().Context("container credentials"));
  auto c = ParseCredentialsJson(r->body, "container credentials " + url);
  if (!c) return Fail(std::move(c).error());
  return ResolvedCredentials{*c, "container credentials"};
}

std::optional<Result<ResolvedCredentials>> FromImds(const AwsEnvironment& env) {
  std::string disabled = Get(env, "AWS_EC2_METADATA_DISABLED");
  std::transform(disabled.begin(), disabled.end(), disabled.begin(), [](unsigned char c) { return std::tolower(c); });
  if (disabled == "true") return std::nullopt;
  std::string base = Get(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (base.empty()) base = "http://169.254.169.254";
  while (!base.empty() && base.back() == '/') base.pop_back();
  http::Request token_req;
  token_req.method = "PUT";
  token_req.url = base + "/latest/api/token";
  token_req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  auto token = Call(env, token_req);
  if (!token) return std::nullopt;  // not on EC2 (or IMDSv2 unreachable): no credentials here
  http::Request role_req;
  role_req.url = base + "/latest/meta-data/iam/security-credentials/";
  role_req.headers = {{"X-aws-ec2-metadata-token", token->body}};
  auto role = Call(env, role_req);
  if (!role) return Fail(std::move(role).error().Context("instance metadata"));
  const std::string name = Trim(role->body.substr(0, role->body.find('\n')));
  if (name.empty()) return Fail(NotFound("instance metadata: the instance has no IAM role"));
  http::Request cred_req = role_req;
  cred_req.url += name;
  auto creds = Call(env, cred_req);
  if (!creds) return Fail(std::move(creds).error().Context("instance metadata"));
  auto c = ParseCredentialsJson(creds->body, "instance metadata role " + name);
  if (!c) return Fail(std::move(c).error());
  return ResolvedCredentials{*c, "instance role " + name};
}

}  // namespace

std::optional<std::string> ProfileValue(const std::string& text, const std::string& profile, const std::string& key,
                                        bool config_file) {
  const std::string want = config_file && profile != "default" ? "profile " + profile : profile;
  bool in = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = Trim(std::string_view(text).substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in = Trim(std::string_view(line).substr(1, line.size() - 2)) == want;
      continue;
    }
    const size_t eq = line.find('=');
    if (in && eq != std::string::npos && Trim(std::string_view(line).substr(0, eq)) == key) {
      return Trim(std::string_view(line).substr(eq + 1));
    }
  }
  return std::nullopt;
}

Result<ResolvedCredentials> ResolveCredentials(const AwsEnvironment& env) {
  const std::string id = Get(env, "AWS_ACCESS_KEY_ID"), secret = Get(env, "AWS_SECRET_ACCESS_KEY");
  if (!id.empty() || !secret.empty()) {
    if (id.empty() || secret.empty()) {
      return Fail(InvalidInput("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set"));
    }
    return ResolvedCredentials{{id, secret, Get(env, "AWS_SESSION_TOKEN")}, "environment"};
  }
  const std::string profile = Profile(env);
  for (const auto& [file, is_config] : {std::pair{CredentialsFile(env), false}, std::pair{ConfigFile(env), true}}) {
    auto text = env.read_file(file);
    if (!text) continue;
    auto key = ProfileValue(*text, profile, "aws_access_key_id", is_config);
    auto sec = ProfileValue(*text, profile, "aws_secret_access_key", is_config);
    if (key && sec) {
      return ResolvedCredentials{
          {*key, *sec, ProfileValue(*text, profile, "aws_session_token", is_config).value_or("")},
          "profile " + profile + " (" + file + ")"};
    }
  }
  if (!Get(env, "AWS_PROFILE").empty()) {
    return Fail(NotFound("AWS_PROFILE=" + profile + ": no access key for that profile in " + CredentialsFile(env) +
                         " or " + ConfigFile(env)));
  }
  if (auto c = FromContainer(env)) return std::move(*c);
  if (auto c = FromImds(env)) return std::move(*c);
  return Fail(
      NotFound("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run "
               "with a role (ECS, Lambda, EC2)"));
}

std::shared_ptr<CredentialsProvider> NewCredentialsProvider(const AwsEnvironment& env, Clock& clock) {
  return std::make_shared<RefreshingCredentials>(
      [env]() -> Result<Credentials> {
        auto c = ResolveCredentials(env);
        if (!c) return Fail(std::move(c).error());
        return c->credentials;
      },
      clock);
}

Result<std::string> ResolveRegion(const AwsEnvironment& env) {
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string r = Get(env, name); !r.empty()) return r;
  }
  if (auto text = env.read_file(ConfigFile(env))) {
    if (auto r = ProfileValue(*text, Profile(env), "region", true)) return *r;
  }
  return Fail(
      InvalidInput("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in " + ConfigFile(env) + ")"));
}

std::string ResolveEndpoint(const AwsEnvironment& env, const std::string& service, const std::string& region) {
  std::string var = "AWS_ENDPOINT_URL_";
  for (char c : service)
    var += c == '-' || c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& name : {var, std::string("AWS_ENDPOINT_URL")}) {
    std::string url = Get(env, name.c_str());
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (!url.empty()) return url;
  }
  // The partition's DNS suffix: the China regions' is amazonaws.com.cn.
  return "https://" + service + "." + region + (region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
}

}  // namespace moat::aws
