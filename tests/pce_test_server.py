#!/usr/bin/env python3
"""A PCE test server: the surface of the Illumio PCE REST API v2 that moat uses, faithful to the
documented behaviour (../shared/reference/illumio-pce-api.md §2, §3, §5.1, §8, §9), on loopback only.

Serves the policy of a bundle file (its active objects, and the same objects as the draft, as policy
version 1), optionally padded with synthetic workloads. Collections stop at 500 objects unless
max_results says otherwise and always carry X-Total-Count; `Prefer: respond-async` starts a job
(202 + Location + Retry-After) whose datafile holds the whole collection; GET on an object href returns
that object. HTTP Basic auth with one API key; a wrong org is 403; 500 requests a minute per key, then
429. The bulk traffic loader takes at most 1,000 CSV lines and counts malformed ones as failed.

Writes (JSON bodies; validation failures are 406 [{"token", "message"}], unknown object hrefs 404):
POST labels; POST workloads, PUT/DELETE workloads/<id>, PUT workloads/bulk_create|bulk_update|
bulk_delete (at most 1,000 items, one bulk operation at a time, per-item results); POST/PUT/DELETE
sec_policy/draft/virtual_services[/<id>] and PUT sec_policy/draft/virtual_services/bulk_create|
bulk_update|bulk_delete (draft only: active and numbered versions are 406);
POST service_bindings (active virtual services only), DELETE service_bindings/<id>; POST/PUT/DELETE
sec_policy/draft/ip_lists[/<id>] and sec_policy/draft/rule_sets[/<id>] (a rule set may be created with
its rules), GET/POST sec_policy/draft/rule_sets/<id>/sec_rules and PUT/DELETE .../sec_rules/<id> (a
rule's actors must name existing labels and draft objects); POST sec_policy provisions pending draft
changes (all, or a change_subset) as a new version, GET sec_policy lists them newest first (so
max_results=1 answers the active policy's version, with X-Total-Count the number of versions). GET of ip_lists,
rule_sets and virtual_services filters on name (partial match), external_data_set and
external_data_reference (exact).

Test control (not part of the PCE): POST /_test/faults {"429": n, "503": n, "garbage": n,
"retry_after": s, "bulk_delay": s, "hang": s, "method": M, "item_error": n} makes the next n API requests
(of method M, when given) fail that way (bulk_delay holds every workload bulk operation that long; hang
holds every API request that long before answering it, as a PCE that stopped answering; item_error
refuses the next n workload bulk items); GET /_test/log lists the requests seen, each with the status it
was answered with; GET /_test/flows the uploaded flows; POST /_test/reset clears the log, flows and
faults (not the objects). POST /_test/raw {"path": P, "body": TEXT} answers every GET of the collection P
(under the org, "sec_policy/active/rule_sets") with TEXT verbatim, for answers json.dumps cannot make (a
repeated key); reset drops them. Usage:
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
MAX_BULK_ITEMS = 1000
USER = {"href": "/users/1"}
# Fields a client may not send (§2.3); href is allowed only where it names the object (bulk items).
READ_ONLY = {"href", "created_at", "updated_at", "deleted_at", "created_by", "updated_by", "deleted_by",
             "update_type", "caps", "deleted"}
LABEL_FIELDS = {"key", "value", "external_data_set", "external_data_reference"}
WORKLOAD_FIELDS = {"name", "hostname", "description", "public_ip", "interfaces", "labels", "online",
                   "enforcement_mode", "visibility_level", "service_provider", "data_center", "data_center_zone",
                   "os_id", "os_detail", "ignored_interface_names", "distinguished_name",
                   "external_data_set", "external_data_reference"}
INTERFACE_FIELDS = {"name", "address", "cidr_block", "default_gateway_address", "link_state", "friendly_name"}
VS_FIELDS = {"name", "description", "apply_to", "service", "service_ports", "service_addresses", "ip_overrides",
             "labels", "external_data_set", "external_data_reference"}
BINDING_FIELDS = {"virtual_service", "workload", "port_overrides", "external_data_set", "external_data_reference"}
IP_LIST_FIELDS = {"name", "description", "ip_ranges", "fqdns", "external_data_set", "external_data_reference"}
RULE_SET_FIELDS = {"name", "description", "enabled", "scopes", "rules", "external_data_set",
                   "external_data_reference"}
RULE_FIELDS = {"enabled", "description", "providers", "consumers", "ingress_services", "resolve_labels_as",
               "unscoped_consumers", "sec_connect", "stateless", "machine_auth", "network_type",
               "use_workload_subnets", "consuming_security_principals", "external_data_set",
               "external_data_reference"}
ACTOR_KINDS = {"label": "labels", "label_group": "sec_policy/draft/label_groups", "workload": "workloads",
               "virtual_service": "sec_policy/draft/virtual_services", "ip_list": "sec_policy/draft/ip_lists"}
FILTERED = {"ip_lists", "rule_sets", "virtual_services"}  # collections answering the filters below
FILTERS = ("name", "external_data_set", "external_data_reference")
ENFORCEMENT_MODES = {"idle", "visibility_only", "selective", "full"}
VISIBILITY_LEVELS = {"flow_full_detail", "flow_summary", "flow_drops", "flow_off", "enhanced_data_collection"}


def now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def stamp(obj, created=False):
    """Sets the envelope's timestamps and authors (all of them when created)."""
    t = now()
    if created:
        obj["created_at"], obj["created_by"] = t, USER
    obj["updated_at"], obj["updated_by"] = t, USER
    return obj


def to_active(href):
    return href.replace("/sec_policy/draft/", "/sec_policy/active/")


class Reject(Exception):
    """A validation failure: 406 for a request, an `errors` entry for a bulk item."""

    def __init__(self, token, message):
        super().__init__(message)
        self.token, self.message = token, message

    def body(self):
        return [{"token": self.token, "message": self.message}]


class NotFound(Exception):
    pass


