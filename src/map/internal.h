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

// The page's stylesheet (page_style.cc) and its script in three parts that html.cc writes in this
// order into one closure, so they share its scope: the search (page_search.cc), the drawing of
// one database's graph (page_graph.cc), and the program that runs (page.cc: data, controls,
// overview, table, details).
extern const std::string_view kPageCss;
extern const std::string_view kPageSearchJs;
extern const std::string_view kPageGraphJs;
extern const std::string_view kPageMainJs;

}  // namespace moat::map::internal
