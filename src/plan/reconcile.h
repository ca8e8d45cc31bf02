// Reconcile (pure): one target's plan, from what the policy wants now, what moat last applied to
// it, and what AWS has. Every change is marked as policy (the policy moved) or drift (AWS moved
// away from what moat applied: a rule added or removed by hand, a group re-attached). The
// fail-safe guards live here:
//   - the policy source failed: the last applied rules stay the desired state, so drift is still
//     reverted and nothing policy-driven changes;
//   - the policy would revoke more than a share of the rules last applied, or leave a target that
//     had rules with none: the policy change is held back unless overridden, drift still reverted;
//   - what-if: the policy would cut observed flows that the enforced state admitted (what moat
//     last applied; for a target never applied, the logs saw them accepted): held back unless
//     --allow-breaking. Flows that only drift admitted never hold anything back.
// The guards compare the new policy with what moat last applied, never with AWS: however much
// drift there is, it is always reverted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "plan/plan.h"
#include "plan/whatif.h"

namespace moat::plan {

struct Guards {
  double max_revoke_share = 0.5;  // of the rules last applied, per target
  bool allow_large_revoke = false;
  bool allow_empty = false;
  bool allow_breaking = false;
};

struct ReconcileInput {
  std::string target_id;
  std::optional<std::vector<SgRule>> wanted;        // the rules of the current policy; nullopt: it failed
  std::optional<std::vector<SgRule>> last_applied;  // what moat last applied; nullopt: never applied
  std::vector<GroupState> managed;                  // the target's managed groups, as AWS has them
  std::vector<std::string> attached;                // the group ids on the target now
  std::vector<std::string> keep;                    // foreign group ids to leave on it
  Quotas quotas;
  Guards guards;
  // The flows observed to the target (their responder is one of its addresses): the plan lists
  // the accepted ones it would cut, and the what-if guard weighs them.
  std::span<const traffic::Flow* const> observed;
  std::vector<SgRule> kept_rules;  // the address rules of the kept foreign groups: they admit traffic too
  // What the foreign groups attached now admit (kept ones included): their address rules, and
  // whether any rule names another group or a prefix list (then what they admit is not known).
  std::vector<SgRule> foreign_rules;
  bool foreign_references = false;
};

struct Reconciled {
  TargetPlan plan;
  std::vector<PackedGroup> groups;  // the managed groups as they will be
  std::vector<SgRule> desired;      // the rules enforced by this plan
  bool policy_applied = false;      // desired is the current policy (record it as applied once done)
  std::string held;                 // why the policy change was held back; empty when it was not
  // What-if: the accepted observed flows the rules of this plan do not admit (for a change held
  // back on a target never applied, that the policy's rules would not admit).
  std::vector<CutFlow> cuts;
};

// The plan for one target; an error when its rules do not fit (nothing on it may change).
Result<Reconciled> Reconcile(const ReconcileInput& input);

}  // namespace moat::plan
