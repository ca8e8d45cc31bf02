// STS over a QueryClient (signing name "sts", the regional endpoint "https://sts.<region>.amazonaws.com"
// or AWS_ENDPOINT_URL[_STS]):
//   - GetCallerIdentity: who a run acts as. The call needs no permission (an explicit deny does
//     not stop it), so it names the account of any credentials that work;
//   - AssumeRole: temporary credentials of a role, in the role's account (a member account of an
//     organisation: app/fleet.h).
// Errors are QueryClient's ("sts AssumeRole: AccessDenied: ..."); an answer without what it must
// carry is kInvalidInput. Borrows the client; not thread-safe.
#pragma once

#include <string>

#include "aws/query.h"
#include "aws/sigv4.h"

namespace moat::aws {

inline constexpr const char* kStsApiVersion = "2011-06-15";

struct CallerIdentity {
  std::string account;  // 12 digits
  std::string arn;      // the user or assumed role
};

Result<CallerIdentity> GetCallerIdentity(QueryClient& client);

struct AssumeRoleRequest {
  std::string role_arn;      // arn:aws:iam::111122223333:role/moat-member
  std::string session_name;  // 2-64 of [\w+=,.@-]
  std::string external_id;   // empty: none sent
  int duration_seconds = 3600;
};

struct AssumedRole {
  Credentials credentials;  // with the session token and the expiration
  std::string account;      // of the assumed role's ARN
  std::string arn;          // arn:aws:sts::111122223333:assumed-role/moat-member/<session>
};

Result<AssumedRole> AssumeRole(QueryClient& client, const AssumeRoleRequest& request);

// "arn:<partition>:iam::<account>:role/<name>" for the partition of `region` (aws, aws-cn, aws-us-gov).
std::string RoleArn(const std::string& region, const std::string& account, const std::string& role_name);

}  // namespace moat::aws
