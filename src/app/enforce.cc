#include "app/enforce.h"

#include <fmt/format.h>

#include <algorithm>

#include "apply/apply.h"
#include "aws/sigv4.h"
#include "enforce/target.h"
#include "estate/estate.h"
#include "policy/loader.h"
#include "store/state.h"

namespace moat::app {
namespace {

struct PolicyLoad {
  std::string text;
  std::optional<compile::Compiled> compiled;
  std::string error;
};

Result<std::string> PolicyText(const EnforceRequest& req, const EnforceDeps& deps) {
  if (req.policy == "pce") {
    if (!deps.fetch_pce_bundle) return Fail(InvalidInput("--policy pce: no PCE connection available"));
    return deps.fetch_pce_bundle(req.version);
  }
  auto stream = deps.policy.local->Open(req.policy);
  if (!stream) return Fail(std::move(stream).error());
  auto text = ReadAll(**stream);
  if (!text) return Fail(std::move(text).error().Context(req.policy));
  return text;
}

PolicyLoad LoadCompiled(const EnforceRequest& req, const EnforceDeps& deps) {
  PolicyLoad out;
  auto text = PolicyText(req, deps);
  if (!text) {
    out.error = text.error().message;
    return out;
  }
  auto loaded = policy::LoadBundle(*text, req.policy, req.version);
  if (!loaded) {
    out.error = loaded.error().message;
    return out;
  }
  out.text = std::move(*text);
  out.compiled = compile::Compile(*loaded);
  return out;
}

Status Validate(const EnforceRequest& req) {
  if (req.policy.empty()) return Fail(InvalidInput("no policy given: --policy pce, or --policy FILE"));
  if (!policy::IsPolicyVersion(req.version)) {
    return Fail(
        InvalidInput("--policy-version: expected active, draft or a version number, got '" + req.version + "'"));
  }
  if (req.mode != "enforce" && req.mode != "visibility") {
    return Fail(InvalidInput("--mode: expected enforce or visibility, got '" + req.mode + "'"));
  }
  if (auto st = req.quotas.Validate(); !st) return Fail(std::move(st).error());
  if (!(req.guards.max_revoke_share >= 0 && req.guards.max_revoke_share <= 1)) {
    return Fail(InvalidInput("--max-revoke-share: expected a share between 0 and 1"));
  }
  return {};
}

Result<std::unique_ptr<store::StateStore>> OpenStateStore(const std::string& dir, AwsServices& aws) {
  if (!dir.starts_with("s3://")) return std::unique_ptr<store::StateStore>(new store::DirectoryStateStore(dir));
  auto s3 = aws.S3Objects();
  if (!s3) return Fail(std::move(s3).error().Context("--state " + dir));
  return std::unique_ptr<store::StateStore>(new store::S3StateStore(**s3, dir));
}

// Stage 3: every chosen database (those an event touched, when narrowed) planned.
void PlanTargets(const EnforceRequest& req, const estate::Estate& estate, const store::EnforcedState& state,
                 const enforce::RunInputs& run, EnforceReport& report) {
  const enforce::EventScope scope{req.databases, req.groups, req.addresses};
  for (const aws::Database* d : estate.chosen) {
    if (req.narrow && !enforce::Touched(estate, *d, scope)) continue;
    std::optional<std::vector<plan::SgRule>> last;
    if (auto applied = state.targets.find(estate::TargetId(*d)); applied != state.targets.end()) {
      last = applied->second.rules;
    }
    enforce::Planned planned = enforce::PlanTarget(estate, *d, last, run);
    if (!planned.skipped.empty()) {
      report.skipped.emplace_back(planned.report.id, planned.skipped);
    } else {
      report.targets.push_back(std::move(planned.report));
    }
  }
}

apply::TargetWork WorkFor(const TargetReport& t, const aws::Database& db, const std::string& digest) {
  apply::TargetWork work;
  work.db = db;
  work.vpc_id = t.vpc_id;
  work.plan = t.plan.plan;
  work.groups = t.plan.groups;
  work.group_names = t.group_names;
  if (!digest.empty() && t.plan.policy_applied) work.tags["moat:policy-sha256"] = digest;
  for (const std::string& a : db.security_groups) {
    const bool managed =
        std::any_of(work.groups.begin(), work.groups.end(), [&](const plan::PackedGroup& g) { return g.id == a; });
    if (!managed && std::find(work.plan.detach.begin(), work.plan.detach.end(), a) == work.plan.detach.end()) {
      work.kept_foreign.push_back(a);
    }
  }
  return work;
}

// Stage 4: each planned target applied; what was applied recorded as the last known good.
void ApplyAndRecord(const estate::Estate& estate, const PolicyLoad& policy, store::StateStore& store,
                    store::EnforcedState& state, const EnforceDeps& deps, aws::Ec2& ec2, aws::Rds& rds,
                    EnforceReport& report) {
  report.executed = true;
  bool state_changed = false;
  Clock* clock = deps.clock;
  const apply::Env env{&ec2, &rds, deps.audit, clock};
  for (TargetReport& t : report.targets) {
    if (!t.error.empty()) continue;
    const auto db = std::find_if(estate.chosen.begin(), estate.chosen.end(),
                                 [&](const aws::Database* d) { return estate::TargetId(*d) == t.id; });
    if (t.plan.plan.HasChanges()) {
      auto outcome = apply::ApplyTarget(WorkFor(t, **db, report.digest), env);
      if (!outcome) {
        t.error = outcome.error().message;
        continue;
      }
      t.applied = true;
      t.writes = outcome->writes;
      t.converged = outcome->converged;
      t.unaudited = outcome->unaudited;
      const std::string& audit_error = outcome->audit_error;
      if (!audit_error.empty() &&
          std::find(report.errors.begin(), report.errors.end(), audit_error) == report.errors.end()) {
        report.errors.push_back(audit_error);
      }
      for (const auto& [name, id] : outcome->created) t.group_names[id] = name;
    }
    if (t.plan.policy_applied) {
      store::AppliedTarget& a = state.targets[t.id];
      if (a.rules != t.plan.desired || a.digest != report.digest) {
        a.time = clock->WallSeconds();
        a.digest = report.digest;
        a.rules = t.plan.desired;
        state_changed = true;
      }
    }
  }
  if (!state_changed) return;
  if (auto st = store::SaveSnapshot(store, policy.text, report.digest); !st) {
    report.errors.push_back(st.error().message);
  } else if (auto st2 = store::SaveState(store, state); !st2) {
    report.errors.push_back(st2.error().message);
  }
}

}  // namespace

Result<EnforceReport> RunEnforce(const EnforceRequest& req, const EnforceDeps& deps) {
  // Stage 1: the request, the state and the policy.
  if (auto st = Validate(req); !st) return Fail(std::move(st).error());
  auto state_store = OpenStateStore(req.state_dir, *deps.aws);
  if (!state_store) return Fail(std::move(state_store).error());
  auto state = store::LoadState(**state_store);
  if (!state) return Fail(std::move(state).error());

  EnforceReport report;
  report.policy_source = req.policy;
  report.policy_version = req.version;
  report.mode = req.mode;
  enforce::ObservedIndex observed;
  if (req.observed != nullptr) {
    report.what_if = true;
    report.observed_window = req.observed_window;
    report.observed_flows = req.observed->size();
    observed = enforce::IndexByResponder(*req.observed);
  }
  PolicyLoad policy = LoadCompiled(req, deps);
  report.policy_error = policy.error;
  if (policy.compiled) {
    report.digest = aws::Sha256Hex(policy.text);
    report.warnings = policy.compiled->warnings;
  }

  // Stage 2: the estate.
  auto ec2 = deps.aws->Ec2();
  if (!ec2) return Fail(std::move(ec2).error());
  auto rds = deps.aws->Rds();
  if (!rds) return Fail(std::move(rds).error());
  auto estate = estate::ReadEstate(**ec2, **rds, req.targets, deps.resolve, report.errors);
  if (!estate) return Fail(std::move(estate).error());

  // Stage 3: the plans.
  enforce::RunInputs run;
  run.compiled = policy.compiled ? &*policy.compiled : nullptr;
  run.named_targets = !req.targets.empty();
  run.keep_groups = req.keep_groups;
  run.quotas = req.quotas;
  run.guards = req.guards;
  run.over_permission_budget = req.over_permission_budget;
  run.observed = req.observed != nullptr ? &observed : nullptr;
  PlanTargets(req, *estate, *state, run, report);

  // Stage 4: apply.
  const bool write = req.execute && req.mode == "enforce";
  report.reads = deps.aws->calls().reads();
  if (write && report.HasChanges() && deps.confirm && !deps.confirm(report)) {
    report.cancelled = true;
    return report;
  }
  if (write) ApplyAndRecord(*estate, policy, **state_store, *state, deps, **ec2, **rds, report);
  report.reads = deps.aws->calls().reads();
  report.writes = deps.aws->calls().writes();
  return report;
}

Outcome EnforceOutcome(const EnforceReport& report, bool detailed_exitcode) {
  if (!report.policy_error.empty()) {
    return {1, "the policy could not be used (" + report.policy_error +
                   "); only drift against the last known good was reverted"};
  }
  if (report.Failed()) {
    size_t unaudited = 0;
    for (const TargetReport& t : report.targets) unaudited += t.unaudited.size();
    if (unaudited > 0) {
      return {1, fmt::format("{} change(s) were made but could not be written to the audit log (see "
                             "'! unaudited' above)",
                             unaudited)};
    }
    if (const int held = report.HeldOnly(); held > 0) {
      return {1, fmt::format("{} database(s) held back by a guard (see '! held' above): the policy change was not "
                             "applied to them",
                             held)};
    }
    return {1, "not every target could be planned or applied (see above)"};
  }
  if (detailed_exitcode && !report.executed && report.HasChanges()) return {2, ""};
  return {0, ""};
}

}  // namespace moat::app
