// The map page's drawing of one database (html.cc writes it into the page's closure): an SVG with
// the database on the right and its consumer groups on the left, busiest first and its "others"
// last, one path per edge styled by its decision (page_style.cc), labelled with its port and
// records. Names as traffic_map.h says: node groups "moat-node moat-<kind>" (a database also
// "moat-<protection>") with id MapNodeDomId, edge i's group "moat-edge moat-<decision>" with id
// "edge-<i>". Uses make/domId/fmtInt/proto of page.cc.
#include "map/internal.h"

namespace moat::map::internal {

const std::string_view kPageGraphJs = R"js(
const SVG_NS = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, cls) {
  const e = document.createElementNS(SVG_NS, tag);
  if (cls) e.setAttribute('class', cls);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}
function svgText(x, y, text, cls, max) {
  const t = svgEl('text', {x: x, y: y}, cls);
  t.textContent = text.length > max ? text.slice(0, max - 1) + '\u2026' : text;
  return t;
}

// Draws database `dbId` into `container` (replacing what was there). Returns the elements drawn:
// {nodes: Map node id -> <g>, edges: Map edge index -> <g>}.
function drawDatabase(container, data, ix, dbId) {
  const W = 1000, CX = 12, CW = 280, DW = 280, DX = W - 12 - DW, LINE = 22, GAP = 12, STRAIGHT = 150;
  const db = ix.nodes.get(dbId);
  const groups = new Map();
  for (const i of ix.to.get(dbId) || []) {
    const e = data.edges[i];
    let g = groups.get(e.from);
    if (!g) groups.set(e.from, (g = {id: e.from, edges: [], records: 0}));
    g.edges.push(i);
    g.records += e.records;
  }
  const others = (id) => (ix.nodes.has(id) && ix.nodes.get(id).kind === 'others' ? 1 : 0);
  const list = Array.from(groups.values()).sort((a, b) =>
    others(a.id) - others(b.id) || b.records - a.records || (a.id < b.id ? -1 : 1));
  let y = 14, total = 0;
  for (const g of list) {
    g.edges.sort((a, b) => data.edges[b].records - data.edges[a].records || a - b);
    g.h = Math.max(44, g.edges.length * LINE + 6);
    g.y = y;
    y += g.h + GAP;
    total += g.edges.length;
  }
  const H = Math.max(y + 2, 110);
  // The database in the middle of its consumers, but within the first screen of a tall graph.
  const dbH = Math.min(Math.max(72, total * 6), H - 28, 420);
  const dbY = Math.round(Math.min((H - dbH) / 2, Math.max(14, 320 - dbH / 2)));
  const svg = svgEl('svg', {viewBox: '0 0 ' + W + ' ' + H, role: 'img'});
  svg.setAttribute('aria-label', 'Consumers of ' + db.label);
  const edgeLayer = svgEl('g', {}, 'edges'), nodeLayer = svgEl('g', {}, 'nodes');
  const drawn = {nodes: new Map(), edges: new Map()};

  let k = 0;
  for (const g of list) {
    g.edges.forEach((i, j) => {
      const e = data.edges[i];
      const x1 = CX + CW, y1 = Math.round(g.y + g.h / 2 + (j - (g.edges.length - 1) / 2) * LINE);
      const x2 = DX, y2 = Math.round(dbY + 10 + (total > 1 ? (k / (total - 1)) * (dbH - 20) : (dbH - 20) / 2));
      const xs = x1 + STRAIGHT, mid = (xs + x2) / 2;
      const d = 'M' + x1 + ',' + y1 + ' H' + xs + ' C' + mid + ',' + y1 + ' ' + mid + ',' + y2 + ' ' + x2 + ',' + y2;
      const eg = svgEl('g', {id: 'edge-' + i}, 'moat-edge moat-' + e.decision + (e.new ? ' moat-new' : ''));
      eg.dataset.edge = i;
      eg.appendChild(svgEl('path', {d: d}));
      eg.appendChild(svgEl('path', {d: d}, 'moat-hit'));
      if (e.new) eg.appendChild(svgEl('circle', {cx: x1 + 4, cy: y1, r: 4}));
      eg.appendChild(svgText(x1 + 12, y1 - 5, proto(e.protocol) + '/' + e.port + ' \u00b7 ' + fmtInt(e.records) +
                                              (e.new ? ' \u00b7 new' : ''), '', 40));
      edgeLayer.appendChild(eg);
      drawn.edges.set(i, eg);
      k++;
    });
    const n = ix.nodes.get(g.id) || {id: g.id, kind: 'subnet', label: g.id, member_count: 0};
    const ng = svgEl('g', {id: domId(g.id)}, 'moat-node moat-' + n.kind);
    ng.dataset.node = g.id;
    const title = svgEl('title');
    title.textContent = n.label;
    ng.appendChild(title);
    const top = g.y + g.h / 2 - 20;
    ng.appendChild(svgEl('rect', {x: CX, y: g.y, width: CW, height: g.h, rx: 6}));
    ng.appendChild(svgText(CX + 10, top + 16, n.label, '', 42));
    ng.appendChild(svgText(CX + 10, top + 33, n.kind + ' \u00b7 ' + fmtInt(n.member_count) + ' members \u00b7 ' +
                                                fmtInt(g.records) + ' records', 'sub', 48));
    nodeLayer.appendChild(ng);
    drawn.nodes.set(g.id, ng);
  }

  const dg = svgEl('g', {id: domId(dbId)}, 'moat-node moat-database moat-' + db.protection);
  dg.dataset.node = dbId;
  const title = svgEl('title');
  title.textContent = db.label + (db.detail ? '\n' + db.detail : '');
  dg.appendChild(title);
  dg.appendChild(svgEl('rect', {x: DX, y: dbY, width: DW, height: dbH, rx: 16}));
  const cy = dbY + dbH / 2;
  dg.appendChild(svgText(DX + 14, cy - 10, db.label, '', 34));
  dg.appendChild(svgText(DX + 14, cy + 6, db.protection + ' \u00b7 ' + fmtInt(list.length) +
                                            (list.length === 1 ? ' group' : ' groups'), 'sub', 40));
  dg.appendChild(svgText(DX + 14, cy + 21, db.detail || (total ? '' : 'no flows in the window'), 'sub', 42));
  nodeLayer.appendChild(dg);
  drawn.nodes.set(dbId, dg);

  svg.appendChild(edgeLayer);
  svg.appendChild(nodeLayer);
  container.replaceChildren(svg);
  return drawn;
}
)js";

}  // namespace moat::map::internal
