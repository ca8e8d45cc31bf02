#include "app/map.h"

#include <algorithm>
#include <fstream>

#include "app/enforce_fleet.h"
#include "base/progress.h"
#include "map/build.h"
#include "policy/loader.h"

namespace moat::app {
namespace {

std::string Extension(const std::string& path) {
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

// Without AWS, --target names policy targets (name, FQDN, or the RDS identifier the FQDN begins
// with); tags are AWS's, so they need --plan.
Result<compile::Compiled> ChooseMapTargets(compile::Compiled compiled, const std::vector<std::string>& selectors) {
  for (const std::string& id : selectors) {
    if (id.starts_with("tag:")) return Fail(InvalidInput("--target " + id + ": tags are read from AWS: give --plan"));
  }
  return ChooseTargets(std::move(compiled), selectors,
                       "no database of the policy has that name, endpoint or identifier");
}

// Over several places: each planned (app/enforce_fleet.h), and their reports as one, each database
// named by its place; the places skipped as notes.
Result<EnforceReport> PlanEveryPlace(const EnforceRequest& e, const EnforceDeps& deps, const std::vector<Place>& places,
                                     std::vector<std::string>& skipped) {
  auto fleet = RunFleetEnforce(e, deps, places, nullptr);
  if (!fleet) return Fail(std::move(fleet).error());
  if (!fleet->errors.empty()) return Fail(NotFound(fleet->errors.front()));
  EnforceReport all;
  bool first = true;
  for (PlaceReport& p : fleet->places) {
    if (p.skipped()) {
      skipped.push_back(p.Name() + ": skipped: " + p.error);
      continue;
    }
    EnforceReport& r = p.report;
    if (first) {
      all = r;
      all.targets.clear();
      all.unprotected.clear();
      all.skipped.clear();
      all.errors.clear();
      first = false;
    }
    const std::string prefix = p.Name() + "/";
    for (auto* list : {&r.targets, &r.unprotected}) {
      for (TargetReport& t : *list) {
        t.id = prefix + t.id;
        t.place = p.Name();
      }
    }
    all.targets.insert(all.targets.end(), r.targets.begin(), r.targets.end());
    all.interface_vpcs.insert(r.interface_vpcs.begin(), r.interface_vpcs.end());
    all.unprotected.insert(all.unprotected.end(), r.unprotected.begin(), r.unprotected.end());
    for (auto& [id, why] : r.skipped) all.skipped.emplace_back(prefix + id, why);
    for (const std::string& error : r.errors) all.errors.push_back(prefix + error);
  }
  return all;
}

}  // namespace

Result<MapReport> RunMap(const MapRequest& req, const PolicyDeps& policy_deps, const FlowsDeps& flows_deps,
                         const EnforceDeps* enforce_deps, int64_t now) {
  const std::string ext = Extension(req.out);
  if (ext != "html" && ext != "htm" && ext != "svg" && ext != "dot" && ext != "gv" && ext != "json") {
    return Fail(InvalidInput("--out " + req.out + ": expected a file ending .html, .svg, .dot or .json"));
  }
  if (req.policy.empty()) {
    return Fail(
        InvalidInput("no policy given: --policy pce, or --policy FILE (it names the databases and decides "
                     "each edge)"));
  }
  // With --plan and the PCE, the policy is read once: the map and the plan see the same one.
  EnforceDeps plan_deps = enforce_deps != nullptr ? *enforce_deps : EnforceDeps{};
  Result<policy::Policy> policy = Fail(Internal("no policy"));
  if (req.with_plan && req.policy == "pce" && plan_deps.fetch_pce_bundle) {
    auto text =
        plan_deps.fetch_pce_bundle(req.version, req.enforce.state_dir, PolicyDeadline(req.enforce, *plan_deps.clock));
    if (!text) return Fail(std::move(text).error());
    policy = policy::LoadBundle(*text, req.policy, req.version);
    plan_deps.fetch_pce_bundle = [text = std::move(*text)](const std::string&, const std::string&,
                                                           int64_t) -> Result<std::string> { return text; };
  } else {
    policy = LoadPolicy(req.policy, req.version, policy_deps);
  }
  if (!policy) return Fail(std::move(policy).error());
  // Every virtual service is a database of the map, one no rule reaches yet too (no rules).
  auto chosen = ChooseMapTargets(compile::Compile(*policy, {.every_virtual_service = true}),
                                 req.with_plan ? std::vector<std::string>{} : req.enforce.targets);
  if (!chosen) return Fail(std::move(chosen).error());
  const compile::Compiled compiled = std::move(*chosen);

  MapReport report;
  auto observed = LoadObserved(req.observed, flows_deps, now);
  if (!observed) return Fail(std::move(observed).error());

  std::optional<EnforceReport> plan;
  std::vector<std::string> skipped;  // the places that could not be read
  if (req.with_plan) {
    if (enforce_deps == nullptr) return Fail(InvalidInput("--plan: no AWS access"));
    EnforceRequest e = req.enforce;
    e.execute = false;
    e.policy = req.policy;
    e.version = req.version;
    e.observed = &observed->flows;
    e.observed_places = &observed->places;
    e.observed_window = observed->window;
    auto planned = req.places.empty() ? RunEnforce(e, plan_deps) : PlanEveryPlace(e, plan_deps, req.places, skipped);
    if (!planned) return Fail(std::move(planned).error().Context("--plan"));
    // A --target that names no database is the operator's mistake, not an empty map.
    for (const std::string& error : planned->errors) {
      if (error.starts_with("--target ")) return Fail(NotFound(error));
    }
    plan = std::move(*planned);
    // One place's plan: its databases are where the run is, so that flows logged elsewhere at the
    // same addresses are not theirs.
    if (req.places.empty() && !plan->aws_account.empty() && !plan->aws_region.empty()) {
      for (auto* list : {&plan->targets, &plan->unprotected}) {
        for (TargetReport& t : *list) t.place = plan->aws_account + "/" + plan->aws_region;
      }
    }
  }

  map::MapInput in;
  in.policy = &*policy;
  in.compiled = &compiled;
  in.plan = plan ? &*plan : nullptr;
  in.flows = &observed->flows;
  in.is_new = &observed->is_new;
  in.places = &observed->places;
  in.since = req.observed.since;
  in.until = now;
  in.generated = now;
  in.recorded_flows = observed->recorded;
  in.top = req.top;
  {
    Progress bar("mapping flows", observed->flows.size(), req.progress);
    in.progress = [&bar](size_t done, size_t total) { bar.Set(done, total); };
    report.map = map::BuildMap(in);
    bar.Finish();
  }
  for (const std::string& place : skipped) report.map.notes.push_back(place);
  if (!observed->available) {
    report.map.notes.insert(report.map.notes.begin(), "no flow history yet: give --flows SOURCE to record flow logs (" +
                                                          req.observed.store + ")");
  }

  Progress rendering("rendering " + req.out, 1, req.progress);
  rendering.Set(0);
  Result<std::string> text = std::string();
  if (ext == "json") {
    text = map::RenderMapJson(report.map);
  } else if (ext == "dot" || ext == "gv") {
    text = map::RenderMapDot(report.map);
  } else if (ext == "svg") {
    text = map::RenderMapSvg(report.map);
  } else {
    text = map::RenderMapHtml(report.map);
  }
  rendering.Finish();
  if (!text) return Fail(std::move(text).error());
  std::ofstream out(req.out, std::ios::binary | std::ios::trunc);
  if (!out) return Fail(InvalidInput(req.out + ": cannot be written"));
  out << *text;
  out.close();
  if (!out) return Fail(InvalidInput(req.out + ": cannot be written"));
  report.bytes = text->size();
  report.window_flows = observed->flows.size();
  report.observed = WithoutFlows(std::move(*observed));
  return report;
}

}  // namespace moat::app
