#include "compile/segments.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace moat::compile {
namespace {

using policy::kAllProtocols;

bool Covers(const policy::PortSpec& s, int protocol, net::PortRange range) {
  return (s.protocol == protocol || s.protocol == kAllProtocols) && s.ports.from <= range.from &&
         range.to <= s.ports.to;
}

// ICMP comes from IPv4 addresses only, ICMPv6 from IPv6 ones.
const net::AddressSet& Family(bool v4) {
  static const net::AddressSet kV4 = net::Every(net::Family::kV4), kV6 = net::Every(net::Family::kV6);
  return v4 ? kV4 : kV6;
}

bool SameProvenance(const AllowEntry& a, const AllowEntry& b) {
  if (!(a.sources == b.sources) || a.provenance.size() != b.provenance.size()) return false;
  for (size_t i = 0; i < a.provenance.size(); ++i) {
    if (a.provenance[i].rule != b.provenance[i].rule || !(a.provenance[i].sources == b.provenance[i].sources)) {
      return false;
    }
  }
  return true;
}

// The entries of one part of the target's addresses, from the contributions that apply there.
std::vector<AllowEntry> Segments(const std::vector<const Contribution*>& allows,
                                 const std::vector<const Contribution*>& overrides) {
  std::map<int, std::set<uint32_t>> cuts;  // protocol -> range starts (and ends + 1)
  for (const Contribution* c : allows) {
    cuts[c->ports.protocol].insert(c->ports.ports.from);
    cuts[c->ports.protocol].insert(uint32_t{c->ports.ports.to} + 1);
  }
  // Override-deny ranges cut too, so that each range is denied whole or not at all.
  for (const Contribution* d : overrides) {
    for (auto& [protocol, points] : cuts) {
      if (d->ports.protocol != protocol && d->ports.protocol != kAllProtocols) continue;
      points.insert(d->ports.ports.from);
      points.insert(uint32_t{d->ports.ports.to} + 1);
    }
  }
  std::vector<AllowEntry> out;
  for (const auto& [protocol, points] : cuts) {
    const std::vector<uint32_t> p(points.begin(), points.end());
    for (size_t i = 0; i + 1 < p.size(); ++i) {
      if (p[i] > 65535) break;
      const net::PortRange range{static_cast<uint16_t>(p[i]), static_cast<uint16_t>(p[i + 1] - 1)};
      AllowEntry e{protocol, range, {}, {}, {}};
      net::AddressSet removed;
      for (const Contribution* d : overrides) {
        if (Covers(d->ports, protocol, range)) removed.Add(*d->sources);
      }
      for (const Contribution* c : allows) {
        if (c->ports.protocol != protocol || !Covers(c->ports, protocol, range)) continue;
        net::AddressSet s = *c->sources;
        if (!removed.empty()) s.Subtract(removed);
        if (protocol == 1 || protocol == 58) s = s.Intersect(Family(protocol == 1));
        if (s.empty()) continue;
        e.sources.Add(s);
        auto it = std::find_if(e.provenance.begin(), e.provenance.end(),
                               [&](const Provenance& pv) { return pv.rule == c->rule->href; });
        if (it == e.provenance.end()) {
          e.provenance.push_back({c->rule->href, s});
        } else {
          it->sources.Add(s);
        }
      }
      if (e.sources.empty()) continue;
      // Adjacent ranges with the same sources and rules become one.
      if (!out.empty() && out.back().protocol == protocol && uint32_t{out.back().ports.to} + 1 == range.from &&
          SameProvenance(out.back(), e)) {
        out.back().ports.to = range.to;
      } else {
        out.push_back(std::move(e));
      }
    }
  }
  return out;
}

}  // namespace

