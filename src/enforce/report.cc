#include "enforce/report.h"

#include <algorithm>

namespace moat::enforce {

bool EnforceReport::HasChanges() const {
  return std::any_of(targets.begin(), targets.end(),
                     [](const TargetReport& t) { return t.error.empty() && t.plan.plan.HasChanges(); });
}

bool EnforceReport::Failed() const {
  return !policy_error.empty() || !errors.empty() || std::any_of(targets.begin(), targets.end(), [](const auto& t) {
    return !t.error.empty() || !t.plan.held.empty() || !t.unaudited.empty();
  });
}

int EnforceReport::HeldOnly() const {
  if (!policy_error.empty() || !errors.empty()) return 0;
  int held = 0;
  for (const TargetReport& t : targets) {
    if (!t.error.empty() || !t.unaudited.empty()) return 0;
    if (!t.plan.held.empty()) ++held;
  }
  return held;
}

}  // namespace moat::enforce
