// RunPolicyShow: `moat policy show` — load a policy (a bundle file; the PCE through deps), compile
// every target's allow set, keep the targets asked for. Errors: the policy could not be read or is
// invalid (kInvalidInput, naming where), or a --target matches nothing (kNotFound).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/byte_stream.h"
#include "base/result.h"
#include "compile/compile.h"
#include "policy/model.h"

namespace moat::app {

struct PolicyShowRequest {
  std::string policy;                // "pce", or a path to a policy bundle file
  std::string version = "active";    // active, draft or a number
  std::vector<std::string> targets;  // names, FQDNs or RDS identifiers; empty: all
};

struct PolicyDeps {
  ObjectStore* local = nullptr;  // reads bundle files
  // Reads the policy from the PCE (app/pce.h FetchPcePolicy); unset: --policy pce is refused.
  std::function<Result<policy::Policy>(const std::string& version)> fetch_pce;
};

Result<compile::Compiled> RunPolicyShow(const PolicyShowRequest& request, const PolicyDeps& deps);

// The policy of `version` from `source`: "pce" (the PCE), or a path to a bundle file ("./pce" is
// a file named pce).
Result<policy::Policy> LoadPolicy(const std::string& source, const std::string& version, const PolicyDeps& deps);

// True when `id` names the target: its name, its FQDN, or the FQDN's first label (an RDS
// endpoint starts with the instance identifier). Case-insensitive.
bool TargetMatches(const compile::Target& target, std::string_view id);

// The targets of `compiled` that `selectors` name (TargetMatches), each once, in the order named;
// all of them without selectors. A selector that names none is NotFound: "--target <id>: " +
// `none`.
Result<compile::Compiled> ChooseTargets(compile::Compiled compiled, const std::vector<std::string>& selectors,
                                        const std::string& none);

// Reads a whole stream.
Result<std::string> ReadAll(ByteStream& stream);

}  // namespace moat::app
