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
  j["errors"] = errors;
  return j.dump();
}

Result<HandleReport> HandleEvent(const events::EventWork& work, const HandleRequest& req, const HandleDeps& deps) {
  HandleReport report;
  report.ignored = work.ignored;
  const auto out_of_time = [&] {
    return req.deadline_ms > 0 && deps.now_ms && deps.now_ms() + req.reserve_ms >= req.deadline_ms;
  };

  std::vector<traffic::Flow> flows;
  for (const events::ObjectRef& o : work.objects) {
    const std::string name = "s3://" + o.bucket + "/" + o.key;
    if (out_of_time()) {
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
      std::string why;
      for (const std::string& e : read->stats.examples) {
        if (why.empty() && !e.empty()) why = " (" + e + ")";
      }
      report.errors.push_back(name + ": could not be read" + why);
      continue;
    }
    report.done.push_back(name);
    if (deps.keep_flows) {
      const std::string history = "s3://" + o.bucket + "/moat/flows/" + o.key + ".jsonl.gz";
      auto gz = store::FlowHistory(*read, name);
      Status kept = gz ? deps.keep_flows(history, *gz) : Fail(std::move(gz).error());
      if (!kept) report.errors.push_back("flow history: " + kept.error().message);
    }
    flows.insert(flows.end(), std::make_move_iterator(read->flows.begin()), std::make_move_iterator(read->flows.end()));
  }
  report.flows = flows.size();

  if (deps.upload && !flows.empty()) {
    auto uploaded = deps.upload(UploadLines(flows, false));
    if (!uploaded) {
      report.errors.push_back("pce upload: " + uploaded.error().message);
    } else {
      report.uploaded = std::move(*uploaded);
    }
  }

  EnforceRequest er = req.enforce;
  er.execute = true;
  er.narrow = !work.reconcile_all;
  er.databases = work.databases;
  er.groups = work.groups;
  if (!flows.empty()) {
    // What-if over what the event brought: no local flow history here.
    er.observed = &flows;
    er.observed_window = "the flows of this event's objects";
  }
  std::vector<net::Address> seen;  // every address of the flows, once
  seen.reserve(2 * flows.size());
  for (const traffic::Flow& f : flows) {
    seen.push_back(f.key.initiator);
    seen.push_back(f.key.responder);
  }
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  er.addresses.reserve(seen.size());
  for (const net::Address& a : seen) er.addresses.push_back(net::ToString(a));
  const bool something = work.reconcile_all || !er.databases.empty() || !er.groups.empty() || !er.addresses.empty();
  if (something) {
    if (req.deadline_ms > 0 && deps.now_ms && deps.now_ms() >= req.deadline_ms - 1000) {
      report.errors.push_back("no time left to reconcile the databases before the deadline");
      return report;
    }
    EnforceDeps ed = deps.enforce;
    ed.confirm = nullptr;  // events apply without asking
    auto enforced = RunEnforce(er, ed);
    if (!enforced) {
      report.errors.push_back("reconcile: " + enforced.error().message);
    } else {
      report.enforce = std::move(*enforced);
    }
  }
  return report;
}

}  // namespace moat::app
