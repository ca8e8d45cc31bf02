#include "aws/sts.h"

#include "base/strings.h"

namespace moat::aws {

Result<CallerIdentity> GetCallerIdentity(QueryClient& client) {
  auto doc = client.Call("GetCallerIdentity", {});
  if (!doc) return Fail(std::move(doc).error());
  const pugi::xml_node result = Child(*doc, "GetCallerIdentityResult");
  CallerIdentity out{Sub(result, "Account").text().get(), Sub(result, "Arn").text().get()};
  if (out.account.empty()) return Fail(InvalidInput("sts GetCallerIdentity: the answer names no account"));
  return out;
}

namespace {

// The account of "arn:<partition>:<service>::<account>:<resource>", or "".
std::string ArnAccount(const std::string& arn) {
  size_t at = 0;
  for (int field = 0; field < 4; ++field) {
    at = arn.find(':', at);
    if (at == std::string::npos) return "";
    ++at;
  }
  const size_t end = arn.find(':', at);
  return end == std::string::npos ? "" : arn.substr(at, end - at);
}

}  // namespace

Result<AssumedRole> AssumeRole(QueryClient& client, const AssumeRoleRequest& request) {
  Params params{{"RoleArn", request.role_arn},
                {"RoleSessionName", request.session_name},
                {"DurationSeconds", std::to_string(request.duration_seconds)}};
  if (!request.external_id.empty()) params.emplace_back("ExternalId", request.external_id);
  auto doc = client.Call("AssumeRole", params);
  if (!doc) return Fail(std::move(doc).error());
  const pugi::xml_node result = Child(*doc, "AssumeRoleResult");
  const pugi::xml_node creds = Sub(result, "Credentials");
  AssumedRole out;
  out.credentials.access_key_id = Sub(creds, "AccessKeyId").text().get();
  out.credentials.secret_access_key = Sub(creds, "SecretAccessKey").text().get();
  out.credentials.session_token = Sub(creds, "SessionToken").text().get();
  out.arn = Text(Sub(result, "AssumedRoleUser"), "Arn");
  const std::string what = "sts AssumeRole " + request.role_arn;
  if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty() ||
      out.credentials.session_token.empty()) {
    return Fail(InvalidInput(what + ": the answer carries no complete credentials"));
  }
  const std::string expiration = Sub(creds, "Expiration").text().get();
  const std::optional<int64_t> expires = ParseUtc(expiration);
  if (!expires) return Fail(InvalidInput(what + ": Expiration: not a UTC time: " + Quote(expiration)));
  out.credentials.expiration = *expires;
  out.account = ArnAccount(out.arn.empty() ? request.role_arn : out.arn);
  if (out.account.empty()) return Fail(InvalidInput(what + ": the answer names no account"));
  return out;
}

std::string RoleArn(const std::string& region, const std::string& account, const std::string& role_name) {
  const std::string partition = region.starts_with("cn-")       ? "aws-cn"
                                : region.starts_with("us-gov-") ? "aws-us-gov"
                                                                : "aws";
  return "arn:" + partition + ":iam::" + account + ":role/" + role_name;
}

}  // namespace moat::aws
