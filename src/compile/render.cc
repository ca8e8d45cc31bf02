#include "compile/render.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "net/protocol.h"

namespace moat::compile {
namespace {

using Json = nlohmann::ordered_json;

// Prefixes as text; a single address without its /32 or /128.
std::vector<std::string> Addresses(const net::AddressSet& s) {
  std::vector<std::string> out;
  for (const net::Prefix& p : s.ToPrefixes()) {
    out.push_back(p.length == (p.base.is_v4() ? 32 : 128) ? net::ToString(p.base) : net::ToString(p));
  }
  return out;
}

std::string Ports(const AllowEntry& e) {
  if (e.protocol == policy::kAllProtocols) return "all traffic";
  if (e.ports.from == 0 && e.ports.to == 65535) return net::ProtocolName(e.protocol) + " (all ports)";
  if (e.ports.from == e.ports.to) return fmt::format("{}/{}", e.ports.from, net::ProtocolName(e.protocol));
  return fmt::format("{}-{}/{}", e.ports.from, e.ports.to, net::ProtocolName(e.protocol));
}

}  // namespace

std::string RenderJson(const Compiled& compiled) {
  Json targets = Json::array();
  for (const Target& t : compiled.targets) {
    Json allow = Json::array();
    for (const AllowEntry& e : t.allow) {
      Json provenance = Json::array();
      for (const Provenance& p : e.provenance)
        provenance.push_back({{"rule", p.rule}, {"prefixes", p.sources.ToStrings()}});
      allow.push_back({{"protocol", e.protocol},
                       {"from_port", e.ports.from},
                       {"to_port", e.ports.to},
                       {"prefixes", e.sources.ToStrings()},
                       {"provenance", std::move(provenance)}});
    }
    targets.push_back({{"name", t.name},
                       {"fqdn", t.fqdn.empty() ? Json(nullptr) : Json(t.fqdn)},
                       {"addresses", Addresses(t.addresses)},
                       {"allow", std::move(allow)}});
  }
  Json out = {{"targets", std::move(targets)}, {"warnings", compiled.warnings}};
  return out.dump(1) + "\n";
}

std::string RenderText(const Compiled& compiled) {
  std::string out;
  if (compiled.targets.empty()) out += "no targets: no enabled rule has a virtual service or workload as provider\n";
  for (const Target& t : compiled.targets) {
    std::string addresses;
    for (const auto& a : Addresses(t.addresses)) addresses += (addresses.empty() ? "" : ", ") + a;
    out += fmt::format("{}  {}  [{}]\n", t.name, t.fqdn.empty() ? "-" : t.fqdn,
                       addresses.empty() ? "no address" : addresses);
    if (t.allow.empty()) out += "  allows nothing\n";
    for (const AllowEntry& e : t.allow) {
      out += fmt::format("  {}  from {} prefixes ({} addresses)\n", Ports(e), e.sources.ToPrefixes().size(),
                         e.sources.Count() == UINT64_MAX ? std::string("many") : std::to_string(e.sources.Count()));
      for (const Provenance& p : e.provenance) {
        for (const auto& prefix : p.sources.ToStrings()) out += fmt::format("    {:<43} {}\n", prefix, p.rule);
      }
    }
    out += "\n";
  }
  if (!compiled.warnings.empty()) {
    out += "warnings:\n";
    for (const auto& w : compiled.warnings) out += "  " + w + "\n";
  }
  return out;
}

}  // namespace moat::compile
