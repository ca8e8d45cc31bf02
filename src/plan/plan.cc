#include "plan/plan.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace moat::plan {
namespace {

bool PrefixLess(const net::Prefix& a, const net::Prefix& b) {
  return std::tie(a.base, a.length) < std::tie(b.base, b.length);
}

// The ports of an allow entry as a rule's (from, to): -1/-1 for all traffic and port-less protocols.
std::pair<int, int> RulePorts(int protocol, net::PortRange r) {
  if (protocol != 6 && protocol != 17) return {-1, -1};
  return {r.from, r.to};
}

}  // namespace

bool operator<(const SgRule& a, const SgRule& b) {
  if (a.v6() != b.v6()) return !a.v6();
  if (!(a.cidr == b.cidr)) return PrefixLess(a.cidr, b.cidr);
  return std::tie(a.protocol, a.from_port, a.to_port) < std::tie(b.protocol, b.from_port, b.to_port);
}

Status Quotas::Validate() const {
  if (rules_per_group < 1 || groups_per_interface < 1) {
    return Fail(InvalidInput("quotas: rules per group and groups per interface must be at least 1"));
  }
  if (static_cast<long>(rules_per_group) * groups_per_interface > max_rules_times_groups) {
    return Fail(InvalidInput("quotas: " + std::to_string(rules_per_group) + " rules per group x " +
                             std::to_string(groups_per_interface) + " groups per interface exceeds AWS's limit of " +
                             std::to_string(max_rules_times_groups)));
  }
  return {};
}

std::string SanitizeDescription(std::string_view s) {
  static constexpr std::string_view kAllowed = " ._-:/()#,@[]+=&;{}!$*";
  std::string out;
  for (unsigned char c : s) {
    if (out.size() == 255) break;
    const bool ok = std::isalnum(c) != 0 || kAllowed.find(static_cast<char>(c)) != std::string_view::npos;
    out += ok ? static_cast<char>(c) : '_';
  }
  return out;
}

