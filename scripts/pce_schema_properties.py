#!/usr/bin/env python3
"""Lists the properties of the PCE objects moat reads, from Illumio's published REST API JSON
schemas, as the JSON that tests/conformance/pce-schema-properties.json holds.

Usage: scripts/pce_schema_properties.py API_SCHEMAS_DIR VERSION [VERSION...] > FILE

API_SCHEMAS_DIR is a folder holding one folder per PCE release (25.2.20/, 26.3.0/, each with
common/ and v2/), as published in the api-schemas/ folder of
alexgoller/terraform-provider-illumio-core. The output names, per release and per object, every
property the schema gives it (references, allOf/oneOf/anyOf and array items followed). The
schema walk test (src/policy/properties_test.cc) fails when one of them is neither read by moat
nor documented in docs/policy-semantics.md — run this on a new release's schemas and commit the
output to have the new fields noticed.
"""
import json
import os
import sys

# object -> (schema file, steps into it): a step is a property name; arrays' items are entered
# on the way. Several sources are merged (an actor is a consumer, a provider or a deny actor).
OBJECTS = {
    "rule_set": [("v2/sec_policy_rule_sets_get", [])],
    "scope_item": [("common/rule_set_scope_get", [])],
    "rule": [("common/sec_rules_get", []), ("v2/sec_policy_rule_sets_sec_rules_get", [])],
    "deny_rule": [("common/deny_rules_get", [])],
    "actor": [("common/sec_policy_rule_sets_sec_rules_consumers_get", []),
              ("common/sec_policy_rule_sets_sec_rules_providers_get", []),
              ("common/deny_rule_actor", [])],
    "ingress_service": [("common/sec_rule_ingress_services", [])],
    "service": [("v2/sec_policy_services_get", [])],
    "service_port": [("common/service_protocol_def", [])],
    "windows_service": [("common/windows_service_v2", [])],
    "service_binding": [("v2/service_bindings_get", []), ("v2/service_bindings_post", [])],
    "port_override": [("v2/port_overrides", [])],
    "virtual_service": [("v2/sec_policy_virtual_services_get", [])],
    "service_address": [("v2/sec_policy_virtual_services_get", ["service_addresses"])],
    "workload": [("v2/workloads_get", [])],
    "interface": [("common/workloads_interfaces", [])],
    "label": [("v2/labels_get", [])],
    "label_group": [("v2/sec_policy_label_groups_get", [])],
    "ip_list": [("v2/sec_policy_ip_lists_get", [])],
    "ip_range": [("v2/sec_policy_ip_lists_get", ["ip_ranges"])],
    "fqdn": [("v2/sec_policy_ip_lists_get", ["fqdns"])],
}


class Schemas:
    def __init__(self, root):
        self.root = root
        self.cache = {}

    def load(self, path):
        path = os.path.normpath(path)
        if path not in self.cache:
            with open(path) as f:
                self.cache[path] = json.load(f)
        return self.cache[path]

    def resolve(self, node, base):
        """Follows $ref until a node without one; returns (node, the file it is in)."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"].split("#")[0]
            if not ref:
                return node, base
            path = os.path.join(os.path.dirname(base), ref)
            if not os.path.exists(path):  # references are relative to common/ or v2/ alike
                for sub in ("common", "v2"):
                    alt = os.path.join(self.root, sub, os.path.basename(ref))
                    if os.path.exists(alt):
                        path = alt
                        break
            base, node = path, self.load(path)
            seen += 1
            if seen > 50:
                raise ValueError("reference cycle at " + base)
        return node, base

    def properties(self, node, base, depth=0):
        """Every property of an object node: its own, and those of allOf/oneOf/anyOf parts."""
        node, base = self.resolve(node, base)
        out = {}
        if not isinstance(node, dict) or depth > 10:
            return out
        if node.get("type") == "array" or "items" in node:
            return self.properties(node.get("items", {}), base, depth + 1)
        for name, value in node.get("properties", {}).items():
            out[name] = (value, base)
        for name in node.get("required", []):  # a required name is a property, described or not
            out.setdefault(name, ({}, base))
        for key in ("allOf", "oneOf", "anyOf"):
            for part in node.get(key, []):
                out.update(self.properties(part, base, depth + 1))
        return out


def walk(root, sources):
    schemas = Schemas(root)
    names = set()
    for file, steps in sources:
        path = os.path.join(root, file + ".schema.json")
        if not os.path.exists(path):
            continue
        props = schemas.properties(schemas.load(path), path)
        for step in steps:
            value, base = props[step]
            props = schemas.properties(value, base)
        names.update(props)
    return sorted(names)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = {}
    for version in sys.argv[2:]:
        root = os.path.join(sys.argv[1], version)
        out[version] = {name: walk(root, sources) for name, sources in OBJECTS.items()}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
