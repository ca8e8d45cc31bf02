// `moat plan` and `moat apply` over several places (app/fleet.h): the policy read and compiled
// once; each place planned with its own state (STATE/<account>/<region>, the same under an S3
// state prefix; the place the run's state itself was last applied in keeps that state), kept
// where the run's own state is; one confirmation for every place; then each
// place applied, its audit lines naming the account and region. A place that cannot be reached or
// read is reported in one line and skipped; the others are still planned and applied.
// --target takes account/region/<selector> for one place, or a bare selector for every place: a
// bare identifier must name a database in exactly one place (else the run names each place and
// writes nothing); a tag: selector may choose databases in several.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/enforce.h"
#include "app/fleet.h"
#include "store/state.h"

namespace moat::app {

struct PlaceReport {
  std::string account, region;
  std::string error;  // why it was skipped (unreachable, or its state or estate could not be read)
  EnforceReport report;
  bool skipped() const { return !error.empty(); }
  std::string Name() const { return region.empty() ? account : account + "/" + region; }
};

struct FleetReport {
  std::vector<PlaceReport> places;  // those chosen, by account and region
  std::vector<std::string> errors;  // the run's own: a --target that names nothing or more than one place
  bool executed = false, cancelled = false;
  int interrupted = 0;  // the signal that stopped apply before every place was done
  int reads = 0, writes = 0;

  bool HasChanges() const;
};

// The state location of one place under the run's.
std::string PlaceStateDir(const std::string& state_dir, const std::string& account, const std::string& region);

// Where the run's state itself was last applied (its applied.json's applied_in; empty when it
// has none, or cannot be read). That place keeps that state: a run over one account and region
// that grows to several goes on with the state it had there.
store::AwsPlace TopStatePlace(const std::string& state_dir, AwsServices& aws);
// The state location of a place: the run's own when `top` is that place, else PlaceStateDir.
std::string StateDirFor(const std::string& state_dir, const std::string& account, const std::string& region,
                        const store::AwsPlace& top);

// `deps.aws` is the run's own services (its state, and the places' home); `confirm` is asked once
// with every place's plan before anything is written (unset: not asked). Errors stop the whole
// run before any change (the request, an unreadable state of the run).
Result<FleetReport> RunFleetEnforce(const EnforceRequest& request, const EnforceDeps& deps,
                                    const std::vector<Place>& places,
                                    const std::function<bool(const FleetReport&)>& confirm);

// Each place's text (its header names the account and region), a line per skipped place, and a
// closing count; or one JSON object {"places": [...], "skipped": [...], "errors": [...]}.
std::string RenderFleetText(const FleetReport& report);
std::string RenderFleetJson(const FleetReport& report);

// As EnforceOutcome, over every place: a skipped or failed place makes the run fail (exit 1) after
// every other place was done.
Outcome FleetOutcome(const FleetReport& report, bool detailed_exitcode);

}  // namespace moat::app
