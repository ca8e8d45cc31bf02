#include <nlohmann/json.hpp>

#include "traffic/report.h"

namespace moat::traffic {

using Json = nlohmann::ordered_json;

namespace {

Json Time(int64_t t) { return t == flowlog::kNoTime ? Json(nullptr) : Json(t); }

}  // namespace

std::string RenderJson(const FlowsReport& report) {
  const flowlog::Stats& s = report.stats;
  Json out;
  out["totals"] = {{"files", s.files},       {"lines", s.lines},       {"records", s.records},
                   {"nodata", s.nodata},     {"skipdata", s.skipdata}, {"skipped", s.TotalSkipped()},
                   {"flows", report.flows.size()}};
  Json skipped = Json::array();
  for (size_t i = 0; i < flowlog::kSkipReasonCount; ++i) {
    if (s.skipped[i] == 0) continue;
    skipped.push_back({{"reason", flowlog::SkipReasonName(static_cast<flowlog::SkipReason>(i))},
                       {"count", s.skipped[i]},
                       {"example", s.examples[i]}});
  }
  out["skipped"] = std::move(skipped);
  Json flows = Json::array();
  for (const Flow& f : report.flows) {
    const std::string_view action = ActionName(f.key.action);
    flows.push_back({{"initiator", net::ToString(f.key.initiator)},
                     {"responder", net::ToString(f.key.responder)},
                     {"port", f.key.port},
                     {"protocol", f.key.protocol},
                     {"action", action == "-" ? Json(nullptr) : Json(action)},
                     {"records", f.counts.records},
                     {"packets", f.counts.packets},
                     {"bytes", f.counts.bytes},
                     {"first", Time(f.counts.first)},
                     {"last", Time(f.counts.last)}});
  }
  out["flows"] = std::move(flows);
  out["warnings"] = s.warnings;
  return out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace moat::traffic
