#include "aws/signed_client.h"

#include <simdjson.h>

#include <array>

#include "aws/query.h"

namespace moat::aws {
namespace {

std::string Describe(std::string_view what, int status, const ServiceError& e) {
  return std::string(what) + ": " + (e.code.empty() ? "HTTP " + std::to_string(status) : e.code) +
         (e.message.empty() ? "" : ": " + e.message);
}

}  // namespace

ServiceError XmlError(const http::Response& r) {
  pugi::xml_document doc;
  if (!doc.load_string(r.body.c_str())) return {};
  return {Text(doc, "Code"), Text(doc, "Message")};
}

ServiceError JsonError(const http::Response& r) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) return {};
  std::string_view type, message;
  if (doc["__type"].get(type) != simdjson::SUCCESS) type = {};
  if (doc["message"].get(message) != simdjson::SUCCESS && doc["Message"].get(message) != simdjson::SUCCESS) {
    message = {};
  }
  if (const size_t hash = type.find('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
  return {std::string(type), std::string(message)};
}

bool IsRetryableCode(std::string_view code) {
  static constexpr std::array<std::string_view, 20> kCodes = {
      // throttling
      "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "RequestThrottled",
      "BandwidthLimitExceeded", "SlowDown", "EC2ThrottledException", "TransactionInProgressException",
      // the service's own trouble
      "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout",
      "RequestTimeoutException", "PriorRequestNotComplete", "AWS.SimpleQueueService.InternalError"};
  for (std::string_view c : kCodes) {
    if (c == code) return true;
  }
  return false;
}

bool IsExpiredCredentialsCode(std::string_view code) {
  return code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired";
}

SignedClient::SignedClient(Endpoint endpoint, std::shared_ptr<CredentialsProvider> credentials,
                           http::Transport& transport, Clock& clock, RetryPolicy retry)
    : endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      transport_(transport),
      clock_(clock),
      retry_(retry),
      backoff_(retry.base_delay, retry.max_delay) {
  const size_t scheme = endpoint_.url.find("://");
  host_ = endpoint_.url.substr(scheme == std::string::npos ? 0 : scheme + 3);
  host_ = host_.substr(0, host_.find('/'));
}

Result<http::Response> SignedClient::SendOnce(const SignedRequest& r, const Credentials& credentials) {
  Message m;
  m.method = r.method;
  m.path = r.path;
  m.query = r.query;
  m.body = std::string(r.body);  // one copy per attempt, moved into the request once signed
  m.headers = {{"Host", host_}};
  m.headers.insert(m.headers.end(), r.headers.begin(), r.headers.end());
  SigningParams sp;
  sp.credentials = credentials;
  sp.region = endpoint_.region;
  sp.service = endpoint_.service;
  sp.unix_time = clock_.WallSeconds();
  sp.normalize_path = !r.s3;  // S3 keys are taken as they are
  sp.sign_body = r.s3;        // S3 wants x-amz-content-sha256
  const Signature sig = SignWithHeaders(m, sp);
  http::Request req;
  req.method = r.method;
  req.url =
      endpoint_.url + (r.s3 ? UriEncode(r.path, /*keep_slash=*/true) : r.path) + (r.query.empty() ? "" : "?" + r.query);
  req.headers = std::move(m.headers);
  req.headers.insert(req.headers.end(), sig.add_headers.begin(), sig.add_headers.end());
  req.body = std::move(m.body);  // signed already
  req.timeout_ms = r.timeout_ms;
  ++requests_;
  return transport_.Send(req);
}

Result<http::Response> SignedClient::Send(const SignedRequest& request, std::string_view what, ErrorReader read_error) {
  bool refreshed = false;
  std::string last;
  for (int attempt = 1;; ++attempt) {
    auto creds = credentials_->Get();
    if (!creds) return Fail(std::move(creds).error().Context(what));
    auto resp = SendOnce(request, *creds);
    if (!resp) {
      if (resp.error().code != ErrorCode::kTransient) return Fail(std::move(resp).error().Context(what));
      last = std::string(what) + ": " + resp.error().message;
    } else {
      if (resp->status < 300) return resp;
      const ServiceError e = read_error(*resp);
      if (IsExpiredCredentialsCode(e.code) && !refreshed) {
        refreshed = true;
        auto fresh = credentials_->Refresh(*creds);
        if (!fresh)
          return Fail(
              std::move(fresh).error().Context(std::string(what) + ": " + e.code + "; renewing the credentials"));
        if (!SameCredentials(*fresh, *creds)) {
          --attempt;  // not a failure of the service's: the same attempt, with new credentials
          continue;
        }
        return resp;
      }
      if (!(resp->status >= 500 || resp->status == 429 || IsRetryableCode(e.code))) return resp;
      last = Describe(what, resp->status, e);
    }
    if (attempt >= retry_.max_attempts) {
      return Fail(Transient(last + " (gave up after " + std::to_string(attempt) + " attempts)"));
    }
    clock_.Sleep(backoff_.Delay(attempt));
  }
}

}  // namespace moat::aws
