// The map page's search (html.cc writes it into the page's closure): databases by name, id or
// detail; consumer groups by address (one of their members or folded addresses, or inside a
// subnet node's prefix), by label ("role=web", or a value) or by name; and ports ("5432",
// "tcp/5432"). The indexes are built on the first query that needs them. Uses proto of page.cc.
#include "map/internal.h"

namespace moat::map::internal {

const std::string_view kPageSearchJs = R"js(
// An IPv4 address as 4 bytes, an IPv6 address as 16; null when `s` is neither.
function parseIp(s) {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const b = s.split('.').map(Number);
    return b.every((x) => x <= 255) ? b : null;
  }
  if (s.indexOf(':') < 0 || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let str = s, v4 = null;
  const colon = s.lastIndexOf(':');
  if (s.indexOf('.', colon) > 0) {
    v4 = parseIp(s.slice(colon + 1));
    if (!v4 || v4.length !== 4) return null;
    str = s.slice(0, colon + 1) + '0:0';
  }
  const halves = str.split('::');
  if (halves.length > 2) return null;
  const words = (h) => (h === '' ? [] : h.split(':').map((w) => (/^[0-9a-fA-F]{1,4}$/.test(w) ? parseInt(w, 16) : NaN)));
  const a = words(halves[0]), b = halves.length === 2 ? words(halves[1]) : [];
  if (a.some(isNaN) || b.some(isNaN)) return null;
  const fill = 8 - a.length - b.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const w = a.concat(new Array(halves.length === 2 ? fill : 0).fill(0), b);
  if (v4) { w[6] = v4[0] * 256 + v4[1]; w[7] = v4[2] * 256 + v4[3]; }
  const bytes = [];
  for (const x of w) bytes.push(x >> 8, x & 255);
  return bytes;
}
function parseCidr(s) {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIp(s.slice(0, slash)), len = Number(s.slice(slash + 1));
  if (!ip || !/^\d+$/.test(s.slice(slash + 1)) || len > ip.length * 8) return null;
  return {ip: ip, len: len};
}
function inCidr(c, ip) {
  if (c.ip.length !== ip.length) return false;
  for (let bit = 0; bit < c.len; bit += 8) {
    const mask = c.len - bit >= 8 ? 0xff : (0xff << (8 - (c.len - bit))) & 0xff;
    if ((c.ip[bit / 8] & mask) !== (ip[bit / 8] & mask)) return false;
  }
  return true;
}

// find(text) -> null for an empty query, else {items, match}: items to list (databases first,
// then consumer groups with the databases they reach, then ports), and match, what the filters
// keep: edges from or to match.nodes, or on one of match.ports ("5432" or "tcp/5432").
function makeSearch(data, ix) {
  let byAddress = null, subnets = null, byLabel = null, byValue = null, byPort = null;
  const push = (m, k, v) => {
    const a = m.get(k);
    if (!a) m.set(k, [v]);
    else if (a[a.length - 1] !== v) a.push(v);
  };
  function indexAddresses() {
    byAddress = new Map();
    subnets = [];
    for (const n of data.nodes) {
      for (const list of [n.members || [], n.addresses || []]) {
        for (const m of list) {
          for (const token of m.split(' ')) {
            const ip = parseIp(token);
            if (ip) push(byAddress, ip.join('.'), n.id);
          }
        }
      }
      if (n.kind === 'subnet') {
        const c = parseCidr(n.id.slice(n.id.indexOf(':') + 1)) || parseCidr(n.label);
        if (c) subnets.push([c, n.id]);
      }
    }
  }
  function indexLabels() {
    byLabel = new Map();
    byValue = new Map();
    for (const n of data.nodes) {
      if (n.kind !== 'labels') continue;
      const labels = n.labels || (n.id.startsWith('labels:') ? n.id.slice(7).split(',') : []);
      for (const l of labels) {
        const lower = l.toLowerCase();
        push(byLabel, lower, n.id);
        push(byValue, lower.slice(lower.indexOf('=') + 1), n.id);
      }
    }
  }
  function indexPorts() {
    byPort = new Map();
    data.edges.forEach((e) => {
      for (const key of [String(e.port), proto(e.protocol) + '/' + e.port]) {
        let m = byPort.get(key);
        if (!m) byPort.set(key, (m = new Map()));
        m.set(e.to, (m.get(e.to) || 0) + e.records);
      }
    });
  }
  // The databases a consumer group reaches, busiest first.
  function reached(id) {
    const m = new Map();
    for (const i of ix.from.get(id) || []) {
      const e = data.edges[i];
      m.set(e.to, (m.get(e.to) || 0) + e.records);
    }
    return Array.from(m.entries()).sort((a, b) => b[1] - a[1]).map((x) => x[0]);
  }

  function find(text) {
    const q = text.trim(), lq = q.toLowerCase();
    if (!q) return null;
    const items = [], nodes = new Set(), ports = new Set(), consumers = new Map();
    const consumer = (id, why) => {
      if (consumers.has(id) || !ix.nodes.has(id)) return;
      consumers.set(id, why);
      nodes.add(id);
    };
    const dbs = [];
    for (const d of ix.dbs) {
      const label = d.label.toLowerCase(), id = d.id.toLowerCase();
      let rank = -1;
      if (label === lq || id === lq) rank = 0;
      else if (label.startsWith(lq)) rank = 1;
      else if (label.includes(lq) || id.includes(lq)) rank = 2;
      else if (d.detail && d.detail.toLowerCase().includes(lq)) rank = 3;
      if (rank >= 0) dbs.push({rank: rank, id: d.id, why: rank === 3 ? d.detail : ''});
    }
    const ip = parseIp(q);
    if (ip) {
      if (!byAddress) indexAddresses();
      for (const id of byAddress.get(ip.join('.')) || []) {
        if (ix.nodes.get(id).kind === 'database') dbs.push({rank: 0, id: id, why: 'address ' + q});
        else consumer(id, 'address ' + q);
      }
      for (const [c, id] of subnets) if (inCidr(c, ip)) consumer(id, q + ' is in ' + ix.nodes.get(id).label);
    } else {
      if (!byLabel) indexLabels();
      for (const id of (lq.includes('=') ? byLabel.get(lq) : byValue.get(lq)) || []) consumer(id, 'label ' + q);
      if (lq.length >= 2) {
        for (const n of data.nodes) {
          if (n.kind !== 'database' && n.label.toLowerCase().includes(lq)) consumer(n.id, 'name');
        }
      }
    }
    const port = /^(?:([a-z0-9]+)\/)?(\d{1,5})$/i.exec(q);
    if (port) {
      if (!byPort) indexPorts();
      const p = !port[1] ? '' : /^\d+$/.test(port[1]) ? proto(Number(port[1])) : port[1].toLowerCase();
      const key = p ? p + '/' + port[2] : port[2];
      const m = byPort.get(key);
      if (m) {
        ports.add(key);
        items.push({kind: 'port', key: key, dbs: Array.from(m.entries()).sort((a, b) => b[1] - a[1]).map((x) => x[0])});
      }
    }
    const stats = (id) => (ix.stats.get(id) || {records: 0}).records;
    dbs.sort((a, b) => a.rank - b.rank || stats(b.id) - stats(a.id) || (a.id < b.id ? -1 : 1));
    const seen = new Set();
    const dbItems = [];
    for (const d of dbs) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      nodes.add(d.id);
      dbItems.push({kind: 'database', id: d.id, why: d.why});
    }
    // The databases of the first consumer groups only: the list shows no more.
    const consumerItems = Array.from(consumers.entries()).map(([id, why], i) => ({kind: 'consumer', id: id, why: why,
                                                                                  dbs: i < 100 ? reached(id) : []}));
    return {items: dbItems.concat(consumerItems, items), match: {nodes: nodes, ports: ports}};
  }
  return {find: find};
}
)js";

}  // namespace moat::map::internal
