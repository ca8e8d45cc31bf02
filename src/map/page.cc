// The map page's program, written last into the page's closure (html.cc) so that the constants
// of the search (page_search.cc) and of the drawing (page_graph.cc) are set when it runs. It reads
// the map JSON from #moat-data, indexes the edges by database once, fills the controls, shows the
// overview (a card per database) or the graph of the chosen database (#db=<id> in the URL), the
// table of the edges the filters keep (at most 1,000 rows) and the details panel, and sets
// document.body.dataset.rendered = "true" when done ("error" when it failed). Map text only ever
// goes through textContent.
#include "map/internal.h"

namespace moat::map::internal {

const std::string_view kPageMainJs = R"js(
const DECISIONS = ['allowed', 'not-allowed', 'rejected', 'would-cut'];
const PROTECTIONS = ['unprotected', 'error', 'no-rules', 'protected'];  // most attention first
const PROTOCOLS = {1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6'};
const MAX_ROWS = 1000;
try {
  main();
  document.body.dataset.rendered = 'true';
} catch (err) {
  document.body.dataset.rendered = 'error';
  document.body.dataset.error = String((err && err.message) || err);
  const panel = document.getElementById('moat-details');
  if (panel) panel.textContent = 'The page script failed: ' + document.body.dataset.error;
}
document.body.dataset.renderMs = String(Math.round(performance.now()));
// And once the browser has laid out and painted what the script built.
requestAnimationFrame(() => setTimeout(() => { document.body.dataset.paintMs = String(Math.round(performance.now())); }));

// The same encoding as MapNodeDomId (map/traffic_map.h).
function domId(id) {
  let out = 'node-';
  for (const b of new TextEncoder().encode(id)) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && /[A-Za-z0-9_.~:=,\/@+-]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
function fmtInt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toFixed(v < 10 ? 1 : 0) + ' ' + units[i];
}
function fmtTime(t) { return t ? new Date(t * 1000).toISOString().replace('.000Z', 'Z') : '\u2014'; }
function proto(p) { return PROTOCOLS[p] || String(p); }
function portKey(e) { return proto(e.protocol) + '/' + e.port; }
function make(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function chooser(id, text, cls) {
  const b = make('button', 'moat-choose' + (cls ? ' ' + cls : ''), text);
  b.type = 'button';
  b.dataset.db = id;
  return b;
}

// Nodes by id, the databases, edge indexes by database and by consumer, edges by port, and each
// database's totals: built once.
function indexMap(data) {
  const nodes = new Map(), dbs = [], to = new Map(), from = new Map(), ports = new Map(), stats = new Map();
  for (const n of data.nodes) {
    nodes.set(n.id, n);
    if (n.kind === 'database') { dbs.push(n); to.set(n.id, []); }
  }
  const push = (m, k, i) => { const a = m.get(k); if (a) a.push(i); else m.set(k, [i]); };
  const edges = data.edges;
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    push(to, e.to, i);
    push(from, e.from, i);
    const p = portKey(e);
    ports.set(p, (ports.get(p) || 0) + 1);
  }
  for (const d of dbs) {
    const s = {records: 0, bytes: 0, edges: 0, consumers: 0, counts: {}};
    for (const x of DECISIONS) s.counts[x] = 0;
    const seen = new Set();
    for (const i of to.get(d.id)) {
      const e = edges[i];
      s.records += e.records;
      s.bytes += e.bytes;
      s.counts[e.decision]++;
      seen.add(e.from);
    }
    s.edges = to.get(d.id).length;
    s.consumers = seen.size;
    stats.set(d.id, s);
  }
  return {nodes: nodes, dbs: dbs, to: to, from: from, ports: ports, stats: stats};
}

function main() {
  const data = JSON.parse(document.getElementById('moat-data').textContent);
  const ix = indexMap(data);
  const search = makeSearch(data, ix);
  const $ = (id) => document.getElementById(id);
  const el = {db: $('moat-db'), search: $('moat-search'), results: $('moat-results'), port: $('filter-port'),
              from: $('filter-from'), to: $('filter-to'), cards: $('moat-cards'), overview: $('moat-overview'),
              database: $('moat-database'), graph: $('moat-graph'), title: $('moat-db-title'), sort: $('moat-sort'),
              details: $('moat-details'), tbody: document.querySelector('#moat-edges tbody'), shown: $('moat-shown')};
  const state = {db: '', hidden: new Set(), port: '', from: 0, to: 0, match: null, key: 'records', dir: -1,
                 pinned: null, drawn: null, timer: 0};
  const labelOf = (id) => (ix.nodes.has(id) ? ix.nodes.get(id).label : id);

  // The database picker and the overview's cards.
  const byName = ix.dbs.slice().sort((a, b) => a.label.localeCompare(b.label) || (a.id < b.id ? -1 : 1));
  const options = document.createDocumentFragment();
  for (const d of byName) {
    const s = ix.stats.get(d.id);
    const o = make('option', '', d.label + ' \u2014 ' + d.protection + (s.edges ? '' : ', no flows'));
    o.value = d.id;
    options.appendChild(o);
  }
  el.db.appendChild(options);
  $('moat-db-count').textContent = '(' + fmtInt(ix.dbs.length) + ')';
  const cards = new Map();
  for (const d of ix.dbs) cards.set(d.id, card(d, ix.stats.get(d.id)));
  function card(d, s) {
    const c = make('div', 'card moat-' + d.protection);
    c.tabIndex = 0;
    c.setAttribute('role', 'button');
    c.dataset.db = d.id;
    c.title = d.label + (d.detail ? '\n' + d.detail : '');
    c.appendChild(make('h3', '', d.label));
    const p = make('p');
    p.appendChild(make('span', 'prot moat-' + d.protection, d.protection));
    p.appendChild(document.createTextNode(s.edges ? ' ' + fmtInt(s.consumers) + (s.consumers === 1 ? ' group' : ' groups') +
                                                    ' \u00b7 ' + fmtInt(s.records) + ' records' : ' no flows in the window'));
    c.appendChild(p);
    const chips = make('p');
    for (const x of DECISIONS) {
      if (s.counts[x]) chips.appendChild(make('span', 'chip moat-' + x, fmtInt(s.counts[x]))).title = x + ' edges';
    }
    c.appendChild(chips);
    return c;
  }
  const sorts = {
    records: (a, b) => b.s.records - a.s.records,
    attention: (a, b) => b.s.counts['would-cut'] - a.s.counts['would-cut'] ||
                         b.s.counts['not-allowed'] - a.s.counts['not-allowed'],
    protection: (a, b) => PROTECTIONS.indexOf(a.d.protection) - PROTECTIONS.indexOf(b.d.protection) ||
                          b.s.records - a.s.records,
    name: () => 0,
  };
  function sortCards() {
    const list = byName.map((d) => ({d: d, s: ix.stats.get(d.id)}));
    const by = sorts[el.sort.value] || sorts.records;
    list.sort((a, b) => by(a, b) || a.d.label.localeCompare(b.d.label));
    el.cards.replaceChildren(...list.map((x) => cards.get(x.d.id)));
  }
  el.sort.addEventListener('change', sortCards);
  el.cards.addEventListener('click', (ev) => { const c = ev.target.closest('.card'); if (c) choose(c.dataset.db); });
  el.cards.addEventListener('keydown', (ev) => {
    const c = ev.target.closest('.card');
    if (c && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); choose(c.dataset.db); }
  });
  el.db.addEventListener('change', () => choose(el.db.value));
  $('moat-back').addEventListener('click', () => choose(''));

  // Choosing a database: the URL says which, so that a link shows it.
  const hashOf = (id) => (id ? '#db=' + encodeURIComponent(id) : '');
  function fromHash() {
    if (!location.hash.startsWith('#db=')) return '';
    try { return decodeURIComponent(location.hash.slice(4)); } catch (err) { return ''; }
  }
  function choose(id, keepHash) {
    if (!ix.stats.has(id)) id = '';
    state.db = id;
    el.db.value = id;
    el.results.hidden = true;
    if (!keepHash && fromHash() !== id) location.hash = hashOf(id);
    el.overview.hidden = id !== '';
    el.database.hidden = id === '';
    state.pinned = null;
    if (id) {
      const d = ix.nodes.get(id);
      el.title.replaceChildren(make('span', '', d.label + ' '), make('span', 'prot moat-' + d.protection, d.protection));
      state.drawn = drawDatabase(el.graph, data, ix, id);
    } else {
      el.graph.replaceChildren();
      state.drawn = null;
    }
    updateCounts();
    applyFilters();
    show(null);
  }
  window.addEventListener('hashchange', () => { if (fromHash() !== state.db) choose(fromHash(), true); });

  // Filters: decisions, port, time range and search; the graph and the table keep the same edges.
  function passes(e) {
    if (state.hidden.has(e.decision)) return false;
    if (state.port && portKey(e) !== state.port) return false;
    const first = e.first || e.last, last = e.last || e.first;
    if (first && ((state.from && last < state.from) || (state.to && first > state.to))) return false;
    const m = state.match;
    return !m || m.nodes.has(e.from) || m.nodes.has(e.to) || m.ports.has(String(e.port)) || m.ports.has(portKey(e));
  }
  function applyFilters() {
    clearTimeout(state.timer);
    const scope = state.db ? ix.to.get(state.db) : null;
    const kept = [];
    if (scope) {
      for (const i of scope) if (passes(data.edges[i])) kept.push(i);
    } else {
      for (let i = 0; i < data.edges.length; i++) if (passes(data.edges[i])) kept.push(i);
    }
    if (state.drawn) {
      const keep = new Set(kept), active = new Set([state.db]);
      for (const [i, g] of state.drawn.edges) {
        g.classList.toggle('moat-hidden', !keep.has(i));
        if (keep.has(i)) active.add(data.edges[i].from);
      }
      for (const [id, g] of state.drawn.nodes) {
        g.classList.toggle('moat-dim', !active.has(id));
        g.classList.toggle('moat-match', !!state.match && state.match.nodes.has(id) && id !== state.db);
      }
    }
    renderTable(kept, scope ? scope.length : data.edges.length);
    if (state.pinned && 'edge' in state.pinned && !kept.includes(state.pinned.edge)) pin(null);
  }
  const later = () => { clearTimeout(state.timer); state.timer = setTimeout(applyFilters, 120); };
  function updateCounts() {
    const counts = {};
    for (const x of DECISIONS) counts[x] = 0;
    if (state.db) Object.assign(counts, ix.stats.get(state.db).counts);
    else for (const e of data.edges) counts[e.decision]++;
    for (const x of DECISIONS) $('count-' + x).textContent = '(' + fmtInt(counts[x]) + ')';
  }
  for (const box of document.querySelectorAll('input[data-decision]')) {
    box.addEventListener('change', () => {
      if (box.checked) state.hidden.delete(box.dataset.decision);
      else state.hidden.add(box.dataset.decision);
      applyFilters();
    });
  }
  const ports = Array.from(ix.ports.entries()).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [p, n] of ports) {
    const o = make('option', '', p + ' (' + fmtInt(n) + ')');
    o.value = p;
    el.port.appendChild(o);
  }
  el.port.addEventListener('change', () => { state.port = el.port.value; applyFilters(); });
  // datetime-local holds minutes without a zone: the page reads and writes them as UTC.
  const local = (t) => new Date(t * 1000).toISOString().slice(0, 16);
  const utc = (v, end) => (v ? Date.parse(v + ':00Z') / 1000 + (end ? 59 : 0) : 0);
  for (const input of [el.from, el.to]) {
    if (data.first) input.min = local(data.first);
    if (data.last) input.max = local(data.last);
    input.addEventListener('change', () => {
      state.from = utc(el.from.value, false) || 0;
      state.to = utc(el.to.value, true) || 0;
      applyFilters();
    });
  }
  $('filter-reset').addEventListener('click', () => {
    for (const box of document.querySelectorAll('input[data-decision]')) box.checked = true;
    state.hidden.clear();
    el.port.value = state.port = '';
    el.from.value = el.to.value = '';
    state.from = state.to = 0;
    applyFilters();
  });

