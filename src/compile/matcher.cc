#include "compile/matcher.h"

#include <algorithm>
#include <utility>

namespace moat::compile {

using namespace policy;  // NOLINT: the model's names read better unqualified here

namespace {

void SortUnique(std::vector<int>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Matcher::Matcher(const Policy& p) : p_(p), workloads_(static_cast<uint32_t>(p.workloads.size())) {
  for (const Label& l : p.labels) key_of_.push_back(KeyId(l.key));
  const auto label_id = [&](const std::string& href) {
    if (auto it = p.label_index.find(href); it != p.label_index.end()) return static_cast<int>(it->second);
    auto [it, added] = extra_labels_.emplace(href, static_cast<int>(key_of_.size()));
    if (added) key_of_.push_back(KeyId("\x01" + href));  // a key of its own: it shares no key with any label
    return it->second;
  };
  const uint32_t n = workloads_ + static_cast<uint32_t>(p.virtual_services.size());
  labels_.resize(n);
  for (uint32_t o = 0; o < n; ++o) {
    const auto& hrefs = o < workloads_ ? p.workloads[o].labels : p.virtual_services[o - workloads_].labels;
    for (const auto& h : hrefs) labels_[o].push_back(label_id(h));
    SortUnique(labels_[o]);
  }
  group_labels_.resize(p.label_groups.size());
  group_key_.resize(p.label_groups.size());
  group_problem_.resize(p.label_groups.size());
  for (size_t g = 0; g < p.label_groups.size(); ++g) {
    for (const auto& h : p.label_groups[g].labels) label_id(h);  // members not listed get ids too
  }
  for (size_t l = 0; l < p.labels.size(); ++l) key_labels_[key_of_[l]].push_back(static_cast<int>(l));
  by_label_.resize(key_of_.size());
  for (uint32_t o = 0; o < n; ++o) {
    for (int l : labels_[o]) by_label_[static_cast<size_t>(l)].push_back(o);
  }
  for (size_t g = 0; g < p.label_groups.size(); ++g) ExpandGroup(g);
  marks_.assign(n, 0);
  bindings_of_.resize(p.virtual_services.size());
  vs_of_.resize(p.workloads.size());
  for (size_t b = 0; b < p.service_bindings.size(); ++b) {
    const ServiceBinding& sb = p.service_bindings[b];
    const size_t vs = p.vs_index.at(sb.virtual_service);
    bindings_of_[vs].push_back(b);
    if (auto w = p.workload_index.find(sb.workload); w != p.workload_index.end()) vs_of_[w->second].push_back(vs);
  }
}

int Matcher::KeyId(const std::string& key) { return keys_.emplace(key, static_cast<int>(keys_.size())).first->second; }

// A group's labels with its sub-groups' (cycles and repeats visited once), and its key: the
// group's own, else its members'. Members of another key than the group's, or a group without a
// key whose members differ, cannot stand for one key: the group cannot be expanded.
void Matcher::ExpandGroup(size_t g) {
  std::vector<int> out;
  std::vector<size_t> todo{g};
  std::vector<bool> seen(p_.label_groups.size());
  std::string problem = p_.label_groups[g].problem;
  while (!todo.empty()) {
    const size_t x = todo.back();
    todo.pop_back();
    if (seen[x]) continue;
    seen[x] = true;
    const LabelGroup& lg = p_.label_groups[x];
    if (problem.empty() && !lg.problem.empty()) problem = "label group " + lg.href + ": " + lg.problem;
    for (const auto& l : lg.labels) {
      auto it = p_.label_index.find(l);
      out.push_back(it != p_.label_index.end() ? static_cast<int>(it->second) : extra_labels_.at(l));
    }
    for (const auto& sub : lg.sub_groups) {
      if (auto it = p_.group_index.find(sub); it != p_.group_index.end()) todo.push_back(it->second);
    }
  }
  SortUnique(out);
  const LabelGroup& group = p_.label_groups[g];
  std::string key = group.key;
  for (int l : out) {
    if (static_cast<size_t>(l) >= p_.labels.size()) continue;  // not listed: takes the group's key
    const std::string& lk = p_.labels[static_cast<size_t>(l)].key;
    if (key.empty()) key = lk;
    if (lk != key && problem.empty()) {
      problem = "label group " + group.href + " holds labels of the keys " + key + " and " + lk +
                "; a label group stands for one key";
    }
  }
  group_key_[g] = KeyId(key.empty() ? "\x02" + group.href : key);  // no key and no member: matches nothing
  group_labels_[g] = std::move(out);
  group_problem_[g] = std::move(problem);
}

bool Matcher::Has(uint32_t o, int label) const {
  return std::binary_search(labels_[o].begin(), labels_[o].end(), label);
}

bool Matcher::HasKey(uint32_t o, int key) const {
  return std::any_of(labels_[o].begin(), labels_[o].end(),
                     [&](int l) { return key_of_[static_cast<size_t>(l)] == key; });
}

bool Matcher::HasAny(uint32_t o, const std::vector<int>& sorted) const {
  const auto& mine = labels_[o];
  if (sorted.size() > 8 * mine.size()) {  // a few labels against many (every label of a key)
    return std::any_of(mine.begin(), mine.end(),
                       [&](int l) { return std::binary_search(sorted.begin(), sorted.end(), l); });
  }
  auto a = mine.begin(), b = sorted.begin();
  while (a != mine.end() && b != sorted.end()) {
    if (*a == *b) return true;
    if (*a < *b) {
      ++a;
    } else {
      ++b;
    }
  }
  return false;
}

Side Matcher::Resolve(const std::vector<Actor>& actors) const {
  Side s;
  for (const Actor& a : actors) {
    switch (a.kind) {
      case ActorKind::kAms:
        s.ams = s.ams || !a.exclusion;
        break;
      case ActorKind::kLabel: {
        const int l = static_cast<int>(p_.label_index.at(a.ref));
        if (a.exclusion) {
          s.excluded_labels.push_back(l);
        } else {
          s.clause[key_of_[static_cast<size_t>(l)]].push_back(l);
        }
        break;
      }
      case ActorKind::kLabelGroup: {
        const size_t g = p_.group_index.at(a.ref);
        if (a.exclusion) {
          s.excluded_groups.push_back(group_labels_[g]);
        } else {
          auto& labels = s.clause[group_key_[g]];
          labels.insert(labels.end(), group_labels_[g].begin(), group_labels_[g].end());
        }
        break;
      }
      case ActorKind::kWorkload:
        if (!a.exclusion) s.direct.push_back(static_cast<uint32_t>(p_.workload_index.at(a.ref)));
        break;
      case ActorKind::kVirtualService:
        if (!a.exclusion) s.direct.push_back(workloads_ + static_cast<uint32_t>(p_.vs_index.at(a.ref)));
        break;
      case ActorKind::kIpList:
        if (!a.exclusion) s.ip_lists.push_back(p_.ip_list_index.at(a.ref));
        break;
      case ActorKind::kNothing:
        s.nothing.push_back(a.note);
        break;
      case ActorKind::kVirtualServer:
      case ActorKind::kUnknown:
        break;  // the rule's problem, when it matters (loader)
    }
  }
  // A key with exclusions and no label named: every label of that key (the exclusions then
  // remove theirs).
  for (const Actor& a : actors) {
    if (!a.exclusion || (a.kind != ActorKind::kLabel && a.kind != ActorKind::kLabelGroup)) continue;
    const int key =
        a.kind == ActorKind::kLabel ? key_of_[p_.label_index.at(a.ref)] : group_key_[p_.group_index.at(a.ref)];
    if (s.clause.contains(key)) continue;
    auto it = key_labels_.find(key);
    s.clause[key] = it == key_labels_.end() ? std::vector<int>{} : it->second;
  }
  for (auto& [key, labels] : s.clause) SortUnique(labels);
  return s;
}

ScopeIds Matcher::Resolve(const Scope& scope) const {
  ScopeIds out;
  for (const ScopeItem& i : scope) {
    ScopeTerm t;
    t.exclusion = i.exclusion;
    t.group = i.group;
    int key = 0;
    if (i.group) {
      const size_t g = p_.group_index.at(i.ref);
      t.labels = group_labels_[g];
      key = group_key_[g];
    } else {
      const size_t l = p_.label_index.at(i.ref);
      t.labels = {static_cast<int>(l)};
      key = key_of_[l];
    }
    t.key = key;
    out.push_back(std::move(t));
  }
  return out;
}

std::string Matcher::Problem(const std::vector<Actor>& actors) const {
  for (const Actor& a : actors) {
    if (a.kind != ActorKind::kLabelGroup) continue;
    const std::string& why = group_problem_[p_.group_index.at(a.ref)];
    if (!why.empty()) return why;
  }
  return {};
}

std::string Matcher::Problem(const Scope& scope) const {
  for (const ScopeItem& i : scope) {
    if (!i.group) continue;
    const std::string& why = group_problem_[p_.group_index.at(i.ref)];
    if (!why.empty()) return why;
  }
  return {};
}

bool Matcher::InScope(uint32_t o, const ScopeIds& scope) const {
  for (const ScopeTerm& t : scope) {
    if (t.exclusion ? HasAny(o, t.labels) || !HasKey(o, t.key) : !HasAny(o, t.labels)) return false;
  }
  return true;
}

bool Matcher::Matches(uint32_t o, const Side& s, const policy::Resolve& resolve) const {
  for (int l : s.excluded_labels) {
    if (Has(o, l)) return false;
  }
  for (const auto& g : s.excluded_groups) {
    if (HasAny(o, g)) return false;
  }
  if (std::find(s.direct.begin(), s.direct.end(), o) != s.direct.end()) return true;
  const bool kind_ok = o >= workloads_ ? resolve.virtual_services : resolve.workloads;
  if (!kind_ok) return false;
  if (s.ams) return true;
  if (s.clause.empty()) return false;
  for (const auto& [key, labels] : s.clause) {
    if (!HasAny(o, labels)) return false;
  }
  return true;
}

std::vector<uint32_t> Matcher::All(const policy::Resolve& resolve) const {
  std::vector<uint32_t> out;
  const uint32_t from = resolve.workloads ? 0 : workloads_, to = resolve.virtual_services ? size() : workloads_;
  for (uint32_t o = from; o < to; ++o) out.push_back(o);
  return out;
}

std::vector<uint32_t> Matcher::Candidates(const Side& s, const policy::Resolve& resolve) {
  std::vector<uint32_t> out;
  if (s.ams) {
    out = All(resolve);
    out.insert(out.end(), s.direct.begin(), s.direct.end());
    return Unique(std::move(out));
  }
  out = s.direct;
  if (!s.clause.empty()) {
    // The key with the fewest objects bounds the clause.
    const std::vector<int>* best = nullptr;
    size_t best_n = SIZE_MAX;
    for (const auto& [key, labels] : s.clause) {
      size_t n = 0;
      for (int l : labels) n += by_label_[static_cast<size_t>(l)].size();
      if (n < best_n) best_n = n, best = &labels;
    }
    if (best != nullptr) {
      for (int l : *best) Append(l, out);
    }
  }
  return Unique(std::move(out));
}

std::vector<uint32_t> Matcher::Members(const ScopeIds& scope) {
  std::vector<uint32_t> out;
  const ScopeTerm* first = nullptr;
  for (const auto& t : scope) {
    if (!t.exclusion && (first == nullptr || t.labels.size() < first->labels.size())) first = &t;
  }
  if (first == nullptr) {
    for (uint32_t o = 0; o < size(); ++o) out.push_back(o);
  } else {
    for (int l : first->labels) Append(l, out);
  }
  out = Unique(std::move(out));
  std::erase_if(out, [&](uint32_t o) { return !InScope(o, scope); });
  return out;
}

const std::vector<size_t>& Matcher::BindingsOf(size_t vs) const { return bindings_of_[vs]; }
const std::vector<size_t>& Matcher::VirtualServicesOf(size_t workload) const { return vs_of_[workload]; }

void Matcher::Append(int label, std::vector<uint32_t>& out) const {
  const auto& v = by_label_[static_cast<size_t>(label)];
  out.insert(out.end(), v.begin(), v.end());
}

// Removes repeats, keeping the first of each (marks instead of a sort).
std::vector<uint32_t> Matcher::Unique(std::vector<uint32_t> v) {
  ++epoch_;
  std::erase_if(v, [&](uint32_t o) { return std::exchange(marks_[o], epoch_) == epoch_; });
  return v;
}

}  // namespace moat::compile
