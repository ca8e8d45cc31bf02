// What-if (pure): replays observed flows against security-group rules — the rules a plan writes,
// after merging and packing, not the abstract policy — to find the accepted flows a plan would
// cut. Security groups are stateful and moat manages ingress only, so a flow is judged by its
// initiator (the source), the responder's port and the protocol.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "net/address_set.h"
#include "plan/plan.h"
#include "traffic/flow.h"

namespace moat::plan {

// A set of rules, indexed for one question: does any rule admit this source on this port?
class RuleMatcher {
 public:
  RuleMatcher() = default;
  explicit RuleMatcher(std::span<const SgRule> rules);
  void Add(std::span<const SgRule> rules);

  // All traffic (protocol -1) and all-port rules admit any port of their protocol. An ICMP rule
  // for one type admits no flow: flow logs do not carry the type, and over-reporting a cut is
  // the safe side.
  bool Admits(const net::Address& source, int protocol, uint16_t port) const;

 private:
  struct Entry {
    int protocol = 6;                // -1: all
    int from_port = 0, to_port = 0;  // -1: all ports
    net::AddressSet sources;
  };
  std::vector<Entry> entries_;
};

struct CutFlow {
  traffic::Flow flow;
  // The state before this plan admitted it: what moat last applied, or (never applied) the logs,
  // which saw it accepted. A cut the policy makes of such a flow breaks observed traffic.
  bool breaking = false;
};

// The accepted flows of `flows` (already those whose responder is the target) that `now` admits
// and `after` does not: what the change from now to after cuts. `now` nullptr: what AWS admits
// now is not fully known (a group rule names another group), so every accepted flow counts.
// `before` is what moat enforced (nullptr: never applied, the logs are the evidence). Flows of the
// same key (one conversation logged in two places or at two interfaces) are one, their counts
// added up. Sorted by records, busiest first.
std::vector<CutFlow> Cuts(std::span<const traffic::Flow* const> flows, const RuleMatcher& after,
                          const RuleMatcher* before, const RuleMatcher* now);

}  // namespace moat::plan
