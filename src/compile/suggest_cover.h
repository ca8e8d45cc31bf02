// Label cover, the core of `moat suggest`: given which workloads of a policy were observed as
// sources on one port, the label sets (one rule's consumers each) that together select every
// observed workload and no other — each as coarse as possible — and the workloads no label set
// can select alone. A label set selects the workloads carrying all of its labels (the PCE's
// matching; its labels have distinct keys, so that the PCE ANDs them). Pure; a LabelIndex borrows
// the policy for its lifetime and is safe to share between threads once built.
#pragma once

#include <cstdint>
#include <vector>

#include "policy/model.h"

namespace moat::compile {

// A set of workloads of one policy, as bits by workload index.
class WorkloadBits {
 public:
  WorkloadBits() = default;
  explicit WorkloadBits(size_t n) : words_((n + 63) / 64) {}

  void Set(size_t w) { words_[w / 64] |= uint64_t{1} << (w % 64); }
  bool Has(size_t w) const { return (words_[w / 64] >> (w % 64) & 1) != 0; }
  size_t Count() const;
  bool Empty() const { return Count() == 0; }
  void And(const WorkloadBits& o);
  void AndNot(const WorkloadBits& o);
  bool SubsetOf(const WorkloadBits& o) const;
  std::vector<size_t> Members() const;

 private:
  std::vector<uint64_t> words_;
};

class LabelIndex {
 public:
  explicit LabelIndex(const policy::Policy& policy);

  size_t workloads() const { return policy_.workloads.size(); }
  // The labels (indexes into Policy::labels) of workload `w`, in canonical order: role, app, env,
  // loc, then other keys by name; within a key by value.
  const std::vector<size_t>& LabelsOf(size_t w) const { return labels_of_[w]; }
  // The workloads carrying every label of `labels`.
  WorkloadBits Select(const std::vector<size_t>& labels) const;
  // Whether `a` comes before `b` in canonical order (fewer labels first, then label by label).
  bool Before(const std::vector<size_t>& a, const std::vector<size_t>& b) const;
  // A number per label key: labels of one key share it.
  size_t KeyOf(size_t label) const { return key_of_[label]; }

 private:
  const policy::Policy& policy_;
  std::vector<size_t> rank_;                    // label -> position in canonical order
  std::vector<size_t> key_of_;                  // label -> key number
  std::vector<std::vector<size_t>> labels_of_;  // workload -> labels, canonical order
  std::vector<WorkloadBits> carriers_;          // label -> workloads carrying it
};

struct LabelCover {
  struct Set {
    std::vector<size_t> labels;     // indexes into Policy::labels, canonical order
    std::vector<size_t> workloads;  // the observed workloads this set was chosen for, ascending
  };
  std::vector<Set> sets;        // in the order chosen: fewer labels first
  std::vector<size_t> by_href;  // observed workloads that only their own href can select, ascending
};

// The subsets of a workload's labels examined before giving up on finding a coarser one than its
// full label set (2^16: exact for workloads with up to 16 labels).
inline constexpr uint64_t kMaxSubsetsPerWorkload = uint64_t{1} << 16;

// For each observed workload, its coarsest label subsets (fewest labels) that select observed
// workloads only; then a greedy cover of the observed workloads by those sets: fewest labels first,
// then the most workloads not yet covered, then canonical order. A workload none of whose label
// subsets qualifies (it has no labels, or its full label set also selects an unobserved
// workload) goes to `by_href`. Every workload of the policy counts, with or without addresses.
// REQUIRES: `observed` sized for index.workloads().
LabelCover CoverWithLabels(const LabelIndex& index, const WorkloadBits& observed);

}  // namespace moat::compile
