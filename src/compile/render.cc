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
  if (policy::IsIcmp(e.protocol)) {
    std::string out;
    for (const IcmpPiece& p : IcmpPieces(e.ports)) {
      out += out.empty() ? "" : ", ";
      if (p.type < 0) {
        out += net::ProtocolName(e.protocol) + " (all types)";
      } else if (p.code < 0) {
        out += fmt::format("{} type {}", net::ProtocolName(e.protocol), p.type);
      } else {
        out += fmt::format("{} type {} code {}", net::ProtocolName(e.protocol), p.type, p.code);
      }
    }
    return out;
  }
  if (e.ports.from == 0 && e.ports.to == 65535) return net::ProtocolName(e.protocol) + " (all ports)";
  if (e.ports.from == e.ports.to) return fmt::format("{}/{}", e.ports.from, net::ProtocolName(e.protocol));
  return fmt::format("{}-{}/{}", e.ports.from, e.ports.to, net::ProtocolName(e.protocol));
}

}  // namespace

std::vector<std::string> AllWarnings(const Compiled& compiled) {
  std::vector<std::string> out = compiled.warnings;
  for (const Target& t : compiled.targets) {
    for (const std::string& w : t.warnings) out.push_back(t.name + ": " + w);
  }
  return out;
}

std::string RenderJson(const Compiled& compiled) {
  Json targets = Json::array();
  for (const Target& t : compiled.targets) {
    Json allow = Json::array();
    for (const AllowEntry& e : t.allow) {
      Json provenance = Json::array();
      for (const Provenance& p : e.provenance)
        provenance.push_back({{"rule", p.rule}, {"prefixes", p.sources.ToStrings()}});
      // ICMP: one entry per type (and code) a security group rule can say, with the type in
      // from_port and the code in to_port (-1: all), as EC2 writes them.
      const bool icmp = policy::IsIcmp(e.protocol);
      const std::vector<IcmpPiece> pieces = icmp ? IcmpPieces(e.ports) : std::vector<IcmpPiece>{{}};
      for (const IcmpPiece& piece : pieces) {
        Json entry = {{"protocol", e.protocol},
                      {"from_port", icmp ? piece.type : e.ports.from},
                      {"to_port", icmp ? piece.code : e.ports.to}};
        if (icmp) {
          entry["icmp_type"] = piece.type < 0 ? Json(nullptr) : Json(piece.type);
          entry["icmp_code"] = piece.code < 0 ? Json(nullptr) : Json(piece.code);
        }
        entry["prefixes"] = e.sources.ToStrings();
        entry["provenance"] = provenance;
        if (!e.destinations.empty()) entry["destinations"] = Addresses(e.destinations);
        allow.push_back(std::move(entry));
      }
    }
    Json target = {{"name", t.name},
                   {"fqdn", t.fqdn.empty() ? Json(nullptr) : Json(t.fqdn)},
                   {"addresses", Addresses(t.addresses)},
                   {"allow", std::move(allow)}};
    if (!t.error.empty()) target["error"] = t.error;
    if (!t.warnings.empty()) target["warnings"] = t.warnings;
    targets.push_back(std::move(target));
  }
  Json out = {{"targets", std::move(targets)}, {"warnings", AllWarnings(compiled)}};
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
    if (!t.error.empty()) {
      out += "  ! cannot be compiled exactly: " + t.error + "\n";
    } else if (t.allow.empty()) {
      out += "  allows nothing\n";
    }
    for (const AllowEntry& e : t.allow) {
      std::string at;
      if (!e.destinations.empty()) {
        for (const auto& a : Addresses(e.destinations)) at += (at.empty() ? "  at " : ", ") + a;
      }
      out += fmt::format("  {}{}  from {} prefixes ({} addresses)\n", Ports(e), at, e.sources.ToPrefixes().size(),
                         e.sources.Count() == UINT64_MAX ? std::string("many") : std::to_string(e.sources.Count()));
      for (const Provenance& p : e.provenance) {
        for (const auto& prefix : p.sources.ToStrings()) out += fmt::format("    {:<43} {}\n", prefix, p.rule);
      }
    }
    out += "\n";
  }
  if (const auto warnings = AllWarnings(compiled); !warnings.empty()) {
    out += "warnings:\n";
    for (const auto& w : warnings) out += "  " + w + "\n";
  }
  return out;
}

}  // namespace moat::compile
