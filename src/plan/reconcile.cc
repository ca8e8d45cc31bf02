#include "plan/reconcile.h"

#include <algorithm>
#include <cmath>

#include "base/strings.h"

namespace moat::plan {
namespace {

bool Contains(const std::vector<SgRule>& rules, const SgRule& r) {
  return std::find(rules.begin(), rules.end(), r) != rules.end();
}

std::string Percent(double share) { return std::to_string(static_cast<int>(std::lround(share * 100))) + "%"; }

RuleMatcher Matcher(const std::vector<SgRule>& rules, const std::vector<SgRule>& kept) {
  RuleMatcher m(rules);
  m.Add(kept);
  return m;
}

std::string DescribeCut(const CutFlow& c) {
  const traffic::FlowKey& k = c.flow.key;
  std::string s = net::ToString(k.initiator) + " -> " + std::to_string(k.port) + "/" +
                  (k.protocol == 6    ? "tcp"
                   : k.protocol == 17 ? "udp"
                                      : std::to_string(k.protocol)) +
                  " (" + std::to_string(c.flow.counts.records) + " records";
  if (c.flow.counts.last != flowlog::kNoTime) s += ", last seen " + FormatUtc(c.flow.counts.last);
  return s + ")";
}

bool IsManaged(const ReconcileInput& in, const std::string& group_id) {
  return std::any_of(in.managed.begin(), in.managed.end(), [&](const GroupState& g) { return g.id == group_id; });
}

// The size guards: why the policy change is held back (it would leave no rules, or revoke too large
// a share of them), or empty when it is not. `actual`: the rules the managed groups hold.
std::string HeldBySize(const ReconcileInput& in, const std::vector<SgRule>& actual) {
  // What the policy change revokes: against what moat last applied, or (never applied) what
  // the managed groups hold.
  const std::vector<SgRule>& base = in.last_applied ? *in.last_applied : actual;
  const auto revoked = static_cast<size_t>(
      std::count_if(base.begin(), base.end(), [&](const SgRule& r) { return !Contains(*in.wanted, r); }));
  if (!base.empty() && in.wanted->empty() && !in.guards.allow_empty) {
    return "the policy would leave " + in.target_id + " with no rules (it has " + std::to_string(base.size()) +
           "); held back: --allow-empty to apply it";
  }
  if (!base.empty() && !in.guards.allow_large_revoke &&
      static_cast<double>(revoked) > in.guards.max_revoke_share * static_cast<double>(base.size())) {
    const double share = static_cast<double>(revoked) / static_cast<double>(base.size());
    return "the policy would revoke " + std::to_string(revoked) + " of " + std::to_string(base.size()) + " rules of " +
           in.target_id + " (" + Percent(share) + ", more than the " + Percent(in.guards.max_revoke_share) +
           " allowed); held back: --allow-large-revoke to apply it";
  }
  return "";
}

// The what-if guard: when the policy would cut observed flows that the enforced state admits, the
// change is held back (unless --allow-breaking) and the last applied rules stay desired. Returns
// true when the plan ends here: a target moat never applied is left as it is.
bool HoldBreaking(const ReconcileInput& in, const std::vector<SgRule>& actual, const RuleMatcher* before,
                  const RuleMatcher* now, Reconciled& out) {
  std::vector<CutFlow> cuts = Cuts(in.observed, Matcher(*in.wanted, in.kept_rules), before, now);
  const auto breaking =
      static_cast<size_t>(std::count_if(cuts.begin(), cuts.end(), [](const CutFlow& c) { return c.breaking; }));
  if (breaking == 0 || in.guards.allow_breaking) return false;
  const auto first = std::find_if(cuts.begin(), cuts.end(), [](const CutFlow& c) { return c.breaking; });
  out.held = "the policy would cut " + std::to_string(breaking) + " observed flow" + (breaking == 1 ? "" : "s") +
             " to " + in.target_id + " that " +
             (in.last_applied ? "the rules moat last applied admit"
                              : "were accepted (moat never applied it: the logs are the evidence)") +
             ", busiest " + DescribeCut(*first) + "; held back: --allow-breaking to apply it";
  out.policy_applied = false;
  if (!in.last_applied) {
    // Never applied: nothing of moat's is there to keep enforcing; leave the target as it is.
    out.desired = actual;
    out.cuts = std::move(cuts);
    return true;
  }
  out.desired = *in.last_applied;
  return false;
}

// The foreign groups on the target that stay: they take places a target's groups could have.
int KeptForeign(const ReconcileInput& in) {
  int kept_foreign = 0;
  for (const std::string& a : in.attached) {
    if (!IsManaged(in, a) && std::find(in.keep.begin(), in.keep.end(), a) != in.keep.end()) ++kept_foreign;
  }
  return kept_foreign;
}

// Drift: AWS moved away from what moat last applied.
void MarkDrift(const ReconcileInput& in, TargetPlan& plan) {
  const std::vector<SgRule>& last = *in.last_applied;
  for (GroupChange& g : plan.groups) {
    for (SgRule& r : g.authorize) r.drift = Contains(last, r);
    for (SgRule& r : g.revoke) r.drift = !Contains(last, r);
    for (SgRule& r : g.redescribe) {
      auto it = std::find(last.begin(), last.end(), r);
      r.drift = it != last.end() && it->description == r.description;
    }
  }
  for (const std::string& a : plan.attach) {
    if (IsManaged(in, a)) plan.drift.push_back(a);
  }
  plan.drift.insert(plan.drift.end(), plan.detach.begin(), plan.detach.end());
}

}  // namespace

Result<Reconciled> Reconcile(const ReconcileInput& in) {
  Reconciled out;
  out.plan.target = in.target_id;
  if (!in.wanted && !in.last_applied) {
    out.held = "no policy to enforce: the policy source failed and moat has never applied " + in.target_id;
    return out;
  }
  std::vector<SgRule> actual;
  for (const GroupState& g : in.managed) actual.insert(actual.end(), g.rules.begin(), g.rules.end());
  out.desired = in.wanted ? *in.wanted : *in.last_applied;
  out.policy_applied = in.wanted.has_value();
  if (in.wanted) out.held = HeldBySize(in, actual);
  if (!out.held.empty()) {
    out.desired = in.last_applied ? *in.last_applied : actual;
    out.policy_applied = false;
  }
  std::optional<RuleMatcher> before, now;
  if (in.last_applied) before = Matcher(*in.last_applied, in.kept_rules);
  if (!in.foreign_references) now = Matcher(actual, in.foreign_rules);
  const RuleMatcher* before_ptr = before ? &*before : nullptr;
  const RuleMatcher* now_ptr = now ? &*now : nullptr;
  if (in.wanted && out.held.empty() && !in.observed.empty() && HoldBreaking(in, actual, before_ptr, now_ptr, out)) {
    return out;
  }

  auto packed = Pack(in.target_id, out.desired, in.managed, KeptForeign(in), in.quotas);
  if (!packed) return Fail(std::move(packed).error());
  out.groups = *packed;
  out.plan = Diff(in.target_id, out.groups, in.managed, in.attached, in.keep);
  if (!in.observed.empty()) {
    std::vector<SgRule> written;
    for (const PackedGroup& g : out.groups) written.insert(written.end(), g.rules.begin(), g.rules.end());
    out.cuts = Cuts(in.observed, Matcher(written, in.kept_rules), before_ptr, now_ptr);
  }
  if (in.last_applied) MarkDrift(in, out.plan);
  return out;
}

}  // namespace moat::plan
