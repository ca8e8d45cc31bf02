#!/usr/bin/env python3
"""Self-test of pce_test_server.py: starts it on loopback with a tiny bundle and drives its read and write
surface over HTTP (labels, workloads and their bulk operations, draft virtual services, IP lists, rule
sets and their rules, collection filters, service bindings, provisioning, errors, faults, rate limit). Stdlib only; exits non-zero on failure.
  python3 tests/pce_test_server_test.py
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
USER, SECRET = "api_1a2b3c4d5e6f", "test-secret-0123456789"
RDS = "/orgs/1/workloads/0b6c7d3e-2a41-4f7b-9c1d-8e5f6a7b8c90"
WEB = "/orgs/1/workloads/3c1d9f2a-7e4b-4a6c-8d2e-5f1a9b0c7d31"
ACTIVE_VS = "/orgs/1/sec_policy/active/virtual_services/7a9e1c44-5b2d-4e8f-a1b3-c4d5e6f70812"


def label(n, key, value):
    return {"href": "/orgs/1/labels/%d" % n, "key": key, "value": value, "deleted": False,
            "created_at": "2020-01-06T10:00:00.000Z", "updated_at": "2020-01-06T10:00:00.000Z",
            "created_by": {"href": "/users/1"}, "updated_by": {"href": "/users/1"},
            "external_data_set": None, "external_data_reference": None}


BUNDLE = {
    "labels": [label(1, "role", "Database"), label(2, "role", "Web"), label(3, "app", "Orders"),
               label(4, "env", "Development")],
    "workloads": [
        {"href": RDS, "name": "rds-orders-db", "hostname": "orders-db.example.internal",
         "interfaces": [{"name": "eth0", "address": "10.0.2.45", "cidr_block": 24, "link_state": "up"}],
         "labels": [{"href": "/orgs/1/labels/1", "key": "role", "value": "Database"}], "ven": None,
         "deleted": False},
        {"href": WEB, "name": "web-01", "hostname": "web-01.dev.internal",
         "interfaces": [{"name": "eth0", "address": "10.0.1.20"}], "labels": [],
         "ven": {"href": "/orgs/1/vens/3c1d9f2a-7e4b-4a6c-8d2e-5f1a9b0c7d31"}, "deleted": False}],
    "services": [{"href": "/orgs/1/sec_policy/active/services/12", "name": "S-PostgreSQL",
                  "service_ports": [{"port": 5432, "proto": 6}]}],
    "virtual_services": [{"href": ACTIVE_VS, "name": "VS-RDS-orders-db", "service_ports": [{"port": 5432, "proto": 6}],
                          "service_addresses": [{"fqdn": "orders-db.example.internal"}], "labels": []}],
}


class PceTestServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        bundle, port_file = os.path.join(cls.tmp.name, "bundle.json"), os.path.join(cls.tmp.name, "port")
        with open(bundle, "w") as f:
            json.dump(BUNDLE, f)
        cls.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "pce_test_server.py"),
                                     "--bundle", bundle, "--port-file", port_file])
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.025)
        with open(port_file) as f:
            cls.base = "http://127.0.0.1:%s" % f.read().strip()
        cls.auth = "Basic " + base64.b64encode(("%s:%s" % (USER, SECRET)).encode()).decode()

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(5)
        cls.tmp.cleanup()

    def setUp(self):
        self.call("POST", "/_test/reset", auth=False)

    def call(self, method, path, body=None, raw=None, auth=True, headers=None):
        """(status, headers, parsed JSON body or None)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", self.auth)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, hdrs, payload = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, e.headers, e.read()
        try:
            return status, hdrs, json.loads(payload) if payload else None
        except ValueError:
            return status, hdrs, payload

    def api(self, method, rest, body=None, **kw):
        status, _, payload = self.call(method, "/api/v2/orgs/1/" + rest, body, **kw)
        return status, payload

    def assertRejected(self, result, token, status=406):
        self.assertEqual(result[0], status, result)
        self.assertIsInstance(result[1], list, result)
        self.assertEqual(result[1][0]["token"], token, result)
        self.assertTrue(result[1][0]["message"], result)

    def writes(self):
        return [e for e in self.call("GET", "/_test/log", auth=False)[2] if e["method"] != "GET"]

    def new_vs(self, name, **fields):
        body = dict({"name": name, "service_ports": [{"port": 5432, "proto": 6}]}, **fields)
        status, vs = self.api("POST", "sec_policy/draft/virtual_services", body)
        self.assertEqual(status, 201, vs)
        return vs

    def provision(self, message, *draft_hrefs):
        body = {"update_description": message}
        if draft_hrefs:
            body["change_subset"] = {"virtual_services": [{"href": h} for h in draft_hrefs]}
        return self.api("POST", "sec_policy", body)

    def test_auth_and_org(self):
        self.assertEqual(self.call("GET", "/api/v2/orgs/1/labels", auth=False)[0], 401)
        self.assertEqual(self.api("POST", "labels", {"key": "loc", "value": "x"}, auth=False)[0], 401)
        self.assertEqual(self.api("DELETE", "workloads/x", auth=False)[0], 401)
        self.assertEqual(self.call("POST", "/api/v2/orgs/2/labels", {"key": "loc", "value": "x"})[0], 403)

    def test_labels(self):
        status, created = self.api("POST", "labels", {"key": "loc", "value": "Amazon"})
        self.assertEqual(status, 201, created)
        self.assertEqual(created["href"], "/orgs/1/labels/5")
        self.assertEqual((created["key"], created["value"], created["deleted"]), ("loc", "Amazon", False))
        self.assertRegex(created["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(created["created_by"], {"href": "/users/1"})
        self.assertIsNone(created["external_data_set"])
        self.assertRejected(self.api("POST", "labels", {"key": "loc", "value": "Amazon"}), "label_already_in_use")
        self.assertRejected(self.api("POST", "labels", {"key": "my key", "value": "v"}), "invalid_label_key")
        self.assertRejected(self.api("POST", "labels", {"key": "", "value": "v"}), "invalid_label_key")
        self.assertRejected(self.api("POST", "labels", {"key": "loc", "value": ""}), "invalid_label_value")
        self.assertRejected(self.api("POST", "labels", {"key": "loc", "value": "x", "href": "/x"}), "read_only_field")
        self.assertRejected(self.api("POST", "labels", raw=b"{not json"), "invalid_json")
        status, hdrs, labels = self.call("GET", "/api/v2/orgs/1/labels")
        self.assertEqual(status, 200)
        self.assertIn(created, labels)
        self.assertEqual(hdrs["X-Total-Count"], str(len(labels)))
        self.assertEqual(self.api("GET", "labels/5"), (200, created))

    def test_bulk_create_update_delete(self):
        items = [
            {"name": "db-a", "interfaces": [{"name": "eth0", "address": "10.0.3.1", "cidr_block": 24}],
             "labels": [{"href": "/orgs/1/labels/1"}, {"href": "/orgs/1/labels/3"}],
             "external_data_set": "moat", "external_data_reference": "db-a", "description": "A"},
            {"name": "db-bad-label", "labels": [{"href": "/orgs/1/labels/999"}]},
            {"hostname": "db-b.internal", "interfaces": [{"name": "eth0", "address": "10.0.3.2"}]},
            {"name": "db-conflict", "labels": [{"href": "/orgs/1/labels/1"}, {"href": "/orgs/1/labels/2"}]},
            {"name": "db-bad-ip", "interfaces": [{"name": "eth0", "address": "10.0.3.999"}]},
            {"description": "no name"},
        ]
        status, results = self.api("PUT", "workloads/bulk_create", items)
        self.assertEqual(status, 200, results)
        self.assertEqual(len(results), len(items))
        self.assertEqual([r.get("status") for r in results], ["created", None, "created", None, None, None])
        self.assertEqual([r["errors"][0]["token"] for r in results if "errors" in r],
                         ["invalid_label", "label_key_conflict", "invalid_interface", "missing_field"])
        self.assertIsNone(results[1]["href"])
        a, b = results[0]["href"], results[2]["href"]
        self.assertRegex(a, r"^/orgs/1/workloads/[0-9a-f-]{36}$")
        status, workload = self.api("GET", a[len("/orgs/1/"):])
        self.assertEqual(status, 200)
        self.assertEqual(workload["labels"], [{"href": "/orgs/1/labels/1", "key": "role", "value": "Database"},
                                              {"href": "/orgs/1/labels/3", "key": "app", "value": "Orders"}])
        self.assertEqual((workload["ven"], workload["deleted"], workload["online"]), (None, False, True))
        self.assertEqual((workload["external_data_set"], workload["external_data_reference"]), ("moat", "db-a"))
        names = [w["name"] for w in self.api("GET", "workloads")[1]]
        self.assertIn("db-a", names)
        self.assertNotIn("db-bad-label", names)

        status, results = self.api("PUT", "workloads/bulk_update", [
            {"href": a, "labels": [{"href": "/orgs/1/labels/2"}], "description": "A2"},
            {"href": "/orgs/1/workloads/00000000-0000-4000-8000-000000000000", "name": "ghost"},
            {"name": "no href"},
            {"href": b, "labels": [{"href": "/orgs/1/labels/nope"}]},
        ])
        self.assertEqual(status, 200, results)
        self.assertEqual(results[0], {"href": a, "status": "updated"})
        self.assertEqual([r["errors"][0]["token"] for r in results[1:]], ["not_found", "missing_field", "invalid_label"])
        self.assertEqual(results[3]["href"], b)
        workload = self.api("GET", a[len("/orgs/1/"):])[1]
        self.assertEqual((workload["description"], workload["name"]), ("A2", "db-a"))
        self.assertEqual([l["value"] for l in workload["labels"]], ["Web"])
        self.assertEqual(workload["interfaces"][0]["address"], "10.0.3.1")  # not given: kept

        status, results = self.api("PUT", "workloads/bulk_delete", [{"href": a}, {"href": WEB}, {"href": b}])
        self.assertEqual(status, 200, results)
        self.assertEqual(results[0], {"href": a, "status": "deleted"})
        self.assertEqual((results[1]["href"], results[1]["errors"][0]["token"]), (WEB, "workload_managed"))
        self.assertEqual(results[2], {"href": b, "status": "deleted"})
        hrefs = [w["href"] for w in self.api("GET", "workloads")[1]]
        self.assertNotIn(a, hrefs)
        self.assertIn(WEB, hrefs)
        self.assertEqual(len(self.writes()), 3)

    def test_bulk_limits(self):
        self.assertRejected(self.api("PUT", "workloads/bulk_create", [{"name": "w%d" % i} for i in range(1001)]),
                            "too_many_items")
        self.assertRejected(self.api("PUT", "workloads/bulk_create", {"name": "not an array"}), "invalid_request_body")
        self.assertRejected(self.api("PUT", "workloads/bulk_update", raw=b"[{"), "invalid_json")
        self.assertNotIn("w0", [w["name"] for w in self.api("GET", "workloads")[1]])

    def test_one_bulk_operation_at_a_time(self):
        self.call("POST", "/_test/faults", {"bulk_delay": 0.5}, auth=False)
        first = {}
        t = threading.Thread(target=lambda: first.update(r=self.api("PUT", "workloads/bulk_create", [{"name": "slow"}])))
        t.start()
        time.sleep(0.15)
        self.assertRejected(self.api("PUT", "workloads/bulk_update", []), "bulk_operation_in_progress")
        t.join()
        self.assertEqual(first["r"][0], 200)
        self.assertEqual(first["r"][1][0]["status"], "created")
        self.call("POST", "/_test/faults", {"bulk_delay": 0}, auth=False)
        self.assertEqual(self.api("PUT", "workloads/bulk_delete", [{"href": first["r"][1][0]["href"]}])[0], 200)

    def test_single_workload(self):
        status, created = self.api("POST", "workloads", {"name": "single", "interfaces": [
            {"name": "eth0", "address": "10.0.4.1"}], "labels": [{"href": "/orgs/1/labels/4"}]})
        self.assertEqual(status, 201, created)
        rest = created["href"][len("/orgs/1/"):]
        self.assertEqual(self.api("PUT", rest, {"hostname": "single.internal", "labels": []}), (204, None))
        workload = self.api("GET", rest)[1]
        self.assertEqual((workload["name"], workload["hostname"], workload["labels"]),
                         ("single", "single.internal", []))
        self.assertRejected(self.api("PUT", rest, {"href": created["href"]}), "read_only_field")
        self.assertRejected(self.api("PUT", rest, {"labels": [{"href": "/orgs/1/labels/9"}]}), "invalid_label")
        self.assertRejected(self.api("DELETE", WEB[len("/orgs/1/"):]), "workload_managed")
        self.assertEqual(self.api("DELETE", rest), (204, None))
        self.assertEqual(self.api("DELETE", rest), (404, {"error": "not found"}))
        self.assertEqual(self.api("PUT", rest, {"name": "x"}), (404, {"error": "not found"}))

    def test_virtual_service_binding_and_provisioning(self):
        vs = self.new_vs("VS-orders-replica", labels=[{"href": "/orgs/1/labels/1"}],
                         service_addresses=[{"fqdn": "replica.example.internal"}],
                         external_data_set="moat", external_data_reference="replica")
        draft = vs["href"]
        active = draft.replace("/draft/", "/active/")
        self.assertRegex(draft, r"^/orgs/1/sec_policy/draft/virtual_services/[0-9a-f-]{36}$")
        self.assertEqual(vs["update_type"], "create")
        self.assertEqual(vs["labels"], [{"href": "/orgs/1/labels/1", "key": "role", "value": "Database"}])
        self.assertRejected(self.api("POST", "sec_policy/draft/virtual_services",
                                     {"name": "VS-orders-replica", "service_ports": [{"port": 1, "proto": 6}]}),
                            "name_must_be_unique")
        self.assertRejected(self.api("POST", "sec_policy/draft/virtual_services", {"name": "no ports"}),
                            "missing_field")
        self.assertRejected(self.api("POST", "sec_policy/draft/virtual_services",
                                     {"name": "bad", "service_ports": [{"port": 70000, "proto": 6}]}), "invalid_field")
        self.assertRejected(self.api("POST", "sec_policy/draft/virtual_services",
                                     {"name": "svc", "service": {"href": "/orgs/1/sec_policy/draft/services/99"}}),
                            "invalid_uri")

        # A draft (not yet provisioned) virtual service cannot be bound.
        status, body = self.api("POST", "service_bindings", [{"virtual_service": {"href": draft},
                                                              "workload": {"href": RDS}}])
        self.assertEqual((status, body), (406, [{"token": "invalid_uri", "message": "Invalid URI: {%s}" % draft}]))
        self.assertRejected(self.api("POST", "service_bindings", [{"virtual_service": {"href": active},
                                                                   "workload": {"href": RDS}}]), "invalid_uri")

        status, version = self.provision("Provision replica VS", draft)
        self.assertEqual(status, 201, version)
        self.assertEqual(version["commit_message"], "Provision replica VS")
        self.assertEqual(version["href"], "/orgs/1/sec_policy/%d" % version["version"])
        self.assertGreater(version["version"], 1)
        self.assertEqual(version["object_counts"], {"virtual_services": 1})
        self.assertEqual((version["workloads_affected"], version["created_by"]), (0, {"href": "/users/1"}))
        status, versions = self.api("GET", "sec_policy")
        self.assertEqual(versions[0]["commit_message"], "Provision replica VS")
        self.assertEqual(versions[0]["version"], version["version"])
        self.assertEqual(versions[-1]["version"], 1)
        self.assertEqual(self.api("GET", "sec_policy/%d" % version["version"])[1]["commit_message"],
                         "Provision replica VS")
        status, got = self.api("GET", active[len("/orgs/1/"):])
        self.assertEqual(status, 200)
        self.assertIsNone(got["update_type"])
        self.assertEqual(got["name"], "VS-orders-replica")
        self.assertIsNone(self.api("GET", draft[len("/orgs/1/"):])[1]["update_type"])
        snapshot = self.api("GET", "sec_policy/%d/virtual_services" % version["version"])[1]
        self.assertIn(draft.replace("/draft/", "/%d/" % version["version"]), [v["href"] for v in snapshot])
        self.assertRejected(self.provision("again", draft), "no_pending_change")

        status, body = self.api("POST", "service_bindings", [{"virtual_service": {"href": draft},
                                                              "workload": {"href": RDS}}])
        self.assertEqual((status, body), (406, [{"token": "invalid_uri", "message": "Invalid URI: {%s}" % draft}]))
        status, body = self.api("POST", "service_bindings", [
            {"virtual_service": {"href": active}, "workload": {"href": RDS}, "port_overrides": []}])
        self.assertEqual(status, 201, body)
        self.assertEqual(list(body[0]), ["href"])
        binding = body[0]["href"]
        self.assertRegex(binding, r"^/orgs/1/service_bindings/[0-9a-f-]{36}$")
        got = self.api("GET", binding[len("/orgs/1/"):])[1]
        self.assertEqual(got["virtual_service"], {"href": active, "name": "VS-orders-replica"})
        self.assertEqual(got["workload"], {"href": RDS, "name": "rds-orders-db",
                                           "hostname": "orders-db.example.internal", "deleted": False})
        self.assertEqual((got["port_overrides"], got["external_data_set"]), ([], None))
        self.assertIn(binding, [b["href"] for b in self.api("GET", "service_bindings")[1]])
        self.assertRejected(self.api("POST", "service_bindings", [
            {"virtual_service": {"href": active}, "workload": {"href": RDS}}]), "duplicate_service_binding")
        self.assertRejected(self.api("POST", "service_bindings", [
            {"virtual_service": {"href": active}, "workload": {"href": "/orgs/1/workloads/nope"}}]), "invalid_uri")

        # Update: draft only until provisioned.
        self.assertEqual(self.api("PUT", draft[len("/orgs/1/"):], {"description": "replica",
                                                                   "service_ports": [{"port": 5433, "proto": 6}]}),
                         (204, None))
        self.assertEqual(self.api("GET", draft[len("/orgs/1/"):])[1]["update_type"], "update")
        self.assertEqual(self.api("GET", active[len("/orgs/1/"):])[1]["service_ports"], [{"port": 5432, "proto": 6}])
        self.assertEqual(self.provision("ports", draft)[0], 201)
        self.assertEqual(self.api("GET", active[len("/orgs/1/"):])[1]["service_ports"], [{"port": 5433, "proto": 6}])

        # Delete: pending in draft, refused while bound, gone from both once provisioned.
        self.assertEqual(self.api("DELETE", draft[len("/orgs/1/"):]), (204, None))
        self.assertEqual(self.api("GET", draft[len("/orgs/1/"):])[1]["update_type"], "delete")
        self.assertEqual(self.api("GET", active[len("/orgs/1/"):])[0], 200)
        self.assertRejected(self.api("DELETE", draft[len("/orgs/1/"):]), "already_deleted")
        self.assertRejected(self.provision("drop", draft), "virtual_service_in_use")
        self.assertEqual(self.api("DELETE", binding[len("/orgs/1/"):]), (204, None))
        self.assertEqual(self.api("DELETE", binding[len("/orgs/1/"):])[0], 404)
        status, version = self.provision("drop replica VS", draft)
        self.assertEqual(status, 201, version)
        self.assertEqual(self.api("GET", draft[len("/orgs/1/"):])[0], 404)
        self.assertEqual(self.api("GET", active[len("/orgs/1/"):])[0], 404)
        self.assertEqual(self.api("GET", "sec_policy")[1][0]["commit_message"], "drop replica VS")

    def test_the_active_version_is_the_first_listed(self):
        status, hdrs, versions = self.call("GET", "/api/v2/orgs/1/sec_policy?max_results=1")
        self.assertEqual(status, 200)
        self.assertEqual(len(versions), 1)
        total = int(hdrs["X-Total-Count"])
        self.assertEqual(versions[0]["version"], total)
        self.assertEqual(sorted(versions[0]), ["commit_message", "created_at", "created_by", "href", "object_counts",
                                               "version", "workloads_affected"])
        self.new_vs("VS-version-check")
        status, made = self.api("POST", "sec_policy", {"update_description": "version check"})
        self.assertEqual(status, 201, made)
        status, hdrs, versions = self.call("GET", "/api/v2/orgs/1/sec_policy?max_results=1")
        self.assertEqual(versions, [made])
        self.assertEqual(int(hdrs["X-Total-Count"]), total + 1)
        every = self.api("GET", "sec_policy")[1]
        self.assertEqual([v["version"] for v in every], sorted((v["version"] for v in every), reverse=True))

    def test_unprovisioned_delete_and_provision_all(self):
        vs = self.new_vs("VS-short-lived")
        rest = vs["href"][len("/orgs/1/"):]
        self.assertEqual(self.api("DELETE", rest), (204, None))
        self.assertEqual(self.api("GET", rest)[0], 404)
        self.assertNotIn("VS-short-lived", [v["name"] for v in self.api("GET", "sec_policy/draft/virtual_services")[1]])
        self.assertRejected(self.provision("ghost", vs["href"]), "invalid_uri")

        one, two = self.new_vs("VS-all-1"), self.new_vs("VS-all-2")
        status, version = self.api("POST", "sec_policy", {"update_description": "everything"})
        self.assertEqual(status, 201, version)
        self.assertGreaterEqual(version["object_counts"]["virtual_services"], 2)
        active = [v["href"] for v in self.api("GET", "sec_policy/active/virtual_services")[1]]
        for vs in (one, two):
            self.assertIn(vs["href"].replace("/draft/", "/active/"), active)
        self.assertRejected(self.api("POST", "sec_policy", {"update_description": "nothing"}), "nothing_to_provision")
        for vs in (one, two):
            self.assertEqual(self.api("DELETE", vs["href"][len("/orgs/1/"):])[0], 204)
        self.assertEqual(self.api("POST", "sec_policy", {"update_description": "cleanup"})[0], 201)

    def test_virtual_service_bulk_operations(self):
        path = "sec_policy/draft/virtual_services/"
        status, created = self.api("PUT", path + "bulk_create", [
            {"name": "VS-bulk-1", "service_ports": [{"port": 3306, "proto": 6}]},
            {"name": "VS-bulk-1", "service_ports": [{"port": 3306, "proto": 6}]},  # the name is taken by then
            {"name": "VS-bulk-2", "service_ports": [{"port": 3306, "proto": 6}], "labels": [{"href": "/orgs/1/labels/999"}]},
            {"name": "VS-bulk-3", "service_ports": [{"port": 1433, "proto": 6}]}])
        self.assertEqual(status, 200, created)
        self.assertEqual(created[0]["status"], "created")
        self.assertEqual(created[1]["errors"][0]["token"], "name_must_be_unique")
        self.assertEqual(created[2]["errors"][0]["token"], "invalid_label")
        self.assertEqual(created[3]["status"], "created")
        one, three = created[0]["href"], created[3]["href"]
        status, updated = self.api("PUT", path + "bulk_update", [
            {"href": one, "service_ports": [{"port": 3307, "proto": 6}]},
            {"href": "/orgs/1/sec_policy/draft/virtual_services/nope", "name": "x"}])
        self.assertEqual(updated[0], {"href": one, "status": "updated"})
        self.assertEqual(updated[1]["errors"][0]["token"], "not_found")
        self.assertEqual(self.api("GET", one[len("/orgs/1/"):])[1]["service_ports"], [{"port": 3307, "proto": 6}])
        self.assertEqual(self.provision("bulk", one, three)[0], 201)
        status, deleted = self.api("PUT", path + "bulk_delete", [{"href": one}, {"href": three, "name": "x"}])
        self.assertEqual(deleted[0], {"href": one, "status": "deleted"})
        self.assertEqual(deleted[1]["errors"][0]["token"], "unknown_field")
        self.assertEqual(self.api("GET", one[len("/orgs/1/"):])[1]["update_type"], "delete")
        self.assertRejected(self.api("PUT", path + "bulk_create", [{}] * 1001), "too_many_items")
        self.assertRejected(self.api("PUT", "sec_policy/active/virtual_services/bulk_create", []),
                            "invalid_policy_version")

    def test_writes_only_in_draft(self):
        body = {"name": "x", "service_ports": [{"port": 1, "proto": 6}]}
        self.assertRejected(self.api("POST", "sec_policy/active/virtual_services", body), "invalid_policy_version")
        self.assertRejected(self.api("PUT", ACTIVE_VS[len("/orgs/1/"):], {"name": "y"}), "invalid_policy_version")
        self.assertRejected(self.api("DELETE", ACTIVE_VS[len("/orgs/1/"):]), "invalid_policy_version")
        self.assertRejected(self.api("POST", "sec_policy/1/virtual_services", body), "invalid_policy_version")
        self.assertEqual(self.api("GET", "sec_policy/active/virtual_services/" + ACTIVE_VS.rsplit("/", 1)[1])[0], 200)
        self.assertEqual(self.api("GET", "sec_policy/1/virtual_services")[1][0]["href"],
                         ACTIVE_VS.replace("/active/", "/1/"))
        self.assertEqual(self.api("PUT", "sec_policy/draft/virtual_services/nope", {"name": "z"}),
                         (404, {"error": "not found"}))

    def test_ip_lists_and_rule_sets_are_written_in_draft_and_found_by_external_data(self):
        moat = {"external_data_set": "moat", "external_data_reference": "suggest:orders-db:clients"}
        status, ipl = self.api("POST", "sec_policy/draft/ip_lists",
                               dict({"name": "IPL-suggest-test", "ip_ranges": [{"from_ip": "10.8.0.6"}]}, **moat))
        self.assertEqual(status, 201, ipl)
        self.assertRegex(ipl["href"], r"^/orgs/1/sec_policy/draft/ip_lists/\d+$")
        self.assertEqual((ipl["update_type"], ipl["ip_ranges"][0]["exclusion"]), ("create", False))
        self.assertRejected(self.api("POST", "sec_policy/draft/ip_lists", {"name": "IPL-suggest-test"}),
                            "name_must_be_unique")
        self.assertRejected(self.api("POST", "sec_policy/draft/ip_lists",
                                     {"name": "IPL-bad", "ip_ranges": [{"from_ip": "10.8.0.300"}]}),
                            "invalid_ip_range")
        # The filters: external data exactly, the name in part.
        for query in ("external_data_set=moat", "name=suggest-te",
                      "external_data_reference=suggest:orders-db:clients&external_data_set=moat"):
            self.assertEqual([o["href"] for o in self.api("GET", "sec_policy/draft/ip_lists?" + query)[1]],
                             [ipl["href"]], query)
        self.assertEqual(self.api("GET", "sec_policy/draft/ip_lists?external_data_reference=suggest:orders-db")[1],
                         [])
        draft_vs = ACTIVE_VS.replace("/active/", "/draft/")
        rule = {"providers": [{"virtual_service": {"href": draft_vs}}], "consumers": [{"ip_list": {"href": ipl["href"]}}],
                "ingress_services": [{"port": 5432, "proto": 6}],
                "resolve_labels_as": {"providers": ["virtual_services"], "consumers": ["workloads"]}}
        status, rs = self.api("POST", "sec_policy/draft/rule_sets",
                              {"name": "RS-suggest-test", "scopes": [[]], "rules": [rule],
                               "external_data_set": "moat", "external_data_reference": "suggest:orders-db"})
        self.assertEqual(status, 201, rs)
        self.assertEqual(rs["rules"][0]["href"].rsplit("/", 1)[0], rs["href"] + "/sec_rules")
        rules = rs["href"][len("/orgs/1/"):] + "/sec_rules"
        # A rule names existing labels and draft objects: an active IP list href is not one.
        active_ipl = dict(rule, consumers=[{"ip_list": {"href": ipl["href"].replace("/draft/", "/active/")}}])
        self.assertRejected(self.api("POST", rules, active_ipl), "invalid_uri")
        self.assertRejected(self.api("POST", rules, dict(rule, consumers=[])), "invalid_field")
        self.assertRejected(self.api("POST", rules, dict(rule, resolve_labels_as={"providers": ["workloads"]})),
                            "invalid_field")
        status, second = self.api("POST", rules, dict(rule, consumers=[{"label": {"href": "/orgs/1/labels/2"}}]))
        self.assertEqual(status, 201, second)
        self.assertEqual(len(self.api("GET", rules)[1]), 2)
        self.assertEqual(self.api("PUT", second["href"][len("/orgs/1/"):], {"description": "web"})[0], 204)
        self.assertEqual(self.api("GET", second["href"][len("/orgs/1/"):])[1]["description"], "web")
        self.assertEqual(self.api("DELETE", second["href"][len("/orgs/1/"):])[0], 204)
        self.assertEqual(self.api("PUT", rs["href"][len("/orgs/1/"):], {"description": "reviewed"})[0], 204)
        self.assertEqual([r["href"] for r in self.api("GET", rules)[1]], [rs["rules"][0]["href"]])
        self.assertRejected(self.api("PUT", rs["href"][len("/orgs/1/"):], {"rules": []}), "unknown_field")
        # Draft only, until provisioned; then active, its references active too.
        self.assertEqual(self.api("GET", "sec_policy/active/rule_sets?name=RS-suggest-test")[1], [])
        self.assertEqual(self.api("POST", "sec_policy", {"update_description": "suggest test"})[0], 201)
        active = self.api("GET", "sec_policy/active/rule_sets?external_data_reference=suggest:orders-db")[1]
        self.assertEqual(len(active), 1, active)
        self.assertEqual(active[0]["description"], "reviewed")
        self.assertEqual(active[0]["rules"][0]["consumers"][0]["ip_list"]["href"],
                         ipl["href"].replace("/draft/", "/active/"))
        self.assertEqual(len(self.api("GET", "sec_policy/active/ip_lists?name=IPL-suggest-test")[1]), 1)
        # A provisioned rule set's deletion waits for a provisioning too.
        self.assertEqual(self.api("DELETE", rs["href"][len("/orgs/1/"):])[0], 204)
        self.assertRejected(self.api("DELETE", rs["href"][len("/orgs/1/"):]), "already_deleted")

    def test_faults_apply_to_writes(self):
        self.call("POST", "/_test/faults", {"429": 1, "retry_after": 2}, auth=False)
        status, hdrs, _ = self.call("POST", "/api/v2/orgs/1/labels", {"key": "loc", "value": "Fault"})
        self.assertEqual((status, hdrs["Retry-After"]), (429, "2"))
        self.call("POST", "/_test/faults", {"503": 1}, auth=False)
        self.assertEqual(self.api("DELETE", "service_bindings/x")[0], 503)
        self.assertEqual(self.api("PUT", "workloads/bulk_update", [])[0], 200)
        self.assertEqual([e["method"] for e in self.writes()], ["POST", "DELETE", "PUT"])

    def test_raw_answers_are_served_verbatim_until_reset(self):
        text = '[{"href": "/orgs/1/sec_policy/active/rule_sets/1", "enabled": true, "enabled": false}]'
        self.call("POST", "/_test/raw", {"path": "sec_policy/active/rule_sets", "body": text}, auth=False)
        req = urllib.request.Request(self.base + "/api/v2/orgs/1/sec_policy/active/rule_sets")
        req.add_header("Authorization", self.auth)
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual((r.read().decode(), r.headers["X-Total-Count"]), (text, "1"))
        self.call("POST", "/_test/reset", auth=False)
        self.assertNotEqual(self.api("GET", "sec_policy/active/rule_sets")[1], json.loads(text))

    def test_reads_still_work(self):
        status, hdrs, _ = self.call("GET", "/api/v2/orgs/1/workloads", headers={"Prefer": "respond-async"})
        self.assertEqual(status, 202)
        job = hdrs["Location"]
        while True:
            doc = self.call("GET", "/api/v2" + job)[2]
            if doc["status"] == "done":
                break
            time.sleep(0.05)
        data = self.call("GET", "/api/v2" + doc["result"]["href"])[2]
        self.assertIn(RDS, [w["href"] for w in data])
        status, hdrs, page = self.call("GET", "/api/v2/orgs/1/workloads?max_results=1")
        self.assertEqual((status, len(page)), (200, 1))
        self.assertGreaterEqual(int(hdrs["X-Total-Count"]), 2)
        status, _, result = self.call("POST", "/api/v2/orgs/1/agents/bulk_traffic_flows",
                                      raw=b"10.0.1.20,10.0.2.45,5432,6\n", headers={"Content-Type": "text/csv"})
        self.assertEqual((status, result["num_flows_received"]), (201, 1))
        self.assertEqual(self.call("GET", "/api/v2/health", auth=False)[0], 200)

    def test_z_rate_limit_applies_to_writes(self):  # last: it uses up the minute's requests
        for _ in range(600):
            status, body = self.api("DELETE", "service_bindings/00000000-0000-4000-8000-000000000000")
            if status == 429:
                break
            self.assertEqual(status, 404, body)
        self.assertEqual(status, 429)


if __name__ == "__main__":
    unittest.main(verbosity=2)
