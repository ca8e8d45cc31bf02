// Secrets Manager, for the one call moat makes: GetSecretValue (AWS JSON 1.1 protocol: a signed
// POST with X-Amz-Target), sent through a SignedClient for the service "secretsmanager" (its
// retries and credential refresh: aws/signed_client.h). The Lambda function keeps the PCE's API
// secret there, and ILLUMIO_API_KEY_SECRET holds the secret's ARN. The secret's value never
// appears in errors.
#pragma once

#include <string>

#include "aws/signed_client.h"
#include "base/result.h"

namespace moat::aws {

// The SecretString of `secret_id` (an ARN or a name). ResourceNotFoundException is kNotFound,
// access errors kDenied, what was retried to the end kTransient, the rest kInvalidInput.
Result<std::string> GetSecretString(SignedClient& client, const std::string& secret_id);

// Whether a value names a Secrets Manager secret by ARN.
inline bool IsSecretArn(std::string_view v) { return v.starts_with("arn:") && v.find(":secretsmanager:") != v.npos; }

}  // namespace moat::aws
