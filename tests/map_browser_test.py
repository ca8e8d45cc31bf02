#!/usr/bin/env python3
"""Checks a traffic map page (moat map --out x.html) in headless Chromium.

Starts chromedriver on a free loopback port, talks W3C WebDriver to it (a minimal client over
urllib; no selenium), opens the page from a file:// URL and checks that:
  - the page script finished (document.body.dataset.rendered == "true", within 20 s);
  - the SVG holds exactly the expected nodes (--expect-node, map ids) and at least --min-edges
    edges, and the table one row per edge;
  - unchecking a decision filter hides that decision's edges and rows, and only those, and
    checking it again shows them;
  - choosing a database (the first expected "db:" node) shows just the edges to it;
  - clicking a node shows its details;
then saves a screenshot (--screenshot). Always stops chromedriver and Chromium and removes the
temporary profile.

Exit status: 0 on success; 1 with one line on stderr on failure; 77 when Chromium or chromedriver is
not installed (ctest's SKIP_RETURN_CODE).
"""

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"  # W3C WebDriver: a web element reference
RENDER_TIMEOUT_S = 20
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


GRAPH_STATE = """
const shown = (el) => el && getComputedStyle(el).display !== 'none';
const edges = Array.from(document.querySelectorAll('#moat-graph svg g.moat-edge'));
const rows = Array.from(document.querySelectorAll('#moat-edges tbody tr'));
const decision = (el) => ['allowed', 'not-allowed', 'rejected', 'would-cut'].find((d) =>
    el.classList.contains('moat-' + d)) || '';
return {
  nodes: Array.from(document.querySelectorAll('#moat-graph svg g.moat-node')).map((g) => g.id),
  edges: edges.map((g) => ({decision: decision(g), shown: shown(g)})),
  rows: rows.map((r) => ({decision: decision(r), shown: shown(r)})),
};
"""


def check_filter(driver, decision):
    """Unchecks the decision's filter: its edges and rows hide, the others stay; checks it again."""
    driver.click("#filter-" + decision)
    after = driver.script(GRAPH_STATE)
    for kind in ("edges", "rows"):
        for item in after[kind]:
            if item["decision"] == decision:
                if item["shown"]:
                    raise Failure("unchecking %r left one of its %s shown" % (decision, kind))
            elif not item["shown"]:
                raise Failure("unchecking %r hid %s of decision %r" % (decision, kind, item["decision"]))
    driver.click("#filter-" + decision)
    again = driver.script(GRAPH_STATE)
    if not all(item["shown"] for item in again["edges"] + again["rows"]):
        raise Failure("checking %r again did not show every edge and row" % decision)


def check_page(driver, args):
    wait_rendered(driver)
    state = driver.script(GRAPH_STATE)
    expected = sorted(dom_id(n) for n in args.expect_node)
    found = sorted(state["nodes"])
    if found != expected:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        raise Failure("SVG nodes differ from the expected: missing %s, unexpected %s" % (missing, extra))
    if len(state["edges"]) < args.min_edges:
        raise Failure("SVG has %d edges, expected at least %d" % (len(state["edges"]), args.min_edges))
    if not state["rows"]:
        raise Failure("the table of edges has no rows")
    if len(state["rows"]) != len(state["edges"]):
        raise Failure("the table has %d rows for %d edges" % (len(state["rows"]), len(state["edges"])))
    if not all(item["shown"] for item in state["edges"] + state["rows"]):
        raise Failure("some edges or rows are hidden before any filter is touched")
    decisions = {e["decision"] for e in state["edges"]}
    decision = args.filter_decision
    if decision not in decisions:
        raise Failure("no edge of decision %r to filter (have %s)" % (decision, sorted(decisions)))
    check_filter(driver, decision)

    # Choosing a database leaves only the edges to it.
    databases = [n for n in args.expect_node if n.startswith("db:")]
    if databases:
        shown, expected_shown = driver.script(
            "const s = document.getElementById('filter-db'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('change'));"
            "const data = JSON.parse(document.getElementById('moat-data').textContent);"
            "const shown = Array.from(document.querySelectorAll('#moat-graph svg g.moat-edge'))"
            "  .filter((g) => getComputedStyle(g).display !== 'none').length;"
            "s.value = ''; s.dispatchEvent(new Event('change'));"
            "return [shown, data.edges.filter((e) => e.to === arguments[0]).length];", databases[0])
        if shown != expected_shown or shown == 0:
            raise Failure("choosing database %r showed %d edges, expected %d (> 0)" %
                          (databases[0], shown, expected_shown))

    # A click on a node pins its details.
    node = args.expect_node[0]
    details = driver.script("document.getElementById(arguments[0]).dispatchEvent("
                            "new MouseEvent('click', {bubbles: true}));"
                            "return document.getElementById('moat-details').textContent;", dom_id(node))
    if "Members" not in details or node not in details:
        raise Failure("clicking node %r did not show its details (got %r)" % (node, details[:120]))
    driver.script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", required=True, help="the map page")
    parser.add_argument("--expect-node", action="append", default=[], required=True,
                        help="a map node id the SVG must hold (repeat; the set must match exactly)")
    parser.add_argument("--min-edges", type=int, default=1)
    parser.add_argument("--filter-decision", default="rejected", help="the decision filter to click")
    parser.add_argument("--screenshot", help="where to write the PNG screenshot")
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
        driver.navigate("file://" + urllib.parse.quote(os.path.abspath(args.html)))
        check_page(driver, args)
        if args.screenshot:
            with open(args.screenshot, "wb") as out:
                out.write(driver.screenshot())
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
    print("map_browser_test: OK: %d nodes, filter %r, screenshot %s" %
          (len(args.expect_node), args.filter_decision, args.screenshot or "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
