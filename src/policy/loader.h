// Loading a Policy from PCE JSON: a policy bundle file (one object whose keys are the PCE
// collection names) or collections fetched one by one from the PCE REST API — one loader for
// both. Only the objects of the chosen policy version are kept (active by default; draft; or a
// version number); unversioned objects (labels, workloads, service bindings) always are. Every
// reference must resolve: a missing object is an error. Errors name where: "file: path.in.json:
// what is wrong".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "policy/model.h"

namespace moat::policy {

// The collections a bundle holds, in the order they are read.
inline constexpr std::string_view kCollections[] = {"labels",           "label_groups", "workloads", "virtual_services",
                                                    "service_bindings", "ip_lists",     "services",  "rule_sets"};

class PolicyBuilder {
 public:
  // REQUIRES: version is "active", "draft" or a positive number.
  explicit PolicyBuilder(std::string version);
  ~PolicyBuilder();
  PolicyBuilder(PolicyBuilder&&) noexcept;

  // Adds one collection: `json` is an array of objects as the PCE returns them. `where` names the
  // source in messages (a file, or the request).
  Status AddCollection(std::string_view collection, std::string_view json, std::string_view where);
  // Resolves every reference. The builder is spent afterwards.
  Result<Policy> Build() &&;

  struct State;  // defined in loader.cc

 private:
  friend Result<Policy> LoadBundle(std::string_view json, std::string_view where, const std::string& version);
  std::unique_ptr<State> state_;
};

// A policy bundle file's contents.
Result<Policy> LoadBundle(std::string_view json, std::string_view where, const std::string& version);

// True for "active", "draft" and positive numbers.
bool IsPolicyVersion(std::string_view v);

}  // namespace moat::policy
