// QueryClient: one AWS service spoken in the Query protocol (EC2, RDS, SQS): form-encoded POST,
// sent through a SignedClient (aws/signed_client.h: SigV4, the retries, credential refresh), XML
// answers. Errors are parsed by element name (namespaces ignored) into moat's codes by what the
// caller does next: what was retried to the end is kTransient; InvalidPermission.Duplicate is
// kConflict, *.NotFound kNotFound, auth failures kDenied, the rest kInvalidInput. Messages name
// the service and the action. pugixml stays inside src/aws. Not thread-safe (one per thread).
#pragma once

#include <memory>
#include <pugixml.hpp>
#include <string>
#include <utility>
#include <vector>

#include "aws/signed_client.h"
#include "base/clock.h"
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

class QueryClient {
 public:
  // Borrows the transport and the clock; shares the credentials provider.
  QueryClient(const ServiceConfig& config, std::shared_ptr<CredentialsProvider> credentials, http::Transport& transport,
              Clock& clock, RetryPolicy retry = {});

  // Calls `action` with `params`; the parsed XML answer, or the service's error.
  Result<pugi::xml_document> Call(const std::string& action, const Params& params);

  int requests() const { return client_.requests(); }  // sends, retries included

 private:
  std::string api_version_;
  SignedClient client_;
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
