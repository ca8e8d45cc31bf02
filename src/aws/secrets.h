// Secrets Manager, for the one call moat makes: GetSecretValue (AWS JSON 1.1 protocol: a signed
// POST with X-Amz-Target). The Lambda function keeps the PCE's API secret there, and
// ILLUMIO_API_KEY_SECRET holds the secret's ARN. The secret's value never appears in errors.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "aws/sigv4.h"
#include "base/result.h"
#include "http/transport.h"

namespace moat::aws {

struct SecretsConfig {
  std::string endpoint;  // "https://secretsmanager.us-east-1.amazonaws.com" or a test server
  std::string region;
};

// The SecretString of `secret_id` (an ARN or a name). Throttling and 5xx are retried.
Result<std::string> GetSecretString(const SecretsConfig& config, const Credentials& credentials,
                                    http::Transport& transport, int64_t unix_time, const std::string& secret_id,
                                    const std::function<void(std::chrono::milliseconds)>& sleep);

// Whether a value names a Secrets Manager secret by ARN.
inline bool IsSecretArn(std::string_view v) { return v.starts_with("arn:") && v.find(":secretsmanager:") != v.npos; }

}  // namespace moat::aws
