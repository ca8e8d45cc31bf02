#include "map/build.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "base/strings.h"

namespace moat::map {
namespace {

constexpr size_t kMembersKept = 50;
constexpr const char* kLabelKeys[] = {"role", "app", "env", "loc"};
// The label keys a grouping level keeps: every one, then without loc, without env, app alone.
constexpr int kLevels = 4;
bool KeepsKey(int level, int key) {
  switch (level) {
    case 0:
      return true;
    case 1:
      return key <= 2;
    case 2:
      return key <= 1;
    default:
      return key == 1;
  }
}

// Where a consumer address belongs: a workload, an IP list, or its subnet.
class Grouper {
 public:
  explicit Grouper(const policy::Policy* policy) : policy_(policy) {
    if (policy == nullptr) return;
    for (size_t i = 0; i < policy->workloads.size(); ++i) {
      for (const net::Prefix& p : policy->workloads[i].addresses.ToPrefixes()) {
        if (p.length == (p.base.is_v6() ? 128 : 32)) {
          single_.emplace(p.base, i);
        } else {
          ranges_.push_back(i);
        }
      }
    }
    for (size_t i = 0; i < policy->ip_lists.size(); ++i) {
      const uint64_t n = policy->ip_lists[i].addresses.Count();
      // "Any" (0.0.0.0/0, ::/0) says nothing about who a client is.
      if (n > 0 && n < (uint64_t{1} << 32)) lists_.emplace_back(n, i);
    }
    std::sort(lists_.begin(), lists_.end());  // most specific first
  }

  struct Group {
    std::string id, label, member;
    map::NodeKind kind;
  };

  Group Of(const net::Address& a, int level = 0) const {
    const std::string address = net::ToString(a);
    if (const policy::Workload* w = FindWorkload(a)) {
      std::string id = "labels:", label;
      bool any = false;
      for (int k = 0; k < 4; ++k) {
        if (!KeepsKey(level, k)) continue;
        const char* key = kLabelKeys[k];
        std::string value;
        for (const std::string& href : w->labels) {
          auto it = policy_->label_index.find(policy::HrefId(href));
          if (it != policy_->label_index.end() && policy_->labels[it->second].key == key) {
            value = policy_->labels[it->second].value;
          }
        }
        if (!value.empty()) {
          id += std::string(any ? "," : "") + key + "=" + value;
          any = true;
        }
        label += std::string(label.empty() ? "" : " | ") + (value.empty() ? "-" : value);
      }
      if (!any) return {"workload:" + w->name, w->name + " (no labels)", w->name, map::NodeKind::kLabels};
      return {id, label, w->name.empty() ? address : w->name + " " + address, map::NodeKind::kLabels};
    }
    for (const auto& [count, i] : lists_) {
      const policy::IpList& l = policy_->ip_lists[i];
      if (l.addresses.Contains(a)) return {"ip-list:" + l.name, l.name, address, map::NodeKind::kIpList};
    }
    const std::string s = net::ToString(net::PrefixOf(a, a.is_v6() ? 64 : 24));
    return {"subnet:" + s, s, address, map::NodeKind::kSubnet};
  }

 private:
  const policy::Workload* FindWorkload(const net::Address& a) const {
    auto it = single_.find(a);
    if (it != single_.end()) return &policy_->workloads[it->second];
    for (size_t i : ranges_) {
      if (policy_->workloads[i].addresses.Contains(a)) return &policy_->workloads[i];
    }
    return nullptr;
  }

