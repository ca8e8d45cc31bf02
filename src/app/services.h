// Services: the real dependencies of a process — the local filesystem, AWS (credentials, region
// and endpoints from the environment), the PCE (ILLUMIO_*), name resolution and the clock — made
// once by the command line and handed to the use cases as their *Deps. Secrets read from Secrets
// Manager (the Lambda function's PCE key) are read once per process and kept in memory only; the
// PCE's policy is kept for the life of the process and read again only when it changed
// (app/policy_cache.h). Owned by main(); outlives every Deps it makes. Thread-compatible (the
// secret cache and the policy cache are locked).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "app/aws.h"
#include "app/enforce.h"
#include "app/flows.h"
#include "app/pce.h"
#include "app/policy.h"
#include "app/policy_cache.h"
#include "base/clock.h"
#include "store/local_store.h"

namespace moat::app {

class Services {
 public:
  Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  AwsServices& aws() { return aws_; }
  Clock& clock() { return clock_; }
  store::LocalStore& local() { return local_; }
  // The process's environment variable, or nullptr.
  static const char* Env(const char* name);

  PceDeps Pce();
  PolicyDeps Policy();
  // Local files and standard input; S3 is added when a source needs it (FlowsFor).
  FlowsDeps Flows();
  // Flows() with S3 when one of `sources` is an s3:// URL; the error names what AWS lacks.
  Result<FlowsDeps> FlowsFor(const std::vector<std::string>& sources);
  // Resolves database endpoints to addresses; unset when the RDS endpoint is a test server's
  // (its databases' names are not names to resolve).
  std::function<std::vector<std::string>(const std::string& host)> Resolver();
  // The policy (file or PCE: through the process's policy cache), AWS, name resolution (unless
  // the RDS endpoint is a test server's) and the clock; audit and confirm are the caller's.
  EnforceDeps Enforce();
  // The process's cache of the PCE's policy.
  PolicyCache& policy_cache() { return *policy_cache_; }

 private:
  Result<std::string> Secret(const std::string& arn);

  Clock& clock_;
  store::LocalStore local_;
  AwsServices aws_;
  std::mutex secrets_mu_;
  std::map<std::string, std::string> secrets_;
  std::unique_ptr<PolicyCache> policy_cache_;
};

}  // namespace moat::app
