#include "app/handle.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "app/enforce_fleet.h"
#include "app/pce.h"
#include "apply/audit.h"
#include "store/history.h"

namespace moat::app {

bool HandleReport::Failed() const {
  return !errors.empty() || !left.empty() || (enforce && enforce->Failed()) || (uploaded && uploaded->failed > 0) ||
         std::any_of(placed.begin(), placed.end(), [](const PlacedReconcile& p) { return p.report.Failed(); });
}

namespace {

nlohmann::ordered_json ReconcileJson(const EnforceReport& enforce) {
  nlohmann::ordered_json targets = nlohmann::ordered_json::array();
  int drift = 0;
  for (const TargetReport& t : enforce.targets) {
    targets.push_back({{"id", t.id},
                       {"changes", t.error.empty() && t.plan.plan.HasChanges()},
                       {"applied", t.applied},
                       {"error", t.error},
                       {"held", t.plan.held}});
    for (const auto& g : t.plan.plan.groups) {
      for (const auto* v : {&g.authorize, &g.revoke, &g.redescribe}) {
        drift += static_cast<int>(std::count_if(v->begin(), v->end(), [](const auto& r) { return r.drift; }));
      }
      drift += g.revoke_other;
    }
    drift += static_cast<int>(t.plan.plan.drift.size());
  }
  return {{"policy_ok", enforce.policy_error.empty()},
          {"policy_error", enforce.policy_error},
          {"mode", enforce.mode},
          {"targets", std::move(targets)},
          {"drift_reverted", drift},
          {"errors", enforce.errors},
          {"calls", {{"read", enforce.reads}, {"write", enforce.writes}}}};
}

}  // namespace

std::string HandleReport::Json() const {
  nlohmann::ordered_json j;
  j["ok"] = !Failed();
  j["objects"] = {{"done", done}, {"left", left}};
  j["records"] = records;
  j["flows"] = flows;
  j["skipped"] = skipped;
  if (uploaded) {
    j["pce"] = {{"sent", uploaded->sent}, {"received", uploaded->received}, {"failed", uploaded->failed}};
  }
  if (enforce) j["reconcile"] = ReconcileJson(*enforce);
  if (!placed.empty() || !fanned_out.empty() || !skipped_places.empty()) {
    j["reconciles"] = nlohmann::ordered_json::array();
    for (const PlacedReconcile& p : placed) {
      nlohmann::ordered_json r = {{"account", p.account}, {"region", p.region}};
      r.update(ReconcileJson(p.report));
      j["reconciles"].push_back(std::move(r));
    }
    j["fanned_out"] = fanned_out;
    j["skipped_places"] = skipped_places;
  }
  j["ignored"] = ignored;
  j["refused"] = refused;
  j["errors"] = errors;
  return j.dump();
}

namespace {

// True when the deadline leaves no time for another object (the reserve is kept for the rest).
bool OutOfTime(const HandleRequest& req, const HandleDeps& deps) {
  return req.deadline_ms > 0 && deps.clock->WallMs() + req.reserve_ms >= req.deadline_ms;
}

// Why an object gave no file: the first example of what went wrong, as " (example)"; empty when none.
std::string WhyUnread(const traffic::FlowsReport& read) {
  for (const std::string& e : read.stats.examples) {
    if (!e.empty()) return " (" + e + ")";
  }
  return "";
}

// Keeps the object's flows as flow history beside it; a failure is the report's error, not the event's.
void KeepFlows(const events::ObjectRef& o, const std::string& name, const traffic::FlowsReport& read,
               const HandleDeps& deps, HandleReport& report) {
  if (!deps.keep_flows) return;
  const std::string history = "s3://" + o.bucket + "/moat/flows/" + o.key + ".jsonl.gz";
  auto gz = store::FlowHistory(read, name);
  Status kept = gz ? deps.keep_flows(history, *gz) : Fail(std::move(gz).error());
  if (!kept) report.errors.push_back("flow history: " + kept.error().message);
}

// Reads each of the event's objects while there is time, handing each one's flows to `take`; those
// left for lack of time, those read and those that could not be read are in the report.
using TakeFlows = std::function<void(const events::ObjectRef& object, std::vector<traffic::Flow>&& flows)>;
Status ReadObjects(const events::EventWork& work, const HandleRequest& req, const HandleDeps& deps,
                   HandleReport& report, const TakeFlows& take) {
  for (const events::ObjectRef& o : work.objects) {
    const std::string name = "s3://" + o.bucket + "/" + o.key;
    if (OutOfTime(req, deps)) {
      report.left.push_back(name);
      continue;
    }
    if (deps.s3 == nullptr) return Fail(InvalidInput(name + ": reading S3 needs AWS (AWS_REGION and credentials)"));
    FlowsRequest fr;
    fr.sources = {name};
    fr.threads = 1;
    fr.exact = true;
    fr.service_ports = req.service_ports;
    auto read = RunFlows(fr, FlowsDeps{nullptr, nullptr, deps.s3});
    if (!read) return Fail(std::move(read).error());
    report.records += read->stats.records;
    report.skipped += read->stats.TotalSkipped();
    if (read->stats.files_read == 0) {
      report.errors.push_back(name + ": could not be read" + WhyUnread(*read));
      continue;
    }
    report.done.push_back(name);
    KeepFlows(o, name, *read, deps, report);
    take(o, std::move(read->flows));
  }
  return {};
}

// Sends the flows to the PCE's traffic loader, when a PCE is configured.
// After the reconcile, so that a PCE that does not answer never delays a revert; bounded by the
// deadline less the reserve kept for the answer.
void Upload(const std::vector<traffic::Flow>& flows, const HandleRequest& req, const HandleDeps& deps,
            HandleReport& report) {
  if (!deps.upload || flows.empty()) return;
  auto uploaded = deps.upload(UploadLines(flows, false), req.deadline_ms > 0 ? req.deadline_ms - req.reserve_ms : 0);
  if (!uploaded) {
    report.errors.push_back("pce upload: " + uploaded.error().message);
  } else {
    report.uploaded = std::move(*uploaded);
  }
}

// Every address of the flows, once, in order.
std::vector<std::string> Addresses(const std::vector<traffic::Flow>& flows) {
  std::vector<net::Address> seen;
  seen.reserve(2 * flows.size());
  for (const traffic::Flow& f : flows) {
    seen.push_back(f.key.initiator);
    seen.push_back(f.key.responder);
  }
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  std::vector<std::string> addresses;
  addresses.reserve(seen.size());
  for (const net::Address& a : seen) addresses.push_back(net::ToString(a));
  return addresses;
}

// The reconcile of what the event touched; its what-if weighs `flows`, which it borrows.
EnforceRequest EnforceRequestFor(bool reconcile_all, const std::vector<std::string>& databases,
                                 const std::vector<std::string>& groups, const HandleRequest& req,
                                 const std::vector<traffic::Flow>& flows) {
  EnforceRequest er = req.enforce;
  er.execute = true;
  er.deadline_ms = req.deadline_ms;  // the policy's load leaves time to enforce the last known good
  er.narrow = !reconcile_all;
  er.databases = databases;
  er.groups = groups;
  if (!flows.empty()) {
    // What-if over what the event brought: no local flow history here.
    er.observed = &flows;
    er.observed_window = "the flows of this event's objects";
  }
  er.addresses = Addresses(flows);
  return er;
}

// What an event asks of one place.
struct PlaceWork {
  std::string account, region;  // "", "": the run's own place
  std::vector<std::string> databases, groups;
  bool reconcile_all = false;
  std::vector<traffic::Flow> flows;
};

void AddAll(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const std::string& s : from) {
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
  }
}

// The reconcile of one place, with its own services, state and audit.
void ReconcilePlace(const PlaceWork& w, const HandleRequest& req, const HandleDeps& deps, const store::AwsPlace& top,
                    HandleReport& report) {
  const std::string named = w.account.empty() ? "this run's own account and region" : w.account + "/" + w.region;
  auto place = deps.place(w.account, w.region);
  if (!place) {
    report.errors.push_back(named + ": " + place.error().message);
    return;
  }
  if (place->aws == nullptr) {  // the event's work there is not done: it fails, to be retried
    report.errors.push_back(place->Name() + ": " + place->error);
    return;
  }
  EnforceRequest er = EnforceRequestFor(w.reconcile_all, w.databases, w.groups, req, w.flows);
  er.state_dir = StateDirFor(req.enforce.state_dir, place->account, place->region, top);
  const bool something = w.reconcile_all || !er.databases.empty() || !er.groups.empty() || !er.addresses.empty();
  if (!something) return;
  EnforceDeps ed = deps.enforce;
  ed.confirm = nullptr;
  ed.aws = place->aws;
  ed.state_aws = deps.enforce.aws;
  std::optional<apply::PlacedAuditLog> audit;
  if (deps.enforce.audit != nullptr) {
    audit.emplace(*deps.enforce.audit, place->account, place->region);
    ed.audit = &*audit;
  }
  auto enforced = RunEnforce(er, ed);
  if (!enforced) {
    report.errors.push_back(place->Name() + ": reconcile: " + enforced.error().message);
    return;
  }
  enforced->place = place->Name();
  report.placed.push_back({place->account, place->region, std::move(*enforced)});
}

// A run over several places: the event's work split by where it happened, each place reconciled.
Status HandlePlaced(const events::EventWork& work, const HandleRequest& req, const HandleDeps& deps,
                    HandleReport& report, std::vector<traffic::Flow>& all_flows) {
  std::map<std::string, PlaceWork> by_place;
  const auto at = [&](const std::string& account, const std::string& region) -> PlaceWork& {
    PlaceWork& w = by_place[account + "/" + region];
    w.account = account;
    w.region = region;
    return w;
  };
  const TakeFlows take = [&](const events::ObjectRef& o, std::vector<traffic::Flow>&& flows) {
    PlaceWork& w = at(o.account, o.region);
    all_flows.insert(all_flows.end(), flows.begin(), flows.end());
    w.flows.insert(w.flows.end(), std::make_move_iterator(flows.begin()), std::make_move_iterator(flows.end()));
  };
  if (Status read = ReadObjects(work, req, deps, report, take); !read) return read;
  bool placed_reconcile = false;
  for (const auto& [name, p] : work.placed) {
    const size_t slash = name.find('/');
    PlaceWork& w = at(name.substr(0, slash), name.substr(slash + 1));
    AddAll(w.databases, p.databases);
    AddAll(w.groups, p.groups);
    w.reconcile_all = w.reconcile_all || p.reconcile_all;
    placed_reconcile = placed_reconcile || p.reconcile_all;
  }
  // CloudTrail calls of events that name no place: the run's own.
  if (work.placed.empty() && (!work.databases.empty() || !work.groups.empty())) {
    PlaceWork& w = at("", "");
    AddAll(w.databases, work.databases);
    AddAll(w.groups, work.groups);
  }
  if (work.reconcile_all && !placed_reconcile) {  // a schedule: every place
    auto places = deps.places ? deps.places() : Result<std::vector<Place>>(Fail(Internal("no places")));
    if (!places) {
      report.errors.push_back("schedule: " + places.error().message);
    } else {
      std::vector<Place> reachable;
      for (const Place& p : *places) {
        if (p.aws == nullptr) {
          report.skipped_places.push_back(p.Name() + ": " + p.error);
        } else {
          reachable.push_back(p);
        }
      }
      if (deps.fan_out) {
        if (Status sent = deps.fan_out(reachable); !sent) {
          report.errors.push_back("schedule: " + sent.error().message);
        } else {
          for (const Place& p : reachable) report.fanned_out.push_back(p.Name());
        }
      } else {
        for (const Place& p : reachable) at(p.account, p.region).reconcile_all = true;
      }
    }
  }
  const store::AwsPlace top =
      by_place.empty() ? store::AwsPlace{} : TopStatePlace(req.enforce.state_dir, *deps.enforce.aws);
  for (const auto& [name, w] : by_place) {
    if (req.deadline_ms > 0 && deps.clock->WallMs() >= req.deadline_ms - 1000) {
      report.errors.push_back("no time left to reconcile " + name + " before the deadline");
      continue;
    }
    ReconcilePlace(w, req, deps, top, report);
  }
  return {};
}

}  // namespace

