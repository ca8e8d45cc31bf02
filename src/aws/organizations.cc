#include "aws/organizations.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"

namespace moat::aws {
namespace {

// One page of `action`: the items of `list_key` as parsed by `item`, and the next page's token.
template <typename Item>
Result<std::string> Page(SignedClient& client, const std::string& action, const nlohmann::json& body,
                         const char* list_key, Item item) {
  const std::string what = "organizations " + action;
  const std::string text = body.dump();
  SignedRequest req;
  req.body = text;
  req.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "AWSOrganizationsV20161128." + action}};
  auto resp = client.Send(req, what, JsonError);
  if (!resp) return Fail(std::move(resp).error());
  if (resp->status != 200) {
    const ServiceError e = JsonError(*resp);
    const std::string line = what + ": " + (e.code.empty() ? "HTTP " + std::to_string(resp->status) : e.code) +
                             (e.message.empty() ? "" : ": " + e.message);
    const bool denied = resp->status == 403 || e.code == "AccessDeniedException" ||
                        e.code == "AWSOrganizationsNotInUseException" || e.code == "UnrecognizedClientException" ||
                        IsExpiredCredentialsCode(e.code);
    return Fail(Error{denied                                ? ErrorCode::kDenied
                      : e.code == "ParentNotFoundException" ? ErrorCode::kNotFound
                                                            : ErrorCode::kInvalidInput,
                      line});
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array items;
  if (parser.parse(resp->body).get(doc) != simdjson::SUCCESS || doc[list_key].get(items) != simdjson::SUCCESS) {
    return Fail(InvalidInput(what + ": the answer is not JSON with " + list_key + "[]"));
  }
  for (simdjson::dom::element e : items) {
    if (auto st = item(e); !st) return Fail(InvalidInput(what + ": " + st.error().message));
  }
  std::string_view next;
  if (doc["NextToken"].get(next) != simdjson::SUCCESS) return std::string();
  return std::string(next);
}

// Every page of `action` on `body`.
template <typename Item>
Status AllPages(SignedClient& client, const std::string& action, const nlohmann::json& body, const char* list_key,
                Item item) {
  std::string token;
  std::set<std::string> seen;
  do {
    nlohmann::json page = body;
    if (!token.empty()) page["NextToken"] = token;
    auto next = Page(client, action, page, list_key, item);
    if (!next) return Fail(std::move(next).error());
    token = std::move(*next);
    if (!token.empty() && !seen.insert(token).second) {
      return Fail(InvalidInput("organizations " + action + ": the same NextToken came twice"));
    }
  } while (!token.empty());
  return {};
}

Status ReadAccount(simdjson::dom::element e, std::vector<OrgAccount>& out) {
  std::string_view id, name, status;
  if (e["Id"].get(id) != simdjson::SUCCESS || id.size() != 12 || !ParseUint(id)) {
    return Fail(InvalidInput("an account without a 12-digit Id"));
  }
  if (e["Name"].get(name) != simdjson::SUCCESS) name = "";
  // "State" (ACTIVE, SUSPENDED, CLOSED, ...) is newer than "Status"; either says whether it is usable.
  if (e["Status"].get(status) != simdjson::SUCCESS && e["State"].get(status) != simdjson::SUCCESS) {
    return Fail(InvalidInput("account " + std::string(id) + " without a Status"));
  }
  out.push_back({std::string(id), std::string(name), std::string(status)});
  return {};
}

}  // namespace

Result<std::vector<OrgAccount>> ListOrgAccounts(SignedClient& client) {
  std::vector<OrgAccount> out;
  auto st = AllPages(client, "ListAccounts", nlohmann::json::object(), "Accounts",
                     [&](simdjson::dom::element e) { return ReadAccount(e, out); });
  if (!st) return Fail(std::move(st).error());
  return out;
}

Result<std::vector<OrgAccount>> ListOrgAccountsUnder(SignedClient& client, const std::string& parent) {
  std::vector<OrgAccount> out;
  std::vector<std::string> parents{parent};
  std::set<std::string> visited;
  while (!parents.empty()) {
    const std::string p = parents.back();
    parents.pop_back();
    if (!visited.insert(p).second) continue;
    auto st = AllPages(client, "ListAccountsForParent", {{"ParentId", p}}, "Accounts",
                       [&](simdjson::dom::element e) { return ReadAccount(e, out); });
    if (!st) return Fail(std::move(st).error());
    st = AllPages(client, "ListOrganizationalUnitsForParent", {{"ParentId", p}}, "OrganizationalUnits",
                  [&](simdjson::dom::element e) -> Status {
                    std::string_view id;
                    if (e["Id"].get(id) != simdjson::SUCCESS || id.empty()) {
                      return Fail(InvalidInput("an organizational unit without an Id"));
                    }
                    parents.emplace_back(id);
                    return {};
                  });
    if (!st) return Fail(std::move(st).error());
  }
  return out;
}

}  // namespace moat::aws
