// SignedClient: the one way moat's AWS clients (Query: EC2, RDS, SQS; S3; Secrets Manager's JSON)
// send a request. It signs the request with SigV4 and sends it, and sends it again when that may
// help: throttling answers (Throttling, RequestLimitExceeded, SlowDown, ...; IsRetryableCode),
// HTTP 429 and 5xx, and transport failures the transport calls transient are retried, up to
// RetryPolicy::max_attempts sends in all, after capped exponential backoff with jitter
// (base/backoff.h) slept on the Clock. An answer that the credentials have expired (ExpiredToken,
// ExpiredTokenException, RequestExpired) makes the provider refresh them once, and the request
// goes again with the new ones. Every other answer is returned as it is, for the service's client
// to classify. Borrows the transport and the clock, shares the credentials provider; not
// thread-safe (one per thread: the backoff's jitter has state).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "base/backoff.h"
#include "base/clock.h"
#include "http/transport.h"

namespace moat::aws {

// The one retry policy of moat's AWS calls.
struct RetryPolicy {
  int max_attempts = 6;                        // sends per request, the first included
  std::chrono::milliseconds base_delay{200};   // before the first retry; doubled per retry
  std::chrono::milliseconds max_delay{20000};  // cap of one wait (before jitter takes 0-50 % off)
};

struct Endpoint {
  std::string service;  // signing name: "ec2", "rds", "sqs", "s3", "secretsmanager"
  std::string url;      // "https://ec2.us-east-1.amazonaws.com" or a test server's, no trailing '/'
  std::string region;
};

// An AWS error answer's code and message ("" when the body has none).
struct ServiceError {
  std::string code, message;
};
using ErrorReader = ServiceError (*)(const http::Response&);
// <Code> and <Message> anywhere in an XML body (Query services, S3).
ServiceError XmlError(const http::Response& response);
// "__type" (after any '#') and "message"/"Message" of a JSON body (Secrets Manager).
ServiceError JsonError(const http::Response& response);

bool IsRetryableCode(std::string_view code);
bool IsExpiredCredentialsCode(std::string_view code);

struct SignedRequest {
  std::string method = "POST";
  std::string path = "/";  // as on the wire before encoding
  std::string query;       // raw, without '?'
  http::Headers headers;   // besides Host and those of the signature
  std::string_view body;   // borrowed: the caller keeps it alive through Send (it may be large)
  bool s3 = false;         // S3's signing: the path taken as it is, the payload's hash signed
  int timeout_ms = 30000;
};

class SignedClient {
 public:
  SignedClient(Endpoint endpoint, std::shared_ptr<CredentialsProvider> credentials, http::Transport& transport,
               Clock& clock, RetryPolicy retry = {});

  // Sends `request`; `what` names it in errors ("ec2 DescribeSecurityGroups"). The answer, whatever
  // its status, unless it was one to retry: then, after the last attempt, a kTransient error
  // "<what>: <code or HTTP status>: <message> (gave up after N attempts)". Credential and
  // non-transient transport failures are errors naming `what`.
  Result<http::Response> Send(const SignedRequest& request, std::string_view what, ErrorReader read_error);

  const Endpoint& endpoint() const { return endpoint_; }
  int requests() const { return requests_; }  // sends, retries included

 private:
  Result<http::Response> SendOnce(const SignedRequest& request, const Credentials& credentials);

  Endpoint endpoint_;
  std::string host_;
  std::shared_ptr<CredentialsProvider> credentials_;
  http::Transport& transport_;
  Clock& clock_;
  RetryPolicy retry_;
  Backoff backoff_;
  int requests_ = 0;
};

}  // namespace moat::aws
