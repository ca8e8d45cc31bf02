#include "app/enforce.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "app/enforce_internal.h"
#include "apply/apply.h"
#include "aws/sigv4.h"
#include "base/strings.h"
#include "enforce/target.h"
#include "estate/estate.h"
#include "policy/loader.h"
#include "store/state.h"

namespace moat::app {
namespace {

Result<std::string> PolicyText(const EnforceRequest& req, const EnforceDeps& deps) {
  if (req.policy == "pce") {
    if (!deps.fetch_pce_bundle) return Fail(InvalidInput("--policy pce: no PCE connection available"));
    return deps.fetch_pce_bundle(req.version, req.state_dir, PolicyDeadline(req, *deps.clock));
  }
  auto stream = deps.policy.local->Open(req.policy);
  if (!stream) return Fail(std::move(stream).error());
  auto text = ReadAll(**stream);
  if (!text) return Fail(std::move(text).error().Context(req.policy));
  return text;
}

}  // namespace

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

Status CheckEnforceRequest(const EnforceRequest& req) {
  if (req.policy.empty()) return Fail(InvalidInput("no policy given: --policy pce, or --policy FILE"));
  if (!policy::IsPolicyVersion(req.version)) {
    return Fail(
        InvalidInput("--policy-version: expected active, draft or a version number, got " + Quote(req.version)));
  }
  if (req.policy_timeout_ms <= 0) return Fail(InvalidInput("--policy-timeout: expected a positive number of seconds"));
  if (req.mode != "enforce" && req.mode != "visibility") {
    return Fail(InvalidInput("--mode: expected enforce or visibility, got " + Quote(req.mode)));
  }
  if (auto st = req.quotas.Validate(); !st) return Fail(std::move(st).error());
  // A file that is not there is a mistake in the command, not an outage of the policy source: no
  // fallback to the last known good, nothing written.
  std::error_code ec;
  if (req.policy != "pce" && !std::filesystem::exists(req.policy, ec) && !ec) {
    return Fail(InvalidInput("--policy " + req.policy +
                             ": no such file (the last known good stands in only for a policy source that fails, "
                             "not for one that is not there)"));
  }
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

namespace {

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
      report.unprotected.push_back(std::move(planned.report));
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

// What apply records as it goes: the groups moat creates (at once), and each target's applied
// rules (after the target), so that an interrupted or failed run leaves the state of what it did.
class Recorder {
 public:
  Recorder(store::StateStore& store, store::EnforcedState& state, const PolicyLoad& policy, EnforceReport& report)
      : store_(store), state_(state), policy_(policy), report_(report) {}

  void Created(const std::string& target, const std::string& vpc, const std::string& id) {
    state_.groups[id] = {target, vpc};
    if (auto st = store::RecordGroup(store_, id, {target, vpc}); !st) Error(st.error().message);
  }
  // Whether a run side by side recorded `id` as made for `target` in `vpc`; it records a group the
  // moment it has its id, so a few looks over a second or two settle it.
  bool Recorded(const std::string& target, const std::string& vpc, const std::string& id, Clock& clock) {
    for (int look = 0; look < 5; ++look) {
      if (look > 0) clock.Sleep(std::chrono::milliseconds(400));
      auto found = store::GroupRecorded(store_, id, {target, vpc});
      if (found && *found) {
        state_.groups[id] = {target, vpc};
        return true;
      }
    }
    return false;
  }
  // A state from before moat recorded its groups: the ones taken on their tags, recorded now.
  void Adopt(const estate::Estate& estate) {
    for (const auto& [id, owned] : estate.adopted) state_.groups.insert_or_assign(id, owned);
    for (const auto& [id, owned] : estate.recovered) state_.groups.insert_or_assign(id, owned);
    for (const std::string& id : estate.vanished) state_.groups.erase(id);
    forgotten_ = estate.vanished;
    if (!estate.adopted.empty() || !estate.recovered.empty() || !estate.vanished.empty()) Save({});
  }
  // Where this apply runs, recorded at once when the state says otherwise (or nothing).
  void Place(const store::AwsPlace& here) {
    if (here.account.empty() || state_.applied_in == here) return;
    state_.applied_in = here;
    Save({});
  }
  void Applied(const TargetReport& t, int64_t now) {
    if (!t.plan.policy_applied) return;
    store::AppliedTarget& a = state_.targets[t.id];
    if (a.rules == t.plan.desired && a.digest == report_.digest) return;
    a.time = now;
    a.digest = report_.digest;
    a.rules = t.plan.desired;
    if (!snapshot_saved_) {
      if (auto st = store::SaveSnapshot(store_, policy_.text, report_.digest); !st) return Error(st.error().message);
      snapshot_saved_ = true;
    }
    Save({t.id});
  }

 private:
  void Save(const std::vector<std::string>& changed) {
    if (auto st = store::MergeAndSaveState(store_, state_, changed, forgotten_); !st) Error(st.error().message);
  }
  void Error(const std::string& e) {
    if (std::find(report_.errors.begin(), report_.errors.end(), e) == report_.errors.end()) report_.errors.push_back(e);
  }
  store::StateStore& store_;
  store::EnforcedState& state_;
  const PolicyLoad& policy_;
  EnforceReport& report_;
  std::vector<std::string> forgotten_;
  bool snapshot_saved_ = false;
};

void Merge(TargetReport& t, const apply::Outcome& outcome, EnforceReport& report) {
  t.applied = true;
  t.writes = outcome.writes;
  t.converged = outcome.converged;
  t.unaudited = outcome.unaudited;
  t.warnings.insert(t.warnings.end(), outcome.notes.begin(), outcome.notes.end());
  const std::string& audit_error = outcome.audit_error;
  if (!audit_error.empty() &&
      std::find(report.errors.begin(), report.errors.end(), audit_error) == report.errors.end()) {
    report.errors.push_back(audit_error);
  }
  for (const auto& [name, id] : outcome.created) t.group_names[id] = name;
}

// Stage 4: each planned target applied, and recorded as it goes; an interruption stops before
// the next target.
void ApplyAndRecord(const estate::Estate& estate, const PolicyLoad& policy, store::StateStore& store,
                    store::EnforcedState& state, const EnforceDeps& deps, aws::Ec2& ec2, aws::Rds& rds,
                    EnforceReport& report) {
  report.executed = true;
  Recorder record(store, state, policy, report);
  record.Place({report.aws_account, report.aws_region});
  record.Adopt(estate);
  Clock* clock = deps.clock;
  apply::Env env{&ec2, &rds, deps.audit, clock, nullptr, nullptr};
  for (TargetReport& t : report.targets) {
    if (deps.interrupted != nullptr && deps.interrupted->load() != 0) {
      report.interrupted = deps.interrupted->load();
      break;
    }
    ++report.attempted;
    if (t.error.empty()) {
      const auto db = std::find_if(estate.chosen.begin(), estate.chosen.end(),
                                   [&](const aws::Database* d) { return estate::TargetId(*d) == t.id; });
      if (t.plan.plan.HasChanges()) {
        env.created = [&](const std::string& id, const std::string&) { record.Created(t.id, t.vpc_id, id); };
        env.recorded = [&](const std::string& id) { return record.Recorded(t.id, t.vpc_id, id, *clock); };
        auto outcome = apply::ApplyTarget(WorkFor(t, **db, report.digest), env);
        if (outcome) {
          Merge(t, *outcome, report);
        } else {
          t.error = outcome.error().message;
        }
      }
      if (t.error.empty()) record.Applied(t, clock->WallSeconds());
    }
    if (deps.progress) deps.progress(t);
  }
}

// The report's what-if: the flows replayed, and (from the flow history) how many it holds and
// over what span. An apply whose default window holds none of them is refused.
Status WhatIf(const EnforceRequest& req, EnforceReport& report) {
  if (req.observed == nullptr) return {};
  report.what_if = true;
  report.observed_window = req.observed_window;
  report.observed_flows = req.observed->size();
  const Observed* h = req.history;
  if (h == nullptr) return {};
  report.from_history = true;
  report.recorded_flows = h->recorded;
  report.history_first = h->first == flowlog::kNoTime ? 0 : h->first;
  report.history_last = h->last == flowlog::kNoTime ? 0 : h->last;
  report.history_span = h->Span();
  report.empty_window = report.observed_flows == 0 && h->recorded > 0;
  if (!report.empty_window) return {};
  const std::string earliest = report.history_first > 0 ? FormatUtc(report.history_first).substr(0, 10) : "DATE";
  const std::string what = fmt::format("the flow-history window ({}) holds none of its {} recorded flow(s) ({})",
                                       report.observed_window, h->recorded, report.history_span);
  if (req.execute && req.mode == "enforce" && !h->since_given) {
    return Fail(InvalidInput(what +
                             ": the what-if would check nothing, and the plan could cut clients seen in the "
                             "logs; give --since all or --since " +
                             earliest + " to check them, or --since explicitly to apply without them"));
  }
  report.warnings.push_back(what + ": the what-if checked nothing; use --since all or --since " + earliest);
  return {};
}

// Where this run is: the account (STS, once) and the region; and where the state was last applied
// when that is elsewhere. Apply refuses another place unless allowed; STS failing is a run error
// (the region is still compared).
Status WhereAmI(const EnforceRequest& req, AwsServices& aws, const store::EnforcedState& state, EnforceReport& report) {
  auto region = aws.Region();
  if (!region) return Fail(std::move(region).error());
  report.aws_region = *region;
  auto who = aws.Identity();
  if (who) {
    report.aws_account = who->account;
  } else {
    report.errors.push_back(who.error().message + " (the AWS account of this run is not known)");
  }
  const store::AwsPlace& was = state.applied_in;
  const bool other_account = !was.account.empty() && !report.aws_account.empty() && was.account != report.aws_account;
  const bool other_region = !was.region.empty() && was.region != report.aws_region;
  if (!other_account && !other_region) return {};
  report.state_account = was.account;
  report.state_region = was.region;
  if (req.execute && req.mode == "enforce" && !req.allow_other_account) {
    return Fail(InvalidInput(fmt::format(
        "the state in {} was last applied in account {} {}; this run is in account {} {}: give --state for this "
        "account and region, or --allow-other-account to apply here anyway",
        req.state_dir, was.account, was.region, report.aws_account.empty() ? "unknown" : report.aws_account,
        report.aws_region)));
  }
  return {};
}

}  // namespace

int64_t PolicyDeadline(const EnforceRequest& req, Clock& clock) {
  const int64_t now = clock.WallMs();
  int64_t deadline = now + req.policy_timeout_ms;
  if (req.deadline_ms > 0) deadline = std::min(deadline, now + std::max<int64_t>(req.deadline_ms - now, 0) / 2);
  return deadline;
}

Result<PlannedPlace> ReadPlace(const EnforceRequest& req, const EnforceDeps& deps,
                               const std::function<const PolicyLoad&()>& load_policy) {
  // Stage 1: the state and the policy.
  PlannedPlace p;
  auto state_store = OpenStateStore(req.state_dir, deps.state_aws != nullptr ? *deps.state_aws : *deps.aws);
  if (!state_store) return Fail(std::move(state_store).error());
  p.store = std::move(*state_store);
  auto state = store::LoadState(*p.store);
  if (!state) return Fail(std::move(state).error());
  p.state = std::move(*state);

  EnforceReport& report = p.report;
  report.policy_source = req.policy;
  report.policy_version = req.version;
  report.mode = req.mode;
  if (auto st = WhatIf(req, report); !st) return Fail(std::move(st).error());
  const PolicyLoad& policy = load_policy();
  report.policy_error = policy.error;
  if (policy.compiled) {
    report.digest = aws::Sha256Hex(policy.text);
    report.warnings.insert(report.warnings.end(), policy.compiled->warnings.begin(), policy.compiled->warnings.end());
  }

  // Stage 2: where this run is, and the estate.
  if (auto st = WhereAmI(req, *deps.aws, p.state, report); !st) return Fail(std::move(st).error());
  auto ec2 = deps.aws->Ec2();
  if (!ec2) return Fail(std::move(ec2).error());
  auto rds = deps.aws->Rds();
  if (!rds) return Fail(std::move(rds).error());
  p.ec2 = *ec2;
  p.rds = *rds;
  store::StateStore& records = *p.store;
  const estate::RecordLookup lookup = [&records](const std::string& id, const store::OwnedGroup& g) {
    auto found = store::GroupRecorded(records, id, g);
    return found && *found;
  };
  // The databases' network interfaces are read when the flow history knows where flows were logged.
  const bool interfaces =
      req.observed != nullptr && req.observed_places != nullptr && req.observed_places->interfaces.size() > 1;
  auto estate =
      estate::ReadEstate(*p.ec2, *p.rds, p.state, lookup, req.targets, deps.resolve, interfaces, report.errors);
  if (!estate) return Fail(std::move(estate).error());
  p.estate = std::make_unique<estate::Estate>(std::move(*estate));
  if (!p.estate->adopted.empty()) {
    report.warnings.push_back(fmt::format(
        "the state predates moat's record of the groups it creates: {} group(s) tagged as moat's were taken as its "
        "own on their tags{}",
        p.estate->adopted.size(), req.execute ? " and are recorded now" : "; apply records them"));
  }

  p.report.reads = deps.aws->calls().reads();
  return p;
}

Status AddDatabases(PlannedPlace& place, uint32_t observed_place, enforce::ObservedIndex& observed,
                    const EnforceDeps& deps) {
  // Each database, and the VPCs of those that share an address.
  std::map<net::Address, std::set<std::string>> vpcs;
  for (const auto& [db, found] : place.estate->addresses) {
    const std::string vpc = place.estate->VpcOf(*db);
    for (const std::string& a : found.addresses) {
      if (auto address = net::ParseAddress(a)) {
        observed.AddDatabase(observed_place, *address, found.interfaces, vpc);
        if (!vpc.empty()) vpcs[*address].insert(vpc);
      }
    }
  }
  // Where databases of different VPCs share an address, the VPC of each other interface that
  // logged flows to it here: one DescribeNetworkInterfaces (a page of ids each), only then.
  std::set<std::string> others;
  for (const auto& [address, in] : vpcs) {
    if (in.size() < 2) continue;
    for (std::string& id : observed.OtherInterfaces(observed_place, address)) others.insert(std::move(id));
  }
  constexpr size_t kIdsPerRead = 200;
  const std::vector<std::string> ids(others.begin(), others.end());
  for (size_t at = 0; at < ids.size(); at += kIdsPerRead) {
    const std::vector<std::string> page(
        ids.begin() + static_cast<std::ptrdiff_t>(at),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(at + kIdsPerRead, ids.size())));
    auto read = place.ec2->DescribeNetworkInterfaces({{"network-interface-id", page}});
    if (!read) return Fail(std::move(read).error().Context("the network interfaces that logged flows"));
    for (const aws::NetworkInterface& n : *read) {
      observed.SetInterfaceVpc(n.id, n.vpc_id);
      place.report.interface_vpcs[n.id] = n.vpc_id;
    }
  }
  place.report.reads = deps.aws->calls().reads();
  return {};
}

void PlanRead(PlannedPlace& p, const EnforceRequest& req, const PolicyLoad& policy,
              const enforce::ObservedIndex* observed, uint32_t observed_place) {
  // Stage 3: the plans.
  EnforceReport& report = p.report;
  enforce::RunInputs run;
  run.compiled = policy.compiled ? &*policy.compiled : nullptr;
  run.named_targets = !req.targets.empty();
  run.keep_groups = req.keep_groups;
  run.quotas = req.quotas;
  run.guards = req.guards;
  run.over_permission_budget = req.over_permission_budget;
  run.observed = observed;
  run.observed_place = observed_place;
  PlanTargets(req, *p.estate, p.state, run, report);
}

void ApplyPlace(PlannedPlace& p, const PolicyLoad& policy, const EnforceDeps& deps) {
  ApplyAndRecord(*p.estate, policy, *p.store, p.state, deps, *p.ec2, *p.rds, p.report);
  p.report.reads = deps.aws->calls().reads();
  p.report.writes = deps.aws->calls().writes();
}

enforce::ObservedIndex IndexObserved(const EnforceRequest& req) {
  if (req.observed == nullptr) return {};
  return {*req.observed, req.observed_places};
}

uint32_t ObservedPlace(const EnforceRequest& req, const std::string& place) {
  const traffic::FlowPlaces* places = req.observed_places;
  if (place.empty() || places == nullptr || !places->Named()) return enforce::ObservedIndex::kEveryPlace;
  for (size_t i = 1; i < places->names.size(); ++i) {
    if (places->names[i] == place) return static_cast<uint32_t>(i);
  }
  return static_cast<uint32_t>(places->names.size());  // no flow was logged there: only those of no place
}

Result<EnforceReport> RunEnforce(const EnforceRequest& req, const EnforceDeps& deps) {
  if (auto st = CheckEnforceRequest(req); !st) return Fail(std::move(st).error());
  PolicyOnce policy(req, deps);
  const std::function<const PolicyLoad&()> load = std::ref(policy);
  enforce::ObservedIndex observed = IndexObserved(req);
  auto planned = ReadPlace(req, deps, load);
  if (!planned) return Fail(std::move(planned).error());
  // Where this run is (ReadPlace asked); not known, every flow counts.
  const EnforceReport& read = planned->report;
  const std::string here =
      read.aws_account.empty() || read.aws_region.empty() ? "" : read.aws_account + "/" + read.aws_region;
  const uint32_t observed_place = ObservedPlace(req, here);
  if (req.observed != nullptr) {
    if (auto st = AddDatabases(*planned, observed_place, observed, deps); !st) return Fail(std::move(st).error());
  }
  PlanRead(*planned, req, load(), req.observed != nullptr ? &observed : nullptr, observed_place);

  // Stage 4: apply.
  EnforceReport& report = planned->report;
  const bool write = req.execute && req.mode == "enforce";
  if (write && report.HasChanges() && deps.confirm && !deps.confirm(report)) {
    report.cancelled = true;
    return std::move(report);
  }
  if (write) ApplyPlace(*planned, load(), deps);
  report.writes = deps.aws->calls().writes();
  return std::move(report);
}

Outcome EnforceOutcome(const EnforceReport& report, bool detailed_exitcode) {
  if (report.interrupted != 0) {
    return {128 + report.interrupted,
            fmt::format("interrupted: {} of {} databases applied (each recorded in the state); run the same apply "
                        "again to apply the rest",
                        report.attempted, report.targets.size())};
  }
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
      const int code = detailed_exitcode && !report.executed && !report.HasChanges() ? kExitHeld : 1;
      return {code, fmt::format("{} database(s) held back by a guard (see '! held' above): the policy change was not "
                                "applied to them",
                                held)};
    }
    // The operator's own mistake is named on the last line, not only in the plan above.
    for (const std::string& e : report.errors) {
      if (e.starts_with("--target ")) return {1, e};
    }
    return {1, "not every target could be planned or applied (see above)"};
  }
  if (detailed_exitcode && !report.executed && report.HasChanges()) return {2, ""};
  return {0, ""};
}

}  // namespace moat::app
