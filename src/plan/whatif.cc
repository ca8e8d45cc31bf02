#include "plan/whatif.h"

#include <algorithm>

namespace moat::plan {

RuleMatcher::RuleMatcher(std::span<const SgRule> rules) { Add(rules); }

void RuleMatcher::Add(std::span<const SgRule> rules) {
  for (const SgRule& r : rules) {
    const int protocol = r.protocol;
    const bool all_ports = protocol == -1 || r.from_port == -1;
    const int from = all_ports ? -1 : r.from_port, to = all_ports ? -1 : r.to_port;
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return e.protocol == protocol && e.from_port == from && e.to_port == to;
    });
    if (it == entries_.end()) {
      entries_.push_back({protocol, from, to, {}});
      it = entries_.end() - 1;
    }
    it->sources.Add(r.cidr);
  }
}

bool RuleMatcher::Admits(const net::Address& source, int protocol, uint16_t port) const {
  const bool icmp = protocol == 1 || protocol == 58;
  for (const Entry& e : entries_) {
    if (e.protocol != -1 && e.protocol != protocol) continue;
    if (e.from_port != -1) {
      if (icmp || port < e.from_port || port > e.to_port) continue;
    }
    if (e.sources.Contains(source)) return true;
  }
  return false;
}

std::vector<CutFlow> Cuts(std::span<const traffic::Flow* const> flows, const RuleMatcher& after,
                          const RuleMatcher* before, const RuleMatcher* now) {
  std::vector<CutFlow> out;
  for (const traffic::Flow* f : flows) {
    if (f->key.action != flowlog::Action::kAccept) continue;
    const traffic::FlowKey& k = f->key;
    if (after.Admits(k.initiator, k.protocol, k.port)) continue;
    if (now != nullptr && !now->Admits(k.initiator, k.protocol, k.port)) continue;  // already cut
    const bool breaking = before == nullptr || before->Admits(k.initiator, k.protocol, k.port);
    out.push_back({*f, breaking});
  }
  // One conversation logged twice (at both ends, or by two accounts) is one flow cut.
  std::sort(out.begin(), out.end(), [](const CutFlow& a, const CutFlow& b) { return a.flow.key < b.flow.key; });
  size_t kept = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (kept > 0 && out[kept - 1].flow.key == out[i].flow.key) {
      out[kept - 1].flow.counts.Add(out[i].flow.counts);
    } else {
      out[kept++] = out[i];
    }
  }
  out.resize(kept);
  std::sort(out.begin(), out.end(), [](const CutFlow& a, const CutFlow& b) {
    if (a.flow.counts.records != b.flow.counts.records) return a.flow.counts.records > b.flow.counts.records;
    return a.flow.key < b.flow.key;
  });
  return out;
}

}  // namespace moat::plan
