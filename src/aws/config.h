// Where moat's AWS calls go and as whom, resolved as the AWS CLI and SDKs do:
// credentials from the environment, then the shared credentials/config files (AWS_PROFILE), then
// container credentials (ECS, Lambda's are in the environment already), then IMDSv2 — the last
// two with their Expiration, so that a provider (NewCredentialsProvider) renews them; the region
// from AWS_REGION, AWS_DEFAULT_REGION or the profile; endpoints from AWS_ENDPOINT_URL_<SERVICE>,
// AWS_ENDPOINT_URL, or the service's regional default. Everything outside comes through
// AwsEnvironment, so tests use fakes. Errors name the variable or file; secrets never appear.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/credentials.h"
#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/result.h"
#include "http/transport.h"

namespace moat::aws {

struct AwsEnvironment {
  std::function<const char*(const char*)> getenv;
  std::function<std::optional<std::string>(const std::string& path)> read_file;  // nullopt: missing
  http::Transport* transport = nullptr;                                          // for container credentials and IMDS
};

// "[name]" / "[profile name]" sections of the shared files. Values of `profile`, or nullopt.
std::optional<std::string> ProfileValue(const std::string& file_text, const std::string& profile,
                                        const std::string& key, bool config_file);

// Where the credentials came from, for messages ("environment", "profile default", ...).
struct ResolvedCredentials {
  Credentials credentials;
  std::string source;
};

Result<ResolvedCredentials> ResolveCredentials(const AwsEnvironment& env);
// A thread-safe provider that resolves as ResolveCredentials on first use and again when the
// credentials near their expiry or a service says they have expired (aws/credentials.h). Copies
// `env` (whose getenv, read_file and transport must outlive it) and borrows `clock`.
std::shared_ptr<CredentialsProvider> NewCredentialsProvider(const AwsEnvironment& env, Clock& clock);
Result<std::string> ResolveRegion(const AwsEnvironment& env);
// The endpoint URL for `service` ("ec2", "rds", "s3", "sqs", "sts", "secretsmanager",
// "organizations") in `region`: AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else AWS's
// (https://<service>.<region>.amazonaws.com, or .amazonaws.com.cn in the China regions).
std::string ResolveEndpoint(const AwsEnvironment& env, const std::string& service, const std::string& region);

}  // namespace moat::aws
