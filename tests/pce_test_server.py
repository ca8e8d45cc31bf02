#!/usr/bin/env python3
"""A PCE test server: the surface of the Illumio PCE REST API v2 that moat uses, faithful to the
documented behaviour (../shared/reference/illumio-pce-api.md §2, §5.1, §8, §9), on loopback only.

Serves the policy of a bundle file (its active objects, and the same objects as the draft),
optionally padded with synthetic workloads. Collections stop at 500 objects unless max_results
says otherwise and always carry X-Total-Count; `Prefer: respond-async` starts a job
(202 + Location + Retry-After) whose datafile holds the whole collection. HTTP Basic auth with
one API key; a wrong org is 403; 500 requests a minute per key, then 429. The bulk traffic loader
takes at most 1,000 CSV lines and counts malformed ones as failed.

Test control (not part of the PCE): POST /_test/faults {"429": n, "503": n, "garbage": n,
"retry_after": s} makes the next n API requests fail that way; GET /_test/log lists the requests
seen; GET /_test/flows the uploaded flows. Usage:
  pce_test_server.py --bundle FILE --port-file FILE [--user U --secret S --org 1 --extra-workloads N]
                    [--tls-cert CERT --tls-key KEY]
"""
import argparse
import base64
import ipaddress
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

VERSIONED = ["label_groups", "virtual_services", "ip_lists", "services", "rule_sets"]
UNVERSIONED = ["labels", "workloads", "service_bindings"]
DEFAULT_CAP = 500
RATE_PER_MINUTE = 500
MAX_UPLOAD_LINES = 1000


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.org = str(args.org)
        self.user, self.secret = args.user, args.secret
        bundle = json.load(open(args.bundle)) if args.bundle else {}
        self.collections = {}  # path under the org -> list of objects
        for name in UNVERSIONED:
            self.collections[name] = list(bundle.get(name, []))
        for name in VERSIONED:
            active = list(bundle.get(name, []))
            self.collections["sec_policy/active/" + name] = active
            draft = json.loads(json.dumps(active).replace("/sec_policy/active/", "/sec_policy/draft/"))
            self.collections["sec_policy/draft/" + name] = draft
        for i in range(args.extra_workloads):
            self.collections["workloads"].append({
                "href": "/orgs/%s/workloads/%s" % (self.org, uuid.UUID(int=i + 1)),
                "name": "synthetic-%d" % i, "hostname": "synthetic-%d.internal" % i,
                "interfaces": [{"name": "eth0", "address": str(ipaddress.ip_address("10.200.0.0") + i)}],
                "labels": [], "ven": None})
        self.jobs = {}       # job id -> {"path", "polls_left", "datafile"}
        self.datafiles = {}  # datafile id -> body
        self.faults = {"429": 0, "503": 0, "garbage": 0, "retry_after": 1}
        self.log = []
        self.flows = []
        self.window = []     # request times of the current minute (rate limit)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):  # quiet
        pass

    def send(self, status, body=b"", headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("X-Request-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")

    def do_PUT(self):
        self.handle_request("PUT")

    def handle_request(self, method):
        st = self.state
        url = urlparse(self.path)
        if url.path.startswith("/_test/"):
            return self.control(method, url.path)
        body = self.body()
        with st.lock:
            st.log.append({"method": method, "path": url.path, "query": url.query,
                           "prefer": self.headers.get("Prefer"),
                           "content_type": self.headers.get("Content-Type")})
            for kind in ("429", "503", "garbage"):
                if st.faults[kind] > 0:
                    st.faults[kind] -= 1
                    if kind == "429":
                        return self.send(429, {"error": "Too many requests"},
                                         {"Retry-After": str(st.faults["retry_after"])})
                    if kind == "503":
                        return self.send(503, "<html>service unavailable</html>", content_type="text/html")
                    return self.send(200, "\x00\x01 this is not json {[", content_type="application/json")
        if url.path == "/api/v2/health":
            return self.send(200, [{"status": "normal"}])
        if not self.authorized():
            return self.send(401, {"error": "Authentication required"}, {"WWW-Authenticate": 'Basic realm="PCE"'})
        if self.rate_limited():
            return self.send(429, {"error": "Too many requests"}, {"Retry-After": "60"})
        prefix = "/api/v2/orgs/"
        if not url.path.startswith(prefix):
            return self.send(404, {"error": "not found"})
        org, _, rest = url.path[len(prefix):].partition("/")
        if org != st.org:
            return self.send(403, {"error": "forbidden"})
        if method == "GET":
            return self.get(rest, parse_qs(url.query))
        if method == "POST" and rest == "agents/bulk_traffic_flows":
            return self.upload(body)
        return self.send(406, [{"token": "method_not_allowed", "message": "%s %s is not served here" % (method, rest)}])

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except Exception:
            return False
        return user == self.state.user and secret == self.state.secret

    def rate_limited(self):
        st = self.state
        with st.lock:
            now = time.monotonic()
            st.window = [t for t in st.window if now - t < 60]
            if len(st.window) >= RATE_PER_MINUTE:
                return True
            st.window.append(now)
        return False

    def get(self, rest, query):
        st = self.state
        with st.lock:
            if rest.startswith("jobs/"):
                job = st.jobs.get(rest[5:])
                if job is None:
                    return self.send(404, {"error": "no such job"})
                href = "/orgs/%s/%s" % (st.org, rest)
                doc = {"href": href, "job_type": ":illumio/async_requests",
                       "description": "/orgs/%s/%s" % (st.org, job["path"]), "result": {}, "status": "running",
                       "requested_at": "2020-01-06 10:40:00.000000", "requested_by": {"href": "/users/1"}}
                if job["polls_left"] > 0:
                    job["polls_left"] -= 1
                    return self.send(200, doc)
                doc["status"] = "done"
                doc["terminated_at"] = "2020-01-06 10:40:02.000000"
                doc["result"] = {"href": "/orgs/%s/datafiles/%s" % (st.org, job["datafile"])}
                return self.send(200, doc)
            if rest.startswith("datafiles/"):
                data = st.datafiles.get(rest[10:])
                return self.send(200, data) if data is not None else self.send(404, {"error": "no such datafile"})
            objects = st.collections.get(rest)
            if objects is None:
                return self.send(404, {"error": "not found: " + rest})
            if self.headers.get("Prefer", "").lower() == "respond-async":
                job_id, file_id = str(uuid.uuid4()), str(uuid.uuid4())
                st.datafiles[file_id] = list(objects)
                st.jobs[job_id] = {"path": rest, "polls_left": 1, "datafile": file_id}
                return self.send(202, b"", {"Location": "/orgs/%s/jobs/%s" % (st.org, job_id), "Retry-After": "1"})
            cap = DEFAULT_CAP
            if "max_results" in query:
                try:
                    cap = int(query["max_results"][0])
                except ValueError:
                    return self.send(406, [{"token": "invalid_max_results", "message": "max_results must be an integer"}])
            return self.send(200, objects[:cap], {"X-Total-Count": str(len(objects))})

    def upload(self, body):
        st = self.state
        lines = [l.strip() for l in body.decode("utf-8", "replace").replace("\r", "").split("\n")]
        lines = [l for l in lines if l]
        if len(lines) > MAX_UPLOAD_LINES:
            return self.send(406, [{"token": "too_many_items",
                                    "message": "at most %d flows per request" % MAX_UPLOAD_LINES}])
        failed = []
        with st.lock:
            for line in lines:
                parts = line.split(",")
                try:
                    if len(parts) != 4:
                        raise ValueError
                    src, dst = ipaddress.ip_address(parts[0]), ipaddress.ip_address(parts[1])
                    port, proto = int(parts[2]), int(parts[3])
                    if not (0 <= port <= 65535 and 0 <= proto <= 255):
                        raise ValueError
                    st.flows.append([str(src), str(dst), port, proto])
                except ValueError:
                    failed.append(line)
        return self.send(201, {"num_flows_received": len(lines) - len(failed), "num_flows_failed": len(failed),
                               "failed_flows": failed})

    def control(self, method, path):
        st = self.state
        body = self.body()
        with st.lock:
            if method == "POST" and path == "/_test/faults":
                st.faults.update(json.loads(body or b"{}"))
                return self.send(200, st.faults)
            if method == "GET" and path == "/_test/log":
                return self.send(200, st.log)
            if method == "GET" and path == "/_test/flows":
                return self.send(200, st.flows)
            if method == "POST" and path == "/_test/reset":
                st.log, st.flows = [], []
                st.faults.update({"429": 0, "503": 0, "garbage": 0})
                return self.send(200, {})
        return self.send(404, {"error": "no such control"})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bundle")
    p.add_argument("--port-file", required=True)
    p.add_argument("--user", default="api_1a2b3c4d5e6f")
    p.add_argument("--secret", default="test-secret-0123456789")
    p.add_argument("--org", default="1")
    p.add_argument("--extra-workloads", type=int, default=0)
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="and this key (PEM)")
    args = p.parse_args()
    Handler.state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