std::vector<AllowEntry> AllowEntries(const net::AddressSet& addresses, const std::vector<Contribution>& allows,
                                     const std::vector<Contribution>& overrides) {
  // The parts of the target's addresses that every contribution applies to whole or not at all.
  std::vector<net::AddressSet> parts{addresses};
  std::vector<const net::AddressSet*> seen;
  for (const auto* list : {&allows, &overrides}) {
    for (const Contribution& c : *list) {
      if (c.to == nullptr || std::find(seen.begin(), seen.end(), c.to) != seen.end()) continue;
      seen.push_back(c.to);
      std::vector<net::AddressSet> next;
      for (const net::AddressSet& part : parts) {
        net::AddressSet in = part.Intersect(*c.to), out = part;
        out.Subtract(*c.to);
        if (!in.empty()) next.push_back(std::move(in));
        if (!out.empty()) next.push_back(std::move(out));
      }
      parts = std::move(next);
    }
  }
  if (parts.size() <= 1) {
    std::vector<const Contribution*> a, o;
    for (const Contribution& c : allows) a.push_back(&c);
    for (const Contribution& c : overrides) o.push_back(&c);
    return Segments(a, o);
  }
  std::vector<AllowEntry> out;
  for (const net::AddressSet& part : parts) {
    const auto applies = [&](const Contribution& c) { return c.to == nullptr || !c.to->Intersect(part).empty(); };
    std::vector<const Contribution*> a, o;
    for (const Contribution& c : allows) {
      if (applies(c)) a.push_back(&c);
    }
    for (const Contribution& c : overrides) {
      if (applies(c)) o.push_back(&c);
    }
    for (AllowEntry& e : Segments(a, o)) {
      // The same entry on another part: one entry for both.
      auto same = std::find_if(out.begin(), out.end(), [&](const AllowEntry& x) {
        return x.protocol == e.protocol && x.ports == e.ports && SameProvenance(x, e);
      });
      if (same != out.end()) {
        same->destinations.Add(part);
      } else {
        e.destinations = part;
        out.push_back(std::move(e));
      }
    }
  }
  for (AllowEntry& e : out) {
    if (e.destinations == addresses) e.destinations = {};
  }
  std::stable_sort(out.begin(), out.end(), [](const AllowEntry& a, const AllowEntry& b) {
    return std::tie(a.protocol, a.ports.from, a.ports.to) < std::tie(b.protocol, b.ports.from, b.ports.to);
  });
  return out;
}

Decision Decide(const Target& target, const net::Address& source, int protocol, uint16_t port,
                const net::Address* destination) {
  Decision d;
  const auto applies = [&](int p, net::PortRange ports, const net::AddressSet& destinations) {
    if (p != protocol && p != policy::kAllProtocols) return false;
    if (!policy::IsIcmp(protocol) && (port < ports.from || port > ports.to)) return false;
    return destination == nullptr || destinations.empty() || destinations.Contains(*destination);
  };
  for (const AllowEntry& e : target.allow) {
    if (!applies(e.protocol, e.ports, e.destinations)) continue;
    for (const Provenance& pv : e.provenance) {
      if (pv.sources.Contains(source) && std::find(d.rules.begin(), d.rules.end(), pv.rule) == d.rules.end()) {
        d.rules.push_back(pv.rule);
      }
    }
  }
  d.allowed = !d.rules.empty();
  if (!d.allowed) {
    for (const DenyEntry& od : target.override_denied) {
      if (applies(od.protocol, od.ports, {}) && od.sources.Contains(source)) {
        d.denied_by = od.rule;
        break;
      }
    }
  }
  return d;
}

Narrowed ForAddresses(const Target& target, const std::vector<net::Address>& addresses) {
  Narrowed out{target, {}};
  const bool by_address = std::any_of(target.allow.begin(), target.allow.end(),
                                      [](const AllowEntry& e) { return !e.destinations.empty(); });
  if (!by_address) return out;
  const std::string differ = "the policy gives the addresses bound to " + target.name + " different rules, ";
  if (addresses.empty()) {
    out.error = differ + "and the database's address is not known";
    return out;
  }
  // The entries that apply at each address: one security group applies to all of them alike.
  std::vector<size_t> first;
  for (size_t k = 0; k < addresses.size(); ++k) {
    const net::Address& a = addresses[k];
    if (!target.addresses.Contains(a)) {
      out.error = differ + "and the database's address " + net::ToString(a) + " is not one of them";
      return out;
    }
    std::vector<size_t> here;
    for (size_t i = 0; i < target.allow.size(); ++i) {
      const auto& d = target.allow[i].destinations;
      if (d.empty() || d.Contains(a)) here.push_back(i);
    }
    if (k == 0) {
      first = std::move(here);
    } else if (here != first) {
      out.error = differ + "and the database's addresses " + net::ToString(addresses[0]) + " and " + net::ToString(a) +
                  " are given different ones; one security group cannot";
      return out;
    }
  }
  out.target.allow.clear();
  for (size_t i : first) {
    out.target.allow.push_back(target.allow[i]);
    out.target.allow.back().destinations = {};
  }
  return out;
}

std::vector<IcmpPiece> IcmpPieces(net::PortRange r) {
  std::vector<IcmpPiece> out;
  if (r.from == 0 && r.to == 65535) return {{-1, -1}};
  uint32_t at = r.from;
  while (at <= r.to) {
    const int type = static_cast<int>(at >> 8), code = static_cast<int>(at & 0xff);
    if (code == 0 && at + 255 <= r.to) {  // every code of this type
      out.push_back({type, -1});
      at += 256;
    } else {
      out.push_back({type, code});
      at += 1;
    }
  }
  return out;
}

}  // namespace moat::compile
