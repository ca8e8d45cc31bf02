// PlanTarget (pure): one chosen database's plan, from the compiled policy, what moat last applied
// to it, and the estate as read. The policy's target is the virtual service whose FQDN is the
// database's endpoint, else the workload with its private address; its allow set is narrowed to
// the database's addresses, widened to fit the quotas when an over-permission budget allows,
// turned into rules, and reconciled (plan/reconcile.h) with the managed groups, the kept and
// other foreign groups, the guards and the observed flows (the what-if). A database the policy
// does not protect is skipped — or, named by --target or applied before, reported — and one
// whose policy target cannot be compiled exactly keeps what moat last applied.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "compile/compile.h"
#include "enforce/report.h"
#include "estate/estate.h"
#include "net/address.h"
#include "plan/reconcile.h"
#include "plan/widen.h"
#include "traffic/flow.h"

namespace moat::enforce {

// The observed flows by the place they were logged in and their responder address; built once
// per run. A place is an index into traffic::FlowPlaces::names (0: none known).
//
// Which flows a database weighs, the first rule that applies deciding:
// 1. A flow logged at a network interface of a database of the run is that database's alone (an
//    interface id names one interface, whatever account logged it).
// 2. A flow logged at another interface whose VPC is known (SetInterfaceVpc) and has a database of
//    the run at the flow's address is that VPC's databases' alone: an address inside a VPC's own
//    range never leaves it.
// 3. Otherwise: those logged in its own place, those of no known place, and those logged in a
//    place where the run has no database at that address — a flow log names the account that
//    published it, and a conversation with a database can be logged elsewhere (a shared VPC's
//    owner, a client's side of a peering or a transit gateway), so such a flow counts for every
//    database at its address rather than none. A flow logged in a place that has its own
//    database at the address is that database's alone.
class ObservedIndex {
 public:
  static constexpr uint32_t kEveryPlace = UINT32_MAX;

  ObservedIndex() = default;
  // `places`: where each of `flows` was logged (FlowPlaces::of and interface_of); nullptr, or
  // empty, every flow is of no known place or interface. Both are borrowed: they outlive the index.
  ObservedIndex(const std::vector<traffic::Flow>& flows, const traffic::FlowPlaces* places);

  // Says that the run has a database at `address` in `place`, in `vpc` ("": not known), whose
  // network interfaces are `interfaces` ("eni-...").
  void AddDatabase(uint32_t place, const net::Address& address, const std::vector<std::string>& interfaces = {},
                   const std::string& vpc = "");
  // The interfaces, none of them a database's, that logged flows to `address` in `place` or in no
  // known place (kEveryPlace: in any), in the order of the history's names.
  std::vector<std::string> OtherInterfaces(uint32_t place, const net::Address& address) const;
  // Says that the interface `name` is in `vpc`.
  void SetInterfaceVpc(const std::string& name, const std::string& vpc);
  // Appends the flows to `address` that a database at it in `place` with `interfaces`, in `vpc`,
  // weighs (above); with kEveryPlace, rule 3 takes every flow to it.
  void Append(uint32_t place, const net::Address& address, const std::vector<std::string>& interfaces,
              const std::string& vpc, std::vector<const traffic::Flow*>& out) const;

 private:
  struct Key {
    uint32_t place;
    net::Address address;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return net::AddressHash()(k.address) * 31 + k.place; }
  };
  uint32_t InterfaceOf(const traffic::Flow* flow) const {
    return places_->InterfaceOf(static_cast<size_t>(flow - first_));
  }

  const traffic::FlowPlaces* places_ = nullptr;
  const traffic::Flow* first_ = nullptr;  // flows[0]: a flow's index is its offset from it
  std::unordered_map<Key, std::vector<const traffic::Flow*>, KeyHash> flows_;
  std::unordered_map<net::Address, std::vector<uint32_t>, net::AddressHash> places_at_;  // with flows to an address
  std::unordered_set<Key, KeyHash> databases_;
  std::unordered_map<std::string, uint32_t> interface_numbers_;   // the history's interfaces by name
  std::unordered_set<uint32_t> database_interfaces_;              // those of a database of the run
  std::unordered_map<uint32_t, std::string> interface_vpcs_;      // other interfaces' VPCs, where known
  std::set<std::pair<net::Address, std::string>> database_vpcs_;  // (address, VPC) of the run's databases
};

// What every target of a run shares. Borrowed: the pointers outlive the PlanTarget calls.
struct RunInputs {
  const compile::Compiled* compiled = nullptr;  // nullptr: the policy could not be read
  bool named_targets = false;                   // --target was given: an unprotected one is an error
  std::vector<std::string> keep_groups;         // foreign group ids or names to leave attached
  plan::Quotas quotas;
  plan::Guards guards;
  uint64_t over_permission_budget = 0;
  const ObservedIndex* observed = nullptr;               // nullptr: no what-if
  uint32_t observed_place = ObservedIndex::kEveryPlace;  // the flows of this place count (and those of none)
};

struct Planned {
  std::string skipped;  // non-empty: not a target of this run, and why (no report)
  TargetReport report;  // otherwise; report.error set when nothing on it may change
};

Planned PlanTarget(const estate::Estate& estate, const aws::Database& db,
                   const std::optional<std::vector<plan::SgRule>>& last_applied, const RunInputs& run);

// The databases an event touched (`moat lambda`, `moat watch`): named (id or cluster/<id>),
// carrying one of `groups` (attached, or a managed group of theirs), or at one of `addresses`.
struct EventScope {
  std::vector<std::string> databases, groups, addresses;
};
bool Touched(const estate::Estate& estate, const aws::Database& db, const EventScope& scope);

}  // namespace moat::enforce