Result<HandleReport> HandleEvent(const events::EventWork& work, const HandleRequest& req, const HandleDeps& deps) {
  HandleReport report;
  report.ignored = work.ignored;
  report.refused = work.refused;
  std::vector<traffic::Flow> flows;
  if (deps.place) {
    if (Status st = HandlePlaced(work, req, deps, report, flows); !st) return Fail(std::move(st).error());
    report.flows = flows.size();
    Upload(flows, req, deps, report);
    return report;
  }
  const TakeFlows take = [&](const events::ObjectRef&, std::vector<traffic::Flow>&& read) {
    flows.insert(flows.end(), std::make_move_iterator(read.begin()), std::make_move_iterator(read.end()));
  };
  if (Status read = ReadObjects(work, req, deps, report, take); !read) return Fail(std::move(read).error());
  report.flows = flows.size();

  const EnforceRequest er = EnforceRequestFor(work.reconcile_all, work.databases, work.groups, req, flows);
  const bool something = work.reconcile_all || !er.databases.empty() || !er.groups.empty() || !er.addresses.empty();
  if (something && req.deadline_ms > 0 && deps.clock->WallMs() >= req.deadline_ms - 1000) {
    report.errors.push_back("no time left to reconcile the databases before the deadline");
  } else if (something) {
    EnforceDeps ed = deps.enforce;
    ed.confirm = nullptr;  // events apply without asking
    auto enforced = RunEnforce(er, ed);
    if (!enforced) {
      report.errors.push_back("reconcile: " + enforced.error().message);
    } else {
      report.enforce = std::move(*enforced);
    }
  }
  Upload(flows, req, deps, report);
  return report;
}

}  // namespace moat::app
