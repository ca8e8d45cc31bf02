// Compile: a Policy -> each target's exact AllowSet: per (protocol, port range), the set of
// source addresses that must be admitted, no more, with the rule that admits each prefix, and
// warnings for what cannot be expressed. And the decision for one observed flow. Pure functions.
//
// Without AWS at hand (DESIGN.md §4), a target is a virtual service that is a provider of an
// enabled rule, together with the workloads bound to it (named by the virtual service), or a
// provider workload bound to no virtual service. CompileOptions::every_virtual_service makes every
// virtual service a target besides (Target::provider false, no allow set), as suggestions need. A virtual service's
// target admits, at each bound workload's addresses, what the rules give the virtual service (with that binding's port
// overrides) and what they give the workload itself; where those differ between bound workloads,
// the target's entries name the addresses they apply to.
//
// A rule that reaches a target but cannot be compiled exactly (policy::Rule::problem) fails that
// target alone: Target::error names the rule, the field and why, and the target has no allow set.
// Qualifiers a security group cannot express are the target's warnings; their IP and port part
// is in the allow set. docs/policy-semantics.md is the table of what each PCE field does here.
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

// Sources admitted on one protocol and port range (ICMP: types and codes, policy::IcmpRange).
// Entries of a target that apply to the same addresses never overlap for the same protocol;
// kAllProtocols entries stand apart.
struct AllowEntry {
  int protocol = 6;
  net::PortRange ports;
  net::AddressSet sources;
  std::vector<Provenance> provenance;  // in rule order
  net::AddressSet destinations;        // the target's addresses it applies to; empty: all of them
};

struct DenyEntry {
  std::string rule;
  int protocol = 6;
  net::PortRange ports;
  net::AddressSet sources;
};

struct Target {
  bool provider = true;       // false: no enabled rule reaches it yet (CompileOptions::every_virtual_service)
  std::string name;           // the virtual service's name, or the workload's (its hostname, href)
  std::string fqdn;           // the virtual service's first FQDN, or the workload's hostname
  net::AddressSet addresses;  // the bound workloads' (or the workload's) interface addresses
  std::vector<AllowEntry> allow;
  std::vector<DenyEntry> override_denied;  // what override-deny rules removed, for explanations
  // "rule <href>: <field>: <why>": a rule that reaches it cannot be compiled exactly. Then
  // `allow` is empty and must not be enforced: the target keeps what was last enforced.
  std::string error;
  // Per rule: the qualifiers a security group cannot express (their IP and port part is
  // applied), and actors that resolve to nothing.
  std::vector<std::string> warnings;
};

struct Compiled {
  std::vector<Target> targets;        // by name
  std::vector<std::string> warnings;  // the policy's (the targets' own are theirs), in order, no repeats
};

struct CompileOptions {
  // Every virtual service is a target, even one no enabled rule reaches yet (its allow set is
  // empty): what suggestions and the map start from. Compile's default: providers only.
  bool every_virtual_service = false;
};

Compiled Compile(const policy::Policy& policy, const CompileOptions& options = {});

struct Decision {
  bool allowed = false;
  std::vector<std::string> rules;  // the allow rules that admit it
  std::string denied_by;           // the override-deny rule that removed it, if any
};

// Whether `target` admits traffic from `source` on (protocol, port) — to `destination`, one of its
// addresses, when given — and by which rules. ICMP flows carry no type here: any ICMP entry of
// the protocol admits them.
Decision Decide(const Target& target, const net::Address& source, int protocol, uint16_t port,
                const net::Address* destination = nullptr);

// The target as one database with `addresses` sees it: the entries that apply to those
// addresses, without destinations. An error when the entries differ between its addresses, or
// when the target's entries differ by address and `addresses` is empty or holds none of the
// target's (a security group applies to all of a database's addresses alike).
struct Narrowed {
  Target target;
  std::string error;
};
Narrowed ForAddresses(const Target& target, const std::vector<net::Address>& addresses);

// What one security group rule can say of ICMP: every type (-1, -1), every code of one type
// (type, -1), or one type and code. An ICMP entry's range (policy::IcmpRange) as such pieces.
struct IcmpPiece {
  int type = -1, code = -1;
  friend bool operator==(const IcmpPiece&, const IcmpPiece&) = default;
};
std::vector<IcmpPiece> IcmpPieces(net::PortRange range);

}  // namespace moat::compile
