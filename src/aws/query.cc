#include "aws/query.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"

namespace moat::aws {
namespace {

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  const size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// application/x-www-form-urlencoded as the AWS SDKs write it (Python's quote_plus): RFC 3986
// percent-encoding, but a space is '+'. (Servers that re-encode the parsed form, as moto does to
// check signatures, only agree on that spelling.)
std::string FormEncode(std::string_view s) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ' ') {
      out += UriEncode(s.substr(start, i - start));
      if (i < s.size()) out += '+';
      start = i + 1;
    }
  }
  return out;
}

std::string FormBody(const std::string& action, const std::string& version, const Params& params) {
  std::string body = "Action=" + FormEncode(action) + "&Version=" + FormEncode(version);
  for (const auto& [k, v] : params) body += "&" + FormEncode(k) + "=" + FormEncode(v);
  return body;
}

bool IsThrottling(std::string_view code) {
  return code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded" ||
         code == "RequestThrottled" || code == "TooManyRequestsException" || code == "ServiceUnavailable" ||
         code == "InternalError" || code == "InternalFailure" || code == "Unavailable";
}

ErrorCode Classify(std::string_view code) {
  if (code == "InvalidPermission.Duplicate" || code.ends_with(".Duplicate") || code.ends_with("AlreadyExists")) {
    return ErrorCode::kConflict;
  }
  if (code.ends_with(".NotFound") || code.ends_with("NotFound") || code.ends_with("NotFoundFault")) {
    return ErrorCode::kNotFound;
  }
  if (code == "AuthFailure" || code == "SignatureDoesNotMatch" || code == "UnauthorizedOperation" ||
      code == "AccessDenied" || code == "InvalidClientTokenId" || code == "ExpiredToken" ||
      code == "UnrecognizedClientException") {
    return ErrorCode::kDenied;
  }
  return ErrorCode::kInvalidInput;
}

}  // namespace

pugi::xml_node Child(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node n = parent.first_child(); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) continue;
    if (LocalName(n.name()) == name) return n;
    if (pugi::xml_node deeper = Child(n, name)) return deeper;
  }
  return {};
}

pugi::xml_node Sub(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node n = parent.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_element && LocalName(n.name()) == name) return n;
  }
  return {};
}

std::vector<pugi::xml_node> Children(const pugi::xml_node& parent, std::string_view name) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node n = parent.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_element && LocalName(n.name()) == name) out.push_back(n);
  }
  return out;
}

std::string Text(const pugi::xml_node& parent, std::string_view name) { return Child(parent, name).text().get(); }

Result<int64_t> IntElement(const pugi::xml_node& parent, std::string_view name, std::string_view what, int64_t absent,
                           int64_t min, int64_t max) {
  const std::string_view text = Sub(parent, name).text().get();
  if (text.empty()) return absent;
  if (std::optional<int64_t> v = ParseInt(text, min, max)) return *v;
  return Fail(InvalidInput(std::string(what) + ": " + std::string(name) + ": not an integer in [" +
                           std::to_string(min) + ", " + std::to_string(max) + "]: " + Quote(text)));
}

QueryClient::QueryClient(ServiceConfig config, std::function<Result<Credentials>()> credentials,
                         http::Transport& transport, std::function<int64_t()> now,
                         std::function<void(std::chrono::milliseconds)> sleep, QueryRetry retry)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      transport_(transport),
      now_(std::move(now)),
      sleep_(std::move(sleep)),
      retry_(retry),
      backoff_(retry.base_delay, retry.max_delay) {}

Result<pugi::xml_document> QueryClient::Call(const std::string& action, const Params& params) {
  const std::string what = config_.service + " " + action;
  auto creds = credentials_();
  if (!creds) return Fail(std::move(creds).error().Context(what));
  std::string host = config_.endpoint.substr(config_.endpoint.find("://") + 3);
  host = host.substr(0, host.find('/'));
  std::string last;
  for (int attempt = 1;; ++attempt) {
    Message m;
    m.method = "POST";
    m.path = "/";
    m.body = FormBody(action, config_.api_version, params);
    m.headers = {{"Host", host}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    SigningParams sp;
    sp.credentials = *creds;
    sp.region = config_.region;
    sp.service = config_.service;
    sp.unix_time = now_();
    const Signature sig = SignWithHeaders(m, sp);
    http::Request req;
    req.method = "POST";
    req.url = config_.endpoint + "/";
    req.headers = m.headers;
    req.headers.insert(req.headers.end(), sig.add_headers.begin(), sig.add_headers.end());
    req.body = m.body;
    ++requests_;
    auto resp = transport_.Send(req);
    if (!resp) {
      if (resp.error().code != ErrorCode::kTransient) return Fail(std::move(resp).error().Context(what));
      last = resp.error().message;
    } else {
      pugi::xml_document doc;
      const bool parsed = doc.load_string(resp->body.c_str());
      if (resp->status >= 200 && resp->status < 300) {
        if (!parsed) return Fail(InvalidInput(what + ": the answer is not XML"));
        return doc;
      }
      const std::string code = parsed ? Text(doc, "Code") : "";
      const std::string message = parsed ? Text(doc, "Message") : "";
      const std::string line = what + ": " + (code.empty() ? "HTTP " + std::to_string(resp->status) : code) +
                               (message.empty() ? "" : ": " + message);
      if (!(resp->status >= 500 || resp->status == 429 || IsThrottling(code))) {
        return Fail(Error{Classify(code), line});
      }
      last = line;
    }
    if (attempt >= retry_.max_attempts) {
      return Fail(Transient(last + " (gave up after " + std::to_string(attempt) + " attempts)"));
    }
    sleep_(backoff_.Delay(attempt));
  }
}

}  // namespace moat::aws
