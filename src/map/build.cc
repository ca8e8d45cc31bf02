#include "map/build.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

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
    std::vector<std::string> labels;  // "role=web", ...
  };

  // The member a node lists for `a`: its workload's name and the address, else the address.
  std::string Member(const net::Address& a) const {
    const std::string address = net::ToString(a);
    const policy::Workload* w = policy_ == nullptr ? nullptr : FindWorkload(a);
    return w == nullptr || w->name.empty() ? address : w->name + " " + address;
  }

  Group Of(const net::Address& a, int level = 0) const {
    const std::string address = net::ToString(a);
    if (const policy::Workload* w = FindWorkload(a)) {
      std::string id = "labels:", label;
      std::vector<std::string> labels;
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
          labels.push_back(std::string(key) + "=" + value);
          id += std::string(labels.size() > 1 ? "," : "") + labels.back();
        }
        label += std::string(label.empty() ? "" : " | ") + (value.empty() ? "-" : value);
      }
      if (labels.empty()) return {"workload:" + w->name, w->name + " (no labels)", w->name, map::NodeKind::kLabels, {}};
      return {id, label, w->name.empty() ? address : w->name + " " + address, map::NodeKind::kLabels,
              std::move(labels)};
    }
    for (const auto& [count, i] : lists_) {
      const policy::IpList& l = policy_->ip_lists[i];
      if (l.addresses.Contains(a)) return {"ip-list:" + l.name, l.name, address, map::NodeKind::kIpList, {}};
    }
    const std::string s = net::ToString(net::PrefixOf(a, a.is_v6() ? 64 : 24));
    return {"subnet:" + s, s, address, map::NodeKind::kSubnet, {}};
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

struct FlowKeyHash {
  size_t operator()(const traffic::FlowKey& k) const {
    const net::AddressHash h;
    return h(k.initiator) * 0x9e3779b97f4a7c15ULL ^ h(k.responder) ^ (size_t{k.port} << 16) ^
           (size_t{k.protocol} << 8) ^ static_cast<size_t>(k.action);
  }
};
using CutSet = std::unordered_set<traffic::FlowKey, FlowKeyHash>;

struct Database {
  std::string id, label;
  std::string place;  // "<account>/<region>"; "": any
  std::vector<std::string> addresses;
  const compile::Target* target = nullptr;
  const enforce::TargetReport* planned = nullptr;
  Protection protection = Protection::kProtected;
  std::string detail;
  CutSet cut;  // the flows to it its plan would cut
};

