// The local state of enforcement (DESIGN.md §8 'Last known good'): what moat last applied to each
// target — its rules, when, and the digest of the policy they came from — and the policy snapshot
// itself. The fail-safe guards and drift marking compare against it; when the policy source
// fails, its rules keep being enforced. Files in the state directory:
//   applied.json   {"version": 1, "targets": {"orders-db": {"time": 1764398567, "digest": "…",
//                   "rules": [{"protocol": 6, "from_port": 5432, "to_port": 5432,
//                              "cidr": "10.0.1.20/32", "description": "moat …"}]}}}
//   policy.json    the policy bundle last enforced (what `--policy FILE` reads)
//   policy.sha256  its digest
// Writes are atomic (a temporary file renamed over the old one).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "plan/plan.h"

namespace moat::app {

struct AppliedTarget {
  int64_t time = 0;
  std::string digest;
  std::vector<plan::SgRule> rules;
};

struct EnforcedState {
  std::map<std::string, AppliedTarget> targets;
};

// The state directory: `dir` when given, else $XDG_STATE_HOME/moat, else ~/.local/state/moat.
std::string StateDirectory(const std::string& dir, const char* xdg_state_home, const char* home);

// A missing file is an empty state; an unreadable or invalid one is an error naming the file.
Result<EnforcedState> LoadState(const std::string& dir);
Status SaveState(const std::string& dir, const EnforcedState& state);
Status SaveSnapshot(const std::string& dir, const std::string& bundle, const std::string& digest);

}  // namespace moat::app