  const policy::Policy* policy_;
  std::unordered_map<net::Address, size_t, net::AddressHash> single_;
  std::vector<size_t> ranges_;
  std::vector<std::pair<uint64_t, size_t>> lists_;
};

struct Database {
  std::string id, label;
  std::vector<std::string> addresses;
  const compile::Target* target = nullptr;
  const enforce::TargetReport* planned = nullptr;
};

// The map's databases: the plan's (with their policy targets), else the policy's targets.
std::vector<Database> Databases(const MapInput& in, std::vector<std::string>& notes) {
  std::vector<Database> dbs;
  if (in.plan != nullptr) {
    for (const enforce::TargetReport& t : in.plan->targets) {
      Database d{"db:" + t.id, t.id, t.addresses, nullptr, &t};
      if (in.compiled != nullptr) {
        for (const compile::Target& c : in.compiled->targets) {
          if (c.name == t.policy_target) d.target = &c;
        }
      }
      dbs.push_back(std::move(d));
    }
    if (in.plan->targets.empty()) notes.push_back("the plan covers no database");
  } else if (in.compiled != nullptr) {
    for (const compile::Target& c : in.compiled->targets) {
      Database d{"db:" + c.name, c.name, c.addresses.ToStrings(), &c, nullptr};
      // A target's addresses are single interface addresses; a /32 prints as "10.0.2.45/32".
      for (std::string& a : d.addresses) {
        if (const size_t slash = a.find('/'); slash != std::string::npos) a.resize(slash);
      }
      dbs.push_back(std::move(d));
    }
    notes.push_back(
        "no plan: flows the policy does not admit are marked not-allowed (moat map --plan marks "
        "what the plan would cut)");
  }
  for (const Database& d : dbs) {
    if (d.target != nullptr && !d.target->error.empty()) {
      notes.push_back(d.label + ": the policy cannot be compiled exactly for it (" + d.target->error +
                      "); what it admits is not known, so none of its flows is marked allowed");
    }
  }
  return dbs;
}

// The finest grouping level whose groups number at most `max`; when none does, the one with the
// fewest groups. A coarser level than the finest is noted.
int GroupingLevel(const Grouper& grouper, const std::vector<net::Address>& initiators, size_t max,
                  std::vector<std::string>& notes) {
  size_t best_count = SIZE_MAX;
  int best = 0;
  for (int level = 0; level < kLevels; ++level) {
    std::set<std::string> ids;
    for (const net::Address& a : initiators) ids.insert(grouper.Of(a, level).id);
    if (ids.size() < best_count) {
      best_count = ids.size();
      best = level;
    }
    if (ids.size() <= max) break;
  }
  static constexpr const char* kLevelNames[] = {"role, app, env and loc", "role, app and env", "role and app", "app"};
  if (best > 0) {
    notes.push_back("consumers grouped by " + std::string(kLevelNames[best]) +
                    " only: finer groups are too many to read");
  }
  return best;
}

using DatabaseIndex = std::unordered_map<net::Address, size_t, net::AddressHash>;
using GroupIndex = std::unordered_map<net::Address, Grouper::Group, net::AddressHash>;

// Which database (its index in `dbs`) each database address is.
DatabaseIndex DatabaseOf(const std::vector<Database>& dbs) {
  DatabaseIndex db_of;
  for (size_t i = 0; i < dbs.size(); ++i) {
    for (const std::string& a : dbs[i].addresses) {
      if (auto parsed = net::ParseAddress(a)) db_of.emplace(*parsed, i);
    }
  }
  return db_of;
}

// What the plan would cut, by flow key.
std::set<traffic::FlowKey> PlannedCuts(const std::vector<Database>& dbs) {
  std::set<traffic::FlowKey> cut;
  for (const Database& d : dbs) {
    if (d.planned == nullptr) continue;
    for (const plan::CutFlow& c : d.planned->plan.cuts) cut.insert(c.flow.key);
  }
  return cut;
}

// The group of each consumer of a database. Grouping: as fine as the labels allow while the
// consumers stay readable; coarser levels drop loc, then env, then role, until the groups number
// at most max_consumer_nodes.
GroupIndex GroupConsumers(const MapInput& in, const DatabaseIndex& db_of, std::vector<std::string>& notes) {
  const Grouper grouper(in.policy);
  GroupIndex group_of;
  if (in.flows == nullptr) return group_of;
  std::vector<net::Address> initiators;
  for (const traffic::Flow& f : *in.flows) {
    if (db_of.count(f.key.responder) > 0) initiators.push_back(f.key.initiator);
  }
  std::sort(initiators.begin(), initiators.end());
  initiators.erase(std::unique(initiators.begin(), initiators.end()), initiators.end());
  const int best = GroupingLevel(grouper, initiators, in.max_consumer_nodes, notes);
  for (const net::Address& a : initiators) group_of.emplace(a, grouper.Of(a, best));
  return group_of;
}

// What the map makes of a flow to database `d`, and the policy rules that admit it.
struct Verdict {
  map::Decision decision = map::Decision::kNotAllowed;
  std::vector<std::string> rules;
};

Verdict Judge(const traffic::Flow& f, const Database& d, const std::set<traffic::FlowKey>& cut) {
  Verdict v;
  if (f.key.action == flowlog::Action::kReject) {
    v.decision = map::Decision::kRejected;
  } else if (cut.count(f.key) > 0) {
    v.decision = map::Decision::kWouldCut;
  } else if (d.target != nullptr) {
    compile::Decision x = compile::Decide(*d.target, f.key.initiator, f.key.protocol, f.key.port, &f.key.responder);
    if (x.allowed) {
      v.decision = map::Decision::kAllowed;
      v.rules = std::move(x.rules);
    }
  }
  return v;
}

// The edges, one per (group, database, protocol, port, decision), and the consumer nodes, as the
// flows are added.
class Edges {
 public:
  void Add(const traffic::Flow& f, bool is_new, const Grouper::Group& g, size_t db, const Database& d,
           const Verdict& v) {
    const EdgeKey key{g.id, db, f.key.protocol, f.key.port, v.decision};
    map::MapEdge& e = edges_[key];
    if (e.flows == 0) {
      e.from = g.id;
      e.to = d.id;
      e.protocol = f.key.protocol;
      e.port = f.key.port;
      e.decision = v.decision;
    }
    ++e.flows;
    e.records += f.counts.records;
    e.packets += f.counts.packets;
    e.bytes += f.counts.bytes;
    if (f.counts.first != flowlog::kNoTime && (e.first == 0 || f.counts.first < e.first)) e.first = f.counts.first;
    if (f.counts.last != flowlog::kNoTime && f.counts.last > e.last) e.last = f.counts.last;
    if (is_new) e.is_new = true;
    edge_rules_[key].insert(v.rules.begin(), v.rules.end());
    map::MapNode& n = consumers_[g.id];
    if (n.id.empty()) n = map::Node(g.id, g.kind, g.label, {}, 0);
    member_addresses_[g.id].insert(f.key.initiator);
    if (members_[g.id].size() < kMembersKept) members_[g.id].insert(g.member);
  }