std::vector<SgRule> DesiredRules(const compile::Target& target) {
  // Per (protocol, prefix): its port ranges in order, with the rules that admit each.
  struct Span {
    int from, to;
    std::vector<std::string> rules;
  };
  std::map<std::pair<int, std::string>, std::pair<net::Prefix, std::vector<Span>>> by_source;
  for (const compile::AllowEntry& e : target.allow) {
    // ICMP: a rule per type (and code) a security group rule can say: FromPort the type, ToPort
    // the code, -1 for all. Never merged: they are not port ranges.
    std::vector<std::pair<int, int>> ranges;
    const bool icmp = policy::IsIcmp(e.protocol);
    if (icmp) {
      for (const compile::IcmpPiece& piece : compile::IcmpPieces(e.ports)) ranges.emplace_back(piece.type, piece.code);
    } else {
      ranges.push_back(RulePorts(e.protocol, e.ports));
    }
    for (const net::Prefix& p : e.sources.ToPrefixes()) {
      auto& [prefix, spans] = by_source[{e.protocol, net::ToString(p)}];
      prefix = p;
      std::vector<std::string> rules;  // every rule that admits part of this prefix
      for (const auto& pv : e.provenance) {
        if (pv.sources.Overlaps(p)) rules.push_back(pv.rule);
      }
      if (icmp) {
        for (const auto& [type, code] : ranges) spans.push_back({type, code, rules});
        continue;
      }
      const auto [from, to] = ranges[0];
      // Adjacent ranges of the same prefix merge: the union is exactly both.
      if (!spans.empty() && from >= 0 && spans.back().to + 1 == from) {
        spans.back().to = to;
        for (auto& r : rules) {
          if (std::find(spans.back().rules.begin(), spans.back().rules.end(), r) == spans.back().rules.end()) {
            spans.back().rules.push_back(r);
          }
        }
      } else {
        spans.push_back({from, to, std::move(rules)});
      }
    }
  }
  std::vector<SgRule> out;
  for (const auto& [key, value] : by_source) {
    for (const Span& s : value.second) {
      std::string description = "moat";
      for (const auto& r : s.rules) description += " " + r;
      out.push_back({key.first, s.from, s.to, value.first, SanitizeDescription(description)});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string GroupName(const std::string& target_id, int number) {
  std::string id = target_id;
  std::replace(id.begin(), id.end(), '/', '-');
  return "moat-" + id + "-" + std::to_string(number);
}

Result<std::vector<PackedGroup>> Pack(const std::string& target_id, const std::vector<SgRule>& desired,
                                      const std::vector<GroupState>& existing, int kept_foreign, const Quotas& q) {
  if (auto st = q.Validate(); !st) return Fail(std::move(st).error());
  const int max_groups = q.groups_per_interface - kept_foreign;
  size_t v4 = 0, v6 = 0;
  for (const SgRule& r : desired) (r.v6() ? v6 : v4)++;
  const size_t capacity = static_cast<size_t>(std::max(max_groups, 0)) * static_cast<size_t>(q.rules_per_group);
  if (v4 > capacity || v6 > capacity) {
    return Fail(InvalidInput("target " + target_id + " needs " + std::to_string(v4) + " IPv4 and " +
                             std::to_string(v6) + " IPv6 rules, but at most " + std::to_string(capacity) +
                             " of each fit in " + std::to_string(std::max(max_groups, 0)) + " groups of " +
                             std::to_string(q.rules_per_group) + " (with " + std::to_string(kept_foreign) +
                             " kept foreign groups); nothing on it is changed"));
  }
  std::vector<GroupState> groups = existing;
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  std::vector<PackedGroup> out;
  std::vector<bool> placed(desired.size());
  // Stable: a desired rule that a group already has stays there.
  for (const GroupState& g : groups) {
    PackedGroup p{g.id, g.name, g.number, {}};
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!placed[i] && std::find(g.rules.begin(), g.rules.end(), desired[i]) != g.rules.end()) {
        p.rules.push_back(desired[i]);
        placed[i] = true;
      }
    }
    out.push_back(std::move(p));
  }
  auto count = [](const PackedGroup& g, bool v6) {
    return static_cast<int>(
        std::count_if(g.rules.begin(), g.rules.end(), [&](const SgRule& r) { return r.v6() == v6; }));
  };
  int next = groups.empty() ? 1 : groups.back().number + 1;
  for (size_t i = 0; i < desired.size(); ++i) {
    if (placed[i]) continue;
    const bool v6r = desired[i].v6();
    auto it =
        std::find_if(out.begin(), out.end(), [&](const PackedGroup& g) { return count(g, v6r) < q.rules_per_group; });
    if (it == out.end()) {
      if (static_cast<int>(out.size()) >= max_groups) {
        return Fail(InvalidInput("target " + target_id + ": its rules do not fit in " + std::to_string(max_groups) +
                                 " groups as they are spread now; nothing on it is changed"));
      }
      out.push_back({"", GroupName(target_id, next), next, {}});
      ++next;
      it = out.end() - 1;
    }
    it->rules.push_back(desired[i]);
  }
  if (static_cast<int>(out.size()) > max_groups) {
    return Fail(InvalidInput("target " + target_id + " has " + std::to_string(out.size()) +
                             " managed groups, more than the " + std::to_string(max_groups) + " allowed"));
  }
  if (out.empty()) out.push_back({"", GroupName(target_id, 1), 1, {}});  // a target keeps one group, even empty
  for (auto& g : out) std::sort(g.rules.begin(), g.rules.end());
  return out;
}

bool TargetPlan::HasChanges() const {
  if (!attach.empty() || !detach.empty()) return true;
  return std::any_of(groups.begin(), groups.end(), [](const GroupChange& g) {
    return g.create || g.retag || !g.authorize.empty() || !g.revoke.empty() || !g.redescribe.empty() ||
           g.revoke_other > 0;
  });
}

bool TargetPlan::IsDrift(const std::string& group) const {
  return std::find(drift.begin(), drift.end(), group) != drift.end();
}

TargetPlan Diff(const std::string& target_id, const std::vector<PackedGroup>& desired,
                const std::vector<GroupState>& existing, const std::vector<std::string>& attached,
                const std::vector<std::string>& keep) {
  TargetPlan plan;
  plan.target = target_id;
  for (const PackedGroup& d : desired) {
    GroupChange c{d.id, d.name, d.number, d.id.empty(), {}, {}, {}, 0};
    const GroupState* actual = nullptr;
    for (const GroupState& e : existing) {
      if (e.id == d.id && !d.id.empty()) actual = &e;
    }
    const std::vector<SgRule> none;
    const std::vector<SgRule>& have = actual != nullptr ? actual->rules : none;
    if (actual != nullptr) {
      c.revoke_other = actual->other_rules;
      c.retag = actual->tags_missing;
    }
    for (const SgRule& r : d.rules) {
      auto it = std::find(have.begin(), have.end(), r);
      if (it == have.end()) {
        c.authorize.push_back(r);
      } else if (it->description != r.description) {
        c.redescribe.push_back(r);
      }
    }
    for (const SgRule& r : have) {
      if (std::find(d.rules.begin(), d.rules.end(), r) == d.rules.end()) c.revoke.push_back(r);
    }
    plan.groups.push_back(std::move(c));
    const std::string handle = d.id.empty() ? d.name : d.id;
    if (d.id.empty() || std::find(attached.begin(), attached.end(), d.id) == attached.end())
      plan.attach.push_back(handle);
  }
  for (const std::string& a : attached) {
    const bool managed = std::any_of(desired.begin(), desired.end(), [&](const PackedGroup& d) { return d.id == a; });
    const bool kept = std::find(keep.begin(), keep.end(), a) != keep.end();
    if (!managed && !kept) plan.detach.push_back(a);
  }
  return plan;
}

}  // namespace moat::plan