  // The search: results choose a database; what it matched filters the graph and the table.
  el.search.addEventListener('input', () => {
    const found = search.find(el.search.value);
    state.match = found ? found.match : null;
    renderResults(found);
    later();
  });
  el.search.addEventListener('focus', () => { if (el.search.value.trim()) el.results.hidden = false; });
  function renderResults(found) {
    el.results.hidden = !found;
    if (!found) { el.results.replaceChildren(); return; }
    const out = [];
    for (const item of found.items.slice(0, 60)) {
      const li = make('li', 'moat-result moat-' + item.kind);
      if (item.kind === 'database') {
        const d = ix.nodes.get(item.id);
        li.appendChild(chooser(item.id, d.label, 'main'));
        li.appendChild(make('span', 'what', 'database \u00b7 ' + d.protection + (item.why ? ' \u00b7 ' + item.why : '')));
      } else {
        const n = item.kind === 'port' ? null : ix.nodes.get(item.id);
        li.appendChild(make('strong', '', n ? n.label : 'port ' + item.key));
        li.appendChild(make('span', 'what', n ? n.kind + ' \u00b7 ' + item.why : fmtInt(item.dbs.length) + ' databases'));
        const reach = make('div');
        for (const id of item.dbs.slice(0, 20)) reach.appendChild(chooser(id, labelOf(id)));
        if (item.dbs.length > 20) reach.appendChild(make('span', 'more', '\u2026 ' + (item.dbs.length - 20) + ' more'));
        if (!item.dbs.length) reach.appendChild(make('span', 'more', 'no edges'));
        li.appendChild(reach);
      }
      out.push(li);
    }
    if (found.items.length > 60) out.push(make('li', 'more', '\u2026 and ' + (found.items.length - 60) + ' more'));
    if (!found.items.length) out.push(make('li', 'more', 'No database, address, label or port matches'));
    el.results.replaceChildren(...out);
  }
  for (const box of [el.results, el.details]) {
    box.addEventListener('click', (ev) => { const b = ev.target.closest('.moat-choose'); if (b) choose(b.dataset.db); });
  }