def check_fields(obj, allowed, what):
    if not isinstance(obj, dict):
        raise Reject("invalid_request_body", "a %s must be a JSON object" % what)
    for k in obj:
        if k in READ_ONLY or k in ("ven", "agent", "pce_fqdn"):
            raise Reject("read_only_field", "%s of a %s is read-only" % (k, what))
        if k not in allowed:
            raise Reject("unknown_field", "%s is not a property of a %s" % (k, what))


def optional_string(obj, key):
    if obj.get(key) is not None and not isinstance(obj[key], str):
        raise Reject("invalid_field", "%s must be a string or null" % key)


def filtered(objects, query):
    """The objects a collection GET's filters keep: name is a partial match, the external data exact."""
    out = objects
    for key in FILTERS:
        if key in query:
            want = query[key][0]
            if key == "name":
                out = [o for o in out if want.lower() in (o.get("name") or "").lower()]
            else:
                out = [o for o in out if o.get(key) == want]
    return out


def port_number(value, what, low=0):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
        raise Reject("invalid_field", "%s must be an integer from %d to 65535" % (what, low))


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
            for obj in active:
                obj["update_type"] = None
            self.collections["sec_policy/active/" + name] = active
            draft = json.loads(json.dumps(active).replace("/sec_policy/active/", "/sec_policy/draft/"))
            self.collections["sec_policy/draft/" + name] = draft
        for i in range(args.extra_workloads):
            self.collections["workloads"].append({
                "href": "/orgs/%s/workloads/%s" % (self.org, uuid.UUID(int=i + 1)),
                "name": "synthetic-%d" % i, "hostname": "synthetic-%d.internal" % i,
                "interfaces": [{"name": "eth0", "address": str(ipaddress.ip_address("10.200.0.0") + i)}],
                "labels": [], "ven": None})
        self.version = 1     # the bundle; every provision adds one
        self.collections["sec_policy"] = [{
            "href": "/orgs/%s/sec_policy/1" % self.org, "version": 1, "commit_message": "bundle",
            "workloads_affected": 0, "created_at": now(), "created_by": USER,
            "object_counts": {n: len(self.collections["sec_policy/active/" + n]) for n in VERSIONED}}]
        self.snapshot(1)
        self.bulk_lock = threading.Lock()  # held by the running workload bulk operation
        self.jobs = {}       # job id -> {"path", "polls_left", "datafile"}
        self.datafiles = {}  # datafile id -> body
        self.raw = {}        # collection path -> answer text served verbatim (/_test/raw)
        self.faults = {"429": 0, "503": 0, "garbage": 0, "retry_after": 1, "bulk_delay": 0, "hang": 0,
                       "method": None, "item_error": 0}
        self.log = []
        self.flows = []
        self.window = []     # request times of the current minute (rate limit)

    def find(self, name, href):
        return next((o for o in self.collections.get(name, []) if o.get("href") == href), None)

    def snapshot(self, version):
        """Keeps the active policy as numbered version `version` (sec_policy/<n>/<collection>)."""
        for name in VERSIONED:
            text = json.dumps(self.collections["sec_policy/active/" + name])
            self.collections["sec_policy/%d/%s" % (version, name)] = json.loads(
                text.replace("/sec_policy/active/", "/sec_policy/%d/" % version))


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
        if getattr(self, "entry", None) is not None:
            self.entry["status"] = status  # the log records each API request's answer
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

    def do_DELETE(self):
        self.handle_request("DELETE")

    def handle_request(self, method):
        st = self.state
        url = urlparse(self.path)
        self.entry = None
        if url.path.startswith("/_test/"):
            return self.control(method, url.path)
        body = self.body()
        with st.lock:
            hang = float(st.faults.get("hang") or 0)
        if hang > 0:
            time.sleep(hang)  # outside the lock: other requests (and /_test) go on
        with st.lock:
            self.entry = {"method": method, "path": url.path, "query": url.query,
                          "prefer": self.headers.get("Prefer"),
                          "content_type": self.headers.get("Content-Type")}
            st.log.append(self.entry)
            for kind in ("429", "503", "garbage"):
                if st.faults.get("method") and st.faults["method"] != method:
                    break  # faults aimed at another method
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
        return self.write(method, rest, body)

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
            raw = st.raw.get(rest)
            if raw is not None:
                return self.send(200, raw, {"X-Total-Count": str(len(json.loads(raw)))})
            objects = st.collections.get(rest)
            parts = rest.split("/")
            if objects is None and len(parts) in (5, 6) and parts[:2] == ["sec_policy", parts[1]] and \
                    parts[2] == "rule_sets" and parts[4] == "sec_rules":
                rule_set = st.find("sec_policy/%s/rule_sets" % parts[1], "/orgs/%s/%s" % (st.org, "/".join(parts[:4])))
                if rule_set is None:
                    return self.send(404, {"error": "not found: " + rest})
                if len(parts) == 5:
                    objects = rule_set.get("rules", [])
                else:
                    rule = next((r for r in rule_set.get("rules", []) if r.get("href") == "/orgs/%s/%s"
                                 % (st.org, rest)), None)
                    return self.send(200, rule) if rule is not None else self.send(404, {"error": "not found: " + rest})
            if objects is not None and rest.split("/")[-1] in FILTERED:
                objects = filtered(objects, query)
            if objects is None:
                obj = st.find(rest.rpartition("/")[0], "/orgs/%s/%s" % (st.org, rest))
                return self.send(200, obj) if obj is not None else self.send(404, {"error": "not found: " + rest})
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

    # Writes (after auth, rate limit and org checks; faults already applied)

    def write(self, method, rest, body):
        st = self.state
        parts = rest.split("/")
        try:
            if parts[0] == "sec_policy" and len(parts) > 1 and parts[1] != "draft":
                raise Reject("invalid_policy_version",
                             "objects can only be written in the draft policy, not in '%s'" % parts[1])
            data = None
            if method in ("POST", "PUT"):
                try:
                    data = json.loads(body)
                except ValueError as e:
                    raise Reject("invalid_json", "the request body is not valid JSON: %s" % e)
            if method == "PUT" and parts[0] == "workloads" and len(parts) == 2 and \
                    parts[1] in ("bulk_create", "bulk_update", "bulk_delete"):
                return self.send(200, self.bulk_workloads(parts[1][5:], data))  # not under st.lock
            with st.lock:
                return self.write_locked(method, parts, data)
        except Reject as e:
            return self.send(406, e.body())
        except NotFound:
            return self.send(404, {"error": "not found"})

    def write_locked(self, method, parts, data):
        st = self.state
        href = "/orgs/%s/%s" % (st.org, "/".join(parts))
        vs_path = ["sec_policy", "draft", "virtual_services"]
        if method == "POST" and parts == ["labels"]:
            return self.send(201, self.create_label(data))
        if method == "POST" and parts == ["workloads"]:
            return self.send(201, self.create_workload(data))
        if parts[0] == "workloads" and len(parts) == 2 and method in ("PUT", "DELETE"):
            workload = self.lookup("workloads", href)
            if method == "PUT":
                self.update_workload(workload, data)
            else:
                self.delete_workload(workload)
            return self.send(204)
        if method == "POST" and parts == vs_path:
            return self.send(201, self.create_virtual_service(data))
        if method == "PUT" and parts[:3] == vs_path and len(parts) == 4 and \
                parts[3] in ("bulk_create", "bulk_update", "bulk_delete"):
            return self.send(200, self.bulk_virtual_services(parts[3][5:], data))
        if parts[:3] == vs_path and len(parts) == 4 and method in ("PUT", "DELETE"):
            vs = self.lookup("sec_policy/draft/virtual_services", href)
            if vs.get("update_type") == "delete":
                raise Reject("already_deleted", "%s is already deleted in the draft policy" % href)
            if method == "PUT":
                self.update_virtual_service(vs, data)
            else:
                self.delete_virtual_service(vs)
            return self.send(204)
        if method == "POST" and parts == ["service_bindings"]:
            return self.send(201, self.create_bindings(data))
        if method == "DELETE" and parts[0] == "service_bindings" and len(parts) == 2:
            binding = self.lookup("service_bindings", href)
            st.collections["service_bindings"] = [b for b in st.collections["service_bindings"] if b is not binding]
            return self.send(204)
        if method == "POST" and parts == ["sec_policy"]:
            return self.send(201, self.provision(data))
        ipl_path, rs_path = ["sec_policy", "draft", "ip_lists"], ["sec_policy", "draft", "rule_sets"]
        if method == "POST" and parts == ipl_path:
            return self.send(201, self.create_ip_list(data))
        if method == "POST" and parts == rs_path:
            return self.send(201, self.create_rule_set(data))
        if parts[:3] in (ipl_path, rs_path) and len(parts) == 4 and method in ("PUT", "DELETE"):
            name = "/".join(parts[:3])
            obj = self.lookup(name, href)
            if obj.get("update_type") == "delete":
                raise Reject("already_deleted", "%s is already deleted in the draft policy" % href)
            if method == "PUT":
                (self.update_ip_list if parts[2] == "ip_lists" else self.update_rule_set)(obj, data)
            else:
                self.delete_versioned(name, obj)
            return self.send(204)
        if parts[:3] == rs_path and len(parts) in (5, 6) and parts[4] == "sec_rules":
            rule_set = self.lookup("sec_policy/draft/rule_sets", "/orgs/%s/%s" % (st.org, "/".join(parts[:4])))
            if rule_set.get("update_type") == "delete":
                raise Reject("already_deleted", "%s is already deleted in the draft policy" % rule_set["href"])
            if method == "POST" and len(parts) == 5:
                rule = self.new_rule(rule_set, data)
                rule_set["rules"].append(rule)
                self.changed(rule_set)
                return self.send(201, rule)
            if len(parts) == 6 and method in ("PUT", "DELETE"):
                rule = next((r for r in rule_set["rules"] if r["href"] == href), None)
                if rule is None:
                    raise NotFound()
                if method == "PUT":
                    rule.update(self.rule_fields(data, partial=True))
                    stamp(rule)
                else:
                    rule_set["rules"] = [r for r in rule_set["rules"] if r is not rule]
                self.changed(rule_set)
                return self.send(204)
        raise Reject("method_not_allowed", "%s %s is not served here" % (method, "/".join(parts)))

    def lookup(self, name, href):
        obj = self.state.find(name, href)
        if obj is None:
            raise NotFound()
        return obj

    def expand_labels(self, refs):
        """[{href}] -> [{href, key, value}] of existing labels, at most one per key."""
        if not isinstance(refs, list):
            raise Reject("invalid_label", "labels must be a list of {\"href\": ...}")
        out, keys = [], {}
        for ref in refs:
            href = ref.get("href") if isinstance(ref, dict) else None
            label = self.state.find("labels", href) if isinstance(href, str) else None
            if label is None or label.get("deleted"):
                raise Reject("invalid_label", "no such label: %s" % json.dumps(ref))
            if label["key"] in keys:
                raise Reject("label_key_conflict", "more than one label of key '%s': %s and %s"
                             % (label["key"], keys[label["key"]], href))
            keys[label["key"]] = href
            out.append({"href": href, "key": label["key"], "value": label["value"]})
        return out

    def create_label(self, data):
        st = self.state
        check_fields(data, LABEL_FIELDS, "label")
        key, value = data.get("key"), data.get("value")
        if not isinstance(key, str) or not key or any(c.isspace() for c in key):
            raise Reject("invalid_label_key", "a label key must be a non-empty string without spaces: %s"
                         % json.dumps(key))
        if not isinstance(value, str) or not value.strip():
            raise Reject("invalid_label_value", "a label value must be a non-empty string: %s" % json.dumps(value))
        optional_string(data, "external_data_set")
        optional_string(data, "external_data_reference")
        labels = st.collections["labels"]
        if any(l.get("key") == key and l.get("value") == value for l in labels):
            raise Reject("label_already_in_use", "a label %s=%s already exists" % (key, value))
        ids = [int(l["href"].rsplit("/", 1)[1]) for l in labels if l.get("href", "").rsplit("/", 1)[-1].isdigit()]
        label = stamp({"href": "/orgs/%s/labels/%d" % (st.org, max(ids, default=0) + 1), "key": key,
                       "value": value, "deleted": False, "external_data_set": data.get("external_data_set"),
                       "external_data_reference": data.get("external_data_reference")}, created=True)
        labels.append(label)
        return label

    # Workloads

    def workload_fields(self, data, allow_href=False):
        """The validated writable fields of a workload create or update."""
        fields = {k: v for k, v in data.items() if k != "href"} if allow_href and isinstance(data, dict) else data
        check_fields(fields, WORKLOAD_FIELDS, "workload")
        out = dict(fields)
        for key in ("name", "hostname", "description", "service_provider", "data_center", "data_center_zone",
                    "os_id", "os_detail", "distinguished_name", "external_data_set", "external_data_reference"):
            optional_string(out, key)
        if out.get("public_ip") is not None:
            try:
                ipaddress.ip_address(out["public_ip"])
            except (TypeError, ValueError):
                raise Reject("invalid_field", "public_ip is not an IP address: %s" % json.dumps(out["public_ip"]))
        if "interfaces" in out:
            out["interfaces"] = [self.interface(i) for i in self.listed(out["interfaces"], "interfaces")]
        if "labels" in out:
            out["labels"] = self.expand_labels(out["labels"])
        if "online" in out and not isinstance(out["online"], bool):
            raise Reject("invalid_field", "online must be true or false")
        if "enforcement_mode" in out and out["enforcement_mode"] not in ENFORCEMENT_MODES:
            raise Reject("invalid_field", "enforcement_mode must be one of %s" % ", ".join(sorted(ENFORCEMENT_MODES)))
        if "visibility_level" in out and out["visibility_level"] not in VISIBILITY_LEVELS:
            raise Reject("invalid_field", "visibility_level must be one of %s" % ", ".join(sorted(VISIBILITY_LEVELS)))
        if "ignored_interface_names" in out:
            self.listed(out["ignored_interface_names"], "ignored_interface_names")
        return out

    @staticmethod
    def listed(value, what):
        if not isinstance(value, list):
            raise Reject("invalid_field", "%s must be a list" % what)
        return value

    @staticmethod
    def interface(i):
        if not isinstance(i, dict) or any(k not in INTERFACE_FIELDS for k in i):
            raise Reject("invalid_interface", "an interface takes %s: %s" % (", ".join(sorted(INTERFACE_FIELDS)),
                                                                           json.dumps(i)))
        if not isinstance(i.get("name"), str) or not i["name"]:
            raise Reject("invalid_interface", "an interface needs a name: %s" % json.dumps(i))
        try:
            address = ipaddress.ip_address(i.get("address"))
        except ValueError:
            raise Reject("invalid_interface", "not an IP address: %s" % json.dumps(i.get("address")))
        cidr = i.get("cidr_block")
        if cidr is not None and (isinstance(cidr, bool) or not isinstance(cidr, int) or
                                 not 0 <= cidr <= address.max_prefixlen):
            raise Reject("invalid_interface", "bad cidr_block for %s: %s" % (address, json.dumps(cidr)))
        if i.get("link_state", "up") not in ("up", "down", "unknown"):
            raise Reject("invalid_interface", "link_state must be up, down or unknown")
        return dict(i, address=str(address))

    @staticmethod
    def named(workload):
        if not workload.get("name") and not workload.get("hostname"):
            raise Reject("missing_field", "a workload needs a name or a hostname")

    def new_workload(self, data):
        fields = self.workload_fields(data)
        workload = {"href": "/orgs/%s/workloads/%s" % (self.state.org, uuid.uuid4()), "name": None,
                    "hostname": None, "description": None, "public_ip": None, "interfaces": [], "labels": [],
                    "online": True, "enforcement_mode": "visibility_only", "ven": None, "deleted": False,
                    "external_data_set": None, "external_data_reference": None, "caps": ["write"]}
        workload.update(fields)
        self.named(workload)
        return stamp(workload, created=True)

    def create_workload(self, data):
        workload = self.new_workload(data)
        self.state.collections["workloads"].append(workload)
        return workload

    def update_workload(self, workload, data, allow_href=False, sync=True):
        fields = self.workload_fields(data, allow_href)
        self.named(dict(workload, **fields))
        workload.update(fields)
        stamp(workload)
        if sync:
            self.sync_bindings()

    def delete_workload(self, workload, index=None):
        """Removes an unmanaged workload and its service bindings (from `index` only, if given)."""
        st = self.state
        if workload.get("ven") is not None:
            raise Reject("workload_managed", "%s is managed (paired with a VEN); unpair it instead" % workload["href"])
        if index is None:
            st.collections["workloads"] = [w for w in st.collections["workloads"] if w is not workload]
        else:
            del index[workload["href"]]
        st.collections["service_bindings"] = [b for b in st.collections["service_bindings"]
                                              if b["workload"]["href"] != workload["href"]]

    def bulk_workloads(self, op, items):
        """bulk_create/update/delete: per-item results in order; a bad item does not stop the others."""
        st = self.state
        if not isinstance(items, list):
            raise Reject("invalid_request_body", "bulk_%s takes a JSON array" % op)
        if len(items) > MAX_BULK_ITEMS:
            raise Reject("too_many_items", "at most %d items per bulk operation, got %d" % (MAX_BULK_ITEMS, len(items)))
        if not st.bulk_lock.acquire(blocking=False):
            raise Reject("bulk_operation_in_progress", "another workload bulk operation is running")
        try:
            time.sleep(float(st.faults.get("bulk_delay") or 0))
            with st.lock:
                index = {w["href"]: w for w in st.collections["workloads"]}
                results = [self.bulk_item(op, item, index) for item in items]
                st.collections["workloads"] = [w for w in st.collections["workloads"] if w["href"] in index]
                self.sync_bindings()
                return results
        finally:
            st.bulk_lock.release()

    def bulk_item(self, op, item, index):
        href = item.get("href") if isinstance(item, dict) and op != "create" else None
        try:
            if self.state.faults.get("item_error", 0) > 0:
                self.state.faults["item_error"] -= 1
                raise Reject("test_fault", "refused by the test server's item_error fault")
            if op == "create":
                workload = self.create_workload(item)
                index[workload["href"]] = workload
                return {"href": workload["href"], "status": "created"}
            if not isinstance(item, dict):
                raise Reject("invalid_request_body", "a bulk item must be a JSON object")
            if not isinstance(href, str):
                raise Reject("missing_field", "a bulk_%s item needs the workload's href" % op)
            workload = index.get(href)
            if workload is None:
                raise Reject("not_found", "no workload %s" % href)
            if op == "update":
                self.update_workload(workload, item, allow_href=True, sync=False)
                return {"href": href, "status": "updated"}
            if set(item) != {"href"}:
                raise Reject("unknown_field", "a bulk_delete item is {\"href\": ...} only")
            self.delete_workload(workload, index)
            return {"href": href, "status": "deleted"}
        except Reject as e:
            return {"href": href if isinstance(href, str) else None, "errors": e.body()}

    # Virtual services (draft; provisioned to active)

    def virtual_service_fields(self, data, current=None):
        st = self.state
        check_fields(data, VS_FIELDS, "virtual service")
        out = dict(data)
        for key in ("description", "external_data_set", "external_data_reference"):
            optional_string(out, key)
        if "name" in out:
            if not isinstance(out["name"], str) or not out["name"].strip():
                raise Reject("invalid_field", "name must be a non-empty string")
            for vs in st.collections["sec_policy/draft/virtual_services"]:
                if vs.get("name") == out["name"] and vs is not current:
                    raise Reject("name_must_be_unique", "a virtual service named '%s' exists: %s"
                                 % (out["name"], vs["href"]))
        if "service_ports" in out and "service" in out:
            raise Reject("invalid_field", "give service_ports or service, not both")
        if "service_ports" in out:
            ports = self.listed(out["service_ports"], "service_ports")
            if not ports:
                raise Reject("invalid_field", "service_ports must not be empty")
            for sp in ports:
                if not isinstance(sp, dict) or any(k not in ("port", "to_port", "proto") for k in sp):
                    raise Reject("invalid_field", "a service port is {port, to_port?, proto}: %s" % json.dumps(sp))
                proto = sp.get("proto")
                if isinstance(proto, bool) or not isinstance(proto, int) or not -1 <= proto <= 255:
                    raise Reject("invalid_field", "proto must be an IANA protocol number or -1: %s" % json.dumps(sp))
                if "port" in sp:
                    port_number(sp["port"], "port")
                elif proto in (6, 17):
                    raise Reject("invalid_field", "a TCP or UDP service port needs a port: %s" % json.dumps(sp))
                if sp.get("to_port") is not None:
                    port_number(sp["to_port"], "to_port", sp.get("port", 0))
        if "service" in out:
            ref = out["service"]
            href = ref.get("href") if isinstance(ref, dict) else None
            if not isinstance(href, str) or st.find("sec_policy/draft/services",
                                                    href.replace("/sec_policy/active/", "/sec_policy/draft/")) is None:
                raise Reject("invalid_uri", "Invalid URI: {%s}" % href)
            out["service"] = {"href": href}
        if "service_addresses" in out:
            for sa in self.listed(out["service_addresses"], "service_addresses"):
                if not isinstance(sa, dict) or not (isinstance(sa.get("fqdn"), str) or "ip" in sa):
                    raise Reject("invalid_field", "a service address needs an fqdn or an ip: %s" % json.dumps(sa))
                if "ip" in sa:
                    try:
                        ipaddress.ip_address(sa["ip"])
                    except ValueError:
                        raise Reject("invalid_field", "not an IP address: %s" % json.dumps(sa["ip"]))
                if sa.get("port") is not None:
                    port_number(sa["port"], "service address port")
        if "ip_overrides" in out:
            for ip in self.listed(out["ip_overrides"], "ip_overrides"):
                try:
                    ipaddress.ip_network(ip, strict=False)
                except (TypeError, ValueError):
                    raise Reject("invalid_field", "not an IP address or CIDR: %s" % json.dumps(ip))
        if "apply_to" in out and out["apply_to"] not in ("host_only", "internal_bridge_network"):
            raise Reject("invalid_field", "apply_to must be host_only or internal_bridge_network")
        if "labels" in out:
            out["labels"] = self.expand_labels(out["labels"])
        return out

    def create_virtual_service(self, data):
        st = self.state
        fields = self.virtual_service_fields(data)
        if "name" not in fields:
            raise Reject("missing_field", "a virtual service needs a name")
        if "service_ports" not in fields and "service" not in fields:
            raise Reject("missing_field", "a virtual service needs service_ports or a service")
        vs = {"href": "/orgs/%s/sec_policy/draft/virtual_services/%s" % (st.org, uuid.uuid4()),
              "name": None, "description": None, "apply_to": "host_only", "service_addresses": [],
              "ip_overrides": [], "labels": [], "pce_fqdn": None, "update_type": "create",
              "external_data_set": None, "external_data_reference": None, "caps": ["write", "provision", "delete"]}
        vs.update(fields)
        st.collections["sec_policy/draft/virtual_services"].append(stamp(vs, created=True))
        return vs

    def update_virtual_service(self, vs, data):
        fields = self.virtual_service_fields(data, vs)
        if "service_ports" in fields:
            vs.pop("service", None)
        if "service" in fields:
            vs.pop("service_ports", None)
        vs.update(fields)
        if vs.get("update_type") != "create":
            vs["update_type"] = "update"
        stamp(vs)

    def delete_virtual_service(self, vs):
        st = self.state
        if vs.get("update_type") == "create":  # never provisioned: just gone
            name = "sec_policy/draft/virtual_services"
            st.collections[name] = [v for v in st.collections[name] if v is not vs]
        else:
            vs["update_type"] = "delete"
            stamp(vs)

    def bulk_virtual_services(self, op, items):
        """Draft virtual services bulk_create/update/delete: per-item results in order, as for workloads."""
        st = self.state
        if not isinstance(items, list):
            raise Reject("invalid_request_body", "bulk_%s takes a JSON array" % op)
        if len(items) > MAX_BULK_ITEMS:
            raise Reject("too_many_items", "at most %d items per bulk operation, got %d" % (MAX_BULK_ITEMS, len(items)))
        results = []
        for item in items:
            href = item.get("href") if isinstance(item, dict) and op != "create" else None
            try:
                if not isinstance(item, dict):
                    raise Reject("invalid_request_body", "a bulk item must be a JSON object")
                if op == "create":
                    results.append({"href": self.create_virtual_service(item)["href"], "status": "created"})
                    continue
                if not isinstance(href, str):
                    raise Reject("missing_field", "a bulk_%s item needs the virtual service's href" % op)
                vs = next((v for v in st.collections["sec_policy/draft/virtual_services"] if v["href"] == href), None)
                if vs is None:
                    raise Reject("not_found", "no draft virtual service %s" % href)
                if vs.get("update_type") == "delete":
                    raise Reject("already_deleted", "%s is already deleted in the draft policy" % href)
                if op == "update":
                    self.update_virtual_service(vs, {k: v for k, v in item.items() if k != "href"})
                    results.append({"href": href, "status": "updated"})
                    continue
                if set(item) != {"href"}:
                    raise Reject("unknown_field", "a bulk_delete item is {\"href\": ...} only")
                self.delete_virtual_service(vs)
                results.append({"href": href, "status": "deleted"})
            except Reject as e:
                results.append({"href": href if isinstance(href, str) else None, "errors": e.body()})
        return results

    # IP lists and rule sets with their rules (draft; provisioned to active)

    def next_id(self, name):
        """The next numeric id of a versioned collection, counting draft and active objects."""
        st = self.state
        ids = [0]
        for version in ("draft", "active"):
            for o in st.collections["sec_policy/%s/%s" % (version, name)]:
                tail = o.get("href", "").rsplit("/", 1)[-1]
                if tail.isdigit():
                    ids.append(int(tail))
        return max(ids) + 1

    def unique_name(self, name, data, current):
        if not isinstance(data.get("name"), str) or not data["name"].strip():
            raise Reject("invalid_field", "name must be a non-empty string")
        for o in self.state.collections["sec_policy/draft/" + name]:
            if o.get("name") == data["name"] and o is not current:
                raise Reject("name_must_be_unique", "the name '%s' is in use: %s" % (data["name"], o["href"]))

    def ip_list_fields(self, data, current=None):
        check_fields(data, IP_LIST_FIELDS, "IP list")
        out = dict(data)
        for key in ("description", "external_data_set", "external_data_reference"):
            optional_string(out, key)
        if "name" in out:
            self.unique_name("ip_lists", out, current)
        ranges = []
        for r in self.listed(out.get("ip_ranges", []), "ip_ranges"):
            if not isinstance(r, dict) or any(k not in ("from_ip", "to_ip", "description", "exclusion") for k in r):
                raise Reject("invalid_ip_range", "an IP range is {from_ip, to_ip?, description?, exclusion?}: %s"
                             % json.dumps(r))
            try:
                ipaddress.ip_network(r.get("from_ip"), strict=False)
                if r.get("to_ip") is not None:
                    ipaddress.ip_address(r["to_ip"])
            except (TypeError, ValueError):
                raise Reject("invalid_ip_range", "not an IP address or CIDR: %s" % json.dumps(r))
            ranges.append(dict({"exclusion": False}, **r))
        if "ip_ranges" in out:
            out["ip_ranges"] = ranges
        for f in self.listed(out.get("fqdns", []), "fqdns"):
            if not isinstance(f, dict) or not isinstance(f.get("fqdn"), str):
                raise Reject("invalid_field", "an fqdn entry is {fqdn, description?}: %s" % json.dumps(f))
        return out

    def create_ip_list(self, data):
        st = self.state
        fields = self.ip_list_fields(data)
        if "name" not in fields:
            raise Reject("missing_field", "an IP list needs a name")
        obj = {"href": "/orgs/%s/sec_policy/draft/ip_lists/%d" % (st.org, self.next_id("ip_lists")),
               "name": None, "description": None, "ip_ranges": [], "fqdns": [], "update_type": "create",
               "external_data_set": None, "external_data_reference": None, "caps": ["write", "provision", "delete"]}
        obj.update(fields)
        st.collections["sec_policy/draft/ip_lists"].append(stamp(obj, created=True))
        return obj

    def update_ip_list(self, obj, data):
        obj.update(self.ip_list_fields(data, obj))
        self.changed(obj)

    def changed(self, obj):
        if obj.get("update_type") != "create":
            obj["update_type"] = "update"
        stamp(obj)

    def delete_versioned(self, name, obj):
        st = self.state
        if obj.get("update_type") == "create":  # never provisioned: just gone
            st.collections[name] = [o for o in st.collections[name] if o is not obj]
        else:
            obj["update_type"] = "delete"
            stamp(obj)

    def actor(self, a, what, labels_only=False):
        """Checks one actor: exactly one of ams or a reference to an existing label or draft object."""
        st = self.state
        if not isinstance(a, dict):
            raise Reject("invalid_actor", "%s: an actor must be a JSON object: %s" % (what, json.dumps(a)))
        kinds = [k for k in a if k != "exclusion"]
        if len(kinds) != 1:
            raise Reject("invalid_actor", "%s: an actor names exactly one thing: %s" % (what, json.dumps(a)))
        kind = kinds[0]
        if kind == "actors" and not labels_only:
            if a["actors"] != "ams":
                raise Reject("invalid_actor", "%s: unknown actors %s" % (what, json.dumps(a["actors"])))
            return {"actors": "ams"}
        allowed = ("label", "label_group") if labels_only else ACTOR_KINDS
        ref = a.get(kind)
        href = ref.get("href") if isinstance(ref, dict) else None
        if kind not in allowed or not isinstance(href, str):
            raise Reject("invalid_actor", "%s: not an actor here: %s" % (what, json.dumps(a)))
        obj = st.find(ACTOR_KINDS[kind], href)
        if obj is None or obj.get("deleted") or obj.get("update_type") == "delete":
            raise Reject("invalid_uri", "Invalid URI: {%s}" % href)
        out = {kind: {"href": href}}
        if a.get("exclusion"):
            out["exclusion"] = True
        return out

    def rule_fields(self, data, partial=False):
        check_fields(data, RULE_FIELDS, "security rule")
        out = dict(data)
        for key in ("description", "external_data_set", "external_data_reference"):
            optional_string(out, key)
        for key in ("enabled", "unscoped_consumers", "sec_connect", "stateless", "machine_auth"):
            if key in out and not isinstance(out[key], bool):
                raise Reject("invalid_field", "%s must be true or false" % key)
        for side in ("providers", "consumers"):
            if side in out or not partial:
                actors = self.listed(out.get(side), side)
                if not actors:
                    raise Reject("invalid_field", "%s must not be empty" % side)
                out[side] = [self.actor(a, side) for a in actors]
        if "resolve_labels_as" in out or not partial:
            r = out.get("resolve_labels_as")
            if not isinstance(r, dict) or set(r) != {"providers", "consumers"}:
                raise Reject("invalid_field", "resolve_labels_as is {providers, consumers}")
            for side in ("providers", "consumers"):
                values = self.listed(r[side], "resolve_labels_as." + side)
                if not values or any(v not in ("workloads", "virtual_services") for v in values):
                    raise Reject("invalid_field", "resolve_labels_as.%s: workloads and/or virtual_services" % side)
        services = []
        for sv in self.listed(out.get("ingress_services", []), "ingress_services"):
            if isinstance(sv, dict) and set(sv) == {"href"}:
                if self.state.find("sec_policy/draft/services", sv["href"]) is None:
                    raise Reject("invalid_uri", "Invalid URI: {%s}" % sv["href"])
            elif isinstance(sv, dict) and "proto" in sv and set(sv) <= {"port", "to_port", "proto"}:
                if isinstance(sv["proto"], bool) or not isinstance(sv["proto"], int) or not -1 <= sv["proto"] <= 255:
                    raise Reject("invalid_field", "proto must be an IANA protocol number: %s" % json.dumps(sv))
                if "port" in sv:
                    port_number(sv["port"], "port")
                if sv.get("to_port") is not None:
                    port_number(sv["to_port"], "to_port", sv.get("port", 0))
            else:
                raise Reject("invalid_field", "an ingress service is {href} or {port, to_port?, proto}: %s"
                             % json.dumps(sv))
            services.append(sv)
        if "ingress_services" in out:
            out["ingress_services"] = services
        return out

    def new_rule(self, rule_set, data):
        st = self.state
        fields = self.rule_fields(data)
        ids = [0] + [int(r["href"].rsplit("/", 1)[1]) for name in ("draft", "active")
                     for rs in st.collections["sec_policy/%s/rule_sets" % name] for r in rs.get("rules", [])
                     if r.get("href", "").rsplit("/", 1)[-1].isdigit()]
        ids += [int(r["href"].rsplit("/", 1)[1]) for r in rule_set.get("rules", [])
                if r.get("href", "").rsplit("/", 1)[-1].isdigit()]
        rule = {"href": "%s/sec_rules/%d" % (rule_set["href"], max(ids) + 1), "enabled": True, "description": None,
                "ingress_services": [], "unscoped_consumers": False, "sec_connect": False, "stateless": False,
                "machine_auth": False, "external_data_set": None, "external_data_reference": None}
        rule.update(fields)
        return stamp(rule, created=True)

    def rule_set_fields(self, data, current=None):
        check_fields(data, RULE_SET_FIELDS - ({"rules"} if current is not None else set()), "rule set")
        out = dict(data)
        for key in ("description", "external_data_set", "external_data_reference"):
            optional_string(out, key)
        if "name" in out:
            self.unique_name("rule_sets", out, current)
        if "enabled" in out and not isinstance(out["enabled"], bool):
            raise Reject("invalid_field", "enabled must be true or false")
        if "scopes" in out:
            scopes = self.listed(out["scopes"], "scopes")
            if not scopes:
                raise Reject("invalid_field", "scopes must hold at least one scope ([[]] is all)")
            out["scopes"] = [[self.actor(a, "scopes", labels_only=True) for a in self.listed(sc, "scope")]
                             for sc in scopes]
        return out

    def create_rule_set(self, data):
        st = self.state
        fields = self.rule_set_fields(data)
        if "name" not in fields or "scopes" not in fields:
            raise Reject("missing_field", "a rule set needs a name and scopes")
        rules = self.listed(fields.pop("rules", []), "rules")
        obj = {"href": "/orgs/%s/sec_policy/draft/rule_sets/%d" % (st.org, self.next_id("rule_sets")),
               "name": None, "description": None, "enabled": True, "rules": [], "ip_tables_rules": [],
               "update_type": "create", "external_data_set": None, "external_data_reference": None,
               "caps": ["write", "provision", "delete"]}
        obj.update(fields)
        for r in rules:
            obj["rules"].append(self.new_rule(obj, r))
        st.collections["sec_policy/draft/rule_sets"].append(stamp(obj, created=True))
        return obj

    def update_rule_set(self, obj, data):
        obj.update(self.rule_set_fields(data, obj))
        self.changed(obj)

    # Service bindings (unversioned; active virtual services only)

    def create_bindings(self, items):
        st = self.state
        if not isinstance(items, list):
            raise Reject("invalid_request_body", "service_bindings takes a JSON array")
        if len(items) > MAX_BULK_ITEMS:
            raise Reject("too_many_items", "at most %d service bindings per request" % MAX_BULK_ITEMS)
        pairs = {(b["virtual_service"]["href"], b["workload"]["href"]) for b in st.collections["service_bindings"]}
        new = []
        for item in items:
            check_fields(item, BINDING_FIELDS, "service binding")
            refs = []
            for key in ("virtual_service", "workload"):
                ref = item.get(key)
                if not isinstance(ref, dict) or not isinstance(ref.get("href"), str):
                    raise Reject("missing_field", "a service binding needs %s: {\"href\": ...}" % key)
                refs.append(ref["href"])
            vs = st.find("sec_policy/active/virtual_services", refs[0])
            if vs is None:
                raise Reject("invalid_uri", "Invalid URI: {%s}" % refs[0])
            workload = st.find("workloads", refs[1])
            if workload is None:
                raise Reject("invalid_uri", "Invalid URI: {%s}" % refs[1])
            if tuple(refs) in pairs:
                raise Reject("duplicate_service_binding", "%s is already bound to %s" % (refs[1], refs[0]))
            pairs.add(tuple(refs))
            overrides = self.listed(item.get("port_overrides", []), "port_overrides")
            for po in overrides:
                if not isinstance(po, dict) or "port" not in po or "new_port" not in po:
                    raise Reject("invalid_field", "a port override is {port, proto, new_port, new_to_port?}: %s"
                                 % json.dumps(po))
                port_number(po["port"], "port")
                port_number(po["new_port"], "new_port")
            optional_string(item, "external_data_set")
            optional_string(item, "external_data_reference")
            # A binding has no timestamps or authors (Illumio's service_binding schema).
            new.append({"href": "/orgs/%s/service_bindings/%s" % (st.org, uuid.uuid4()),
                        "virtual_service": {"href": vs["href"]}, "workload": {"href": workload["href"]},
                        "port_overrides": overrides,
                        "external_data_set": item.get("external_data_set"),
                        "external_data_reference": item.get("external_data_reference")})
        st.collections["service_bindings"].extend(new)
        self.sync_bindings()
        return [{"href": b["href"]} for b in new]

    def sync_bindings(self):
        """Refreshes the names a binding shows for its virtual service and workload."""
        st = self.state
        bindings = st.collections["service_bindings"]
        if not bindings:
            return
        services = {v["href"]: v for v in st.collections["sec_policy/active/virtual_services"]}
        workloads = {w["href"]: w for w in st.collections["workloads"]}
        for b in bindings:
            vs, w = services.get(b["virtual_service"]["href"]), workloads.get(b["workload"]["href"])
            if vs is not None:
                b["virtual_service"] = {"href": vs["href"], "name": vs.get("name")}
            if w is not None:
                b["workload"] = {"href": w["href"], "name": w.get("name"), "hostname": w.get("hostname"),
                                 "deleted": bool(w.get("deleted"))}

    # Provisioning

    def provision(self, data):
        """Applies pending draft changes (all, or those of change_subset) to active as a new version."""
        st = self.state
        check_fields(data, {"update_description", "change_subset"}, "provision request")
        optional_string(data, "update_description")
        subset = data.get("change_subset")
        pending = {}  # draft href -> (collection, object), in request order
        if subset is None:
            for name in VERSIONED:
                for obj in st.collections["sec_policy/draft/" + name]:
                    if obj.get("update_type"):
                        pending[obj["href"]] = (name, obj)
        else:
            if not isinstance(subset, dict):
                raise Reject("invalid_request_body", "change_subset must be a JSON object")
            for kind, refs in subset.items():
                if not isinstance(refs, list):
                    raise Reject("invalid_request_body", "change_subset.%s must be a list of {\"href\": ...}" % kind)
                for ref in refs:
                    href = ref.get("href") if isinstance(ref, dict) else None
                    obj = st.find("sec_policy/draft/" + kind, href) if kind in VERSIONED else None
                    if obj is None:
                        raise Reject("invalid_uri", "Invalid URI: {%s}" % href)
                    if not obj.get("update_type"):
                        raise Reject("no_pending_change", "%s has no draft change to provision" % href)
                    pending[href] = (kind, obj)
        if not pending:
            raise Reject("nothing_to_provision", "there are no pending draft changes to provision")
        for href, (kind, obj) in pending.items():
            if kind == "virtual_services" and obj["update_type"] == "delete":
                users = [b["href"] for b in st.collections["service_bindings"]
                         if b["virtual_service"]["href"] == to_active(href)]
                if users:
                    raise Reject("virtual_service_in_use", "%s is still bound by service bindings: %s"
                                 % (to_active(href), ", ".join(users)))
        counts = {}
        for href, (kind, obj) in pending.items():
            draft_name, active_name = "sec_policy/draft/" + kind, "sec_policy/active/" + kind
            active = [a for a in st.collections[active_name] if a["href"] != to_active(href)]
            if obj["update_type"] == "delete":
                st.collections[draft_name] = [d for d in st.collections[draft_name] if d is not obj]
            else:
                obj["update_type"] = None
                copy = json.loads(to_active(json.dumps(obj)))
                old = [i for i, a in enumerate(st.collections[active_name]) if a["href"] == copy["href"]]
                active.insert(old[0] if old else len(active), copy)
            st.collections[active_name] = active
            counts[kind] = counts.get(kind, 0) + 1
        st.version += 1
        record = {"href": "/orgs/%s/sec_policy/%d" % (st.org, st.version),
                  "commit_message": data.get("update_description"), "version": st.version,
                  "workloads_affected": 0, "object_counts": counts, "created_at": now(), "created_by": USER}
        st.collections["sec_policy"].insert(0, record)
        st.snapshot(st.version)
        self.sync_bindings()
        return record

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
            if method == "POST" and path == "/_test/raw":
                raw = json.loads(body)
                st.raw[raw["path"]] = raw["body"]
                return self.send(200, {})
            if method == "POST" and path == "/_test/reset":
                st.log, st.flows, st.raw = [], [], {}
                st.faults.update({"429": 0, "503": 0, "garbage": 0, "bulk_delay": 0, "hang": 0, "method": None,
                                  "item_error": 0})
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
