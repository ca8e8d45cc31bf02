// Pieces the map renderers share inside moat_traffic (map*.cc only; not part of the API).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "map/traffic_map.h"

namespace moat::map::internal {

// The map JSON with the given nlohmann indent (-1: one line).
std::string MapJson(const TrafficMap& map, int indent);

// The <svg> element alone (no XML prolog, DOCTYPE or comments), laid out by Graphviz.
Result<std::string> RenderSvgElement(const TrafficMap& map);

// The page's stylesheet and script (map_page.cc).
extern const std::string_view kPageCss;
extern const std::string_view kPageJs;

}  // namespace moat::map::internal
