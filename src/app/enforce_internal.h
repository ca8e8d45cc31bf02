// The stages of RunEnforce (app/enforce.h) that a run over several places (app/fleet.h) uses one
// place at a time: the policy loaded once, each place planned, then each applied.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/enforce.h"
#include "compile/compile.h"
#include "enforce/target.h"
#include "estate/estate.h"
#include "store/state.h"

namespace moat::app {

// The policy of a run: its text and compilation, or why it could not be used.
struct PolicyLoad {
  std::string text;
  std::optional<compile::Compiled> compiled;
  std::string error;
};
PolicyLoad LoadCompiled(const EnforceRequest& request, const EnforceDeps& deps);

// The run's policy, loaded (LoadCompiled) the first time it is asked for, once for every place.
// Borrows the request and deps.
class PolicyOnce {
 public:
  PolicyOnce(const EnforceRequest& request, const EnforceDeps& deps) : request_(request), deps_(deps) {}
  const PolicyLoad& operator()() {
    if (!policy_) policy_ = LoadCompiled(request_, deps_);
    return *policy_;
  }

 private:
  const EnforceRequest& request_;
  const EnforceDeps& deps_;
  std::optional<PolicyLoad> policy_;
};

// The state at a --state location: a directory, or s3://bucket/prefix/ in `aws`'s S3.
Result<std::unique_ptr<store::StateStore>> OpenStateStore(const std::string& dir, AwsServices& aws);

// The what-if's flows, indexed once for every place of a run (req.observed_places).
enforce::ObservedIndex IndexObserved(const EnforceRequest& request);
// The index in the flow history of `place` ("<account>/<region>"), whose databases weigh the
// flows as enforce::ObservedIndex says; kEveryPlace (every flow counts) when `place` is "" (not
// known) or no flow names a place.
uint32_t ObservedPlace(const EnforceRequest& request, const std::string& place);

// One place read and planned (stages 1-3): what apply needs.
struct PlannedPlace {
  std::unique_ptr<store::StateStore> store;
  store::EnforcedState state;
  std::unique_ptr<estate::Estate> estate;
  aws::Ec2* ec2 = nullptr;
  aws::Rds* rds = nullptr;
  EnforceReport report;
};

// Stages 1-2 in deps.aws's place, the state in request.state_dir: the state, the policy
// (`load_policy` is asked once the state has been read) and the estate. Errors stop this place
// before any change.
Result<PlannedPlace> ReadPlace(const EnforceRequest& request, const EnforceDeps& deps,
                               const std::function<const PolicyLoad&()>& load_policy);
// Tells `observed` where the place's chosen databases are (`observed_place`: the place's index in
// the flow history, ObservedPlace), so that the flows logged there are theirs alone; where
// databases of different VPCs share an address, reads (in deps.aws's place) the VPCs of the other
// interfaces that logged flows to it. A failed read is the error: nothing is planned there.
Status AddDatabases(PlannedPlace& place, uint32_t observed_place, enforce::ObservedIndex& observed,
                    const EnforceDeps& deps);
// Stage 3: each chosen database planned, its what-if over `observed` (nullptr: none) as a
// database of `observed_place` weighs it.
// No AWS call.
void PlanRead(PlannedPlace& place, const EnforceRequest& request, const PolicyLoad& policy,
              const enforce::ObservedIndex* observed, uint32_t observed_place);
// Stage 4 (after the confirmation): the planned targets applied and recorded.
void ApplyPlace(PlannedPlace& place, const PolicyLoad& policy, const EnforceDeps& deps);

}  // namespace moat::app
