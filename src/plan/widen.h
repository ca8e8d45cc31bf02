// The over-permission budget (opt-in, 0 by default): when a target's exact rules do not fit its
// quota, rules of the same protocol and ports may be replaced by a wider prefix covering them, as
// long as the addresses admitted beyond the allow set stay within the budget. The cheapest
// widenings go first; every one is reported. Without a budget nothing is ever widened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace moat::plan {

struct Widening {
  SgRule rule;                  // the wider rule
  std::vector<SgRule> covered;  // the exact rules it replaces
  uint64_t extra = 0;           // addresses admitted beyond them (saturated)
};

struct Widened {
  std::vector<SgRule> rules;  // sorted
  std::vector<Widening> widenings;
  uint64_t extra = 0;  // total
};

// Widens `rules` until each IP family has at most `capacity` rules, spending at most `budget`
// extra addresses; stops early (leaving more rules than fit) when the budget runs out.
Widened Widen(std::vector<SgRule> rules, size_t capacity, uint64_t budget);

// "tcp 5432: 10.9.0.0/32, 10.9.0.2/32 -> 10.9.0.0/30 (+2 addresses)".
std::string DescribeWidening(const Widening& w);

}  // namespace moat::plan
