#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <mutex>

#include "http/transport.h"

namespace moat::http {
namespace {

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    static_cast<Headers*>(user)->emplace_back(std::move(name), std::string(value));
  } else if (line.starts_with("HTTP/")) {
    static_cast<Headers*>(user)->clear();  // a new response (after a 100 Continue, say)
  }
  return size * count;
}

class CurlTransport : public Transport {
 public:
  explicit CurlTransport(TlsOptions tls) : tls_(std::move(tls)) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<Response> Send(const Request& req) override {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Fail(Internal("libcurl could not start"));
    CURL* c = curl.get();
    Response resp;
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, curl_slist_free_all);
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    // The path goes out exactly as given: it is what was signed (SigV4 signs an S3 key's `.` and
    // `..` segments as they are), and a normalised one could name another object.
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method == "GET") curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (!req.basic_user.empty()) {
      curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(c, CURLOPT_USERNAME, req.basic_user.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, req.basic_password.c_str());
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout_ms));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(req.timeout_ms, 10000)));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, tls_.verify ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, tls_.verify ? 2L : 0L);
    if (!tls_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tls_.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      const std::string why = std::string(req.method) + " " + Redact(req.url) + ": " + curl_easy_strerror(rc);
      switch (rc) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
          return Fail(Error{ErrorCode::kDenied, why + " (set ILLUMIO_CA_FILE to the PCE's CA)"});
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
          return Fail(InvalidInput(why));
        default:
          return Fail(Transient(why));
      }
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    resp.status = static_cast<int>(status);
    return resp;
  }

 private:
  // A URL for messages: without any user:password@ part.
  static std::string Redact(const std::string& url) {
    const size_t scheme = url.find("://");
    const size_t at = url.find('@');
    const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (scheme == std::string::npos || at == std::string::npos || (slash != std::string::npos && at > slash))
      return url;
    return url.substr(0, scheme + 3) + url.substr(at + 1);
  }

  TlsOptions tls_;
};

}  // namespace

std::string Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

std::string SystemCaBundle(const std::function<const char*(const char*)>& getenv,
                           const std::function<bool(const std::string&)>& exists) {
  for (const char* var : {"AWS_CA_BUNDLE", "SSL_CERT_FILE"}) {
    const char* v = getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  for (const char* path : {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                           "/etc/ssl/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"}) {
    if (exists(path)) return path;
  }
  return "";
}

std::unique_ptr<Transport> NewCurlTransport(const TlsOptions& tls) {
  TlsOptions t = tls;
  if (t.ca_file.empty()) {
    static const std::string system = SystemCaBundle([](const char* n) { return std::getenv(n); },
                                                     [](const std::string& p) { return access(p.c_str(), R_OK) == 0; });
    t.ca_file = system;
  }
  return std::make_unique<CurlTransport>(t);
}

}  // namespace moat::http
