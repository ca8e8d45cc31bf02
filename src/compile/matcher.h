// Matcher (internal to src/compile): label lookups over a policy with integer ids, so that
// matching compares integers, not hrefs. Objects are numbered workloads first, then virtual
// services; an inverted index (label -> objects) finds candidates without scans. Labels an
// object carries that the policy does not list still match by href (they get ids of their own).
// Borrows the Policy, which must outlive it. Not thread-safe (Unique() keeps marks).
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/model.h"

namespace moat::compile {

// What a rule side can select: a workload or a virtual service.
struct Obj {
  bool vs = false;
  size_t index = 0;
};

// A rule side with its references turned into numbers. Labels and label groups form one clause
// (per key the labels named directly and through groups, ORed; keys ANDed); workloads, virtual
// services, IP lists and ams are ORed with it; excluded labels and groups remove what they match.
// An excluded label or group ("all but X", Policy Exclusions) stands for the labels of its key
// other than X: the object must carry a label of that key, and not X.
struct Side {
  std::map<int, std::vector<int>> clause;  // key -> sorted labels
  std::vector<uint32_t> direct;            // workloads and virtual services named directly
  bool ams = false;
  std::vector<int> excluded_labels;
  std::vector<std::vector<int>> excluded_groups;  // each a sorted label set
  std::vector<size_t> ip_lists;                   // IP lists (index), not excluded
  std::vector<std::string> nothing;               // actors that resolve to nothing, and why
};

// One term of a scope: the object must carry one of `labels`; excluded, it must carry a label of
// their key and none of them. A label is a term of one; a label group one of its members.
struct ScopeTerm {
  std::vector<int> labels;  // sorted
  bool exclusion = false;
  bool group = false;
  int key = -1;
};
using ScopeIds = std::vector<ScopeTerm>;

class Matcher {
 public:
  explicit Matcher(const policy::Policy& p);

  uint32_t size() const { return static_cast<uint32_t>(labels_.size()); }
  uint32_t workloads() const { return workloads_; }
  Obj ObjOf(uint32_t id) const { return id < workloads_ ? Obj{false, id} : Obj{true, id - workloads_}; }
  uint32_t IdOf(Obj o) const {
    return o.vs ? workloads_ + static_cast<uint32_t>(o.index) : static_cast<uint32_t>(o.index);
  }

  bool Has(uint32_t o, int label) const;
  bool HasAny(uint32_t o, const std::vector<int>& sorted_labels) const;
  bool HasKey(uint32_t o, int key) const;
  const std::vector<int>& LabelsOf(uint32_t o) const { return labels_[o]; }

  // REQUIRES: no actor refers to what the loader could not resolve (those are kUnknown).
  Side Resolve(const std::vector<policy::Actor>& actors) const;
  ScopeIds Resolve(const policy::Scope& scope) const;
  // Why the label groups a side or scope uses cannot be expanded (a broken member group, keys
  // mixed); empty when they can.
  std::string Problem(const std::vector<policy::Actor>& actors) const;
  std::string Problem(const policy::Scope& scope) const;

  bool InScope(uint32_t o, const ScopeIds& scope) const;
  // Whether object `o` is selected by side `s`, label actors selecting the kinds `resolve` names.
  bool Matches(uint32_t o, const Side& s, const policy::Resolve& resolve) const;
  // Every object a side could select (a superset), each once.
  std::vector<uint32_t> Candidates(const Side& s, const policy::Resolve& resolve);
  // Every object in a scope.
  std::vector<uint32_t> Members(const ScopeIds& scope);
  // Every object of the kinds `resolve` names.
  std::vector<uint32_t> All(const policy::Resolve& resolve) const;

  // Bindings: a virtual service's, and the virtual services a workload is bound to.
  const std::vector<size_t>& BindingsOf(size_t vs) const;
  const std::vector<size_t>& VirtualServicesOf(size_t workload) const;

 private:
  void ExpandGroup(size_t g);
  int KeyId(const std::string& key);
  void Append(int label, std::vector<uint32_t>& out) const;
  std::vector<uint32_t> Unique(std::vector<uint32_t> v);

  const policy::Policy& p_;
  uint32_t workloads_;
  std::unordered_map<std::string, int> keys_;
  std::unordered_map<std::string, int> extra_labels_;  // hrefs carried but not listed -> id
  std::vector<int> key_of_;                            // label id -> key id
  std::map<int, std::vector<int>> key_labels_;         // key id -> its listed labels, sorted
  std::vector<std::vector<int>> labels_;               // object -> sorted labels
  std::vector<std::vector<uint32_t>> by_label_;
  std::vector<std::vector<int>> group_labels_;  // group -> sorted labels, nested groups expanded
  std::vector<int> group_key_;                  // group -> key id
  std::vector<std::string> group_problem_;      // group -> why it cannot be expanded
  std::vector<std::vector<size_t>> bindings_of_, vs_of_;
  std::vector<uint32_t> marks_;
  uint32_t epoch_ = 0;
};

}  // namespace moat::compile
