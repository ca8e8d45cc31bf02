// AWS Organizations, read only, in its JSON protocol (X-Amz-Target AWSOrganizationsV20161128.*)
// through a SignedClient (signing name "organizations"; the service is global: its endpoint is
// "https://organizations.us-east-1.amazonaws.com", signed for us-east-1, or
// AWS_ENDPOINT_URL[_ORGANIZATIONS]). It must be called with the management account's credentials
// or a delegated administrator's. Every list is read to its last page (NextToken). Errors name the
// action and the service's code ("organizations ListAccounts: AccessDeniedException: ...");
// an answer that is not the documented JSON is kInvalidInput. Borrows the client; not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "aws/signed_client.h"
#include "base/result.h"

namespace moat::aws {

struct OrgAccount {
  std::string id;  // 12 digits
  std::string name;
  std::string status;  // ACTIVE, SUSPENDED, PENDING_CLOSURE
};

// Every account of the organisation (ListAccounts).
Result<std::vector<OrgAccount>> ListOrgAccounts(SignedClient& client);
// Every account under `parent` (a root r-… or an organizational unit ou-…), in its nested OUs too
// (ListAccountsForParent, ListOrganizationalUnitsForParent).
Result<std::vector<OrgAccount>> ListOrgAccountsUnder(SignedClient& client, const std::string& parent);

}  // namespace moat::aws
