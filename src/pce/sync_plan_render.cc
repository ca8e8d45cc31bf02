// Text and JSON renderings of a SyncPlan.
#include "pce/sync_plan.h"

namespace moat::pce {
namespace {

using nlohmann::json;

std::string Quoted(std::string_view s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); }

std::string KindText(const std::string& kind) {
  if (kind == "virtual_service") return "virtual service";
  if (kind == "service_binding") return "service binding";
  return kind;
}

// "+ workload rds-orders-db (orders-db): create"
void Lines(std::string& out, char sign, const std::vector<SyncChange>& changes) {
  for (const SyncChange& c : changes) {
    out += std::string(1, sign) + " " + KindText(c.kind) + " " + c.name + " (" + c.database + "): " + c.reason + "\n";
  }
}

json Changes(const std::vector<SyncChange>& changes) {
  json out = json::array();
  for (const SyncChange& c : changes) {
    json j = {{"database", c.database}, {"kind", c.kind}, {"name", c.name}, {"reason", c.reason}};
    if (!c.href.empty()) j["href"] = c.href;
    if (!c.body.is_null()) j["body"] = c.body;
    if (!c.pending_labels.empty()) {
      j["pending_labels"] = json::array();
      for (const LabelRef& l : c.pending_labels) j["pending_labels"].push_back({{"key", l.key}, {"value", l.value}});
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

std::string RenderSyncPlanText(const SyncPlan& plan) {
  std::string out;
  for (const LabelCreate& l : plan.labels_to_create) {
    std::string dbs;
    for (const std::string& d : l.databases) dbs += (dbs.empty() ? "" : ", ") + d;
    out += "+ label " + l.label.key + "=" + Quoted(l.label.value) + " (" + dbs + "): create\n";
  }
  Lines(out, '+', plan.workloads_to_create);
  Lines(out, '~', plan.workloads_to_update);
  Lines(out, '-', plan.workloads_to_delete);
  Lines(out, '+', plan.virtual_services_to_create);
  Lines(out, '~', plan.virtual_services_to_update);
  Lines(out, '-', plan.virtual_services_to_delete);
  Lines(out, '+', plan.bindings_to_create);
  Lines(out, '-', plan.bindings_to_delete);
  for (const SyncChange& c : plan.conflicts) out += "! conflict " + c.database + ": " + c.reason + "\n";
  for (const SyncChange& c : plan.skipped) {
    out += "! skipped " + c.database + ": " + c.reason + " (its PCE objects are left as they are)\n";
  }
  for (const std::string& d : plan.binding_waits_for_provision) {
    out += "  waiting " + d + ": service binding waits until its virtual service is provisioned\n";
  }
  for (const std::string& d : plan.binding_waits_for_workload) {
    out += "  waiting " + d + ": service binding waits until its workload exists (next sync)\n";
  }
  for (const SyncChange& c : plan.stale) {
    out += "  stale " + KindText(c.kind) + " " + c.name + " (" + c.database + "): " + c.reason +
           " (kept; --prune deletes it)\n";
  }
  if (!plan.HasChanges()) return out + "No changes.\n";
  const size_t create = plan.labels_to_create.size() + plan.workloads_to_create.size() +
                        plan.virtual_services_to_create.size() + plan.bindings_to_create.size();
  const size_t update = plan.workloads_to_update.size() + plan.virtual_services_to_update.size();
  const size_t remove =
      plan.workloads_to_delete.size() + plan.virtual_services_to_delete.size() + plan.bindings_to_delete.size();
  return out + "Plan: " + std::to_string(create) + " to create, " + std::to_string(update) + " to update, " +
         std::to_string(remove) + " to delete.\n";
}

json RenderSyncPlanJson(const SyncPlan& plan) {
  json labels = json::array();
  for (const LabelCreate& l : plan.labels_to_create) {
    labels.push_back({{"key", l.label.key}, {"value", l.label.value}, {"databases", l.databases}});
  }
  return {
      {"changes", plan.HasChanges()},
      {"labels", {{"create", std::move(labels)}}},
      {"workloads",
       {{"create", Changes(plan.workloads_to_create)},
        {"update", Changes(plan.workloads_to_update)},
        {"delete", Changes(plan.workloads_to_delete)}}},
      {"virtual_services",
       {{"create", Changes(plan.virtual_services_to_create)},
        {"update", Changes(plan.virtual_services_to_update)},
        {"delete", Changes(plan.virtual_services_to_delete)}}},
      {"service_bindings",
       {{"create", Changes(plan.bindings_to_create)}, {"delete", Changes(plan.bindings_to_delete)}}},
      {"conflicts", Changes(plan.conflicts)},
      {"skipped", Changes(plan.skipped)},
      {"stale", Changes(plan.stale)},
      {"binding_waits_for_provision", plan.binding_waits_for_provision},
      {"binding_waits_for_workload", plan.binding_waits_for_workload},
      {"provision", {{"virtual_services", plan.provision_virtual_services}}},
  };
}

}  // namespace moat::pce
