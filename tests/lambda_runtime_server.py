#!/usr/bin/env python3
"""A Lambda Runtime API server (2018-06-01) for the tests of `moat lambda`, on loopback.

Runtime API (what Lambda serves to a custom runtime):
  GET  /2018-06-01/runtime/invocation/next            waits for a queued event; answers it with
       Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms (epoch ms),
       Lambda-Runtime-Invoked-Function-Arn and Lambda-Runtime-Trace-Id
  POST /2018-06-01/runtime/invocation/{id}/response   202
  POST /2018-06-01/runtime/invocation/{id}/error      202 (Lambda-Runtime-Function-Error-Type)
  POST /2018-06-01/runtime/init/error                 202
Test control (not part of the API):
  POST /_test/invoke {"event": <JSON value or raw string>, "deadline_ms": N}  queues an event whose
       deadline is N ms after it is handed out (default 60000); answers {"id": ...}. With
       "deadline_header": "…" that text is sent as Lambda-Runtime-Deadline-Ms instead (null: none)
  GET  /_test/results?count=K&timeout=S   the results so far, waiting up to S s for K of them:
       [{"id", "kind": "response"|"error"|"init_error", "error_type", "body", "headers_seen"}]
  anything under /hang/  never answers (a stuck dependency)
Usage: lambda_runtime_server.py --port-file FILE
"""
import argparse
import json
import select
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PREFIX = "/2018-06-01/runtime"


class State:
    def __init__(self):
        self.lock = threading.Condition()
        self.queue = []      # (id, body, deadline offset ms, deadline header text or None or False)
        self.results = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def client_gone(self):
        """True when the runtime that asked has closed its connection."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        url = urlparse(self.path)
        st = self.state
        if url.path.startswith("/hang/"):
            time.sleep(3600)
            return
        if url.path == PREFIX + "/invocation/next":
            with st.lock:
                while not st.queue:
                    st.lock.wait(0.2)
                    if self.client_gone():
                        return  # a runtime that ended while it waited: its event goes to the next one
                item = st.queue.pop(0)
            rid, event, deadline, header = item
            headers = {
                "Lambda-Runtime-Aws-Request-Id": rid,
                "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + deadline),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:moat",
                "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
                "Content-Type": "application/json"}
            if header is None:
                del headers["Lambda-Runtime-Deadline-Ms"]
            elif header is not False:
                headers["Lambda-Runtime-Deadline-Ms"] = header
            try:
                return self.send(200, event, headers)
            except OSError:
                with st.lock:  # not delivered: back to the front of the queue
                    st.queue.insert(0, item)
                    st.lock.notify_all()
                return None
        if url.path == "/_test/results":
            q = parse_qs(url.query)
            count = int(q.get("count", ["0"])[0])
            timeout = float(q.get("timeout", ["0"])[0])
            end = time.time() + timeout
            with st.lock:
                while len(st.results) < count and time.time() < end:
                    st.lock.wait(max(0.0, end - time.time()))
                return self.send(200, list(st.results))
        return self.send(404, {"error": "not found"})

    def do_POST(self):
        url = urlparse(self.path)
        st = self.state
        data = self.body()
        if url.path.startswith("/hang/"):
            time.sleep(3600)
            return
        if url.path == "/_test/invoke":
            spec = json.loads(data)
            event = spec["event"]
            raw = event.encode() if isinstance(event, str) else json.dumps(event).encode()
            rid = str(uuid.uuid4())
            with st.lock:
                st.queue.append((rid, raw, int(spec.get("deadline_ms", 60000)), spec.get("deadline_header", False)))
                st.lock.notify_all()
            return self.send(200, {"id": rid})
        parts = url.path[len(PREFIX):].strip("/").split("/") if url.path.startswith(PREFIX) else []
        result = None
        if parts == ["init", "error"]:
            result = {"id": "", "kind": "init_error"}
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            result = {"id": parts[1], "kind": parts[2]}
        if result is None:
            return self.send(404, {"error": "not found"})
        result["error_type"] = self.headers.get("Lambda-Runtime-Function-Error-Type", "")
        result["body"] = data.decode("utf-8", "replace")
        with st.lock:
            st.results.append(result)
            st.lock.notify_all()
        return self.send(202, {"status": "OK"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    Handler.state = State()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
