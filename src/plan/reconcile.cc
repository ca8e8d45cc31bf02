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
  if (in.wanted) {
    // What the policy change revokes: against what moat last applied, or (never applied) what
    // the managed groups hold.
    const std::vector<SgRule>& base = in.last_applied ? *in.last_applied : actual;
    const auto revoked = static_cast<size_t>(
        std::count_if(base.begin(), base.end(), [&](const SgRule& r) { return !Contains(*in.wanted, r); }));
    if (!base.empty() && in.wanted->empty() && !in.guards.allow_empty) {
      out.held = "the policy would leave " + in.target_id + " with no rules (it has " + std::to_string(base.size()) +
                 "); held back: --allow-empty to apply it";
    } else if (!base.empty() && !in.guards.allow_large_revoke &&
               static_cast<double>(revoked) > in.guards.max_revoke_share * static_cast<double>(base.size())) {
      const double share = static_cast<double>(revoked) / static_cast<double>(base.size());
      out.held = "the policy would revoke " + std::to_string(revoked) + " of " + std::to_string(base.size()) +
                 " rules of " + in.target_id + " (" + Percent(share) + ", more than the " +
                 Percent(in.guards.max_revoke_share) + " allowed); held back: --allow-large-revoke to apply it";
    }
    if (!out.held.empty()) {
      out.desired = in.last_applied ? *in.last_applied : actual;
      out.policy_applied = false;
    }
  }
  std::optional<RuleMatcher> before, now;
  if (in.last_applied) before = Matcher(*in.last_applied, in.kept_rules);
  if (!in.foreign_references) now = Matcher(actual, in.foreign_rules);
  if (in.wanted && out.held.empty() && !in.observed.empty()) {
    std::vector<CutFlow> cuts =
        Cuts(in.observed, Matcher(*in.wanted, in.kept_rules), before ? &*before : nullptr, now ? &*now : nullptr);
    const auto breaking =
        static_cast<size_t>(std::count_if(cuts.begin(), cuts.end(), [](const CutFlow& c) { return c.breaking; }));
    if (breaking > 0 && !in.guards.allow_breaking) {
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
        return out;
      }
      out.desired = *in.last_applied;
    }
  }
  int kept_foreign = 0;
  for (const std::string& a : in.attached) {
    const bool managed =
        std::any_of(in.managed.begin(), in.managed.end(), [&](const GroupState& g) { return g.id == a; });
    if (!managed && std::find(in.keep.begin(), in.keep.end(), a) != in.keep.end()) ++kept_foreign;
  }
  auto packed = Pack(in.target_id, out.desired, in.managed, kept_foreign, in.quotas);
  if (!packed) return Fail(std::move(packed).error());
  out.groups = *packed;
  out.plan = Diff(in.target_id, out.groups, in.managed, in.attached, in.keep);
  if (!in.observed.empty()) {
    std::vector<SgRule> written;
    for (const PackedGroup& g : out.groups) written.insert(written.end(), g.rules.begin(), g.rules.end());
    out.cuts = Cuts(in.observed, Matcher(written, in.kept_rules), before ? &*before : nullptr, now ? &*now : nullptr);
  }

  // Drift: AWS moved away from what moat last applied.
  if (in.last_applied) {
    const std::vector<SgRule>& last = *in.last_applied;
    for (GroupChange& g : out.plan.groups) {
      for (SgRule& r : g.authorize) r.drift = Contains(last, r);
      for (SgRule& r : g.revoke) r.drift = !Contains(last, r);
      for (SgRule& r : g.redescribe) {
        auto it = std::find(last.begin(), last.end(), r);
        r.drift = it != last.end() && it->description == r.description;
      }
    }
    for (const std::string& a : out.plan.attach) {
      const bool existing =
          std::any_of(in.managed.begin(), in.managed.end(), [&](const GroupState& g) { return g.id == a; });
      if (existing) out.plan.drift.push_back(a);
    }
    out.plan.drift.insert(out.plan.drift.end(), out.plan.detach.begin(), out.plan.detach.end());
  }
  return out;
}

}  // namespace moat::plan
