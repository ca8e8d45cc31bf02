#include "aws/sts.h"

namespace moat::aws {

Result<CallerIdentity> GetCallerIdentity(QueryClient& client) {
  auto doc = client.Call("GetCallerIdentity", {});
  if (!doc) return Fail(std::move(doc).error());
  const pugi::xml_node result = Child(*doc, "GetCallerIdentityResult");
  CallerIdentity out{Sub(result, "Account").text().get(), Sub(result, "Arn").text().get()};
  if (out.account.empty()) return Fail(InvalidInput("sts GetCallerIdentity: the answer names no account"));
  return out;
}

}  // namespace moat::aws
