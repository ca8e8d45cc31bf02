// The security-group planner (pure): a target's allow set -> the exact ingress rules it needs,
// packed into moat-managed groups within AWS's quotas (a rule that already sits in a group stays
// there, so a small policy change is a small diff), and the difference from what AWS has: groups
// to create, rules to authorize and revoke (drift included), attachments to add and remove.
// Nothing outside the allow set is ever admitted. A target that cannot fit is an error for that
// target, and nothing on it changes.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "compile/compile.h"
#include "net/address_set.h"

namespace moat::plan {

struct Quotas {
  int rules_per_group = 60;           // AWS default inbound rules per group, counted per IP family
  int groups_per_interface = 5;       // AWS default security groups per network interface
  int max_rules_times_groups = 1000;  // AWS: rules per group x groups per interface

  // The configured quotas must respect AWS's product limit and be positive.
  Status Validate() const;
};

struct SgRule {
  int protocol = 6;   // IANA number; -1: all traffic
  int from_port = 0;  // -1 for all traffic and for protocols without ports
  int to_port = 0;
  net::Prefix cidr;
  std::string description;  // where it comes from; not part of the rule's identity
  bool drift = false;       // in a plan: this change reverts drift (not part of the identity either)

  bool v6() const { return cidr.base.is_v6(); }
  friend bool operator==(const SgRule& a, const SgRule& b) {
    return a.protocol == b.protocol && a.from_port == b.from_port && a.to_port == b.to_port && a.cidr == b.cidr;
  }
  friend bool operator<(const SgRule& a, const SgRule& b);
};

// AWS's description alphabet (a-z A-Z 0-9 space . _ - : / ( ) # , @ [ ] + = & ; { } ! $ *), at
// most 255 characters; anything else becomes '_'.
std::string SanitizeDescription(std::string_view s);

// The rules that admit exactly the target's allow set: one per (protocol, merged port range,
// prefix); a prefix's adjacent port ranges merge; ICMP gets a rule per type (or type and code).
// Sorted. REQUIRES: the target as one database sees it (compile::ForAddresses): no entry names
// destinations.
std::vector<SgRule> DesiredRules(const compile::Target& target);

// A managed group as AWS has it (found by its tags).
struct GroupState {
  std::string id;
  std::string name;
  int number = 0;  // N of moat-<id>-<N>
  std::vector<SgRule> rules;
  int other_rules = 0;        // rules naming another group or a prefix list: never moat's, always drift
  bool tags_missing = false;  // moat made it, and its moat:managed / moat:target tags were removed or changed
};

// A managed group as it should be.
struct PackedGroup {
  std::string id;    // empty: to be created
  std::string name;  // moat-<target>-<N>
  int number = 0;
  std::vector<SgRule> rules;
};

// The group name for a target id ("cluster/x" -> "moat-cluster-x-1").
std::string GroupName(const std::string& target_id, int number);

// Packs `desired` into the existing managed groups, then new ones. `kept_foreign` groups also
// count against the groups-per-interface quota.
Result<std::vector<PackedGroup>> Pack(const std::string& target_id, const std::vector<SgRule>& desired,
                                      const std::vector<GroupState>& existing, int kept_foreign, const Quotas& quotas);

struct GroupChange {
  std::string id, name;
  int number = 0;
  bool create = false;
  std::vector<SgRule> authorize;   // missing rules
  std::vector<SgRule> revoke;      // rules no policy put there (drift), or no longer in the policy
  std::vector<SgRule> redescribe;  // present, with another description
  int revoke_other = 0;            // rules naming another group or a prefix list, to revoke (drift)
  bool retag = false;              // its moat tags to restore (drift)
};

struct TargetPlan {
  std::string target;
  std::vector<GroupChange> groups;
  std::vector<std::string> attach;  // group ids (or names of groups to create)
  std::vector<std::string> detach;  // foreign groups to remove from the target
  std::vector<std::string> drift;   // the attach and detach entries that revert drift
  bool HasChanges() const;
  bool IsDrift(const std::string& group) const;
};

// Desired (packed) vs actual: `attached` are the group ids the target has now; `keep` the foreign
// ones to leave on it.
TargetPlan Diff(const std::string& target_id, const std::vector<PackedGroup>& desired,
                const std::vector<GroupState>& existing, const std::vector<std::string>& attached,
                const std::vector<std::string>& keep);

}  // namespace moat::plan
