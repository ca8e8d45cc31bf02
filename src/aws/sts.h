// Who a run acts as: STS GetCallerIdentity over a QueryClient (signing name "sts", the regional
// endpoint "https://sts.<region>.amazonaws.com" or AWS_ENDPOINT_URL[_STS]). The call needs no
// permission (an explicit deny does not stop it), so it names the account of any credentials that
// work. Errors are QueryClient's ("sts GetCallerIdentity: ..."); an answer without an account is
// kInvalidInput. Borrows the client; not thread-safe.
#pragma once

#include <string>

#include "aws/query.h"

namespace moat::aws {

inline constexpr const char* kStsApiVersion = "2011-06-15";

struct CallerIdentity {
  std::string account;  // 12 digits
  std::string arn;      // the user or assumed role
};

Result<CallerIdentity> GetCallerIdentity(QueryClient& client);

}  // namespace moat::aws
