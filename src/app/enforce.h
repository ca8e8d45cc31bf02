// RunEnforce: `moat plan` and `moat apply`. Reads the policy and the estate, plans every target,
// and (apply) executes the plans:
//   1. the policy (a bundle file, or the PCE exported as one) is loaded and compiled; when that
//      fails, the run goes on with what moat last applied (drift is still reverted, nothing
//      policy-driven changes) and fails at the end;
//   2. the databases are read in a fixed number of calls whatever their count (DescribeDBInstances,
//      DescribeDBClusters, the managed groups by tag, the attached groups, the RDS network
//      interfaces when endpoint names do not resolve), and chosen: by --target (identifier,
//      cluster/<id>, tag:KEY=VALUE) or every database the policy protects;
//   3. each is matched to the policy — the virtual service whose FQDN is its endpoint, else the
//      workload with its private address — and reconciled (plan/reconcile.h);
//   4. apply: each target with changes goes through apply/apply.h; what was applied is recorded
//      in the state directory as the new last known good.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/aws.h"
#include "app/policy.h"
#include "apply/audit.h"
#include "plan/reconcile.h"
#include "plan/widen.h"
#include "traffic/flow.h"

namespace moat::app {

struct EnforceRequest {
  std::string policy;  // "pce" or a bundle file
  std::string version = "active";
  std::vector<std::string> targets;      // identifiers, cluster/<id>, tag:KEY=VALUE; empty: every protected one
  std::vector<std::string> keep_groups;  // foreign group ids (or names) to leave attached
  std::string mode = "enforce";          // or visibility: never writes
  plan::Quotas quotas;
  plan::Guards guards;
  uint64_t over_permission_budget = 0;  // extra addresses a target may admit to fit its quota
  std::string state_dir;                // resolved (store::StateDirectory)
  bool execute = false;                 // apply (else plan)
  // With `narrow`, only the chosen databases that an event touched: named (id or cluster/<id>),
  // carrying one of `groups` (attached, or a managed group of theirs), or at one of `addresses`.
  bool narrow = false;
  std::vector<std::string> databases, groups, addresses;
  // What-if: the flows observed (the flow history of the window, or an event's object). Each
  // target's plan lists the accepted flows to it that the plan's rules would cut, and a policy
  // change that cuts traffic the enforced state admitted is held back unless
  // guards.allow_breaking. nullptr: no history, no what-if (the report says so).
  const std::vector<traffic::Flow>* observed = nullptr;
  std::string observed_window;  // how the history was chosen, for the report ("since 2026-11-22")
};

struct EnforceReport;

struct EnforceDeps {
  PolicyDeps policy;
  // The PCE's policy as bundle text (so that it can be kept as the last known good snapshot).
  std::function<Result<std::string>(const std::string& version)> fetch_pce_bundle;
  AwsServices* aws = nullptr;
  // Resolves a database endpoint to addresses; empty: unresolved. Unset: names are not resolved.
  std::function<std::vector<std::string>(const std::string& host)> resolve;
  apply::AuditLog* audit = nullptr;
  std::function<int64_t()> now;
  std::function<void(std::chrono::milliseconds)> sleep;
  // Apply: asked once with the plan before anything is written; false cancels.
  std::function<bool(const EnforceReport& plan)> confirm;
};

struct TargetReport {
  std::string id;  // orders-db, cluster/ledger
  bool cluster = false;
  std::string endpoint;
  int port = 0;
  std::string vpc_id;
  std::string policy_target;  // the policy's name for it
  std::string matched_by;     // "endpoint" or "address"
  std::vector<std::string> addresses;
  std::vector<std::string> attached;               // before
  std::map<std::string, std::string> group_names;  // id -> name, for the groups it mentions
  plan::Reconciled plan;
  std::vector<std::string> warnings;
  std::vector<std::string> widened;  // over-permission spent on it (plan/widen.h), one line each
  std::string error;                 // the plan or the apply failed: nothing (more) changed on it
  // After apply:
  bool applied = false;
  int writes = 0;
  int converged = 0;
};

struct EnforceReport {
  std::string policy_source, policy_version, digest;
  std::string policy_error;  // the policy source failed: the last known good was enforced
  std::string mode;
  bool executed = false;  // apply ran (changes were made, or nothing was needed)
  bool cancelled = false;
  std::vector<TargetReport> targets;
  std::vector<std::pair<std::string, std::string>> skipped;  // database, why
  bool what_if = false;                                      // observed flows were replayed against the plans
  std::string observed_window;                               // EnforceRequest::observed_window
  uint64_t observed_flows = 0;
  std::vector<std::string> warnings;
  std::vector<std::string> errors;  // run-level: a --target that matched nothing, a state that could not be saved
  int reads = 0, writes = 0;

  bool HasChanges() const;
  bool Failed() const;  // the policy failed, a target failed or was held back, or a run-level error
};

// Errors are what stops the whole run before any change (no AWS access, an unreadable state).
Result<EnforceReport> RunEnforce(const EnforceRequest& request, const EnforceDeps& deps);

// Terraform-like text, and JSON (docs/formats.md).
std::string RenderPlanText(const EnforceReport& report);
std::string RenderPlanJson(const EnforceReport& report);

}  // namespace moat::app
