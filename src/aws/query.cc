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

ErrorCode Classify(std::string_view code) {
  if (code == "InvalidPermission.Duplicate" || code.ends_with(".Duplicate") || code.ends_with("AlreadyExists")) {
    return ErrorCode::kConflict;
  }
  if (code.ends_with(".NotFound") || code.ends_with("NotFound") || code.ends_with("NotFoundFault")) {
    return ErrorCode::kNotFound;
  }
  if (code == "AuthFailure" || code == "SignatureDoesNotMatch" || code == "UnauthorizedOperation" ||
      code == "AccessDenied" || code == "InvalidClientTokenId" || IsExpiredCredentialsCode(code) ||
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

QueryClient::QueryClient(const ServiceConfig& config, std::shared_ptr<CredentialsProvider> credentials,
                         http::Transport& transport, Clock& clock, RetryPolicy retry)
    : api_version_(config.api_version),
      client_({config.service, config.endpoint, config.region}, std::move(credentials), transport, clock, retry) {}

Result<pugi::xml_document> QueryClient::Call(const std::string& action, const Params& params) {
  const std::string what = client_.endpoint().service + " " + action;
  const std::string body = FormBody(action, api_version_, params);
  SignedRequest req;
  req.body = body;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  auto resp = client_.Send(req, what, XmlError);
  if (!resp) return Fail(std::move(resp).error());
  pugi::xml_document doc;
  const bool parsed = doc.load_string(resp->body.c_str());
  if (resp->status >= 200 && resp->status < 300) {
    if (!parsed) return Fail(InvalidInput(what + ": the answer is not XML"));
    return doc;
  }
  const std::string code = parsed ? Text(doc, "Code") : "";
  const std::string message = parsed ? Text(doc, "Message") : "";
  return Fail(Error{Classify(code), what + ": " + (code.empty() ? "HTTP " + std::to_string(resp->status) : code) +
                                        (message.empty() ? "" : ": " + message)});
}

}  // namespace moat::aws
