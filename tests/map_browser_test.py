#!/usr/bin/env python3
"""Checks a traffic map page (moat map --out x.html) in headless Chromium.

Starts chromedriver on a free loopback port, talks W3C WebDriver to it (a minimal client over
urllib; no selenium), opens the page from a file:// URL and reads the map JSON from the page's data
block to know what it must show. It checks that:
  - the page script finished (document.body.dataset.rendered == "true", within 20 s);
  - every database is in the picker (#moat-db) and has a card in the overview, and the table shows
    the edges of every database (at most 1,000 rows);
  - choosing a database (the picker, the URL hash, a link with the hash) draws exactly its node and
    its consumer groups' nodes, one g.moat-edge per edge to it, and the table shows those edges;
  - unchecking a decision filter hides that decision's edges and rows, and only those; the port
    filter and the time range keep in the graph and the table exactly the edges they should;
  - each --search QUERY=DATABASE lists DATABASE among its results, and choosing it draws it;
  - clicking a consumer node shows its details; Escape clears them;
then takes screenshots of the overview and of one database, decodes them (a small PNG decoder:
8-bit RGB/RGBA) and checks that the colours that matter were painted: protection badges inside
the overview, each decision drawn and the database node's fill inside the graph.

With --timing (a big page, map_render_sample --fleet): loads the page 3 times and checks the median
time from navigation to rendered and to the first paint (--max-render-s), then that every database
is reachable through the picker and through the search.

Exit status: 0 on success; 1 with one line on stderr on failure; 77 when Chromium or chromedriver is
not installed (ctest's SKIP_RETURN_CODE).
"""

import argparse
import base64
import collections
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"  # W3C WebDriver: a web element reference
RENDER_TIMEOUT_S = 20
MIN_PIXELS = 12  # of a colour, for it to count as painted
DRIVER_START_TIMEOUT_S = 15


class Failure(Exception):
    """A check failed or the browser could not be driven; the message is the one-line reason."""


