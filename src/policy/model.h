// The Illumio policy model: the objects of a PCE (or a policy bundle file) that decide who may
// reach a database, resolved and indexed. References are kept as hrefs and are all checked to
// exist when the model is built (loader.h); versioned hrefs are compared by their object id
// ("/orgs/1/sec_policy/*/ip_lists/7"), so that a draft rule finds the draft IP list. Values;
// immutable once built; safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/address_set.h"

namespace moat::policy {

inline constexpr int kAllProtocols = -1;

// One port range of one protocol. protocol kAllProtocols (or one without ports, like ICMP)
// covers every port.
struct PortSpec {
  int protocol = 6;
  net::PortRange ports;

  friend bool operator==(const PortSpec&, const PortSpec&) = default;
  friend auto operator<=>(const PortSpec&, const PortSpec&) = default;
};

struct Label {
  std::string href, key, value;
};

struct LabelGroup {
  std::string href, name, key;
  std::vector<std::string> labels;      // label hrefs
  std::vector<std::string> sub_groups;  // label group ids
};

struct Workload {
  std::string href, name, hostname;
  std::vector<std::string> labels;  // label hrefs
  net::AddressSet addresses;        // interface addresses, without loopback and IPv6 link-local
  bool managed = false;
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
};

struct PortOverride {
  int protocol = 6;
  uint16_t port = 0;
  net::PortRange to;
};

struct ServiceBinding {
  std::string href, virtual_service, workload;  // ids
  std::vector<PortOverride> overrides;
};

struct IpList {
  std::string href, name;
  net::AddressSet addresses;       // ranges minus exclusions
  std::vector<std::string> fqdns;  // cannot become CIDRs
};

struct Service {
  std::string href, name;
  std::vector<PortSpec> ports;
};

enum class ActorKind { kAms, kLabel, kLabelGroup, kWorkload, kVirtualService, kIpList };

struct Actor {
  ActorKind kind = ActorKind::kAms;
  std::string ref;  // id of the label, group, workload, virtual service or IP list
  bool exclusion = false;
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
  bool unscoped_consumers = false;  // extra-scope
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

  // id -> index in the vector above. Built by the loader.
  std::unordered_map<std::string, size_t> label_index, group_index, workload_index, vs_index, ip_list_index,
      service_index;
};

// The id of an href: the version segment of a versioned href is replaced by '*'.
std::string HrefId(std::string_view href);

// The href of the same object in another policy version ("/orgs/1/sec_policy/draft/x/7", "active"
// -> "/orgs/1/sec_policy/active/x/7"). Unversioned hrefs come back as they are.
std::string HrefAtVersion(std::string_view href, std::string_view version);

}  // namespace moat::policy