const compile::Target* PolicyTargetNamed(const compile::Compiled* compiled, const std::string& name) {
  if (compiled == nullptr || name.empty()) return nullptr;
  for (const compile::Target& c : compiled->targets) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// A database the plan skipped that the policy still models: a virtual service with its endpoint.
const compile::Target* ModelledBy(const compile::Compiled* compiled, const enforce::TargetReport& t) {
  if (compiled == nullptr || t.endpoint.empty()) return nullptr;
  for (const compile::Target& c : compiled->targets) {
    if (EqualsIgnoreCase(c.fqdn, t.endpoint)) return &c;
  }
  return nullptr;
}

Protection ProtectionOf(const compile::Target* c) {
  if (c == nullptr) return Protection::kUnprotected;
  if (!c->error.empty()) return Protection::kUncompiled;
  return c->provider ? Protection::kProtected : Protection::kNoRules;
}

std::string Endpoint(const enforce::TargetReport& t) {
  std::string s = std::string(t.cluster ? "cluster " : "instance ") + (t.endpoint.empty() ? t.id : t.endpoint);
  if (t.port > 0) s += ":" + std::to_string(t.port);
  return s;
}

// The map's databases: the plan's — protected or not — (with their policy targets), else the
// policy's targets.
std::vector<Database> Databases(const MapInput& in, std::vector<std::string>& notes) {
  std::vector<Database> dbs;
  if (in.plan != nullptr) {
    for (const enforce::TargetReport& t : in.plan->targets) {
      Database d{"db:" + t.id, t.id, t.place, t.addresses, PolicyTargetNamed(in.compiled, t.policy_target),
                 &t,           {},   {},      {}};
      d.protection = t.policy_target.empty() ? Protection::kUnprotected : ProtectionOf(d.target);
      d.detail = Endpoint(t) + (t.policy_target.empty() ? "" : ", policy " + t.policy_target);
      if (!t.error.empty()) d.detail += "; " + t.error;
      dbs.push_back(std::move(d));
    }
    for (const enforce::TargetReport& t : in.plan->unprotected) {
      const compile::Target* modelled = ModelledBy(in.compiled, t);
      Database d{"db:" + t.id, t.id, t.place, t.addresses, modelled, nullptr, {}, {}, {}};
      d.protection = modelled == nullptr        ? Protection::kUnprotected
                     : !modelled->error.empty() ? Protection::kUncompiled
                                                : Protection::kNoRules;
      d.detail = Endpoint(t);
      for (const auto& [id, why] : in.plan->skipped) {
        if (id == t.id) d.detail += "; not protected: " + why;
      }
      if (modelled != nullptr) d.detail += "; modelled in the policy as " + modelled->name;
      dbs.push_back(std::move(d));
    }
    if (dbs.empty()) notes.push_back("the plan covers no database");
  } else if (in.compiled != nullptr) {
    for (const compile::Target& c : in.compiled->targets) {
      Database d{"db:" + c.name, c.name, "", c.addresses.ToStrings(), &c, nullptr, {}, {}, {}};
      // A target's addresses are single interface addresses; a /32 prints as "10.0.2.45/32".
      for (std::string& a : d.addresses) {
        if (const size_t slash = a.find('/'); slash != std::string::npos) a.resize(slash);
      }
      d.protection = ProtectionOf(&c);
      d.detail = c.fqdn;
      dbs.push_back(std::move(d));
    }
    notes.push_back(
        "no plan: flows the policy does not admit are marked not-allowed (moat map --plan marks "
        "what the plan would cut)");
  }
  for (Database& d : dbs) {
    if (d.target != nullptr && !d.target->error.empty()) {
      d.protection = Protection::kUncompiled;
      notes.push_back(d.label + ": the policy cannot be compiled exactly for it (" + d.target->error +
                      "); what it admits is not known, so none of its flows is marked allowed");
    }
  }
  std::sort(dbs.begin(), dbs.end(), [](const Database& a, const Database& b) { return a.id < b.id; });
  return dbs;
}

// The finest grouping level whose groups number at most `max`; when none does, the one with the
// fewest groups. A coarser level than the finest is noted.
int GroupingLevel(const Grouper& grouper, const std::vector<net::Address>& initiators, size_t max,
                  std::vector<std::string>& notes) {
  if (max == 0) return 0;
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

// Which database a flow goes to: the one whose network interface logged it; else, logged at an
// interface in the VPC of a database at its responder address, that one; else the one at its
// responder address in the place it was logged in (enforce::ObservedIndex weighs flows the same
// way). Places are compared as numbers: the flows' (FlowPlaces::of), and each database's in the
// same numbering (a place no flow names gets a number of its own); interfaces too
// (FlowPlaces::interface_of).
class DatabaseAt {
 public:
  static constexpr size_t kNone = SIZE_MAX, kAmbiguous = SIZE_MAX - 1;

  // `interface_vpcs`: the VPCs of interfaces that are no database's (EnforceReport::interface_vpcs); may be null.
  DatabaseAt(const std::vector<Database>& dbs, const traffic::FlowPlaces* places,
             const std::map<std::string, std::string>* interface_vpcs)
      : places_(places != nullptr && !places->of.empty() ? places : nullptr), place_of_(dbs.size(), kAny) {
    std::unordered_map<std::string, uint32_t> number, interface_number;
    if (places_ != nullptr) {
      for (size_t i = 1; i < places_->names.size(); ++i) number.emplace(places_->names[i], static_cast<uint32_t>(i));
      if (places_->interface_of.size() == places_->of.size()) {
        for (size_t i = 1; i < places_->interfaces.size(); ++i) {
          interface_number.emplace(places_->interfaces[i], static_cast<uint32_t>(i));
        }
      }
    }
    for (size_t i = 0; i < dbs.size(); ++i) {
      if (!dbs[i].place.empty()) {
        place_of_[i] = number.emplace(dbs[i].place, static_cast<uint32_t>(number.size() + 1)).first->second;
      }
      for (const std::string& a : dbs[i].addresses) {
        if (auto parsed = net::ParseAddress(a)) {
          std::vector<size_t>& at = at_[*parsed];
          if (std::find(at.begin(), at.end(), i) == at.end()) at.push_back(i);
        }
      }
      vpc_of_.push_back(dbs[i].planned != nullptr ? dbs[i].planned->vpc_id : "");
      if (dbs[i].planned == nullptr) continue;
      for (const std::string& name : dbs[i].planned->interfaces) {
        if (auto n = interface_number.find(name); n != interface_number.end()) by_interface_.emplace(n->second, i);
      }
    }
    if (interface_vpcs != nullptr) {
      for (const auto& [name, vpc] : *interface_vpcs) {
        if (auto n = interface_number.find(name); n != interface_number.end())
          vpc_of_interface_.emplace(n->second, vpc);
      }
    }
  }

  // The database flow `flow` (an index into the flows) at `responder` goes to; kNone, or
  // kAmbiguous when several databases are at its address and neither its interface nor its place
  // tells which.
  size_t Find(const net::Address& responder, size_t flow) const {
    const auto at = at_.find(responder);
    if (at == at_.end()) return kNone;
    // Logged at a database's interface: that database's, or (not at the responder) none's.
    const uint32_t logged_at = places_ != nullptr ? places_->InterfaceOf(flow) : 0;
    if (logged_at != 0 && !by_interface_.empty()) {
      if (const auto db = by_interface_.find(logged_at); db != by_interface_.end()) {
        return std::find(at->second.begin(), at->second.end(), db->second) != at->second.end() ? db->second : kNone;
      }
    }
    // Logged at another interface of a VPC with a database at the address: that VPC's.
    if (logged_at != 0 && !vpc_of_interface_.empty()) {
      if (const auto vpc = vpc_of_interface_.find(logged_at); vpc != vpc_of_interface_.end()) {
        size_t found = kNone;
        for (const size_t i : at->second) {
          if (vpc_of_[i] != vpc->second) continue;
          if (found != kNone) return kAmbiguous;
          found = i;
        }
        if (found != kNone) return found;
      }
    }
    uint32_t place = places_ == nullptr ? kAny : places_->of[flow];
    // Logged in a place with no database at the address (a shared VPC's owner, a client's side):
    // as good as a flow of no place.
    if (place != kAny &&
        std::none_of(at->second.begin(), at->second.end(), [&](size_t i) { return place_of_[i] == place; })) {
      place = kAny;
    }
    size_t found = kNone;
    for (const size_t i : at->second) {
      const uint32_t there = place_of_[i];
      if (place == kAny || there == kAny || there == place) {
        if (found != kNone) return kAmbiguous;
        found = i;
      }
    }
    return found;
  }

 private:
  static constexpr uint32_t kAny = 0;  // a flow of no place, a database of any
  const traffic::FlowPlaces* places_;
  std::vector<uint32_t> place_of_;  // per database
  std::unordered_map<net::Address, std::vector<size_t>, net::AddressHash> at_;
  std::unordered_map<uint32_t, size_t> by_interface_;           // a database's interface -> the database
  std::vector<std::string> vpc_of_;                             // per database; "": not known
  std::unordered_map<uint32_t, std::string> vpc_of_interface_;  // another interface -> its VPC
};

// What a flow to a database makes of the map: the decision, and the policy rules that admit it.
struct Verdict {
  map::Decision decision = map::Decision::kNotAllowed;
  std::vector<std::string> rules;
};

Verdict Judge(const traffic::Flow& f, const Database& d) {
  Verdict v;
  if (f.key.action == flowlog::Action::kReject) {
    v.decision = map::Decision::kRejected;
  } else if (d.cut.count(f.key) > 0) {
    v.decision = map::Decision::kWouldCut;
  } else if (d.target != nullptr && d.protection != Protection::kUncompiled) {
    compile::Decision x = compile::Decide(*d.target, f.key.initiator, f.key.protocol, f.key.port, &f.key.responder);
    if (x.allowed) {
      v.decision = map::Decision::kAllowed;
      v.rules = std::move(x.rules);
    }
  }
  return v;
}

// One consumer group, as the flows find it.
struct GroupData {
  Grouper::Group group;
  std::vector<net::Address> addresses;  // distinct, in the order found
};

// The edges of one database: per (group, protocol, port, decision), packed in one integer.
struct EdgeKey {
  uint32_t group;
  uint8_t protocol;
  uint16_t port;
  map::Decision decision;
  uint64_t Packed() const {
    return uint64_t{group} << 32 | uint64_t{protocol} << 24 | uint64_t{port} << 8 | static_cast<uint64_t>(decision);
  }
  static EdgeKey Unpack(uint64_t k) {
    return {static_cast<uint32_t>(k >> 32), static_cast<uint8_t>(k >> 24), static_cast<uint16_t>(k >> 8),
            static_cast<map::Decision>(k & 0xff)};
  }
};
struct EdgeData {
  map::MapEdge edge;
  std::vector<std::string> rules;  // sorted, unique: an edge has a rule or two

  void AddRules(std::vector<std::string>& more) {
    for (std::string& r : more) {
      auto at = std::lower_bound(rules.begin(), rules.end(), r);
      if (at == rules.end() || *at != r) rules.insert(at, std::move(r));
    }
  }
};

void AddCounts(map::MapEdge& e, const traffic::Flow& f, bool is_new) {
  ++e.flows;
  e.records += f.counts.records;
  e.packets += f.counts.packets;
  e.bytes += f.counts.bytes;
  if (f.counts.first != flowlog::kNoTime && (e.first == 0 || f.counts.first < e.first)) e.first = f.counts.first;
  if (f.counts.last != flowlog::kNoTime && f.counts.last > e.last) e.last = f.counts.last;
  if (is_new) e.is_new = true;
}

void Merge(map::MapEdge& into, const map::MapEdge& e) {
  into.flows += e.flows;
  into.records += e.records;
  into.packets += e.packets;
  into.bytes += e.bytes;
  if (e.first != 0 && (into.first == 0 || e.first < into.first)) into.first = e.first;
  into.last = std::max(into.last, e.last);
  into.is_new = into.is_new || e.is_new;
}

// Accumulates the flows: groups by initiator, edges by database.
class Accumulator {
 public:
  Accumulator(const Grouper& grouper, int level, size_t databases)
      : grouper_(grouper), level_(level), edges_(databases) {}

  // Returns the flow's group.
  uint32_t Add(const traffic::Flow& f, bool is_new, size_t db, const Database& d) {
    const uint32_t g = GroupOf(f.key.initiator);
    Verdict v = Judge(f, d);
    EdgeData& e = edges_[db][EdgeKey{g, f.key.protocol, f.key.port, v.decision}.Packed()];
    if (e.edge.flows == 0) {
      e.edge.protocol = f.key.protocol;
      e.edge.port = f.key.port;
      e.edge.decision = v.decision;
    }
    AddCounts(e.edge, f, is_new);
    e.AddRules(v.rules);
    return g;
  }

  std::vector<GroupData>& groups() { return groups_; }
  std::vector<std::unordered_map<uint64_t, EdgeData>>& edges() { return edges_; }

 private:
  uint32_t GroupOf(const net::Address& a) {
    auto it = group_of_.find(a);
    if (it != group_of_.end()) return it->second;
    Grouper::Group g = grouper_.Of(a, level_);
    auto [at, added] = index_.emplace(g.id, static_cast<uint32_t>(groups_.size()));
    if (added) groups_.push_back({std::move(g), {}});
    groups_[at->second].addresses.push_back(a);
    group_of_.emplace(a, at->second);
    return at->second;
  }

  const Grouper& grouper_;
  int level_;
  std::unordered_map<net::Address, uint32_t, net::AddressHash> group_of_;
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<GroupData> groups_;
  std::vector<std::unordered_map<uint64_t, EdgeData>> edges_;
};

std::vector<std::string> Strings(const std::vector<net::Address>& addresses) {
  std::vector<net::Address> sorted = addresses;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> out;
  out.reserve(sorted.size());
  for (const net::Address& a : sorted) out.push_back(net::ToString(a));
  return out;
}

// Where a flow went: its database's index and its group's.
struct Placed {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t db = kNone, group = kNone;
};

// The nodes and edges: per database, its `top` busiest groups and one "others" node for the rest.
class Assembler {
 public:
  Assembler(const MapInput& in, const Grouper& grouper, TrafficMap& map)
      : in_(in), grouper_(grouper), map_(map), budget_(in.max_search_addresses) {}

  // `placed`: per flow of in.flows, its database and group (kNone: no database's).
  void Run(const std::vector<Database>& dbs, Accumulator& acc, const std::vector<Placed>& placed) {
    std::vector<GroupData>& groups = acc.groups();
    std::vector<bool> drawn(groups.size(), false);
    std::vector<std::set<uint32_t>> folded_of(dbs.size());
    for (size_t i = 0; i < dbs.size(); ++i) {
      auto& edges = acc.edges()[i];
      if (edges.empty()) continue;
      std::unordered_map<uint32_t, uint64_t> records;
      for (const auto& [packed, e] : edges) records[EdgeKey::Unpack(packed).group] += e.edge.records;
      std::vector<std::pair<uint64_t, uint32_t>> ranked;
      ranked.reserve(records.size());
      for (const auto& [g, r] : records) ranked.emplace_back(r, g);
      // Busiest first; ties by group id, so that the same flows give the same map.
      std::sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : groups[a.second].group.id < groups[b.second].group.id;
      });
      std::set<uint32_t> kept;
      for (size_t k = 0; k < ranked.size() && (in_.top == 0 || k < in_.top); ++k) kept.insert(ranked[k].second);
      // A lone group past the top would be an "others" of one: draw it instead.
      if (ranked.size() == kept.size() + 1) kept.insert(ranked.back().second);
      std::map<std::tuple<uint8_t, uint16_t, map::Decision>, EdgeData> folded;
      std::set<uint32_t>& folded_groups = folded_of[i];
      for (auto& [packed, e] : edges) {
        const EdgeKey key = EdgeKey::Unpack(packed);
        if (kept.count(key.group) > 0) {
          drawn[key.group] = true;
          e.edge.from = groups[key.group].group.id;
          e.edge.to = dbs[i].id;
          e.edge.rules = std::move(e.rules);
          map_.edges.push_back(std::move(e.edge));
          continue;
        }
        folded_groups.insert(key.group);
        EdgeData& o = folded[{key.protocol, key.port, key.decision}];
        if (o.edge.flows == 0) {
          o.edge.protocol = key.protocol;
          o.edge.port = key.port;
          o.edge.decision = key.decision;
        }
        Merge(o.edge, e.edge);
        o.AddRules(e.rules);
      }
      if (folded_groups.empty()) continue;
      const std::string id = "others:" + dbs[i].id;
      std::vector<std::string> members;
      for (uint32_t g : folded_groups) {
        if (members.size() < kMembersKept) members.push_back(groups[g].group.label);
      }
      std::sort(members.begin(), members.end());
      others_.emplace(
          i, map::Node(id, map::NodeKind::kOthers, std::to_string(folded_groups.size()) + " other source groups",
                       std::move(members), 0));
      for (auto& [key, o] : folded) {
        o.edge.from = id;
        o.edge.to = dbs[i].id;
        o.edge.rules = std::move(o.rules);
        map_.edges.push_back(std::move(o.edge));
      }
    }
    // The addresses each "others" node folds: the initiators of its database's folded groups.
    if (!others_.empty() && in_.flows != nullptr) {
      std::map<size_t, std::vector<net::Address>> folded_addresses;
      for (size_t k = 0; k < placed.size(); ++k) {
        const Placed p = placed[k];
        if (p.db == Placed::kNone || folded_of[p.db].empty()) continue;
        if (folded_of[p.db].count(p.group) > 0) folded_addresses[p.db].push_back((*in_.flows)[k].key.initiator);
      }
      for (auto& [i, addresses] : folded_addresses) {
        std::sort(addresses.begin(), addresses.end());
        addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
        map::MapNode& n = others_.at(i);
        n.member_count = addresses.size();
        n.addresses = Spend(addresses);
      }
    }
    for (auto& [i, n] : others_) consumers_.push_back(std::move(n));
    for (size_t g = 0; g < groups.size(); ++g) {
      if (!drawn[g]) continue;
      GroupData& d = groups[g];
      std::vector<std::string> members;
      std::vector<net::Address> sorted = d.addresses;
      std::sort(sorted.begin(), sorted.end());
      const bool named = d.group.kind == map::NodeKind::kLabels;
      map::MapNode n = map::Node(d.group.id, d.group.kind, d.group.label, {}, d.addresses.size());
      n.labels = d.group.labels;
      n.addresses = Spend(sorted);
      // Members: addresses, or for workloads their names with the address (the group's `member`
      // for its first address; the others as addresses).
      for (const net::Address& a : sorted) {
        if (n.members.size() >= kMembersKept) break;
        n.members.push_back(named ? grouper_.Member(a) : net::ToString(a));
      }
      std::sort(n.members.begin(), n.members.end());
      consumers_.push_back(std::move(n));
    }
    std::sort(consumers_.begin(), consumers_.end(),
              [](const map::MapNode& a, const map::MapNode& b) { return a.id < b.id; });
    for (map::MapNode& n : consumers_) map_.nodes.push_back(std::move(n));
    std::sort(map_.edges.begin(), map_.edges.end(), [](const map::MapEdge& a, const map::MapEdge& b) {
      return std::tie(a.to, a.from, a.protocol, a.port, a.decision) <
             std::tie(b.to, b.from, b.protocol, b.port, b.decision);
    });
    if (spent_out_) {
      map_.notes.push_back("the map lists the first " + std::to_string(in_.max_search_addresses) +
                           " consumer addresses for search; the page finds the others by their group");
    }
  }

 private:
  std::vector<std::string> Spend(const std::vector<net::Address>& addresses) {
    if (addresses.size() > budget_) {
      spent_out_ = true;
      return {};
    }
    budget_ -= addresses.size();
    return Strings(addresses);
  }

  const MapInput& in_;
  const Grouper& grouper_;
  TrafficMap& map_;
  size_t budget_;
  bool spent_out_ = false;
  std::vector<map::MapNode> consumers_;
  std::map<size_t, map::MapNode> others_;  // by database index
};

}  // namespace