def dom_id(map_id):
    """The SVG id of a map node: MapNodeDomId in src/map/traffic_map.h."""
    return "node-" + urllib.parse.quote(map_id, safe=":=,/@+")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    """Just the W3C WebDriver commands this test needs, over HTTP to a local chromedriver."""

    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        # No proxies from the environment: everything stays on loopback.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.session = None

    def call(self, method, path, body=None, timeout=60):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            try:
                value = json.loads(e.read().decode("utf-8")).get("value") or {}
            except ValueError:
                value = {}
            message = str(value.get("message", "")).splitlines()[0:1]
            raise Failure("webdriver %s %s: HTTP %d %s %s" % (method, path, e.code, value.get("error", ""),
                                                              message[0] if message else "")) from None
        except (urllib.error.URLError, OSError) as e:
            raise Failure("webdriver %s %s: %s" % (method, path, e)) from None
        return payload.get("value")

    def ready(self):
        try:
            return bool((self.call("GET", "/status", timeout=2) or {}).get("ready"))
        except Failure:
            return False

    def start_session(self, chromium, profile_dir):
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-proxy-server", "--window-size=1440,1500", "--user-data-dir=" + profile_dir]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": chromium, "args": args}}}}
        value = self.call("POST", "/session", caps, timeout=60)
        self.session = value["sessionId"]

    def end_session(self):
        if self.session:
            try:
                self.call("DELETE", "/session/" + self.session, timeout=20)
            except Failure:
                pass
            self.session = None

    def s(self, path):
        return "/session/%s%s" % (self.session, path)

    def navigate(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def script(self, source, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": source, "args": list(args)})

    def click(self, css):
        found = self.call("POST", self.s("/element"), {"using": "css selector", "value": css}) or {}
        if ELEMENT_KEY not in found:
            raise Failure("webdriver: no element reference for %r in %r" % (css, found))
        self.call("POST", self.s("/element/%s/click" % found[ELEMENT_KEY]), {})

    def click_element(self, element):
        if not isinstance(element, dict) or ELEMENT_KEY not in element:
            raise Failure("webdriver: not an element: %r" % (element,))
        self.call("POST", self.s("/element/%s/click" % element[ELEMENT_KEY]), {})

    def screenshot(self):
        return base64.b64decode(self.call("GET", self.s("/screenshot")))


def wait_rendered(driver):
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while True:
        state = driver.script("return [document.body ? document.body.dataset.rendered || '' : '',"
                              " document.body ? document.body.dataset.error || '' : ''];")
        if state[0] == "true":
            return
        if state[0] == "error":
            raise Failure("the page script failed: " + state[1])
        if time.monotonic() > deadline:
            raise Failure("the page did not finish rendering within %d s" % RENDER_TIMEOUT_S)
        time.sleep(0.1)


def wait_for(driver, source, what, timeout=5, *args):
    deadline = time.monotonic() + timeout
    while True:
        value = driver.script(source, *args)
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure("timed out waiting for " + what)
        time.sleep(0.05)


def map_data(path):
    """The map JSON of the page's data block (as the page script reads it)."""
    with open(path, encoding="utf-8") as f:
        page = f.read()
    start = page.index('<script type="application/json" id="moat-data">')
    start = page.index(">", start) + 1
    return json.loads(page[start:page.index("</script>", start)])


# The page's state as a test sees it: nodes and edges drawn, rows of the table.
STATE = """
const shown = (el) => el && getComputedStyle(el).display !== 'none';
const decision = (el) => ['allowed', 'not-allowed', 'rejected', 'would-cut'].find((d) =>
    el.classList.contains('moat-' + d)) || '';
const graph = document.getElementById('moat-graph');
return {
  nodes: Array.from(graph.querySelectorAll('g.moat-node')).map((g) => g.id),
  edges: Array.from(graph.querySelectorAll('g.moat-edge')).map((g) => ({
      id: g.id, decision: decision(g), shown: shown(g)})),
  rows: Array.from(document.querySelectorAll('#moat-edges tbody tr')).map((r) => ({
      edge: Number(r.dataset.edge), decision: decision(r), shown: shown(r)})),
  hash: location.hash,
  overview: shown(document.getElementById('moat-overview')),
  db: document.getElementById('moat-db').value,
};
"""

CHOOSE = """
const s = document.getElementById('moat-db'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));
"""

RESET = """
document.getElementById('filter-reset').click();
const q = document.getElementById('moat-search');
if (q.value) { q.value = ''; q.dispatchEvent(new Event('input')); }
"""


class Page:
    """The map (from the page's data block) and what a test expects of the page from it."""

    def __init__(self, data):
        self.data = data
        self.edges = data["edges"]
        self.databases = [n for n in data["nodes"] if n["kind"] == "database"]
        self.to = {}
        for i, e in enumerate(self.edges):
            self.to.setdefault(e["to"], []).append(i)

    def drawn(self, db):
        """The node ids and edge ids the graph of `db` must hold."""
        mine = self.to.get(db, [])
        nodes = {dom_id(db)} | {dom_id(self.edges[i]["from"]) for i in mine}
        return nodes, {"edge-%d" % i for i in mine}

    def busiest(self):
        """The database with the most decisions among its edges (then the most edges)."""
        return max(self.databases, key=lambda n: (len({self.edges[i]["decision"] for i in self.to.get(n["id"], [])}),
                                                   len(self.to.get(n["id"], [])), n["id"]))["id"]


def shown_edges(state):
    return {int(e["id"][5:]) for e in state["edges"] if e["shown"]}


def shown_rows(state):
    return {r["edge"] for r in state["rows"] if r["shown"]}


def check_drawn(driver, page, db, how):
    state = driver.script(STATE)
    nodes, edges = page.drawn(db)
    if set(state["nodes"]) != nodes:
        raise Failure("%s %r: graph nodes differ: missing %s, unexpected %s" % (
            how, db, sorted(nodes - set(state["nodes"])), sorted(set(state["nodes"]) - nodes)))
    ids = [e["id"] for e in state["edges"]]
    if len(ids) != len(edges) or set(ids) != edges:
        raise Failure("%s %r: %d graph edges, expected %d (one per edge to it)" % (how, db, len(ids), len(edges)))
    if state["overview"]:
        raise Failure("%s %r: the overview is still shown" % (how, db))
    expected = {int(x[5:]) for x in edges}
    if shown_edges(state) != expected or shown_rows(state) != expected:
        raise Failure("%s %r: the graph shows %d edges and the table %d rows, expected %d" % (
            how, db, len(shown_edges(state)), len(shown_rows(state)), len(expected)))
    return state


def check_overview(driver, page):
    found = driver.script(
        "return [Array.from(document.querySelectorAll('#moat-db option')).map((o) => o.value).filter((v) => v),"
        " Array.from(document.querySelectorAll('#moat-cards .card')).map((c) => c.dataset.db),"
        " document.querySelectorAll('#moat-graph g').length,"
        " document.querySelectorAll('#moat-edges tbody tr').length];")
    ids = sorted(n["id"] for n in page.databases)
    if sorted(found[0]) != ids:
        raise Failure("the picker has %d databases, the map %d" % (len(found[0]), len(ids)))
    if sorted(found[1]) != ids:
        raise Failure("the overview has %d cards for %d databases" % (len(found[1]), len(ids)))
    if found[2]:
        raise Failure("the overview draws a graph")
    if found[3] != min(1000, len(page.edges)):
        raise Failure("the overview's table has %d rows for %d edges" % (found[3], len(page.edges)))


def check_header(driver, page):
    header = driver.script(
        "const n = document.getElementById('moat-notes'), f = document.getElementById('moat-no-flows');"
        "return [document.querySelector('header .meta').textContent, n ? n.open : null,"
        " n ? n.querySelectorAll('li').length : 0, f ? f.querySelectorAll('li').length : 0];")
    if "recorded flows in the window" not in header[0] or not header[0].startswith("Flows "):
        raise Failure("the header does not say what the data spans: %r" % header[0])
    if page.data["notes"] and (header[1] is not False or header[2] != len(page.data["notes"])):
        raise Failure("the notes are not collapsed into #moat-notes (%r, %d)" % (header[1], header[2]))
    if header[3] != len(page.data["no_flows"]):
        raise Failure("#moat-no-flows lists %d databases, the map %d" % (header[3], len(page.data["no_flows"])))


def check_filter(driver, page, db, decision):
    """Unchecks the decision's filter: its edges and rows hide, the others stay; checks it again."""
    driver.click("#filter-" + decision)
    after = driver.script(STATE)
    expected = {i for i in page.to[db] if page.edges[i]["decision"] != decision}
    if shown_edges(after) != expected or shown_rows(after) != expected:
        raise Failure("unchecking %r: graph shows %d edges, table %d rows, expected %d" % (
            decision, len(shown_edges(after)), len(shown_rows(after)), len(expected)))
    driver.click("#filter-" + decision)
    if shown_edges(driver.script(STATE)) != set(page.to[db]):
        raise Failure("checking %r again did not show every edge" % decision)


def not_exercised(args, what):
    if args.all_filters:
        raise Failure("the map does not exercise " + what)
    print("map_browser_test: not exercised by this map: " + what)


def check_port(driver, page, args):
    # The port: the database with the most ports; the first of its ports.
    db = max(page.to, key=lambda d: (len({(page.edges[i]["protocol"], page.edges[i]["port"]) for i in page.to[d]}), d))
    driver.script(CHOOSE, db)
    protocol_names = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}
    mine = [i for i in page.to[db]]
    key = "%s/%d" % (protocol_names.get(page.edges[mine[-1]]["protocol"], str(page.edges[mine[-1]]["protocol"])),
                     page.edges[mine[-1]]["port"])
    driver.script("const p = document.getElementById('filter-port'); p.value = arguments[0];"
                  "p.dispatchEvent(new Event('change'));", key)
    expected = {i for i in mine if "%s/%d" % (protocol_names.get(page.edges[i]["protocol"]), page.edges[i]["port"]) == key}
    state = driver.script(STATE)
    if not 0 < len(expected) < len(mine):
        return not_exercised(args, "the port filter: %r keeps %d of %d edges" % (key, len(expected), len(mine)))
    if shown_edges(state) != expected or shown_rows(state) != expected:
        raise Failure("port %s: graph shows %d edges, table %d rows, expected %d" % (
            key, len(shown_edges(state)), len(shown_rows(state)), len(expected)))
    driver.script(RESET)


def check_time(driver, page, args):
    """The time range: the middle of the data's span, in whole minutes as datetime-local holds them."""
    db = page.busiest()
    driver.script(CHOOSE, db)
    first, last = page.data["first"], page.data["last"]
    lo = (first + (last - first) * 40 // 100) // 60 * 60
    hi = (first + (last - first) * 55 // 100) // 60 * 60
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M", time.gmtime(t))
    driver.script("const f = document.getElementById('filter-from'), t = document.getElementById('filter-to');"
                  "f.value = arguments[0]; t.value = arguments[1]; t.dispatchEvent(new Event('change'));",
                  stamp(lo), stamp(hi))
    expected = set()
    for i in page.to[db]:
        e = page.edges[i]
        a, b = e["first"] or e["last"], e["last"] or e["first"]
        if not a or (b >= lo and a <= hi + 59):
            expected.add(i)
    state = driver.script(STATE)
    if not 0 < len(expected) < len(page.to[db]):
        return not_exercised(args, "the time range: it keeps %d of %d edges" % (len(expected), len(page.to[db])))
    if shown_edges(state) != expected or shown_rows(state) != expected:
        raise Failure("time %s to %s: graph shows %d edges, table %d rows, expected %d" % (
            stamp(lo), stamp(hi), len(shown_edges(state)), len(shown_rows(state)), len(expected)))
    driver.script(RESET)


def check_search(driver, page, query, db):
    driver.script(CHOOSE, "")
    driver.script(RESET)
    driver.script("const q = document.getElementById('moat-search'); q.focus(); q.value = arguments[0];"
                  "q.dispatchEvent(new Event('input'));", query)
    found = driver.script("return Array.from(document.querySelectorAll('#moat-results .moat-choose'))"
                          ".map((b) => b.dataset.db);")
    if db not in found:
        raise Failure("searching %r did not list %r (got %s)" % (query, db, found[:10]))
    # A real click on the first button that chooses it.
    driver.click_element(driver.script(
        "return Array.from(document.querySelectorAll('#moat-results .moat-choose'))"
        ".find((b) => b.dataset.db === arguments[0]);", db))
    state = driver.script(STATE)
    nodes, _ = page.drawn(db)
    if set(state["nodes"]) != nodes or state["db"] != db:
        raise Failure("choosing %r from the results of %r did not draw it" % (db, query))
    wait_for(driver, "return document.querySelectorAll('#moat-edges tbody tr').length > 0 &&"
             " Array.from(document.querySelectorAll('#moat-edges tbody tr')).every((r) =>"
             "   document.getElementById('edge-' + r.dataset.edge));", "the table to follow the search")
    state = driver.script(STATE)
    if not shown_edges(state) or shown_edges(state) != shown_rows(state):
        raise Failure("after searching %r the graph shows %d edges and the table %d rows" % (
            query, len(shown_edges(state)), len(shown_rows(state))))
    driver.script(RESET)


def check_page(driver, page, args):
    if args.expect_node:
        drawn = {n for db in page.databases for n in page.drawn(db["id"])[0]}
        expected = {dom_id(n) for n in args.expect_node}
        if drawn != expected:
            raise Failure("the map's graphs hold nodes %s, expected %s" % (sorted(drawn), sorted(expected)))
    if len(page.edges) < args.min_edges:
        raise Failure("the map has %d edges, expected at least %d" % (len(page.edges), args.min_edges))
    check_header(driver, page)
    check_overview(driver, page)
    db = page.busiest()
    driver.script(CHOOSE, db)
    state = check_drawn(driver, page, db, "choosing")
    if state["hash"] != "#db=" + urllib.parse.quote(db, safe=""):
        raise Failure("choosing %r set the hash %r" % (db, state["hash"]))
    protection = next(n["protection"] for n in page.databases if n["id"] == db)
    if not driver.script("return document.getElementById(arguments[0]).classList.contains('moat-' + arguments[1]);",
                         dom_id(db), protection):
        raise Failure("the database node has no class moat-%s" % protection)
    other = next((n["id"] for n in page.databases if n["id"] != db and page.to.get(n["id"])), db)
    driver.script(CHOOSE, "")
    driver.script("location.hash = arguments[0];", "#db=" + urllib.parse.quote(other, safe=""))
    wait_for(driver, "return document.getElementById('moat-db').value === arguments[0];", "the hash to choose",
             5, other)
    check_drawn(driver, page, other, "the hash of")

    decisions = {page.edges[i]["decision"] for i in page.to[db]}
    if args.filter_decision not in decisions:
        raise Failure("no edge of decision %r to %r to filter (have %s)" % (args.filter_decision, db, sorted(decisions)))
    driver.script(CHOOSE, db)
    check_filter(driver, page, db, args.filter_decision)
    check_port(driver, page, args)
    driver.script(RESET)
    check_time(driver, page, args)
    driver.script(RESET)
    for item in args.search:
        query, _, expected = item.rpartition("=")
        check_search(driver, page, query, expected)

    # A click on a consumer node pins its details; Escape clears them.
    driver.script(CHOOSE, db)
    node = next(page.edges[i]["from"] for i in page.to[db])
    driver.click("#" + css_escape(dom_id(node)) + " rect")
    details = driver.script("return document.getElementById('moat-details').textContent;")
    if "Members" not in details or node not in details or "Databases it reaches" not in details:
        raise Failure("clicking node %r did not show its details (got %r)" % (node, details[:160]))
    driver.script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));")
    if node in driver.script("return document.getElementById('moat-details').textContent;"):
        raise Failure("Escape did not clear the details of %r" % node)

    # A link with the hash opens the page on that database.
    driver.navigate("about:blank")
    driver.navigate(args.url + "#db=" + urllib.parse.quote(other, safe=""))
    wait_rendered(driver)
    check_drawn(driver, page, other, "opening the page with the hash of")


def css_escape(s):
    return "".join(c if c.isalnum() or c in "-_" else "\\%x " % ord(c) for c in s)


def decode_png(blob):
    """(width, height, bytes per pixel, rows) of an 8-bit RGB or RGBA PNG, not interlaced."""
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure("the screenshot is not a PNG")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(blob):
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        body = blob[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if not header:
        raise Failure("the screenshot PNG has no header")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise Failure("the screenshot PNG is not 8-bit RGB/RGBA (depth %d, colour %d)" % (depth, colour))
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif kind != 0:
            raise Failure("the screenshot PNG has an unknown filter type %d" % kind)
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def rgb(css):
    """(r, g, b) of a computed colour, "rgb(22, 163, 74)"."""
    return tuple(int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])


def check_painted(driver, element, colours, what, path):
    """Takes a screenshot and checks that each colour ({name: css colour}) covers at least a few
    pixels inside the element's bounding rectangle."""
    driver.script("window.scrollTo(0, 0);")
    rect, ratio = driver.script("const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                                "return [[r.left, r.top, r.right, r.bottom], window.devicePixelRatio];", element)
    png = driver.screenshot()
    if path:
        with open(path, "wb") as out:
            out.write(png)
    width, height, bpp, rows = decode_png(png)
    x0, y0 = max(0, int(rect[0] * ratio)), max(0, int(rect[1] * ratio))
    x1, y1 = min(width, int(rect[2] * ratio)), min(height, int(rect[3] * ratio))
    if x1 - x0 < 50 or y1 - y0 < 50:
        raise Failure("%s: %s is not in the screenshot (%s)" % (what, element, rect))
    counts = collections.Counter()
    for y in range(y0, y1):
        row = rows[y][x0 * bpp:x1 * bpp]
        counts.update(zip(row[0::bpp], row[1::bpp], row[2::bpp]))
    missing = []
    for name, css in sorted(colours.items()):
        want = rgb(css)
        n = sum(c for k, c in counts.items() if all(abs(a - b) <= 2 for a, b in zip(k, want)))
        if n < MIN_PIXELS:
            missing.append("%s %s (%d pixels)" % (name, css, n))
    if missing:
        raise Failure("%s: not painted inside %s: %s" % (what, element, ", ".join(missing)))
    return len(colours)


def check_screenshots(driver, page, args):
    driver.script(RESET)
    driver.script(CHOOSE, "")
    colours = driver.script(
        "const out = {};"
        "for (const b of document.querySelectorAll('#moat-cards .card .prot')) {"
        "  const r = b.getBoundingClientRect();"
        "  if (r.bottom > 0 && r.top < window.innerHeight) out[b.textContent] = getComputedStyle(b).backgroundColor; }"
        "return out;")
    if "unprotected" not in colours and any(n["protection"] == "unprotected" for n in page.databases[:20]):
        raise Failure("no unprotected badge in view in the overview")
    overview = check_painted(driver, "#moat-overview", colours, "the overview", args.overview_screenshot)
    db = page.busiest()
    driver.script(CHOOSE, db)
    colours = driver.script(
        "const out = {database: getComputedStyle(document.querySelector('#' + CSS.escape(arguments[0]) + ' rect')).fill};"
        "for (const g of document.querySelectorAll('#moat-graph g.moat-edge')) {"
        "  const d = ['allowed', 'not-allowed', 'rejected', 'would-cut'].find((x) => g.classList.contains('moat-' + x));"
        "  out[d] = getComputedStyle(g.querySelector('path')).stroke; }"
        "return out;", dom_id(db))
    decisions = {page.edges[i]["decision"] for i in page.to[db]}
    if set(colours) != decisions | {"database"}:
        raise Failure("the graph of %r draws decisions %s, expected %s" % (db, sorted(colours), sorted(decisions)))
    graph = check_painted(driver, "#moat-graph", colours, "the graph of " + db, args.screenshot)
    return overview, graph


def check_timing(driver, page, args):
    loads = []
    for _ in range(3):
        driver.navigate("about:blank")
        start = time.monotonic()
        driver.navigate(args.url)
        wait_rendered(driver)
        painted = wait_for(driver, "return document.body.dataset.paintMs;", "the first paint")
        loads.append((float(driver.script("return document.body.dataset.renderMs;")) / 1000, float(painted) / 1000,
                      time.monotonic() - start))
    median = sorted(x[0] for x in loads)[1]
    print("map_browser_test: %d databases, %d nodes, %d edges: rendered after %s s (median %.2f s), painted after "
          "%s s (median %.2f s); WebDriver's navigation to rendered took %s s" % (
              len(page.databases), len(page.data["nodes"]), len(page.edges), ", ".join("%.2f" % x[0] for x in loads),
              median, ", ".join("%.2f" % x[1] for x in loads), sorted(x[1] for x in loads)[1],
              ", ".join("%.2f" % x[2] for x in loads)))
    if median > args.max_render_s:
        raise Failure("the page rendered after %.2f s (median of 3), more than %.1f s" % (median, args.max_render_s))
    if sorted(x[1] for x in loads)[1] > args.max_render_s:
        raise Failure("the page was painted after %.2f s (median of 3), more than %.1f s" % (
            sorted(x[1] for x in loads)[1], args.max_render_s))
    check_header(driver, page)
    check_overview(driver, page)
    ids = [n["id"] for n in page.databases]
    bad, ms = driver.script(
        "const s = document.getElementById('moat-db'), graph = document.getElementById('moat-graph'), bad = [];"
        "const t0 = performance.now();"
        "arguments[0].forEach((id, i) => {"
        "  s.value = id; s.dispatchEvent(new Event('change'));"
        "  const g = document.getElementById(arguments[1][i]);"
        "  if (s.value !== id || !g || !graph.contains(g)) bad.push(id); });"
        "return [bad, performance.now() - t0];", ids, [dom_id(i) for i in ids])
    if bad:
        raise Failure("%d databases are not reachable through the picker, e.g. %s" % (len(bad), bad[:3]))
    print("map_browser_test: every database drawn through the picker: %.0f ms each" % (ms / len(ids)))
    bad, ms = driver.script(
        "const q = document.getElementById('moat-search'), results = document.getElementById('moat-results'), bad = [];"
        "const t0 = performance.now();"
        "arguments[0].forEach((id, i) => {"
        "  q.value = arguments[1][i]; q.dispatchEvent(new Event('input'));"
        "  if (!Array.from(results.querySelectorAll('.moat-choose')).some((b) => b.dataset.db === id)) bad.push(id); });"
        "q.value = ''; q.dispatchEvent(new Event('input'));"
        "return [bad, performance.now() - t0];", ids, [n["label"] for n in page.databases])
    if bad:
        raise Failure("%d databases are not found by searching their name, e.g. %s" % (len(bad), bad[:3]))
    print("map_browser_test: every database found by its name: %.0f ms a search" % (ms / len(ids)))
    return median, loads


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", required=True, help="the map page")
    parser.add_argument("--filter-decision", default="rejected", help="the decision filter to click")
    parser.add_argument("--search", action="append", default=[],
                        help="QUERY=DATABASE: searching QUERY must list DATABASE (a node id); repeat")
    parser.add_argument("--expect-node", action="append", default=[],
                        help="a map node id the databases' graphs draw (repeat; the set must match exactly)")
    parser.add_argument("--min-edges", type=int, default=1)
    parser.add_argument("--all-filters", action="store_true",
                        help="fail when the map cannot exercise the port filter or the time range")
    parser.add_argument("--screenshot", help="where to write the PNG of one database's graph")
    parser.add_argument("--overview-screenshot", help="where to write the PNG of the overview")
    parser.add_argument("--timing", action="store_true",
                        help="a big page: time 3 loads, reach every database through the picker and the search")
    parser.add_argument("--max-render-s", type=float, default=3.0, help="--timing: the median load's limit")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()

    for tool in (args.chromium, args.chromedriver):
        if not os.access(tool, os.X_OK):
            print("map_browser_test: SKIP: %s is not installed" % tool, file=sys.stderr)
            return 77
    if not os.path.isfile(args.html):
        print("map_browser_test: FAIL: no such page: %s" % args.html, file=sys.stderr)
        return 1
    page = Page(map_data(args.html))
    args.url = "file://" + urllib.parse.quote(os.path.abspath(args.html))

    profile = tempfile.mkdtemp(prefix="moat-map-chromium-")
    port = free_port()
    driver_log = open(os.path.join(profile, "chromedriver.log"), "wb")
    process = subprocess.Popen([args.chromedriver, "--port=%d" % port], stdout=driver_log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    driver = WebDriver(port)
    try:
        deadline = time.monotonic() + DRIVER_START_TIMEOUT_S
        while not driver.ready():
            if process.poll() is not None:
                raise Failure("chromedriver exited with status %d" % process.returncode)
            if time.monotonic() > deadline:
                raise Failure("chromedriver did not become ready within %d s" % DRIVER_START_TIMEOUT_S)
            time.sleep(0.1)
        driver.start_session(args.chromium, os.path.join(profile, "user-data"))
        if args.timing:
            median, loads = check_timing(driver, page, args)
            summary = "%d databases, rendered in %.2f s (median of 3)" % (len(page.databases), median)
            if args.screenshot or args.overview_screenshot:
                overview, graph = check_screenshots(driver, page, args)
                summary += ", %d + %d colours painted" % (overview, graph)
            # One line for benchmarks (bench/map_fleet_bench.py).
            print(json.dumps({"render_s": median, "loads_s": [x[0] for x in loads],
                              "painted_s": sorted(x[1] for x in loads)[1], "databases": len(page.databases),
                              "nodes": len(page.data["nodes"]), "edges": len(page.edges)}))
        else:
            driver.navigate(args.url)
            wait_rendered(driver)
            check_page(driver, page, args)
            overview, graph = check_screenshots(driver, page, args)
            summary = "%d databases, %d edges, filter %r, %d searches, %d + %d colours painted" % (
                len(page.databases), len(page.edges), args.filter_decision, len(args.search), overview, graph)
    except Failure as e:
        print("map_browser_test: FAIL: %s" % e, file=sys.stderr)
        return 1
    except Exception as e:  # a reply of an unexpected shape: still one line, still cleaned up
        print("map_browser_test: FAIL: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    finally:
        driver.end_session()
        # chromedriver and anything it started (Chromium) share the new session's process group.
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        driver_log.close()
        shutil.rmtree(profile, ignore_errors=True)
    print("map_browser_test: OK: " + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
