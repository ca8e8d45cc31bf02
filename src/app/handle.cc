#include "app/handle.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "app/pce.h"
#include "store/history.h"

namespace moat::app {

bool HandleReport::Failed() const {
  return !errors.empty() || !left.empty() || (enforce && enforce->Failed()) || (uploaded && uploaded->failed > 0);
}

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
  if (enforce) {
    nlohmann::ordered_json targets = nlohmann::ordered_json::array();
    int drift = 0;
    for (const TargetReport& t : enforce->targets) {
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
    j["reconcile"] = {{"policy_ok", enforce->policy_error.empty()},
                      {"policy_error", enforce->policy_error},
                      {"mode", enforce->mode},
                      {"targets", std::move(targets)},
                      {"drift_reverted", drift},
                      {"errors", enforce->errors},
                      {"calls", {{"read", enforce->reads}, {"write", enforce->writes}}}};
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

// Reads each of the event's objects while there is time, appending their flows to `flows`; those
// left for lack of time, those read and those that could not be read are in the report.
Status ReadObjects(const events::EventWork& work, const HandleRequest& req, const HandleDeps& deps,
                   HandleReport& report, std::vector<traffic::Flow>& flows) {
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
    flows.insert(flows.end(), std::make_move_iterator(read->flows.begin()), std::make_move_iterator(read->flows.end()));
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
EnforceRequest EnforceRequestFor(const events::EventWork& work, const HandleRequest& req,
                                 const std::vector<traffic::Flow>& flows) {
  EnforceRequest er = req.enforce;
  er.execute = true;
  er.deadline_ms = req.deadline_ms;  // the policy's load leaves time to enforce the last known good
  er.narrow = !work.reconcile_all;
  er.databases = work.databases;
  er.groups = work.groups;
  if (!flows.empty()) {
    // What-if over what the event brought: no local flow history here.
    er.observed = &flows;
    er.observed_window = "the flows of this event's objects";
  }
  er.addresses = Addresses(flows);
  return er;
}

}  // namespace

Result<HandleReport> HandleEvent(const events::EventWork& work, const HandleRequest& req, const HandleDeps& deps) {
  HandleReport report;
  report.ignored = work.ignored;
  report.refused = work.refused;
  std::vector<traffic::Flow> flows;
  if (Status read = ReadObjects(work, req, deps, report, flows); !read) return Fail(std::move(read).error());
  report.flows = flows.size();

  const EnforceRequest er = EnforceRequestFor(work, req, flows);
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
