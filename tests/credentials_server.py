#!/usr/bin/env python3
"""A container-credentials endpoint, and a fault-injecting proxy in front of moto, on loopback, for
the credential-rotation test (tests/credentials_rotation_test.cc).

  GET /creds   answers as ECS's endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI) does:
               {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}, with the key that STATE
               names now and an Expiration `lifetime` seconds from now. Requires the header
               Authorization: <TOKEN> (AWS_CONTAINER_AUTHORIZATION_TOKEN), else 401.
  anything else is passed to moto as it came (headers, Host included, so that moto checks the
               signature the client made), except that a request signed with a key STATE lists as
               `retired` is answered 400 ExpiredToken, as AWS answers once session credentials expire.

STATE is a JSON file, read at each request: {"key": {"id", "secret"}, "lifetime": seconds,
"retired": [key ids]}. Every key handed out ("served <id>") and every request refused
("expired <id>") is appended to LOG. The port listened on is written to PORT_FILE.
Usage: credentials_server.py STATE PORT_FILE LOG MOTO_URL TOKEN"""
import datetime
import http.client
import http.server
import json
import os
import re
import sys
import urllib.parse

STATE, PORT_FILE, LOG, MOTO_URL, TOKEN = sys.argv[1:6]
MOTO = urllib.parse.urlsplit(MOTO_URL)
EXPIRED = (b'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>'
           b'<Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message>'
           b'</Error><RequestId>credentials-server</RequestId></ErrorResponse>')


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


def state():
    with open(STATE) as f:
        return json.load(f)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def creds(self):
        if self.headers.get("Authorization") != TOKEN:
            return self.reply(401, b'{"message": "bad authorization token"}')
        s = state()
        expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=s["lifetime"])
        log("served " + s["key"]["id"])
        # No session token: moto accepts IAM users' long-term keys only without one.
        self.reply(200, json.dumps({"AccessKeyId": s["key"]["id"], "SecretAccessKey": s["key"]["secret"],
                                    "Token": "", "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode())

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
        if key and key.group(1) in state().get("retired", []):
            log("expired " + key.group(1))
            return self.reply(400, EXPIRED, [("Content-Type", "text/xml")])
        conn = http.client.HTTPConnection(MOTO.hostname, MOTO.port, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in ("expect", "connection", "transfer-encoding"):
                conn.putheader(k, v)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        headers = [(k, v) for k, v in resp.getheaders()
                   if k.lower() not in ("content-length", "connection", "transfer-encoding")]
        self.reply(resp.status, data, headers)
        conn.close()

    def handle_any(self):
        if self.path == "/creds" and self.command == "GET":
            return self.creds()
        return self.forward()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(PORT_FILE + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(PORT_FILE + ".tmp", PORT_FILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
