#include "compile/suggest_cover.h"

#include <algorithm>
#include <bit>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

namespace moat::compile {

size_t WorkloadBits::Count() const {
  size_t n = 0;
  for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

void WorkloadBits::And(const WorkloadBits& o) {
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= o.words_[i];
}

void WorkloadBits::AndNot(const WorkloadBits& o) {
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= ~o.words_[i];
}

bool WorkloadBits::SubsetOf(const WorkloadBits& o) const {
  for (size_t i = 0; i < words_.size(); ++i) {
    if ((words_[i] & ~o.words_[i]) != 0) return false;
  }
  return true;
}

std::vector<size_t> WorkloadBits::Members() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < words_.size(); ++i) {
    for (uint64_t w = words_[i]; w != 0; w &= w - 1) out.push_back(i * 64 + static_cast<size_t>(std::countr_zero(w)));
  }
  return out;
}

namespace {

// role, app, env, loc first: the order people read labels in.
int KeyRank(const std::string& key) {
  static constexpr const char* kUsual[] = {"role", "app", "env", "loc"};
  for (int i = 0; i < 4; ++i) {
    if (key == kUsual[i]) return i;
  }
  return 4;
}

}  // namespace

LabelIndex::LabelIndex(const policy::Policy& policy) : policy_(policy) {
  const auto& labels = policy.labels;
  std::vector<size_t> order(labels.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const policy::Label &x = labels[a], &y = labels[b];
    return std::tuple(KeyRank(x.key), x.key, x.value, x.href) < std::tuple(KeyRank(y.key), y.key, y.value, y.href);
  });
  rank_.resize(labels.size());
  for (size_t i = 0; i < order.size(); ++i) rank_[order[i]] = i;
  std::unordered_map<std::string, size_t> keys;
  for (const policy::Label& l : labels) key_of_.push_back(keys.emplace(l.key, keys.size()).first->second);
  carriers_.assign(labels.size(), WorkloadBits(policy.workloads.size()));
  for (size_t w = 0; w < policy.workloads.size(); ++w) {
    std::vector<size_t> own;
    for (const std::string& href : policy.workloads[w].labels) own.push_back(policy.label_index.at(href));
    std::sort(own.begin(), own.end(), [&](size_t a, size_t b) { return rank_[a] < rank_[b]; });
    own.erase(std::unique(own.begin(), own.end()), own.end());
    for (size_t l : own) carriers_[l].Set(w);
    labels_of_.push_back(std::move(own));
  }
}

WorkloadBits LabelIndex::Select(const std::vector<size_t>& labels) const {
  WorkloadBits out(workloads());
  for (size_t w = 0; w < workloads(); ++w) out.Set(w);
  for (size_t l : labels) out.And(carriers_[l]);
  return out;
}

bool LabelIndex::Before(const std::vector<size_t>& a, const std::vector<size_t>& b) const {
  if (a.size() != b.size()) return a.size() < b.size();
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return rank_[a[i]] < rank_[b[i]];
  }
  return false;
}

namespace {

uint64_t Binomial(uint64_t n, uint64_t k) {
  unsigned __int128 c = 1;
  for (uint64_t i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(c);
}

// The subset of `labels` picked by `mask`, or nothing when it holds two labels of one key (the
// PCE would OR those).
std::optional<std::vector<size_t>> Pick(const LabelIndex& ix, const std::vector<size_t>& labels, uint64_t mask) {
  std::vector<size_t> out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!(mask >> i & 1)) continue;
    for (size_t l : out) {
      if (ix.KeyOf(l) == ix.KeyOf(labels[i])) return std::nullopt;
    }
    out.push_back(labels[i]);
  }
  return out;
}

// The smallest subsets of `labels` that select observed workloads only; none when even all of
// them select an unobserved one (a subset selects at least what the whole set does).
std::vector<std::vector<size_t>> CoarsestSubsets(const LabelIndex& ix, const std::vector<size_t>& labels,
                                                 const WorkloadBits& observed) {
  const size_t k = labels.size();
  if (k == 0 || !ix.Select(labels).SubsetOf(observed)) return {};
  std::vector<std::vector<size_t>> out;
  uint64_t examined = 0;
  for (size_t s = 1; s <= k && k < 64; ++s) {
    examined += Binomial(k, s);
    if (examined > kMaxSubsetsPerWorkload) break;
    for (uint64_t m = (uint64_t{1} << s) - 1; m < (uint64_t{1} << k);) {
      auto subset = Pick(ix, labels, m);
      if (subset && ix.Select(*subset).SubsetOf(observed)) out.push_back(std::move(*subset));
      const uint64_t c = m & -m, r = m + c;  // Gosper: the next mask with s bits
      m = (((r ^ m) >> 2) / c) | r;
    }
    if (!out.empty()) return out;
  }
  // Too many labels to search every subset: the whole set, when the PCE can express it.
  if (auto all = Pick(ix, labels, k >= 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1)) out.push_back(std::move(*all));
  return out;
}

struct Candidate {
  std::vector<size_t> labels;
  WorkloadBits selects;
};

}  // namespace

LabelCover CoverWithLabels(const LabelIndex& ix, const WorkloadBits& observed) {
  LabelCover cover;
  std::vector<Candidate> candidates;
  std::map<std::vector<size_t>, bool> searched;  // label signature -> found a subset
  WorkloadBits uncovered = observed;
  for (size_t w : observed.Members()) {
    const std::vector<size_t>& labels = ix.LabelsOf(w);
    auto [it, fresh] = searched.emplace(labels, false);
    if (fresh) {
      for (auto& subset : CoarsestSubsets(ix, labels, observed)) {
        WorkloadBits selects = ix.Select(subset);
        candidates.push_back({std::move(subset), std::move(selects)});
        it->second = true;
      }
    }
    if (!it->second) {
      cover.by_href.push_back(w);
      WorkloadBits self(ix.workloads());
      self.Set(w);
      uncovered.AndNot(self);
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [&](const Candidate& a, const Candidate& b) { return ix.Before(a.labels, b.labels); });
  candidates.erase(std::unique(candidates.begin(), candidates.end(),
                               [](const Candidate& a, const Candidate& b) { return a.labels == b.labels; }),
                   candidates.end());
  while (!uncovered.Empty()) {
    const Candidate* best = nullptr;
    size_t best_gain = 0;
    for (const Candidate& c : candidates) {  // canonical order: a later one must be strictly better
      WorkloadBits gain = c.selects;
      gain.And(uncovered);
      const size_t n = gain.Count();
      if (n == 0) continue;
      if (best == nullptr || c.labels.size() < best->labels.size() ||
          (c.labels.size() == best->labels.size() && n > best_gain)) {
        best = &c;
        best_gain = n;
      }
    }
    if (best == nullptr) break;  // cannot happen: every uncovered workload brought its own candidate
    WorkloadBits chosen = best->selects;
    chosen.And(uncovered);
    cover.sets.push_back({best->labels, chosen.Members()});
    uncovered.AndNot(best->selects);
  }
  return cover;
}

}  // namespace moat::compile
