// The planner of `moat pce sync`: from the RDS databases as discovered, a tag -> label map and the
// PCE's current objects, the changes that model each database in the PCE — labels, an unmanaged
// workload, a draft virtual service and, once that virtual service is active, a service binding.
// Pure: values in, a value out, no I/O; thread-safe. Parse errors are one line naming where
// ("workloads[3].interfaces[0].address: expected a string"); Plan itself cannot fail.
//
// Names: workload "rds-<id>" ("rds-cluster-<id>"), virtual service "VS-RDS-<id>"
// ("VS-RDS-cluster-<id>"): instance and cluster identifiers are separate namespaces in AWS. A
// database of a run over several accounts and regions (its `place` set) has the place in its
// names and reference ("rds-orders-db-111122223333-eu-west-1", "rds:111122223333/eu-west-1/
// orders-db"): two accounts' orders-db are two databases.
//
// Ownership. moat's workloads and virtual services carry external_data_set "moat" and
// external_data_reference "rds:<id>" ("rds:cluster/<id>" for an Aurora cluster); a binding is
// moat's when both its workload and its virtual service are. Nothing else is ever updated or
// deleted. A foreign workload or virtual service with the name moat would give a database is a
// conflict: the database is reported and nothing is planned for it (its own objects stay too).
//
// Labels. The map names the label keys moat manages; on moat's objects a label of another key is
// kept as it is, a label of a managed key is set from the tag (or removed when the tag is gone, or
// its value is empty). A body's "labels" holds only labels that exist; a label still to create is
// listed in the change's pending_labels, and the executor, after creating the labels, completes
// the bodies with ResolvePendingLabels.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace moat::pce {

inline constexpr std::string_view kMoatDataSet = "moat";  // external_data_set of moat's objects

// An RDS instance or Aurora cluster as discovered.
struct SyncDatabase {
  std::string id;  // DBInstanceIdentifier or DBClusterIdentifier (without "cluster/")
  bool cluster = false;
  std::string engine;                  // "postgres", "aurora-mysql", ...
  std::string endpoint;                // DNS name; the workload's hostname and the VS fqdn
  int port = 0;                        // TCP
  std::vector<std::string> addresses;  // current private addresses, any order; empty: not found
  std::map<std::string, std::string> tags;
  std::string unresolved;  // why the addresses were not found, when they were not
  std::string place;       // "<account>/<region>" in a run over several; "" otherwise
};

// The target id of DESIGN.md §8: "<id>", or "cluster/<id>", after "<account>/<region>/" when the
// database has a place. Plans name databases by it.
std::string TargetId(const SyncDatabase& db);

// Tag key -> label key, with value rewrites. A tag value without a rewrite is the label value.
struct LabelMap {
  struct Entry {
    std::string tag, label_key;
    std::map<std::string, std::string> values;  // tag value -> label value
  };
  std::vector<Entry> entries;  // in file order; label keys are unique
};

// A JSON object {"<tag>": {"label": "<key>", "values": {"<tag value>": "<label value>"}}}.
// Label keys must be non-empty without whitespace; a label key mapped from two tags is rejected
// (a workload holds one label per key, so the two tags would fight). Unknown keys are rejected
// (typos). Errors: "where: Team.label: ...".
Result<LabelMap> ParseLabelMap(std::string_view json, std::string_view where);

// The PCE's objects, reduced to what the planner compares. Missing or null strings are "".
struct PceLabel {
  std::string href, key, value;
};
struct PceWorkload {
  std::string href, name, hostname;
  std::vector<std::string> addresses;  // interfaces[].address
  std::vector<std::string> label_hrefs;
  std::string external_data_set, external_data_reference;
};
struct PceServicePort {
  int port = -1, to_port = -1, proto = -1;  // -1: absent
  bool operator==(const PceServicePort&) const = default;
};
struct PceVirtualService {
  std::string href, name;
  std::vector<PceServicePort> service_ports;
  std::vector<std::string> fqdns;  // service_addresses[].fqdn (ip entries are skipped)
  std::vector<std::string> label_hrefs;
  std::string external_data_set, external_data_reference;
  std::string update_type;  // "" when null: nothing pending in draft
};
struct PceServiceBinding {
  std::string href, virtual_service_href, workload_href;
};
struct PceObjects {
  std::vector<PceLabel> labels;
  std::vector<PceWorkload> workloads;
  std::vector<PceVirtualService> draft_virtual_services, active_virtual_services;
  std::vector<PceServiceBinding> service_bindings;
};

