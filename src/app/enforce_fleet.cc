#include "app/enforce_fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/enforce_internal.h"
#include "apply/audit.h"

namespace moat::app {
namespace {

struct Chosen {
  size_t index;  // in FleetReport::places
  PlannedPlace planned;
  std::unique_ptr<apply::PlacedAuditLog> audit;
  EnforceRequest request;   // the place's
  uint32_t observed_place;  // its index in the flow history
};

// The request of one place: its state, and the targets that are its (nullopt: none of the
// run's --target names anything there).
std::optional<EnforceRequest> PlaceRequest(const EnforceRequest& req, const Place& place, const store::AwsPlace& top) {
  EnforceRequest r = req;
  r.state_dir = StateDirFor(req.state_dir, place.account, place.region, top);
  r.targets.clear();
  for (const std::string& t : req.targets) {
    if (auto placed = ParsePlacedSelector(t)) {
      if (placed->account == place.account && placed->region == place.region) r.targets.push_back(placed->selector);
    } else {
      r.targets.push_back(t);
    }
  }
  if (!req.targets.empty() && r.targets.empty()) return std::nullopt;
  return r;
}

// The run's --target checks over every place: a placed selector must name one of the places; a
// bare one must match somewhere, and an identifier in one place only. Each place's own "no such
// database" line for a bare selector is dropped: in a fleet, most places lack it.
void CheckTargets(const EnforceRequest& req, const std::vector<Place>& places, FleetReport& fleet) {
  for (const std::string& t : req.targets) {
    if (auto placed = ParsePlacedSelector(t)) {
      const bool known = std::any_of(places.begin(), places.end(), [&](const Place& p) {
        return p.account == placed->account && p.region == placed->region;
      });
      if (!known) {
        fleet.errors.push_back(fmt::format("--target {}: {}/{} is not one of this run's account-regions", t,
                                           placed->account, placed->region));
      }
      continue;
    }
    const std::string unmatched = "--target " + t + ": ";
    std::vector<std::string> found;
    size_t planned = 0;
    for (PlaceReport& p : fleet.places) {
      if (p.skipped()) continue;
      ++planned;
      auto& errors = p.report.errors;
      const auto line =
          std::find_if(errors.begin(), errors.end(), [&](const std::string& e) { return e.starts_with(unmatched); });
      if (line != errors.end()) {
        errors.erase(line);
      } else {
        found.push_back(p.Name());
      }
    }
    if (found.empty()) {
      fleet.errors.push_back(fmt::format(
          "--target {}: no RDS instance or Aurora cluster in the {} account-region(s) read has that identifier or tag",
          t, planned));
    } else if (found.size() > 1 && !t.starts_with("tag:")) {
      std::string each;
      for (const std::string& f : found) each += (each.empty() ? "" : ", ") + f + "/" + t;
      fleet.errors.push_back(
          fmt::format("--target {}: names a database in {} account-regions; give one of {}", t, found.size(), each));
    }
  }
}

}  // namespace

bool FleetReport::HasChanges() const {
  return std::any_of(places.begin(), places.end(),
                     [](const PlaceReport& p) { return !p.skipped() && p.report.HasChanges(); });
}

std::string PlaceStateDir(const std::string& state_dir, const std::string& account, const std::string& region) {
  std::string dir = state_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/" + account + "/" + region;
}

store::AwsPlace TopStatePlace(const std::string& state_dir, AwsServices& aws) {
  auto opened = OpenStateStore(state_dir, aws);
  if (!opened) return {};
  auto state = store::LoadState(**opened);
  return state ? state->applied_in : store::AwsPlace{};
}

std::string StateDirFor(const std::string& state_dir, const std::string& account, const std::string& region,
                        const store::AwsPlace& top) {
  if (!top.empty() && top.account == account && top.region == region) return state_dir;
  return PlaceStateDir(state_dir, account, region);
}

Result<FleetReport> RunFleetEnforce(const EnforceRequest& req, const EnforceDeps& deps,
                                    const std::vector<Place>& places,
                                    const std::function<bool(const FleetReport&)>& confirm) {
  if (auto st = CheckEnforceRequest(req); !st) return Fail(std::move(st).error());
  const store::AwsPlace top = TopStatePlace(req.state_dir, *deps.aws);
  PolicyOnce policy(req, deps);
  const std::function<const PolicyLoad&()> load = std::ref(policy);

  enforce::ObservedIndex observed = IndexObserved(req);

  // Every place read, then planned: a database's what-if weighs the flows logged in its place, and
  // those of places where no database of the run is at their address (enforce::ObservedIndex).
  FleetReport fleet;
  std::vector<Chosen> chosen;
  for (const Place& place : places) {
    if (place.aws == nullptr) {
      if (req.targets.empty()) fleet.places.push_back({place.account, place.region, place.error, {}});
      continue;
    }
    auto r = PlaceRequest(req, place, top);
    if (!r) continue;
    PlaceReport out{place.account, place.region, "", {}};
    EnforceDeps d = deps;
    d.aws = place.aws;
    d.state_aws = deps.aws;
    d.confirm = nullptr;
    std::unique_ptr<apply::PlacedAuditLog> audit;
    if (deps.audit != nullptr) {
      audit = std::make_unique<apply::PlacedAuditLog>(*deps.audit, place.account, place.region);
      d.audit = audit.get();
    }
    auto read = ReadPlace(*r, d, load);
    const uint32_t observed_place = ObservedPlace(req, place.Name());
    Status located;
    if (read && req.observed != nullptr) located = AddDatabases(*read, observed_place, observed, d);
    if (!read || !located) {
      out.error = !read ? read.error().message : located.error().message;
      fleet.places.push_back(std::move(out));
      continue;
    }
    read->report.place = place.Name();
    fleet.places.push_back(std::move(out));
    chosen.push_back({fleet.places.size() - 1, std::move(*read), std::move(audit), std::move(*r), observed_place});
  }
  for (Chosen& c : chosen) {
    PlanRead(c.planned, c.request, load(), req.observed != nullptr ? &observed : nullptr, c.observed_place);
    fleet.places[c.index].report = c.planned.report;
  }
  CheckTargets(req, places, fleet);
  fleet.reads = deps.aws->calls().reads();

  // One confirmation, then each place applied; nothing is written when the run's own targets are wrong.
  const bool write = req.execute && req.mode == "enforce" && fleet.errors.empty();
  if (write && fleet.HasChanges() && confirm && !confirm(fleet)) {
    fleet.cancelled = true;
    return fleet;
  }
  if (write) {
    fleet.executed = true;
    for (Chosen& c : chosen) {
      if (deps.interrupted != nullptr && deps.interrupted->load() != 0) {
        fleet.interrupted = deps.interrupted->load();
        break;
      }
      const Place& place = *std::find_if(places.begin(), places.end(), [&](const Place& p) {
        return p.account == fleet.places[c.index].account && p.region == fleet.places[c.index].region;
      });
      EnforceDeps d = deps;
      d.aws = place.aws;
      d.state_aws = deps.aws;
      d.audit = c.audit.get();
      ApplyPlace(c.planned, load(), d);
      fleet.places[c.index].report = c.planned.report;
      if (c.planned.report.interrupted != 0) {
        fleet.interrupted = c.planned.report.interrupted;
        break;
      }
    }
  }
  fleet.reads = deps.aws->calls().reads();
  fleet.writes = deps.aws->calls().writes();
  return fleet;
}

std::string RenderFleetText(const FleetReport& f) {
  std::string out;
  size_t skipped = 0, planned = 0;
  for (const PlaceReport& p : f.places) {
    if (p.skipped()) continue;
    ++planned;
    if (!out.empty()) out += "\n";
    out += enforce::RenderPlanText(p.report);
  }
  for (const PlaceReport& p : f.places) {
    if (!p.skipped()) continue;
    ++skipped;
    out += fmt::format("\n! {}: skipped: {}", p.Name(), p.error);
  }
  if (skipped > 0) out += "\n";
  for (const std::string& e : f.errors) out += "! error: " + e + "\n";
  out += fmt::format("\n{} account-region(s): {} {}, {} skipped\n", f.places.size(), planned,
                     f.executed ? "applied" : "planned", skipped);
  return out;
}

std::string RenderFleetJson(const FleetReport& f) {
  nlohmann::ordered_json j;
  j["places"] = nlohmann::ordered_json::array();
  j["skipped"] = nlohmann::ordered_json::array();
  for (const PlaceReport& p : f.places) {
    if (p.skipped()) {
      j["skipped"].push_back({{"account", p.account}, {"region", p.region}, {"error", p.error}});
    } else {
      j["places"].push_back(nlohmann::ordered_json::parse(enforce::RenderPlanJson(p.report)));
    }
  }
  j["errors"] = f.errors;
  j["executed"] = f.executed;
  j["changes"] = f.HasChanges();
  if (f.interrupted != 0) j["interrupted"] = {{"signal", f.interrupted}};
  j["calls"] = {{"reads", f.reads}, {"writes", f.writes}};
  return j.dump(2) + "\n";
}

Outcome FleetOutcome(const FleetReport& f, bool detailed_exitcode) {
  if (f.interrupted != 0) {
    return {128 + f.interrupted,
            "interrupted: the account-regions done so far are recorded in their states; run the same apply again to "
            "apply the rest"};
  }
  if (!f.errors.empty()) return {1, f.errors.front() + (f.errors.size() > 1 ? " (and more, see above)" : "")};
  size_t skipped = 0, failed = 0, held = 0;
  std::string first;
  for (const PlaceReport& p : f.places) {
    if (p.skipped()) {
      ++skipped;
      if (first.empty()) first = p.Name() + ": " + p.error;
      continue;
    }
    const Outcome o = EnforceOutcome(p.report, detailed_exitcode);
    if (o.exit_code == kExitHeld) ++held;
    if (o.exit_code != 0 && o.exit_code != 2 && o.exit_code != kExitHeld) {
      ++failed;
      if (first.empty()) first = p.Name() + ": " + o.error;
    }
  }
  if (skipped + failed > 0) {
    return {1, fmt::format("{} of {} account-region(s) skipped or failed; the others were {} (first: {})",
                           skipped + failed, f.places.size(), f.executed ? "applied" : "planned", first)};
  }
  if (detailed_exitcode && !f.executed && f.HasChanges()) return {2, ""};
  if (held > 0)
    return {detailed_exitcode ? kExitHeld : 1,
            fmt::format("{} account-region(s) have databases held back by a guard (see '! held' above)", held)};
  return {0, ""};
}

}  // namespace moat::app
