#include "aws/secrets.h"

#include <simdjson.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "base/backoff.h"

namespace moat::aws {

Result<std::string> GetSecretString(const SecretsConfig& config, const Credentials& credentials,
                                    http::Transport& transport, int64_t unix_time, const std::string& secret_id,
                                    const std::function<void(std::chrono::milliseconds)>& sleep) {
  const std::string what = "secretsmanager GetSecretValue " + secret_id;
  std::string host = config.endpoint.substr(config.endpoint.find("://") + 3);
  host = host.substr(0, host.find('/'));
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::milliseconds(5000));
  std::string last;
  for (int attempt = 1; attempt <= 5; ++attempt) {
    Message m;
    m.method = "POST";
    m.path = "/";
    m.body = nlohmann::json{{"SecretId", secret_id}}.dump();
    m.headers = {{"Host", host},
                 {"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "secretsmanager.GetSecretValue"}};
    SigningParams sp;
    sp.credentials = credentials;
    sp.region = config.region;
    sp.service = "secretsmanager";
    sp.unix_time = unix_time;
    const Signature sig = SignWithHeaders(m, sp);
    http::Request req;
    req.method = "POST";
    req.url = config.endpoint + "/";
    req.headers = m.headers;
    req.headers.insert(req.headers.end(), sig.add_headers.begin(), sig.add_headers.end());
    req.body = m.body;
    auto resp = transport.Send(req);
    if (!resp) {
      if (resp.error().code != ErrorCode::kTransient) return Fail(std::move(resp).error().Context(what));
      last = resp.error().message;
    } else {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      const bool json = parser.parse(resp->body).get(doc) == simdjson::SUCCESS;
      if (resp->status == 200) {
        std::string_view value;
        if (!json || doc["SecretString"].get(value) != simdjson::SUCCESS) {
          return Fail(InvalidInput(what + ": the answer has no SecretString (a binary secret is not supported)"));
        }
        return std::string(value);
      }
      std::string_view type, message;
      if (json) {
        if (doc["__type"].get(type) != simdjson::SUCCESS) type = {};
        if (doc["message"].get(message) != simdjson::SUCCESS && doc["Message"].get(message) != simdjson::SUCCESS) {
          message = {};
        }
      }
      const std::string code(type.substr(type.find('#') == std::string_view::npos ? 0 : type.find('#') + 1));
      const std::string line = what + ": " + (code.empty() ? "HTTP " + std::to_string(resp->status) : code) +
                               (message.empty() ? "" : ": " + std::string(message));
      if (resp->status < 500 && code != "ThrottlingException") {
        const ErrorCode ec =
            code == "ResourceNotFoundException" ? ErrorCode::kNotFound
            : (resp->status == 403 || code == "AccessDeniedException" || code == "UnrecognizedClientException")
                ? ErrorCode::kDenied
                : ErrorCode::kInvalidInput;
        return Fail(Error{ec, line});
      }
      last = line;
    }
    if (sleep) sleep(backoff.Delay(attempt));
  }
  return Fail(Transient(last + " (gave up after 5 attempts)"));
}

}  // namespace moat::aws