// Each argument is a collection's JSON array exactly as GET returns it. Deleted labels and
// workloads ("deleted": true) are dropped. Errors name the collection and index:
// "sec_policy/draft/virtual_services[2].service_ports[0].port: expected an integer".
Result<PceObjects> ParsePceObjects(std::string_view labels_json, std::string_view workloads_json,
                                   std::string_view draft_vs_json, std::string_view active_vs_json,
                                   std::string_view bindings_json);

struct LabelRef {
  std::string key, value;
  auto operator<=>(const LabelRef&) const = default;
};

// One planned write (or, in `stale`, one that --prune would make).
struct SyncChange {
  std::string database;                  // target id
  std::string kind;                      // "workload", "virtual_service", "service_binding", "conflict"
  std::string name;                      // the object's name; for a binding, the workload's
  std::string reason;                    // one line: "create", "address changed 10.0.2.45 -> 10.0.2.46", ...
  std::string href;                      // the object changed; "" for a create
  nlohmann::json body;                   // request body (or bulk item); null for a delete
  std::vector<LabelRef> pending_labels;  // to append to body["labels"] once created
};

struct LabelCreate {
  LabelRef label;                      // POST /labels {"key","value"}
  std::vector<std::string> databases;  // the databases that need it
};

// Bodies: workloads and virtual services create/update are items of PUT /workloads/bulk_create|
// bulk_update and PUT /sec_policy/draft/virtual_services/bulk_create|bulk_update (updates carry
// "href" and only the fields that differ); bindings are items of POST
// /service_bindings, always with the ACTIVE virtual service href. Deletes have only href (delete
// bindings first). Every list is ordered by database id (stale: within one, workloads, virtual
// services, bindings; duplicates by href). Bodies may hold invalid UTF-8 only if the tags did: dump them
// with nlohmann::json::error_handler_t::replace.
struct SyncPlan {
  std::vector<LabelCreate> labels_to_create;  // by key, value
  std::vector<SyncChange> workloads_to_create, workloads_to_update, workloads_to_delete;
  std::vector<SyncChange> virtual_services_to_create, virtual_services_to_update, virtual_services_to_delete;
  std::vector<SyncChange> bindings_to_create, bindings_to_delete;

  std::vector<SyncChange> conflicts;  // database + reason; nothing planned for it
  // Databases whose private addresses were not found: nothing is planned for them and their
  // objects stay as they are (never emptied, never pruned).
  std::vector<SyncChange> skipped;
  std::vector<SyncChange> stale;                         // moat's objects of gone databases, kept without prune
  std::vector<std::string> binding_waits_for_provision;  // its virtual service is not active yet
  std::vector<std::string> binding_waits_for_workload;   // active VS, workload still to create
  // Draft virtual service hrefs a `--provision` must include: updated, deleted, and moat's with
  // changes still pending in draft. The executor adds the hrefs its creates return.
  std::vector<std::string> provision_virtual_services;

  // True when the plan writes anything (labels, workloads, virtual services, bindings). Pending
  // provisions, conflicts and stale objects are reports, not changes.
  bool HasChanges() const;
};

SyncPlan Plan(const std::vector<SyncDatabase>& databases, const LabelMap& map, const PceObjects& pce, bool prune);

// Completes the bodies of `changes` once labels exist: appends {"href"} to body["labels"] for each
// pending label found in `labels` and clears pending_labels. A pending label that is not there is
// an internal error naming it and the database.
Status ResolvePendingLabels(std::vector<SyncChange>& changes, const std::vector<PceLabel>& labels);

// A terraform-like text: one line per change ("+ workload rds-orders-db (orders-db): create"),
// then the reports and a summary line.
std::string RenderSyncPlanText(const SyncPlan& plan);

// The plan as JSON (keys are a contract; more may be added, none renamed):
//   {"changes": bool,
//    "labels": {"create": [{"key", "value", "databases": [id]}]},
//    "workloads", "virtual_services": {"create": [C], "update": [C], "delete": [C]},
//    "service_bindings": {"create": [C], "delete": [C]},
//    "conflicts": [C], "skipped": [C], "stale": [C],
//    "binding_waits_for_provision": [id], "binding_waits_for_workload": [id],
//    "provision": {"virtual_services": [href]}}
// where C = {"database", "kind", "name", "reason", "href"?, "body"?, "pending_labels"?: [{"key","value"}]}
// ("href" when not a create, "body" when not null, "pending_labels" when not empty).
nlohmann::json RenderSyncPlanJson(const SyncPlan& plan);

}  // namespace moat::pce
