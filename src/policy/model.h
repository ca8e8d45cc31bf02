// The Illumio policy model: the objects of a PCE (or a policy bundle file) that decide who may
// reach a database, indexed by id. Versioned hrefs are compared by their object id
// ("/orgs/1/sec_policy/*/ip_lists/7"), so that a draft rule finds the draft IP list. Values;
// immutable once built; safe to share between threads.
//
// Loading never refuses a policy for an object that is odd but well-formed (loader.h): what moat
// cannot express exactly is recorded on the object as its `problem`, naming the field and why, and
// only the targets that a rule with a problem reaches fail (compile.h). Qualifiers a security group
// cannot express are kept as text to report beside the IP and port part, which is applied.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/address_set.h"

namespace moat::policy {

inline constexpr int kAllProtocols = -1;

// ICMP (1) and ICMPv6 (58) have types and codes instead of ports. Their "port" is
// type × 256 + code, so that one type with every code, and every type, are port ranges too, and
// the compiler's range arithmetic is exact for them. IcmpRange(-1, -1) is every type.
inline bool IsIcmp(int protocol) { return protocol == 1 || protocol == 58; }
inline net::PortRange IcmpRange(int type, int code) {
  if (type < 0) return {0, 65535};
  const auto base = static_cast<uint16_t>(type * 256);
  if (code < 0) return {base, static_cast<uint16_t>(base + 255)};
  return {static_cast<uint16_t>(base + code), static_cast<uint16_t>(base + code)};
}

// One port range of one protocol. Protocol kAllProtocols, or one without ports (GRE, ESP, ...),
// covers every port; ICMP ranges are types and codes as above.
struct PortSpec {
  int protocol = 6;
  net::PortRange ports;

  friend bool operator==(const PortSpec&, const PortSpec&) = default;
  friend auto operator<=>(const PortSpec&, const PortSpec&) = default;
};

struct Label {
  std::string href, key, value;
  bool deleted = false;
  std::string problem;
};

struct LabelGroup {
  std::string href, name, key;
  std::vector<std::string> labels;      // label hrefs
  std::vector<std::string> sub_groups;  // label group ids
  std::string problem;
};

struct Workload {
  std::string href, name, hostname;
  std::vector<std::string> labels;  // label hrefs
  net::AddressSet addresses;        // interface addresses, without loopback and IPv6 link-local
  net::AddressSet subnets;          // the interfaces' subnets (address/cidr_block)
  int without_subnet = 0;           // interfaces without a cidr_block: their address stands for the subnet
  bool managed = false;
  std::string problem;
};

struct ServiceAddress {
  std::string fqdn;                // may be empty
  std::optional<net::Address> ip;  // when given as an address
};

struct VirtualService {
  std::string href, name;
  std::vector<std::string> labels;
  std::vector<PortSpec> ports;  // service_ports, or the ports of its `service`
  std::vector<ServiceAddress> addresses;
  std::string service;  // the id of its `service`, if it names one
  std::string problem;
};

struct PortOverride {
  int protocol = kAllProtocols;  // the overridden port's protocol; kAllProtocols: not given, any
  uint16_t port = 0;             // the first port of the virtual service's range it replaces
  net::PortRange to;
};

struct ServiceBinding {
  std::string href, virtual_service;  // id
  std::string workload;               // href; empty for a container workload
  std::string container_workload;     // href of a container workload, if that is what is bound
  std::vector<PortOverride> overrides;
  std::string problem;
};

struct IpList {
  std::string href, name;
  net::AddressSet addresses;       // ranges minus exclusions
  std::vector<std::string> fqdns;  // cannot become CIDRs
  std::string problem;
};

struct Service {
  std::string href, name;
  std::vector<PortSpec> ports;
  std::vector<std::string> qualifiers;  // process or Windows service names its ports are limited to
  std::string problem;                  // e.g. a Windows service without a port
};

enum class ActorKind {
  kAms,
  kLabel,
  kLabelGroup,
  kWorkload,
  kVirtualService,
  kIpList,
  kVirtualServer,  // never a database; its addresses are not known
  kNothing,        // resolves to nothing (a deleted workload): skipped with a warning
  kUnknown,        // cannot be resolved (label_dimension, container_host, another shape)
};

struct Actor {
  ActorKind kind = ActorKind::kAms;
  std::string ref;  // id of the label, group, workload, virtual service, IP list or virtual server
  bool exclusion = false;
  std::string note;  // kNothing, kUnknown: what it is and why, with its path
};

// What label actors of one side select.
struct Resolve {
  bool workloads = true;
  bool virtual_services = false;
};

struct Rule {
  std::string href;
  bool enabled = true;
  bool deny = false;      // a deny rule
  bool override = false;  // an override-deny rule
  std::vector<Actor> providers, consumers;
  std::vector<PortSpec> ports;  // from ingress_services; empty: the virtual service's ports
  Resolve resolve_providers, resolve_consumers;
  bool unscoped_consumers = false;        // extra-scope
  bool all_ips_except_consumers = false;  // that side is every address but what its actors resolve to
  bool all_ips_except_providers = false;
  bool subnets_consumers = false;  // use_workload_subnets: that side's workloads stand for their subnets
  bool subnets_providers = false;
  // What a security group cannot express, each naming the field ("machine_auth", ...): reported
  // per rule and target, while the IP and port part is applied.
  std::vector<std::string> qualifiers;
  // Why the rule cannot be compiled exactly ("consumers[1]: virtual_server ... : its addresses are
  // not known"); empty when it can. With providers_unknown, which objects it reaches is not known
  // either: every object in the rule set's scope is taken as reached.
  std::string problem;
  bool providers_unknown = false;
};

// One scope: labels and label groups that must all match. An empty scope matches everything.
struct ScopeItem {
  bool group = false;
  std::string ref;  // label href or label group id
  bool exclusion = false;
};
using Scope = std::vector<ScopeItem>;

struct RuleSet {
  std::string href, name;
  bool enabled = true;
  std::vector<Scope> scopes;
  std::vector<Rule> rules;  // allow rules, then deny rules
  std::string problem;      // its scopes cannot be read: which objects it holds is not known
};

struct Policy {
  std::string version = "active";  // what was selected: active, draft or a number
  std::vector<Label> labels;
  std::vector<LabelGroup> label_groups;
  std::vector<Workload> workloads;
  std::vector<VirtualService> virtual_services;
  std::vector<ServiceBinding> service_bindings;
  std::vector<IpList> ip_lists;
  std::vector<Service> services;
  std::vector<RuleSet> rule_sets;
  // What loading noticed and kept going: deleted objects referenced, duplicates, unknown properties.
  std::vector<std::string> warnings;

  // id -> index in the vector above. Built by the loader. With two objects of one id, the first;
  // references to such an id are problems of the objects that make them.
  std::unordered_map<std::string, size_t> label_index, group_index, workload_index, vs_index, ip_list_index,
      service_index;
};

// The id of an href: the version segment of a versioned href is replaced by '*'.
std::string HrefId(std::string_view href);

// The href of the same object in another policy version ("/orgs/1/sec_policy/draft/x/7", "active"
// -> "/orgs/1/sec_policy/active/x/7"). Unversioned hrefs come back as they are.
std::string HrefAtVersion(std::string_view href, std::string_view version);

}  // namespace moat::policy
