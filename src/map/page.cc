// The stylesheet and script of the map page (map_html.cc). The script reads the map JSON from the
// #moat-data block, builds the table of edges, wires the filters, sorting, zoom and the details
// panel, and sets document.body.dataset.rendered = "true" when done ("error" when it failed).
// Text from the map only ever goes through textContent.
#include "map/internal.h"

namespace moat::map::internal {

const std::string_view kPageCss = R"css(:root {
  --allowed: #16a34a; --not-allowed: #ea580c; --rejected: #6b7280; --would-cut: #dc2626;
  --fg: #1f2937; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --accent: #2563eb;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: var(--fg); background: var(--bg); }
header { padding: 14px 24px 10px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 4px 0 8px; }
.meta { margin: 0; color: var(--muted); }
.notes { margin: 6px 0 0; padding-left: 20px; color: #92400e; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 28px; padding: 8px 24px;
  background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 16px; }
.decision { display: inline-flex; align-items: center; gap: 6px; cursor: pointer; user-select: none; }
.swatch line { stroke-width: 2.5; }
.decision.moat-allowed .swatch line { stroke: var(--allowed); }
.decision.moat-not-allowed .swatch line { stroke: var(--not-allowed); stroke-dasharray: 6 4; }
.decision.moat-rejected .swatch line { stroke: var(--rejected); stroke-dasharray: 2 3; }
.decision.moat-would-cut .swatch line { stroke: var(--would-cut); stroke-width: 4.5; }
.newmark { display: inline-flex; align-items: center; gap: 6px; color: var(--muted); }
.newmark circle { fill: #475569; }
.newmark line { stroke: #475569; stroke-width: 1.5; }
.count { color: var(--muted); font-variant-numeric: tabular-nums; }
select, button { font: inherit; }
select { padding: 2px 4px; margin-left: 4px; max-width: 260px; }
.kinds { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; }
.kinds strong { font-size: 14px; margin-right: 4px; }
.kind { padding: 1px 8px; border: 1.2px solid; color: var(--fg); }
.kind.database { background: #dbeafe; border-color: #1d4ed8; border-radius: 10px / 6px; }
.kind.labels { background: #f1f5f9; border-color: #475569; border-radius: 5px; }
.kind.ip-list { background: #fef3c7; border-color: #b45309; }
.kind.subnet { background: #fff; border: 1.2px dashed #64748b; }
.zoom button { min-width: 34px; padding: 2px 8px; border: 1px solid var(--line); background: #fff; cursor: pointer; }
.zoom button:hover { background: #f1f5f9; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 330px; gap: 16px; padding: 16px 24px; }
.graph { background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: auto; max-height: 76vh;
  padding: 8px; }
.graph > svg { display: block; margin: 0 auto; max-width: 100%; height: auto; }
.graph.zoomed > svg { max-width: none; margin: 0; }
.details { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  align-self: start; position: sticky; top: 56px; max-height: 76vh; overflow: auto; font-size: 13px; }
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
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: #f1f5f9; cursor: pointer; user-select: none; font-weight: 600; }
th:hover { background: #e2e8f0; }
th[aria-sort="ascending"]::after { content: " \25B2"; font-size: 10px; }
th[aria-sort="descending"]::after { content: " \25BC"; font-size: 10px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { max-width: 300px; overflow: hidden; text-overflow: ellipsis; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #f8fafc; }
tbody tr.moat-selected { background: #eff6ff; }
.badge { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px; color: #fff; }
.badge.moat-allowed { background: var(--allowed); }
.badge.moat-not-allowed { background: var(--not-allowed); }
.badge.moat-rejected { background: var(--rejected); }
.badge.moat-would-cut { background: var(--would-cut); }
.new { font-weight: 700; color: #7c3aed; }
.moat-node, .moat-edge { cursor: pointer; }
.moat-hidden { display: none; }
.moat-dim, .moat-faded { opacity: 0.2; }
.moat-hit { fill: none; stroke: transparent; stroke-width: 12px; pointer-events: stroke; }
.moat-edge:hover path:not(.moat-hit), .moat-edge.moat-selected path:not(.moat-hit) { stroke-width: 3px; }
.moat-node:hover > path, .moat-node:hover > polygon, .moat-node.moat-selected > path,
.moat-node.moat-selected > polygon { stroke-width: 2.5px; stroke: var(--accent); }
.moat-edge.moat-new text { font-weight: bold; }
@media (max-width: 960px) { main { grid-template-columns: 1fr; } .details { position: static; } }
)css";

// JavaScript, not C++: its main() runs long as the page's one closure (data, elements and handlers share its scope).
const std::string_view kPageJs = R"js((function () {
  'use strict';
  try {
    main();
    document.body.dataset.rendered = 'true';
  } catch (err) {
    document.body.dataset.rendered = 'error';
    document.body.dataset.error = String((err && err.message) || err);
    const panel = document.getElementById('moat-details');
    if (panel) panel.textContent = 'The page script failed: ' + document.body.dataset.error;
  }

  function main() {
    const data = JSON.parse(document.getElementById('moat-data').textContent);
    const DECISIONS = ['allowed', 'not-allowed', 'rejected', 'would-cut'];
    const PROTOCOLS = {1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6'};
    const graph = document.getElementById('moat-graph');
    const svg = graph.querySelector('svg');
    const details = document.getElementById('moat-details');
    const tbody = document.querySelector('#moat-edges tbody');
    const nodes = new Map(data.nodes.map((n) => [n.id, n]));
    const nodeEls = new Map();
    for (const n of data.nodes) {
      const g = document.getElementById(domId(n.id));
      if (g) nodeEls.set(n.id, g);
    }
    const edgeEls = data.edges.map((e, i) => document.getElementById('edge-' + i));
    const state = {hidden: new Set(), db: '', key: null, dir: 1, pinned: null};

    // The same encoding as MapNodeDomId (map/traffic_map.h).
    function domId(id) {
      let out = 'node-';
      for (const b of new TextEncoder().encode(id)) {
        const c = String.fromCharCode(b);
        out += b < 0x80 && /[A-Za-z0-9_.~:=,\/@+-]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
      }
      return out;
    }
    const fmtInt = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    function fmtBytes(n) {
      if (n < 1024) return n + ' B';
      const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
      let v = n / 1024, i = 0;
      while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
      return v.toFixed(v < 10 ? 1 : 0) + ' ' + units[i];
    }
    const fmtTime = (t) => (t ? new Date(t * 1000).toISOString().replace('.000Z', 'Z') : '\u2014');
    const proto = (p) => PROTOCOLS[p] || String(p);
    const labelOf = (id) => (nodes.has(id) ? nodes.get(id).label : id);
    function make(tag, cls, text) {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined) e.textContent = text;
      return e;
    }
    function cell(tr, text, cls, title) {
      const td = make('td', cls, text);
      if (title) td.title = title;
      tr.appendChild(td);
      return td;
    }

    // Decision counts and the database choice.
    for (const d of DECISIONS) {
      const n = data.edges.filter((e) => e.decision === d).length;
      const c = document.getElementById('count-' + d);
      if (c) c.textContent = '(' + fmtInt(n) + ')';
    }
    const dbSelect = document.getElementById('filter-db');
    for (const n of data.nodes) {
      if (n.kind !== 'database') continue;
      const o = make('option', '', n.label);
      o.value = n.id;
      dbSelect.appendChild(o);
    }

    // The table.
    const rows = data.edges.map((e, i) => {
      const tr = make('tr', 'moat-' + e.decision);
      cell(tr, labelOf(e.from), 'name', e.from);
      cell(tr, labelOf(e.to), 'name', e.to);
      cell(tr, proto(e.protocol) + '/' + e.port);
      cell(tr, '').appendChild(make('span', 'badge moat-' + e.decision, e.decision));
      cell(tr, fmtInt(e.flows), 'num');
      cell(tr, fmtInt(e.records), 'num');
      cell(tr, fmtBytes(e.bytes), 'num', fmtInt(e.bytes) + ' bytes');
      cell(tr, fmtTime(e.first));
      cell(tr, fmtTime(e.last));
      cell(tr, e.new ? 'NEW' : '', e.new ? 'new' : '');
      tr.addEventListener('mouseenter', () => hover({edge: i}));
      tr.addEventListener('mouseleave', () => hover(null));
      tr.addEventListener('click', () => pin({edge: i}));
      return tr;
    });
    const sortKeys = {
      from: (e) => labelOf(e.from).toLowerCase(),
      to: (e) => labelOf(e.to).toLowerCase(),
      port: (e) => e.port * 256 + e.protocol,
      decision: (e) => DECISIONS.indexOf(e.decision),
      flows: (e) => e.flows, records: (e) => e.records, bytes: (e) => e.bytes,
      first: (e) => e.first, last: (e) => e.last, new: (e) => (e.new ? 1 : 0),
    };
    function sortTable() {
      const order = data.edges.map((e, i) => i);
      if (state.key) {
        const key = sortKeys[state.key];
        order.sort((a, b) => {
          const x = key(data.edges[a]), y = key(data.edges[b]);
          return (x < y ? -1 : x > y ? 1 : 0) * state.dir || a - b;
        });
      }
      tbody.replaceChildren(...order.map((i) => rows[i]));
      for (const th of document.querySelectorAll('#moat-edges th')) {
        if (th.dataset.key === state.key) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
        else th.removeAttribute('aria-sort');
      }
    }
    for (const th of document.querySelectorAll('#moat-edges th')) {
      th.addEventListener('click', () => {
        const k = th.dataset.key;
        if (state.key === k) state.dir = -state.dir;
        else { state.key = k; state.dir = typeof sortKeys[k](data.edges[0] || {}) === 'string' ? 1 : -1; }
        sortTable();
      });
    }

    // Details.
    function dl(pairs) {
      const list = make('dl');
      for (const [k, v] of pairs) { list.appendChild(make('dt', '', k)); list.appendChild(make('dd', '', v)); }
      return list;
    }
    function nodeDetails(id) {
      const n = nodes.get(id);
      const mine = data.edges.filter((e) => e.from === id || e.to === id);
      const records = mine.reduce((s, e) => s + e.records, 0), bytes = mine.reduce((s, e) => s + e.bytes, 0);
      const byDecision = DECISIONS.map((d) => [d, mine.filter((e) => e.decision === d).length])
        .filter(([, c]) => c > 0).map(([d, c]) => c + ' ' + d).join(', ');
      const out = [make('h3', '', n.label), dl([
        ['Kind', n.kind], ['Id', n.id], ['Members', fmtInt(n.member_count)],
        ['Edges', mine.length ? mine.length + ' (' + byDecision + ')' : '0'],
        ['Records', fmtInt(records)], ['Bytes', fmtBytes(bytes)],
      ])];
      if (n.members.length) {
        out.push(make('strong', '', 'Members'));
        const ul = make('ul');
        for (const m of n.members) ul.appendChild(make('li', '', m));
        if (n.member_count > n.members.length) {
          ul.appendChild(make('li', 'more', '\u2026 and ' + fmtInt(n.member_count - n.members.length) + ' more'));
        }
        out.push(ul);
      }
      return out;
    }
    function edgeDetails(i) {
      const e = data.edges[i];
      const out = [make('h3', '', labelOf(e.from) + ' \u2192 ' + labelOf(e.to)), dl([
        ['Port', proto(e.protocol) + '/' + e.port], ['Decision', e.decision], ['New', e.new ? 'yes' : 'no'],
        ['Flows', fmtInt(e.flows)], ['Records', fmtInt(e.records)], ['Packets', fmtInt(e.packets)],
        ['Bytes', fmtBytes(e.bytes) + ' (' + fmtInt(e.bytes) + ')'],
        ['First seen', fmtTime(e.first)], ['Last seen', fmtTime(e.last)], ['From', e.from], ['To', e.to],
      ])];
      out.push(make('strong', '', 'Policy rules'));
      if (e.rules.length) {
        const ul = make('ul');
        for (const r of e.rules) ul.appendChild(make('li', '', r));
        out.push(ul);
      } else {
        out.push(make('p', 'more', 'none'));
      }
      return out;
    }
    function show(t) {
      if (!t) details.replaceChildren(make('p', 'hint', 'Hover over or click a node or an edge for its details.'));
      else details.replaceChildren(...('edge' in t ? edgeDetails(t.edge) : nodeDetails(t.node)));
    }
    function hover(t) { if (!state.pinned) show(t); }
    function pin(t) {
      state.pinned = t;
      for (const x of document.querySelectorAll('.moat-selected, .moat-faded')) {
        x.classList.remove('moat-selected', 'moat-faded');
      }
      if (t) {
        const keepNodes = new Set(), keepEdges = new Set();
        if ('edge' in t) {
          const e = data.edges[t.edge];
          keepEdges.add(t.edge); keepNodes.add(e.from); keepNodes.add(e.to);
          rows[t.edge].classList.add('moat-selected');
          if (edgeEls[t.edge]) edgeEls[t.edge].classList.add('moat-selected');
        } else {
          keepNodes.add(t.node);
          data.edges.forEach((e, i) => {
            if (e.from === t.node || e.to === t.node) { keepEdges.add(i); keepNodes.add(e.from); keepNodes.add(e.to); }
          });
          nodeEls.get(t.node).classList.add('moat-selected');
        }
        for (const [id, g] of nodeEls) if (!keepNodes.has(id)) g.classList.add('moat-faded');
        edgeEls.forEach((g, i) => { if (g && !keepEdges.has(i)) g.classList.add('moat-faded'); });
      }
      show(t);
    }

    // The graph: no Graphviz tooltips (the panel has more), a wide invisible stroke to hit edges.
    for (const [id, g] of nodeEls) {
      for (const t of g.querySelectorAll('title')) t.remove();
      g.addEventListener('mouseenter', () => hover({node: id}));
      g.addEventListener('mouseleave', () => hover(null));
      g.addEventListener('click', (ev) => { ev.stopPropagation(); pin({node: id}); });
    }
    edgeEls.forEach((g, i) => {
      if (!g) return;
      for (const t of g.querySelectorAll('title')) t.remove();
      const path = g.querySelector('path');
      if (path) {
        const hit = path.cloneNode(false);
        hit.removeAttribute('stroke-dasharray');
        hit.setAttribute('class', 'moat-hit');
        g.appendChild(hit);
      }
      g.addEventListener('mouseenter', () => hover({edge: i}));
      g.addEventListener('mouseleave', () => hover(null));
      g.addEventListener('click', (ev) => { ev.stopPropagation(); pin({edge: i}); });
    });
    if (svg) {
      const title = svg.querySelector('title');
      if (title) title.remove();
      svg.addEventListener('click', () => pin(null));
    }
    document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') pin(null); });

    // Filters: a decision unchecked hides its edges; a database hides the edges to the others.
    // Nodes left without a shown edge are dimmed.
    const shown = document.getElementById('moat-shown');
    function applyFilters() {
      const active = new Set();
      let count = 0;
      data.edges.forEach((e, i) => {
        const visible = !state.hidden.has(e.decision) && (!state.db || e.to === state.db);
        if (visible) { count++; active.add(e.from); active.add(e.to); }
        if (edgeEls[i]) edgeEls[i].classList.toggle('moat-hidden', !visible);
        rows[i].hidden = !visible;
      });
      const filtering = state.hidden.size > 0 || state.db !== '';
      for (const [id, g] of nodeEls) g.classList.toggle('moat-dim', filtering && !active.has(id) && id !== state.db);
      shown.textContent = count === data.edges.length ? '(' + fmtInt(count) + ')'
                                                       : '(' + fmtInt(count) + ' of ' + fmtInt(data.edges.length) + ' shown)';
      if (state.pinned && 'edge' in state.pinned && rows[state.pinned.edge].hidden) pin(null);
    }
    for (const box of document.querySelectorAll('input[data-decision]')) {
      box.addEventListener('change', () => {
        if (box.checked) state.hidden.delete(box.dataset.decision);
        else state.hidden.add(box.dataset.decision);
        applyFilters();
      });
    }
    dbSelect.addEventListener('change', () => { state.db = dbSelect.value; applyFilters(); });

    // Zoom: "Fit" fits the width (the initial view); + and - scale from the current size.
    const naturalWidth = svg && svg.viewBox.baseVal ? svg.viewBox.baseVal.width * 4 / 3 : 0;
    function zoomBy(f) {
      if (!svg || !naturalWidth) return;
      const current = svg.getBoundingClientRect().width;
      graph.classList.add('zoomed');
      svg.style.width = Math.max(100, current * f) + 'px';
    }
    document.getElementById('zoom-in').addEventListener('click', () => zoomBy(1.25));
    document.getElementById('zoom-out').addEventListener('click', () => zoomBy(0.8));
    document.getElementById('zoom-fit').addEventListener('click', () => {
      graph.classList.remove('zoomed');
      if (svg) svg.style.width = '';
    });

    sortTable();
    applyFilters();
  }
})();
)js";

}  // namespace moat::map::internal