  // Appends the consumer nodes, then the edges (sorted by database, group, protocol, port, decision).
  void MoveInto(TrafficMap& map) {
    for (auto& [id, n] : consumers_) {
      n.members.assign(members_[id].begin(), members_[id].end());
      n.member_count = member_addresses_[id].size();
      map.nodes.push_back(std::move(n));
    }
    for (auto& [key, e] : edges_) {
      const auto& r = edge_rules_[key];
      e.rules.assign(r.begin(), r.end());
      map.edges.push_back(std::move(e));
    }
    std::sort(map.edges.begin(), map.edges.end(), [](const map::MapEdge& a, const map::MapEdge& b) {
      return std::tie(a.to, a.from, a.protocol, a.port, a.decision) <
             std::tie(b.to, b.from, b.protocol, b.port, b.decision);
    });
  }

 private:
  struct EdgeKey {
    std::string from;
    size_t db;
    uint8_t protocol;
    uint16_t port;
    map::Decision decision;
    bool operator<(const EdgeKey& o) const {
      return std::tie(db, from, protocol, port, decision) < std::tie(o.db, o.from, o.protocol, o.port, o.decision);
    }
  };
  std::map<EdgeKey, map::MapEdge> edges_;
  std::map<EdgeKey, std::set<std::string>> edge_rules_;
  std::map<std::string, map::MapNode> consumers_;
  std::map<std::string, std::set<std::string>> members_;
  std::map<std::string, std::set<net::Address>> member_addresses_;
};

// The database nodes, sorted by id; a database no flow reached is noted when there were flows.
void AddDatabaseNodes(const MapInput& in, const std::vector<Database>& dbs, const std::vector<bool>& used,
                      TrafficMap& map) {
  for (size_t i = 0; i < dbs.size(); ++i) {
    map::MapNode n =
        map::Node(dbs[i].id, map::NodeKind::kDatabase, dbs[i].label, dbs[i].addresses, dbs[i].addresses.size());
    if (!used[i] && in.flows != nullptr) map.notes.push_back(dbs[i].label + ": no flows observed in the window");
    map.nodes.push_back(std::move(n));
  }
  std::sort(map.nodes.begin(), map.nodes.end(),
            [](const map::MapNode& a, const map::MapNode& b) { return a.id < b.id; });
}

}  // namespace

TrafficMap BuildMap(const MapInput& in) {
  map::TrafficMap map;
  map.title = "moat traffic map";
  map.since = in.since;
  map.until = in.until;
  map.generated = in.generated;

  const std::vector<Database> dbs = Databases(in, map.notes);
  if (in.policy == nullptr) map.notes.push_back("no policy: every accepted flow is marked not-allowed");
  const DatabaseIndex db_of = DatabaseOf(dbs);
  const std::set<traffic::FlowKey> cut = PlannedCuts(dbs);
  const GroupIndex group_of = GroupConsumers(in, db_of, map.notes);

  Edges edges;
  std::vector<bool> used(dbs.size(), false);
  if (in.flows != nullptr) {
    for (size_t i = 0; i < in.flows->size(); ++i) {
      const traffic::Flow& f = (*in.flows)[i];
      auto db = db_of.find(f.key.responder);
      if (db == db_of.end()) continue;
      const Database& d = dbs[db->second];
      used[db->second] = true;
      const bool is_new = in.is_new != nullptr && i < in.is_new->size() && (*in.is_new)[i];
      edges.Add(f, is_new, group_of.at(f.key.initiator), db->second, d, Judge(f, d, cut));
    }
  }
  AddDatabaseNodes(in, dbs, used, map);
  edges.MoveInto(map);
  return map;
}

}  // namespace moat::map
