// The stylesheet of the map page (html.cc). The decision colours and line styles are the legend's,
// the graph's (page_graph.cc) and the table's badges alike.
#include "map/internal.h"

namespace moat::map::internal {

const std::string_view kPageCss = R"css(:root {
  --allowed: #16a34a; --not-allowed: #ea580c; --rejected: #6b7280; --would-cut: #dc2626;
  --fg: #1f2937; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --accent: #2563eb;
  --protected: #1d4ed8; --no-rules: #a16207; --unprotected: #b91c1c; --error: #7e22ce;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
header { padding: 10px 24px 8px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 4px 0 8px; }
.meta { margin: 0; color: var(--muted); }
header details { display: inline-block; margin: 4px 18px 0 0; color: #92400e; vertical-align: top; }
header details summary { cursor: pointer; }
header details ul { margin: 4px 0; padding-left: 20px; max-height: 30vh; overflow: auto; color: var(--fg); }
#moat-no-flows { color: var(--muted); }
.controls { padding: 6px 24px; background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0;
  z-index: 3; }
.controls .row, .legend { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 18px; }
.legend { margin-top: 4px; gap: 4px 16px; }
.search { position: relative; }
#moat-search { width: 420px; max-width: 60vw; padding: 3px 8px; font: inherit; }
.results { position: absolute; left: 0; top: 100%; z-index: 4; width: 520px; max-width: 90vw; max-height: 60vh;
  overflow: auto; margin: 2px 0 0; padding: 4px 0; list-style: none; background: #fff; border: 1px solid #cbd5e1;
  border-radius: 6px; box-shadow: 0 6px 18px rgba(15, 23, 42, .15); }
.results li { padding: 4px 10px; border-bottom: 1px solid var(--line); }
.results li:last-child { border-bottom: 0; }
.results .what { color: var(--muted); font-size: 12px; margin-left: 6px; }
.results .more { color: var(--muted); font-style: italic; }
button.moat-choose { font: inherit; font-size: 13px; margin: 2px 4px 0 0; padding: 0 6px; border: 1px solid #cbd5e1;
  border-radius: 4px; background: #f8fafc; cursor: pointer; }
button.moat-choose:hover { background: #e0e7ff; }
button.moat-choose.main { border: 0; background: none; padding: 0; font-weight: 600; color: var(--accent); }
.decision { display: inline-flex; align-items: center; gap: 6px; cursor: pointer; user-select: none; }
.swatch line { stroke-width: 2.5; }
.decision.moat-allowed .swatch line { stroke: var(--allowed); }
.decision.moat-not-allowed .swatch line { stroke: var(--not-allowed); stroke-dasharray: 6 4; }
.decision.moat-rejected .swatch line { stroke: var(--rejected); stroke-dasharray: 2 3; }
.decision.moat-would-cut .swatch line { stroke: var(--would-cut); stroke-width: 4.5; }
.newmark { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); }
.newmark circle { fill: #7c3aed; }
.newmark line { stroke: #475569; stroke-width: 1.5; }
.count { color: var(--muted); font-variant-numeric: tabular-nums; font-weight: normal; font-size: 13px; }
select, button, input { font: inherit; }
select { padding: 2px 4px; margin-left: 4px; max-width: 300px; }
.kinds { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; }
.kinds strong { font-size: 14px; margin-right: 4px; }
.kind { padding: 1px 8px; border: 1.2px solid; color: var(--fg); }
.kind.database { background: #dbeafe; border-color: #1d4ed8; border-radius: 10px / 6px; }
.kind.labels { background: #f1f5f9; border-color: #475569; border-radius: 5px; }
.kind.ip-list { background: #fef3c7; border-color: #b45309; }
.kind.subnet { background: #fff; border: 1.2px dashed #64748b; }
.kind.others { background: #f8fafc; border: 1.2px dashed #94a3b8; font-style: italic; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 16px; padding: 12px 24px; }
.view { min-width: 0; }
.bar { display: flex; align-items: center; gap: 16px; }
.bar h2 { flex: 1; word-break: break-word; }
#moat-back { padding: 2px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 8px;
  max-height: 72vh; overflow: auto; padding: 2px; }
.card { background: #fff; border: 1px solid var(--line); border-left: 5px solid var(--protected); border-radius: 6px;
  padding: 6px 10px; cursor: pointer; content-visibility: auto; contain-intrinsic-size: auto 88px; }
.card:hover, .card:focus { border-color: var(--accent); outline: none; }
.card.moat-no-rules { border-left-color: var(--no-rules); background: #fffbeb; }
.card.moat-unprotected { border-left-color: var(--unprotected); background: #fef2f2; }
.card.moat-error { border-left-color: var(--error); background: #faf5ff; }
.card h3 { font-size: 14px; margin: 0 0 2px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.card p { margin: 2px 0 0; color: var(--muted); font-size: 12px; }
.card .chip { display: inline-block; min-width: 22px; margin: 2px 3px 0 0; padding: 0 5px; border-radius: 8px;
  color: #fff; font-size: 12px; text-align: center; font-variant-numeric: tabular-nums; }
.prot { display: inline-block; padding: 0 7px; border-radius: 8px; font-size: 11px; color: #fff; }
.prot.moat-protected { background: var(--protected); }
.prot.moat-no-rules { background: var(--no-rules); }
.prot.moat-unprotected { background: var(--unprotected); }
.prot.moat-error { background: var(--error); }
.graph { background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: auto; max-height: 78vh; }
.graph > svg { display: block; width: 100%; height: auto; }
.graph text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; fill: var(--fg); }
.graph text.sub { fill: var(--muted); font-size: 11px; }
.graph .moat-node rect { stroke-width: 1.3; }
.moat-node.moat-database rect { fill: #dbeafe; stroke: var(--protected); stroke-width: 2; }
.moat-node.moat-database.moat-no-rules rect { fill: #fef9c3; stroke: var(--no-rules); }
.moat-node.moat-database.moat-unprotected rect { fill: #fee2e2; stroke: var(--unprotected); }
.moat-node.moat-database.moat-error rect { fill: #f3e8ff; stroke: var(--error); }
.moat-node.moat-database text { font-weight: 600; font-size: 13px; }
.moat-node.moat-labels rect { fill: #f1f5f9; stroke: #475569; }
.moat-node.moat-ip-list rect { fill: #fef3c7; stroke: #b45309; }
.moat-node.moat-subnet rect { fill: #fff; stroke: #64748b; stroke-dasharray: 4 3; }
.moat-node.moat-others rect { fill: #f8fafc; stroke: #94a3b8; stroke-dasharray: 4 3; }
.moat-node.moat-others text { font-style: italic; }
.moat-edge path { fill: none; stroke-width: 2; }
.moat-edge.moat-allowed path { stroke: var(--allowed); }
.moat-edge.moat-not-allowed path { stroke: var(--not-allowed); stroke-dasharray: 6 4; }
.moat-edge.moat-rejected path { stroke: var(--rejected); stroke-dasharray: 2 3; }
.moat-edge.moat-would-cut path { stroke: var(--would-cut); stroke-width: 4.5; }
.moat-edge circle { fill: #7c3aed; }
.moat-edge text { font-size: 11px; fill: #334155; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.moat-edge.moat-new text { font-weight: bold; fill: #7c3aed; }
.moat-edge path.moat-hit { stroke: transparent; stroke-width: 12px; stroke-dasharray: none; pointer-events: stroke; }
.moat-node, .moat-edge { cursor: pointer; }
.moat-edge:hover path:not(.moat-hit), .moat-edge.moat-selected path:not(.moat-hit) { stroke-width: 3.5px; }
.moat-edge.moat-would-cut:hover path:not(.moat-hit) { stroke-width: 6px; }
.moat-node:hover rect, .moat-node.moat-selected rect { stroke: var(--accent); stroke-width: 2.5px; }
.moat-node.moat-match rect { stroke: #7c3aed; stroke-width: 3px; }
.moat-hidden { display: none; }
.moat-dim, .moat-faded { opacity: 0.25; }
.details { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  align-self: start; position: sticky; top: 150px; max-height: 78vh; overflow: auto; font-size: 13px; }
.details h3 { font-size: 15px; margin: 2px 0 6px; word-break: break-word; }
.details dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 6px 0 10px; }
.details dt { color: var(--muted); }
.details dd { margin: 0; word-break: break-word; font-variant-numeric: tabular-nums; }
.details ul { margin: 4px 0; padding-left: 18px; max-height: 260px; overflow: auto;
  font: 12px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }
.details .more, .hint { color: var(--muted); }
.edges { padding: 0 24px 28px; }
#moat-shown { font-weight: normal; color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: #f1f5f9; cursor: pointer; user-select: none; font-weight: 600; position: sticky; top: 0; }
th:hover { background: #e2e8f0; }
th[aria-sort="ascending"]::after { content: " \25B2"; font-size: 10px; }
th[aria-sort="descending"]::after { content: " \25BC"; font-size: 10px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { max-width: 300px; overflow: hidden; text-overflow: ellipsis; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #f8fafc; }
tbody tr.moat-selected { background: #eff6ff; }
.badge { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px; color: #fff; }
.moat-allowed.badge, .chip.moat-allowed { background: var(--allowed); }
.moat-not-allowed.badge, .chip.moat-not-allowed { background: var(--not-allowed); }
.moat-rejected.badge, .chip.moat-rejected { background: var(--rejected); }
.moat-would-cut.badge, .chip.moat-would-cut { background: var(--would-cut); }
.new { font-weight: 700; color: #7c3aed; }
@media (max-width: 960px) { main { grid-template-columns: 1fr; } .details { position: static; } }
)css";

}  // namespace moat::map::internal
