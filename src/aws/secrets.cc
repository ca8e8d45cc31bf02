#include "aws/secrets.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

namespace moat::aws {

Result<std::string> GetSecretString(SignedClient& client, const std::string& secret_id) {
  const std::string what = "secretsmanager GetSecretValue " + secret_id;
  const std::string body = nlohmann::json{{"SecretId", secret_id}}.dump();
  SignedRequest req;
  req.body = body;
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"}, {"X-Amz-Target", "secretsmanager.GetSecretValue"}};
  auto resp = client.Send(req, what, JsonError);
  if (!resp) return Fail(std::move(resp).error());
  if (resp->status == 200) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view value;
    if (parser.parse(resp->body).get(doc) != simdjson::SUCCESS || doc["SecretString"].get(value) != simdjson::SUCCESS) {
      return Fail(InvalidInput(what + ": the answer has no SecretString (a binary secret is not supported)"));
    }
    return std::string(value);
  }
  const ServiceError e = JsonError(*resp);
  const std::string line = what + ": " + (e.code.empty() ? "HTTP " + std::to_string(resp->status) : e.code) +
                           (e.message.empty() ? "" : ": " + e.message);
  const ErrorCode code = e.code == "ResourceNotFoundException" ? ErrorCode::kNotFound
                         : (resp->status == 403 || e.code == "AccessDeniedException" ||
                            e.code == "UnrecognizedClientException" || IsExpiredCredentialsCode(e.code))
                             ? ErrorCode::kDenied
                             : ErrorCode::kInvalidInput;
  return Fail(Error{code, line});
}

}  // namespace moat::aws
