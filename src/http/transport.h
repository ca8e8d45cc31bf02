// HttpTransport: one HTTP exchange, request in, response out. The real one is libcurl (the only
// place in moat with curl); tests use fakes or talk to test servers on loopback. Failures of the
// exchange itself (connect, TLS, timeout) are Errors: kTransient when a retry may help, kDenied
// for TLS verification failures. HTTP statuses are not errors here: callers classify them. The
// request's path is sent byte for byte as in its URL (no `.`/`..` removal): it is what was signed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace moat::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // The user name and password of HTTP Basic auth; never logged.
  std::string basic_user, basic_password;
  int timeout_ms = 30000;
};

struct Response {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;

  // The first header of that name (lower-case), or "".
  std::string Header(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<Response> Send(const Request& request) = 0;
};

struct TlsOptions {
  std::string ca_file;  // PEM bundle to verify against; empty: the system's
  bool verify = true;   // false only when asked for (ILLUMIO_ALLOW_INSECURE_TLS)
};

// Without a CA file, the system's bundle: AWS_CA_BUNDLE or SSL_CERT_FILE when set, else the first
// that exists of Debian's, Amazon Linux's (the Lambda runtime's) and the other usual places.
std::unique_ptr<Transport> NewCurlTransport(const TlsOptions& tls);

// The CA bundle NewCurlTransport uses when given none ("" when nothing is found).
std::string SystemCaBundle(const std::function<const char*(const char*)>& getenv,
                           const std::function<bool(const std::string&)>& exists);

}  // namespace moat::http
