#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "net/protocol.h"
#include "traffic/report.h"

namespace moat::traffic {

std::string ProtocolName(uint8_t protocol) { return net::ProtocolName(protocol); }

std::string_view ActionName(flowlog::Action action) {
  switch (action) {
    case flowlog::Action::kAccept:
      return "ACCEPT";
    case flowlog::Action::kReject:
      return "REJECT";
    default:
      return "-";
  }
}

namespace {

struct Responder {
  net::Address address;
  FlowCounts accepted, rejected, all;
  std::map<std::pair<uint8_t, uint16_t>, uint64_t> ports;  // (protocol, port) -> records
  std::vector<const Flow*> flows;                          // busiest first (input order)
  std::set<net::Address> initiators;
};

std::vector<Responder> ByResponder(const std::vector<Flow>& flows) {
  std::map<net::Address, Responder> by;
  for (const Flow& f : flows) {
    Responder& r = by[f.key.responder];
    r.address = f.key.responder;
    r.all.Add(f.counts);
    if (f.key.action == flowlog::Action::kAccept) r.accepted.Add(f.counts);
    if (f.key.action == flowlog::Action::kReject) r.rejected.Add(f.counts);
    r.ports[{f.key.protocol, f.key.port}] += f.counts.records;
    r.flows.push_back(&f);
    r.initiators.insert(f.key.initiator);
  }
  std::vector<Responder> out;
  out.reserve(by.size());
  for (auto& [addr, r] : by) out.push_back(std::move(r));
  std::stable_sort(out.begin(), out.end(),
                   [](const Responder& a, const Responder& b) { return a.all.records > b.all.records; });
  return out;
}

std::string Ports(const Responder& r) {
  std::vector<std::pair<uint64_t, std::string>> ports;
  for (const auto& [pp, n] : r.ports) ports.emplace_back(n, fmt::format("{}/{}", pp.second, ProtocolName(pp.first)));
  std::stable_sort(ports.begin(), ports.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (size_t i = 0; i < ports.size() && i < 6; ++i) out += (i ? ", " : "") + ports[i].second;
  if (ports.size() > 6) out += fmt::format(", +{} more", ports.size() - 6);
  return out;
}

std::string LastSeen(int64_t t) { return t == flowlog::kNoTime ? "-" : FormatUtc(t); }

void RenderResponder(const Responder& r, const TextOptions& opt, std::string& out) {
  out += fmt::format("{}  ports {}\n", net::ToString(r.address), Ports(r));
  out += fmt::format("  records {}  accepted {}  rejected {}  initiators {}\n", WithThousands(r.all.records),
                     WithThousands(r.accepted.records), WithThousands(r.rejected.records),
                     WithThousands(r.initiators.size()));
  const size_t shown = std::min(r.flows.size(), opt.max_initiators_per_responder);
  size_t width = 15;  // a dotted quad; IPv6 initiators widen the column
  for (size_t i = 0; i < shown; ++i) width = std::max(width, net::ToString(r.flows[i]->key.initiator).size());
  out += fmt::format("  {:<{}} {:<12} {:<7} {:>12} {:>14} {:>16}  {}\n", "initiator", width, "port", "action",
                     "records", "packets", "bytes", "last seen");
  for (size_t i = 0; i < shown; ++i) {
    const Flow& f = *r.flows[i];
    out += fmt::format("  {:<{}} {:<12} {:<7} {:>12} {:>14} {:>16}  {}\n", net::ToString(f.key.initiator), width,
                       fmt::format("{}/{}", f.key.port, ProtocolName(f.key.protocol)), ActionName(f.key.action),
                       WithThousands(f.counts.records), WithThousands(f.counts.packets), WithThousands(f.counts.bytes),
                       LastSeen(f.counts.last));
  }
  if (r.flows.size() > shown) out += fmt::format("  ... and {} more flows\n", WithThousands(r.flows.size() - shown));
  out += "\n";
}

}  // namespace

std::string RenderText(const FlowsReport& report, const TextOptions& opt) {
  const flowlog::Stats& s = report.stats;
  std::string out;
  const std::vector<Responder> responders = ByResponder(report.flows);
  out +=
      fmt::format("{} files, {} lines: {} records ({} NODATA, {} SKIPDATA, {} skipped) -> {} flows, {} responders\n\n",
                  WithThousands(s.files), WithThousands(s.lines), WithThousands(s.records), WithThousands(s.nodata),
                  WithThousands(s.skipdata), WithThousands(s.TotalSkipped()), WithThousands(report.flows.size()),
                  WithThousands(responders.size()));
  const auto list = [&](const std::vector<Responder>& of) {
    const size_t shown = std::min(of.size(), opt.max_responders);
    for (size_t i = 0; i < shown; ++i) RenderResponder(of[i], opt, out);
    if (of.size() > shown) {
      out += fmt::format("... and {} more responders (--limit to show more, --json for everything)\n\n",
                         WithThousands(of.size() - shown));
    }
  };
  if (report.places.size() <= 1) {
    list(responders);
  } else {
    // Several accounts and regions: each one's own (their addresses may overlap).
    for (const PlaceFlows& p : report.places) {
      const std::vector<Responder> here = ByResponder(p.flows);
      out += fmt::format("== {}: {} files, {} records -> {} flows, {} responders\n\n",
                         p.account.empty() ? "objects that name no account" : p.account + " " + p.region,
                         WithThousands(p.stats.files), WithThousands(p.stats.records), WithThousands(p.flows.size()),
                         WithThousands(here.size()));
      list(here);
    }
  }
  if (s.TotalSkipped() > 0) {
    out += "skipped:\n";
    for (size_t i = 0; i < flowlog::kSkipReasonCount; ++i) {
      if (s.skipped[i] == 0) continue;
      out += fmt::format("  {:<16} {:>10}  e.g. {}\n", flowlog::SkipReasonName(static_cast<flowlog::SkipReason>(i)),
                         WithThousands(s.skipped[i]), s.examples[i]);
    }
  }
  if (!s.warnings.empty()) {
    out += "warnings:\n";
    for (const auto& w : s.warnings) out += "  " + w + "\n";
  }
  return out;
}

}  // namespace moat::traffic
