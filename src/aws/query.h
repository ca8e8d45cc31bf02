// QueryClient: one AWS service spoken in the Query protocol (EC2, RDS): form-encoded POST, SigV4
// in headers, XML answers. Errors are parsed by element name (namespaces ignored) into moat's
// codes by what the caller does next: throttling and 5xx are retried here (capped exponential
// backoff with jitter, bounded); InvalidPermission.Duplicate is kConflict, *.NotFound kNotFound,
// auth failures kDenied, the rest kInvalidInput. Messages name the service and the action.
// pugixml stays inside src/aws. Not thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <pugixml.hpp>
#include <string>
#include <utility>
#include <vector>

#include "aws/sigv4.h"
#include "base/backoff.h"
#include "base/result.h"
#include "http/transport.h"

namespace moat::aws {

using Params = std::vector<std::pair<std::string, std::string>>;

struct ServiceConfig {
  std::string service;   // signing name: "ec2", "rds"
  std::string endpoint;  // "https://ec2.us-east-1.amazonaws.com" or a test server's URL
  std::string region;
  std::string api_version;  // "2016-11-15" (EC2), "2014-10-31" (RDS)
};

struct QueryRetry {
  int max_attempts = 6;
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{20000};
};

class QueryClient {
 public:
  QueryClient(ServiceConfig config, std::function<Result<Credentials>()> credentials, http::Transport& transport,
              std::function<int64_t()> now, std::function<void(std::chrono::milliseconds)> sleep,
              QueryRetry retry = {});

  // Calls `action` with `params`; the parsed XML answer, or the service's error.
  Result<pugi::xml_document> Call(const std::string& action, const Params& params);

  int requests() const { return requests_; }

 private:
  ServiceConfig config_;
  std::function<Result<Credentials>()> credentials_;
  http::Transport& transport_;
  std::function<int64_t()> now_;
  std::function<void(std::chrono::milliseconds)> sleep_;
  QueryRetry retry_;
  int requests_ = 0;
  Backoff backoff_;
};

// The first descendant element of that local name (namespaces ignored), or an empty node.
pugi::xml_node Child(const pugi::xml_node& parent, std::string_view name);
// The first direct child element of that local name, or an empty node.
pugi::xml_node Sub(const pugi::xml_node& parent, std::string_view name);
// Every direct child element of that local name.
std::vector<pugi::xml_node> Children(const pugi::xml_node& parent, std::string_view name);
// The text of Child(parent, name), or "".
std::string Text(const pugi::xml_node& parent, std::string_view name);
// The integer in the direct child element `name` of an answer to `what` ("ec2 DescribeSecurityGroups"):
// `absent` when there is no such element or it is empty; otherwise its whole text must be a decimal
// number within [min, max] (base/strings.h ParseInt), or it is an invalid-input error
// "<what>: <name>: not an integer in [min, max]: "<text>"".
Result<int64_t> IntElement(const pugi::xml_node& parent, std::string_view name, std::string_view what, int64_t absent,
                           int64_t min, int64_t max);


}  // namespace moat::aws
