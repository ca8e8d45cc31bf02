// RunEnforce: `moat plan` and `moat apply`, in stages:
//   1. the request is checked, the state (what moat last applied) read, and the policy (a bundle
//      file, or the PCE exported as one) loaded and compiled; when the policy fails, the run goes
//      on with what moat last applied (drift is still reverted, nothing policy-driven changes)
//      and fails at the end;
//   2. the run's AWS account (STS GetCallerIdentity, once) and region are compared with those the
//      state was last applied in: another place is reported, and apply refuses it unless
//      allow_other_account; the estate is read (estate/estate.h: a fixed number of calls whatever the database count)
//      and the databases chosen: by --target or every database the policy protects;
//   3. each is planned (enforce/target.h, pure);
//   4. apply: after the confirmation, each target with changes goes through apply/apply.h; the
//      groups moat creates are recorded in the state as they are made, and what was applied to
//      each target as soon as it is done (the new last known good).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "app/aws.h"
#include "app/observed.h"
#include "app/policy.h"
#include "apply/audit.h"
#include "base/clock.h"
#include "enforce/report.h"
#include "plan/reconcile.h"
#include "plan/widen.h"
#include "traffic/flow.h"

namespace moat::app {

using enforce::EnforceReport;
using enforce::TargetReport;

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
  // Parallel to `observed`: the account and region each flow was logged in. A database counts the
  // flows logged in its own account and region, and those whose log named none (by address: what
  // is known of them). nullptr: every flow is of no known place.
  const traffic::FlowPlaces* observed_places = nullptr;
  std::string observed_window;  // how the history was chosen, for the report ("since 2026-11-22")
  // The flow history `observed` came from (its size, span, and whether --since was given);
  // nullptr when the flows are an event's. An apply whose window holds none of the history's
  // flows is refused unless --since was given: the what-if would check nothing.
  const Observed* history = nullptr;
  // Apply against a state last applied in another AWS account or region (refused otherwise).
  bool allow_other_account = false;
  // Time: the run must be done by `deadline_ms` (unix ms; 0: none — the Lambda invocation's
  // deadline, for one); loading the policy may take `policy_timeout_ms` at most, and never more
  // than half the time left before the deadline, so that what moat last applied can still be
  // enforced (drift reverted) when the policy source hangs.
  int64_t deadline_ms = 0;
  int64_t policy_timeout_ms = 60'000;
};

struct EnforceDeps {
  PolicyDeps policy;
  // The PCE's policy as bundle text (so that it can be kept as the last known good snapshot),
  // answered by `deadline_ms` (unix ms on `clock`; 0: no limit) or failed. `state_dir` is the
  // run's state (request.state_dir), where a copy of the PCE's policy may be kept.
  std::function<Result<std::string>(const std::string& version, const std::string& state_dir, int64_t deadline_ms)>
      fetch_pce_bundle;
  AwsServices* aws = nullptr;
  // Where the state is kept (its S3 bucket) when that is not `aws`: a member account's run keeps
  // its state with the deployment's. nullptr: `aws`.
  AwsServices* state_aws = nullptr;
  // Resolves a database endpoint to addresses; empty: unresolved. Unset: names are not resolved.
  std::function<std::vector<std::string>(const std::string& host)> resolve;
  apply::AuditLog* audit = nullptr;
  Clock* clock = &SystemClock();  // what is recorded as the time of an apply, and the waits
  // Apply: asked once with the plan before anything is written; false cancels.
  std::function<bool(const EnforceReport& plan)> confirm;
  // Apply: told of each database when it is done (applied, failed or unchanged).
  std::function<void(const TargetReport& done)> progress;
  // Apply: when it holds a signal number, no further database is begun (the one in hand is
  // finished, and what was applied is recorded). nullptr: never.
  const std::atomic<int>* interrupted = nullptr;
};

// The request's settings as a run would check them (the policy given, its version, the mode, the
// quotas, the guards, the time budget; a --policy file that is not there): the one-line error.
Status CheckEnforceRequest(const EnforceRequest& request);

// When loading the policy must be done by (unix ms on `clock`): `policy_timeout_ms` from now, and
// no later than half-way to the run's deadline.
int64_t PolicyDeadline(const EnforceRequest& request, Clock& clock);

// Errors are what stops the whole run before any change (no AWS access, an unreadable state).
Result<EnforceReport> RunEnforce(const EnforceRequest& request, const EnforceDeps& deps);

// How a plan or apply run ends for the command line: 0 when nothing failed (2 with
// `detailed_exitcode` when a plan has changes; kExitHeld when its only pending changes are policy
// changes a guard holds back), 128 + the signal when apply was interrupted, else 1; and the one
// line that says why.
constexpr int kExitHeld = 3;
struct Outcome {
  int exit_code = 0;
  std::string error;  // for "moat <command>: <error>"; empty when the exit code is 0 or 2
};
Outcome EnforceOutcome(const EnforceReport& report, bool detailed_exitcode);

}  // namespace moat::app
