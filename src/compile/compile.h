// Compile: a Policy -> each target's exact AllowSet: per (protocol, port range), the set of
// source addresses that must be admitted, no more, with the rule that admits each prefix, and
// warnings for what cannot be expressed. And the decision for one observed flow. Pure functions.
//
// Without AWS at hand (DESIGN.md §4), a target is a virtual service that is a provider of an
// enabled rule, together with the workloads bound to it (named by the virtual service), or a
// provider workload bound to no virtual service.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/address_set.h"
#include "policy/model.h"

namespace moat::compile {

struct Provenance {
  std::string rule;         // rule href
  net::AddressSet sources;  // what this rule admits here (after override-deny)
};

// Sources admitted on one protocol and port range. Entries of a target never overlap for the same
// protocol; kAllProtocols entries stand apart.
struct AllowEntry {
  int protocol = 6;
  net::PortRange ports;
  net::AddressSet sources;
  std::vector<Provenance> provenance;  // in rule order
};

struct DenyEntry {
  std::string rule;
  int protocol = 6;
  net::PortRange ports;
  net::AddressSet sources;
};

struct Target {
  std::string name;           // the virtual service's name, or the workload's
  std::string fqdn;           // the virtual service's first FQDN, or the workload's hostname
  net::AddressSet addresses;  // the bound workloads' (or the workload's) interface addresses
  std::vector<AllowEntry> allow;
  std::vector<DenyEntry> override_denied;  // what override-deny rules removed, for explanations
};

struct Compiled {
  std::vector<Target> targets;        // by name
  std::vector<std::string> warnings;  // in the order found, without repeats
};

Compiled Compile(const policy::Policy& policy);

struct Decision {
  bool allowed = false;
  std::vector<std::string> rules;  // the allow rules that admit it
  std::string denied_by;           // the override-deny rule that removed it, if any
};

// Whether `target` admits traffic from `source` on (protocol, port), and by which rules.
Decision Decide(const Target& target, const net::Address& source, int protocol, uint16_t port);

}  // namespace moat::compile
