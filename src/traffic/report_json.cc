#include <fmt/format.h>

#include <iterator>
#include <nlohmann/json.hpp>

#include "traffic/report.h"

namespace moat::traffic {
namespace {

// A JSON string literal (escaped by nlohmann).
std::string Str(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void AppendTime(std::string& out, int64_t t) {
  if (t == flowlog::kNoTime) {
    out += "null";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", t);
  }
}

}  // namespace

void AppendFlowJson(std::string& out, const Flow& f) {
  auto it = std::back_inserter(out);
  const std::string_view action = ActionName(f.key.action);
  fmt::format_to(it,
                 "{{\"initiator\": \"{}\", \"responder\": \"{}\", \"port\": {}, \"protocol\": {}, \"action\": "
                 "{}, \"records\": {}, \"packets\": {}, \"bytes\": {}, \"first\": ",
                 net::ToString(f.key.initiator), net::ToString(f.key.responder), f.key.port, f.key.protocol,
                 action == "-" ? "null" : fmt::format("\"{}\"", action), f.counts.records, f.counts.packets,
                 f.counts.bytes);
  AppendTime(out, f.counts.first);
  out += ", \"last\": ";
  AppendTime(out, f.counts.last);
  out += '}';
}

// Written as a stream rather than through a JSON document: a report can hold millions of flows,
// and a document costs about a kilobyte per flow.
std::string RenderJson(const FlowsReport& report) {
  const flowlog::Stats& s = report.stats;
  std::string out;
  out.reserve(256 + report.flows.size() * 200);
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 "{{\"totals\": {{\"files\": {}, \"lines\": {}, \"records\": {}, \"nodata\": {}, \"skipdata\": {}, "
                 "\"skipped\": {}, \"flows\": {}}},\n \"skipped\": [",
                 s.files, s.lines, s.records, s.nodata, s.skipdata, s.TotalSkipped(), report.flows.size());
  bool first = true;
  for (size_t i = 0; i < flowlog::kSkipReasonCount; ++i) {
    if (s.skipped[i] == 0) continue;
    fmt::format_to(it, "{}{{\"reason\": \"{}\", \"count\": {}, \"example\": {}}}", first ? "" : ",\n   ",
                   flowlog::SkipReasonName(static_cast<flowlog::SkipReason>(i)), s.skipped[i], Str(s.examples[i]));
    first = false;
  }
  out += "],\n \"flows\": [";
  first = true;
  for (const Flow& f : report.flows) {
    out += first ? "\n  " : ",\n  ";
    AppendFlowJson(out, f);
    first = false;
  }
  out += "],\n \"places\": [";
  first = true;
  for (const PlaceFlows& p : report.places) {
    uint64_t accepted = 0, rejected = 0;
    for (const Flow& f : p.flows) (f.key.action == flowlog::Action::kReject ? rejected : accepted) += f.counts.records;
    fmt::format_to(it,
                   "{}{{\"account\": {}, \"region\": {}, \"files\": {}, \"records\": {}, \"skipped\": {}, "
                   "\"flows\": {}, \"accepted_records\": {}, \"rejected_records\": {}}}",
                   first ? "\n  " : ",\n  ", Str(p.account), Str(p.region), p.stats.files, p.stats.records,
                   p.stats.TotalSkipped(), p.flows.size(), accepted, rejected);
    first = false;
  }
  out += "],\n \"warnings\": [";
  for (size_t i = 0; i < s.warnings.size(); ++i) out += (i ? ", " : "") + Str(s.warnings[i]);
  out += "]}\n";
  return out;
}

}  // namespace moat::traffic