TrafficMap BuildMap(const MapInput& in) {
  map::TrafficMap map;
  map.title = "moat traffic map";
  map.since = in.since;
  map.until = in.until;
  map.generated = in.generated;
  map.top = in.top;
  map.recorded_flows = in.recorded_flows;

  std::vector<Database> dbs = Databases(in, map.notes);
  if (in.policy == nullptr) map.notes.push_back("no policy: every accepted flow is marked not-allowed");
  const DatabaseAt db_of(dbs, in.places, in.plan != nullptr ? &in.plan->interface_vpcs : nullptr);
  for (Database& d : dbs) {
    if (d.planned == nullptr) continue;
    for (const plan::CutFlow& c : d.planned->plan.cuts) d.cut.insert(c.flow.key);
  }

  const Grouper grouper(in.policy);
  int level = 0;
  if (in.flows != nullptr && in.max_consumer_nodes > 0) {
    std::vector<net::Address> initiators;
    for (size_t i = 0; i < in.flows->size(); ++i) {
      const traffic::Flow& f = (*in.flows)[i];
      if (db_of.Find(f.key.responder, i) != DatabaseAt::kNone) initiators.push_back(f.key.initiator);
    }
    std::sort(initiators.begin(), initiators.end());
    initiators.erase(std::unique(initiators.begin(), initiators.end()), initiators.end());
    level = GroupingLevel(grouper, initiators, in.max_consumer_nodes, map.notes);
  }

  Accumulator acc(grouper, level, dbs.size());
  std::vector<bool> used(dbs.size(), false);
  std::vector<Placed> placed;
  uint64_t unplaced = 0;
  if (in.flows != nullptr) {
    const size_t total = in.flows->size();
    placed.resize(total);
    for (size_t i = 0; i < total; ++i) {
      if (in.progress && i % 65536 == 0) in.progress(i, total);
      const traffic::Flow& f = (*in.flows)[i];
      const size_t db = db_of.Find(f.key.responder, i);
      if (db == DatabaseAt::kAmbiguous) ++unplaced;
      if (db >= dbs.size()) continue;
      used[db] = true;
      ++map.window_flows;
      if (f.counts.first != flowlog::kNoTime && (map.first == 0 || f.counts.first < map.first)) {
        map.first = f.counts.first;
      }
      if (f.counts.last != flowlog::kNoTime && f.counts.last > map.last) map.last = f.counts.last;
      const bool is_new = in.is_new != nullptr && i < in.is_new->size() && (*in.is_new)[i];
      placed[i] = {static_cast<uint32_t>(db), acc.Add(f, is_new, db, dbs[db])};
    }
    if (in.progress) in.progress(total, total);
  }
  if (unplaced > 0) {
    map.notes.push_back(std::to_string(unplaced) +
                        " flow(s) go to an address several databases share, and neither the network interface nor "
                        "the account and region that logged them tells which: drawn to none");
  }

  for (size_t i = 0; i < dbs.size(); ++i) {
    map::MapNode n =
        map::Node(dbs[i].id, map::NodeKind::kDatabase, dbs[i].label, dbs[i].addresses, dbs[i].addresses.size());
    n.protection = dbs[i].protection;
    n.detail = dbs[i].detail;
    if (!used[i] && in.flows != nullptr) map.no_flows.push_back(dbs[i].id);
    map.nodes.push_back(std::move(n));
  }
  if (!map.no_flows.empty()) {
    map.notes.push_back(std::to_string(map.no_flows.size()) + " of " + std::to_string(dbs.size()) +
                        " database(s): no flows observed in the window");
  }
  Assembler assembler(in, grouper, map);
  assembler.Run(dbs, acc, placed);
  return map;
}

}  // namespace moat::map