  // The table: the kept edges, sorted, at most MAX_ROWS rows built (and kept for reuse).
  const rows = new Map();
  function row(i) {
    let tr = rows.get(i);
    if (tr) return tr;
    const e = data.edges[i];
    tr = make('tr', 'moat-' + e.decision);
    tr.dataset.edge = i;
    const cell = (text, cls, title) => { const td = tr.appendChild(make('td', cls, text)); if (title) td.title = title; return td; };
    cell(labelOf(e.from), 'name', e.from);
    cell(labelOf(e.to), 'name', e.to);
    cell(portKey(e));
    cell('').appendChild(make('span', 'badge moat-' + e.decision, e.decision));
    cell(fmtInt(e.flows), 'num');
    cell(fmtInt(e.records), 'num');
    cell(fmtBytes(e.bytes), 'num', fmtInt(e.bytes) + ' bytes');
    cell(fmtTime(e.first));
    cell(fmtTime(e.last));
    cell(e.new ? 'NEW' : '', e.new ? 'new' : '');
    rows.set(i, tr);
    return tr;
  }
  const sortKeys = {
    from: (e) => labelOf(e.from).toLowerCase(), to: (e) => labelOf(e.to).toLowerCase(),
    port: (e) => e.port * 256 + e.protocol, decision: (e) => DECISIONS.indexOf(e.decision),
    flows: (e) => e.flows, records: (e) => e.records, bytes: (e) => e.bytes,
    first: (e) => e.first, last: (e) => e.last, new: (e) => (e.new ? 1 : 0),
  };
  function renderTable(kept, scope) {
    let order = kept;
    if (state.key) {
      const key = sortKeys[state.key], keys = new Map(kept.map((i) => [i, key(data.edges[i])]));
      order = kept.slice().sort((a, b) => {
        const x = keys.get(a), y = keys.get(b);
        return (x < y ? -1 : x > y ? 1 : 0) * state.dir || a - b;
      });
    }
    const shown = order.slice(0, MAX_ROWS);
    el.tbody.replaceChildren(...shown.map(row));
    for (const tr of el.tbody.querySelectorAll('.moat-selected')) tr.classList.remove('moat-selected');
    if (state.pinned && 'edge' in state.pinned && rows.has(state.pinned.edge)) rows.get(state.pinned.edge).classList.add('moat-selected');
    let text = shown.length < kept.length ? 'showing ' + fmtInt(shown.length) + ' of ' + fmtInt(kept.length)
                                          : fmtInt(kept.length);
    text += kept.length < scope ? ' (filtered from ' + fmtInt(scope) + ')' : '';
    el.shown.textContent = text + (state.db ? ' to ' + labelOf(state.db) : ' to every database');
    for (const th of document.querySelectorAll('#moat-edges th')) {
      if (th.dataset.key === state.key) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
  }
  for (const th of document.querySelectorAll('#moat-edges th')) {
    th.addEventListener('click', () => {
      const k = th.dataset.key;
      if (state.key === k) state.dir = -state.dir;
      else { state.key = k; state.dir = k === 'from' || k === 'to' || k === 'port' || k === 'decision' ? 1 : -1; }
      applyFilters();
    });
  }
  const edgeOf = (ev) => { const tr = ev.target.closest('tr[data-edge]'); return tr ? {edge: Number(tr.dataset.edge)} : null; };
  el.tbody.addEventListener('mouseover', (ev) => hover(edgeOf(ev)));
  el.tbody.addEventListener('mouseleave', () => hover(null));
  el.tbody.addEventListener('click', (ev) => { const t = edgeOf(ev); if (t) pin(t); });

  // The graph: one listener each for hover and click.
  function target(ev) {
    const g = ev.target.closest('.moat-edge, .moat-node');
    if (!g) return null;
    return g.classList.contains('moat-edge') ? {edge: Number(g.dataset.edge)} : {node: g.dataset.node};
  }
  el.graph.addEventListener('mouseover', (ev) => hover(target(ev)));
  el.graph.addEventListener('mouseleave', () => hover(null));
  el.graph.addEventListener('click', (ev) => pin(target(ev)));
  document.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    if (document.activeElement === el.search && el.search.value) {
      el.search.value = '';
      el.search.dispatchEvent(new Event('input'));
    }
    el.results.hidden = true;
    pin(null);
  });
  document.addEventListener('click', (ev) => { if (!ev.target.closest('.search')) el.results.hidden = true; });

  // Details.
  function dl(pairs) {
    const list = make('dl');
    for (const [k, v] of pairs) { list.appendChild(make('dt', '', k)); list.appendChild(make('dd', '', v)); }
    return list;
  }
  function list(title, items, more) {
    const out = [make('strong', '', title)], ul = make('ul');
    for (const x of items) ul.appendChild(make('li', '', x));
    if (more > 0) ul.appendChild(make('li', 'more', '\u2026 and ' + fmtInt(more) + ' more'));
    out.push(ul);
    return out;
  }
  function nodeDetails(id) {
    const n = ix.nodes.get(id);
    if (!n) return [make('h3', '', id)];
    const db = n.kind === 'database';
    const mine = (db ? ix.to.get(id) : ix.from.get(id)) || [];
    const here = db || !state.db ? mine : mine.filter((i) => data.edges[i].to === state.db);
    let records = 0, bytes = 0;
    const counts = {};
    for (const i of here) {
      const e = data.edges[i];
      records += e.records;
      bytes += e.bytes;
      counts[e.decision] = (counts[e.decision] || 0) + 1;
    }
    const by = DECISIONS.filter((x) => counts[x]).map((x) => counts[x] + ' ' + x).join(', ');
    const pairs = [['Kind', n.kind], ['Id', n.id]];
    if (db) pairs.push(['Protection', n.protection], ['Detail', n.detail || '\u2014']);
    pairs.push(['Members', fmtInt(n.member_count)], [db || !state.db ? 'Edges' : 'Edges here', here.length ? here.length + ' (' + by + ')' : '0'],
               ['Records', fmtInt(records)], ['Bytes', fmtBytes(bytes)]);
    if (n.labels && n.labels.length) pairs.push(['Labels', n.labels.join(', ')]);
    if (n.addresses && n.addresses.length) pairs.push(['Addresses', fmtInt(n.addresses.length)]);
    const out = [make('h3', '', n.label), dl(pairs)];
    if (n.members.length) out.push(...list('Members', n.members, n.member_count - n.members.length));
    if (!db) {
      const reach = new Map();
      for (const i of mine) reach.set(data.edges[i].to, (reach.get(data.edges[i].to) || 0) + data.edges[i].records);
      const ids = Array.from(reach.entries()).sort((a, b) => b[1] - a[1]).map((x) => x[0]);
      out.push(make('strong', '', 'Databases it reaches (' + fmtInt(ids.length) + ')'));
      const box = make('div');
      for (const d of ids.slice(0, 100)) box.appendChild(chooser(d, labelOf(d) + ' \u00b7 ' + fmtInt(reach.get(d))));
      if (ids.length > 100) box.appendChild(make('span', 'more', '\u2026 ' + (ids.length - 100) + ' more'));
      out.push(box);
    }
    return out;
  }
  function edgeDetails(i) {
    const e = data.edges[i];
    const out = [make('h3', '', labelOf(e.from) + ' \u2192 ' + labelOf(e.to)), dl([
      ['Port', portKey(e)], ['Decision', e.decision], ['New', e.new ? 'yes' : 'no'],
      ['Flows', fmtInt(e.flows)], ['Records', fmtInt(e.records)], ['Packets', fmtInt(e.packets)],
      ['Bytes', fmtBytes(e.bytes) + ' (' + fmtInt(e.bytes) + ')'],
      ['First seen', fmtTime(e.first)], ['Last seen', fmtTime(e.last)], ['From', e.from], ['To', e.to],
    ])];
    if (e.rules.length) out.push(...list('Policy rules', e.rules, 0));
    else out.push(make('strong', '', 'Policy rules'), make('p', 'more', 'none'));
    return out;
  }
  function show(t) {
    if (t) el.details.replaceChildren(...('edge' in t ? edgeDetails(t.edge) : nodeDetails(t.node)));
    else if (state.db) el.details.replaceChildren(...nodeDetails(state.db));
    else el.details.replaceChildren(make('p', 'hint', 'Choose a database (a card, the picker or the search); click a node or an edge for its details.'));
  }
  function hover(t) { if (!state.pinned) show(t); }
  function pin(t) {
    state.pinned = t;
    for (const x of document.querySelectorAll('.moat-selected, .moat-faded')) x.classList.remove('moat-selected', 'moat-faded');
    if (t && state.drawn) {
      const keepNodes = new Set(), keepEdges = new Set();
      if ('edge' in t) {
        const e = data.edges[t.edge];
        keepEdges.add(t.edge);
        keepNodes.add(e.from).add(e.to);
      } else {
        keepNodes.add(t.node);
        for (const i of state.drawn.edges.keys()) {
          const e = data.edges[i];
          if (e.from === t.node || e.to === t.node) { keepEdges.add(i); keepNodes.add(e.from).add(e.to); }
        }
      }
      for (const [id, g] of state.drawn.nodes) g.classList.toggle('moat-faded', !keepNodes.has(id));
      for (const [i, g] of state.drawn.edges) g.classList.toggle('moat-faded', !keepEdges.has(i));
      const g = 'edge' in t ? state.drawn.edges.get(t.edge) : state.drawn.nodes.get(t.node);
      if (g) {
        g.classList.remove('moat-faded');
        g.classList.add('moat-selected');
      }
    }
    if (t && 'edge' in t && rows.has(t.edge)) rows.get(t.edge).classList.add('moat-selected');
    show(t);
  }

  sortCards();
  choose(fromHash(), true);
}
)js";

}  // namespace moat::map::internal
