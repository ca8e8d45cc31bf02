#include "pce/sync_plan.h"

#include <algorithm>
#include <set>

#include "policy/model.h"

namespace moat::pce {
namespace {

using nlohmann::json;

std::string Reference(const SyncDatabase& db) { return "rds:" + TargetId(db); }
// "-111122223333-eu-west-1" for a database with a place; "" otherwise.
std::string PlaceSuffix(const SyncDatabase& db) {
  std::string s = db.place;
  std::replace(s.begin(), s.end(), '/', '-');
  return s.empty() ? s : "-" + s;
}
std::string WorkloadName(const SyncDatabase& db) {
  return (db.cluster ? "rds-cluster-" : "rds-") + db.id + PlaceSuffix(db);
}
std::string VirtualServiceName(const SyncDatabase& db) {
  return (db.cluster ? "VS-RDS-cluster-" : "VS-RDS-") + db.id + PlaceSuffix(db);
}
// "rds:cluster/x" -> "cluster/x"; a reference moat did not write is shown as it is.
std::string DatabaseOf(const std::string& reference) {
  return reference.starts_with("rds:") ? reference.substr(4) : reference;
}

// Draft and active hrefs differ only in the version segment (reference §2.2).
std::string ActiveHref(std::string_view href) { return policy::HrefAtVersion(href, "active"); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep, std::string_view empty = "(none)") {
  if (v.empty()) return std::string(empty);
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// A JSON string literal: quotes, escapes, and no line break can come through from a tag.
std::string Quoted(std::string_view s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); }

std::string PortText(const PceServicePort& p) {
  std::string s = p.port < 0 ? "all" : std::to_string(p.port);
  if (p.to_port >= 0) s += "-" + std::to_string(p.to_port);
  return s + "/" + (p.proto == 6 ? "tcp" : p.proto == 17 ? "udp" : std::to_string(p.proto));
}

// "; app=\"Payments\", env=\"Production\"", or "; no labels".
std::string LabelsText(const std::vector<LabelRef>& labels) {
  std::vector<std::string> parts;
  parts.reserve(labels.size());
  for (const LabelRef& l : labels) parts.push_back(l.key + "=" + Quoted(l.value));
  return "; " + Join(parts, ", ", "no labels");
}

json Interfaces(const std::vector<std::string>& addresses) {
  json out = json::array();
  for (size_t i = 0; i < addresses.size(); ++i) {
    out.push_back({{"name", "eth" + std::to_string(i)}, {"address", addresses[i]}});
  }
  return out;
}

class Planner {
 public:
  Planner(const LabelMap& map, const PceObjects& pce, bool prune);
  void Database(const SyncDatabase& db);
  void Stale(const std::set<std::string>& live_references);
  SyncPlan Finish() &&;

 private:
  struct LabelBody {
    json hrefs = json::array();
    std::vector<LabelRef> pending;
  };
  std::vector<LabelRef> DesiredLabels(const SyncDatabase& db) const;
  std::string ConflictOf(const SyncDatabase& db) const;
  LabelBody Labels(const std::vector<std::string>& kept_hrefs, const std::vector<LabelRef>& desired,
                   const std::string& database);
  std::string DiffLabels(const std::vector<std::string>& current, const std::vector<LabelRef>& desired,
                         const std::string& database, json& body, std::vector<LabelRef>& pending);
  void PlanWorkload(const SyncDatabase& db, const std::vector<LabelRef>& desired, const PceWorkload* w);
  void PlanVirtualService(const SyncDatabase& db, const std::vector<LabelRef>& desired, const PceVirtualService* v);
  void PlanBinding(const SyncDatabase& db, const PceWorkload* w, const PceVirtualService* active);
  void Remove(std::vector<SyncChange>& deletes, SyncChange c);

  const LabelMap& map_;
  bool prune_;
  std::map<std::string, const PceLabel*> label_by_href_;
  std::map<LabelRef, std::string> href_of_label_;
  std::set<std::string> managed_keys_;
  // moat's objects by external_data_reference, each list ordered by href.
  std::map<std::string, std::vector<const PceWorkload*>> workloads_;
  std::map<std::string, std::vector<const PceVirtualService*>> draft_vs_, active_vs_;
  // Foreign objects by name: name -> href.
  std::multimap<std::string, std::string> foreign_workloads_, foreign_vs_;
  const std::vector<PceServiceBinding>& bindings_;
  std::set<std::pair<std::string, std::string>> bound_;  // (active VS href, workload href)
  std::map<LabelRef, std::set<std::string>> labels_to_create_;
  std::set<std::string> provision_;
  SyncPlan plan_;
};

template <typename T>
void IndexOwned(const std::vector<T>& objects, std::map<std::string, std::vector<const T*>>& owned,
                std::multimap<std::string, std::string>* foreign) {
  for (const T& o : objects) {
    if (o.external_data_set == kMoatDataSet) {
      owned[o.external_data_reference].push_back(&o);
    } else if (foreign != nullptr) {
      foreign->emplace(o.name, o.href);
    }
  }
  for (auto& [ref, list] : owned) {
    std::sort(list.begin(), list.end(), [](const T* a, const T* b) { return a->href < b->href; });
  }
}

// The object moat uses for `ref` (the first by href), or null.
template <typename T>
const T* First(const std::map<std::string, std::vector<const T*>>& index, const std::string& ref) {
  const auto it = index.find(ref);
  return it == index.end() ? nullptr : it->second.front();
}

Planner::Planner(const LabelMap& map, const PceObjects& pce, bool prune)
    : map_(map), prune_(prune), bindings_(pce.service_bindings) {
  for (const PceLabel& l : pce.labels) {
    label_by_href_[l.href] = &l;
    href_of_label_.emplace(LabelRef{l.key, l.value}, l.href);
  }
  for (const LabelMap::Entry& e : map.entries) managed_keys_.insert(e.label_key);
  IndexOwned(pce.workloads, workloads_, &foreign_workloads_);
  IndexOwned(pce.draft_virtual_services, draft_vs_, &foreign_vs_);
  IndexOwned(pce.active_virtual_services, active_vs_, &foreign_vs_);
  for (const PceServiceBinding& b : pce.service_bindings)
    bound_.emplace(ActiveHref(b.virtual_service_href), b.workload_href);
}

std::vector<LabelRef> Planner::DesiredLabels(const SyncDatabase& db) const {
  std::vector<LabelRef> out;
  for (const LabelMap::Entry& e : map_.entries) {
    const auto tag = db.tags.find(e.tag);
    if (tag == db.tags.end()) continue;
    const auto rewrite = e.values.find(tag->second);
    std::string value = rewrite == e.values.end() ? tag->second : rewrite->second;
    if (!value.empty()) out.push_back({e.label_key, std::move(value)});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Planner::ConflictOf(const SyncDatabase& db) const {
  const std::string w = WorkloadName(db);
  if (auto it = foreign_workloads_.find(w); it != foreign_workloads_.end()) {
    return "workload named " + Quoted(w) + " exists and is not moat's (" + it->second + ")";
  }
  const std::string v = VirtualServiceName(db);
  if (auto it = foreign_vs_.find(v); it != foreign_vs_.end()) {
    return "virtual service named " + Quoted(v) + " exists and is not moat's (" + it->second + ")";
  }
  return "";
}

Planner::LabelBody Planner::Labels(const std::vector<std::string>& kept_hrefs, const std::vector<LabelRef>& desired,
                                   const std::string& database) {
  LabelBody out;
  for (const std::string& h : kept_hrefs) out.hrefs.push_back({{"href", h}});
  for (const LabelRef& l : desired) {
    if (auto it = href_of_label_.find(l); it != href_of_label_.end()) {
      out.hrefs.push_back({{"href", it->second}});
    } else {
      out.pending.push_back(l);
      labels_to_create_[l].insert(database);
    }
  }
  return out;
}

// Sets body["labels"] and `pending` and returns the reason when the managed labels differ.
std::string Planner::DiffLabels(const std::vector<std::string>& current, const std::vector<LabelRef>& desired,
                                const std::string& database, json& body, std::vector<LabelRef>& pending) {
  std::vector<LabelRef> managed;
  std::vector<std::string> kept;
  for (const std::string& h : current) {
    const auto it = label_by_href_.find(h);
    if (it != label_by_href_.end() && managed_keys_.contains(it->second->key)) {
      managed.push_back({it->second->key, it->second->value});
    } else {
      kept.push_back(h);
    }
  }
  std::sort(managed.begin(), managed.end());
  if (managed == desired) return "";
  LabelBody l = Labels(kept, desired, database);
  body["labels"] = std::move(l.hrefs);
  pending = std::move(l.pending);
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> by_key;
  for (const LabelRef& r : managed) by_key[r.key].first.push_back(Quoted(r.value));
  for (const LabelRef& r : desired) by_key[r.key].second.push_back(Quoted(r.value));
  std::vector<std::string> parts;
  for (const auto& [key, values] : by_key) {
    if (values.first != values.second)
      parts.push_back(key + " " + Join(values.first, ",") + " -> " + Join(values.second, ","));
  }
  return "labels changed (" + Join(parts, ", ") + ")";
}

void Planner::PlanWorkload(const SyncDatabase& db, const std::vector<LabelRef>& desired, const PceWorkload* w) {
  const std::string id = TargetId(db), name = WorkloadName(db);
  const std::vector<std::string> addresses = SortedUnique(db.addresses);
  if (w == nullptr) {
    json body = {
        {"name", name},
        {"hostname", db.endpoint},
        {"description", "Amazon RDS " + db.engine + (db.cluster ? " cluster" : " instance") + ", modelled by moat"},
        {"interfaces", Interfaces(addresses)},
        {"external_data_set", kMoatDataSet},
        {"external_data_reference", Reference(db)}};
    LabelBody l = Labels({}, desired, id);
    body["labels"] = std::move(l.hrefs);
    plan_.workloads_to_create.push_back({id, "workload", name,
                                         "create (" + Join(addresses, ",") + LabelsText(desired) + ")", "",
                                         std::move(body), std::move(l.pending)});
    return;
  }
  json body = {{"href", w->href}};
  std::vector<std::string> reasons;
  if (w->name != name) {
    body["name"] = name;
    reasons.push_back("name changed " + Quoted(w->name) + " -> " + Quoted(name));
  }
  if (w->hostname != db.endpoint) {
    body["hostname"] = db.endpoint;
    reasons.push_back("hostname changed " + Quoted(w->hostname) + " -> " + Quoted(db.endpoint));
  }
  if (const auto have = SortedUnique(w->addresses); have != addresses) {
    body["interfaces"] = Interfaces(addresses);
    reasons.push_back("address changed " + Join(have, ",") + " -> " + Join(addresses, ","));
  }
  std::vector<LabelRef> pending;
  if (std::string r = DiffLabels(w->label_hrefs, desired, id, body, pending); !r.empty()) reasons.push_back(r);
  if (reasons.empty()) return;
  plan_.workloads_to_update.push_back(
      {id, "workload", name, Join(reasons, "; "), w->href, std::move(body), std::move(pending)});
}

void Planner::PlanVirtualService(const SyncDatabase& db, const std::vector<LabelRef>& desired,
                                 const PceVirtualService* v) {
  const std::string id = TargetId(db), name = VirtualServiceName(db);
  const json ports = json::array({{{"port", db.port}, {"proto", 6}}});
  const json addresses = json::array({{{"fqdn", db.endpoint}}});
  if (v == nullptr) {
    json body = {{"name", name},
                 {"description", "Amazon RDS " + db.engine + " endpoint, modelled by moat"},
                 {"apply_to", "host_only"},
                 {"service_ports", ports},
                 {"service_addresses", addresses},
                 {"external_data_set", kMoatDataSet},
                 {"external_data_reference", Reference(db)}};
    LabelBody l = Labels({}, desired, id);
    body["labels"] = std::move(l.hrefs);
    plan_.virtual_services_to_create.push_back(
        {id, "virtual_service", name,
         "create (" + db.endpoint + " " + PortText({db.port, -1, 6}) + LabelsText(desired) + ")", "", std::move(body),
         std::move(l.pending)});
    return;
  }
  json body = {{"href", v->href}};
  std::vector<std::string> reasons;
  if (v->name != name) {
    body["name"] = name;
    reasons.push_back("name changed " + Quoted(v->name) + " -> " + Quoted(name));
  }
  const PceServicePort want{db.port, -1, 6};
  if (v->service_ports != std::vector<PceServicePort>{want}) {
    body["service_ports"] = ports;
    std::vector<std::string> have;
    for (const PceServicePort& p : v->service_ports) have.push_back(PortText(p));
    reasons.push_back("port changed " + Join(have, ",") + " -> " + PortText(want));
  }
  std::vector<std::string> fqdns;
  for (const std::string& f : v->fqdns) fqdns.push_back(Lower(f));
  if (SortedUnique(fqdns) != std::vector<std::string>{Lower(db.endpoint)} || v->fqdns.size() != 1) {
    body["service_addresses"] = addresses;
    reasons.push_back("fqdn changed " + Join(v->fqdns, ",") + " -> " + db.endpoint);
  }
  std::vector<LabelRef> pending;
  if (std::string r = DiffLabels(v->label_hrefs, desired, id, body, pending); !r.empty()) reasons.push_back(r);
  if (!v->update_type.empty() || !reasons.empty()) provision_.insert(v->href);
  if (reasons.empty()) return;
  plan_.virtual_services_to_update.push_back(
      {id, "virtual_service", name, Join(reasons, "; "), v->href, std::move(body), std::move(pending)});
}

void Planner::PlanBinding(const SyncDatabase& db, const PceWorkload* w, const PceVirtualService* active) {
  const std::string id = TargetId(db);
  if (active == nullptr) {
    plan_.binding_waits_for_provision.push_back(id);
    return;
  }
  if (w == nullptr) {
    plan_.binding_waits_for_workload.push_back(id);
    return;
  }
  const std::string vs = ActiveHref(active->href);
  if (bound_.contains({vs, w->href})) return;
  json body = {
      {"virtual_service", {{"href", vs}}}, {"workload", {{"href", w->href}}}, {"port_overrides", json::array()}};
  plan_.bindings_to_create.push_back({id, "service_binding", WorkloadName(db), "create", "", std::move(body), {}});
}

void Planner::Database(const SyncDatabase& db) {
  if (std::string conflict = ConflictOf(db); !conflict.empty()) {
    plan_.conflicts.push_back({TargetId(db), "conflict", "", std::move(conflict), "", nullptr, {}});
    return;
  }
  if (db.addresses.empty()) {
    plan_.skipped.push_back({TargetId(db),
                             "skipped",
                             "",
                             db.unresolved.empty() ? "private address not found" : db.unresolved,
                             "",
                             nullptr,
                             {}});
    return;
  }
  const std::string ref = Reference(db);
  const std::vector<LabelRef> desired = DesiredLabels(db);
  const PceWorkload* w = First(workloads_, ref);
  PlanWorkload(db, desired, w);
  PlanVirtualService(db, desired, First(draft_vs_, ref));
  PlanBinding(db, w, First(active_vs_, ref));
}

void Planner::Remove(std::vector<SyncChange>& deletes, SyncChange c) {
  (prune_ ? deletes : plan_.stale).push_back(std::move(c));
}

void Planner::Stale(const std::set<std::string>& live) {
  std::set<std::string> gone;  // hrefs of workloads and (active) virtual services removed
  for (const auto& [ref, list] : workloads_) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (live.contains(ref) && i == 0) continue;
      const std::string why = live.contains(ref) ? "duplicate of " + list[0]->href : "database not found";
      gone.insert(list[i]->href);
      Remove(plan_.workloads_to_delete, {DatabaseOf(ref), "workload", list[i]->name, why, list[i]->href, nullptr, {}});
    }
  }
  for (const auto& [ref, list] : draft_vs_) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (live.contains(ref) && i == 0) continue;
      const PceVirtualService& v = *list[i];
      gone.insert(ActiveHref(v.href));
      if (v.update_type == "delete") {  // deleted in draft already: only provisioning is left
        provision_.insert(v.href);
        continue;
      }
      const std::string why = live.contains(ref) ? "duplicate of " + list[0]->href : "database not found";
      if (prune_) provision_.insert(v.href);
      Remove(plan_.virtual_services_to_delete, {DatabaseOf(ref), "virtual_service", v.name, why, v.href, nullptr, {}});
    }
  }
  for (const auto& [ref, list] : active_vs_) {
    if (!live.contains(ref)) {
      for (const PceVirtualService* v : list) gone.insert(ActiveHref(v->href));
    }
  }
  std::map<std::string, std::pair<std::string, std::string>> owned_workloads;  // href -> (database, name)
  for (const auto& [ref, list] : workloads_) {
    for (const PceWorkload* w : list) owned_workloads[w->href] = {DatabaseOf(ref), w->name};
  }
  std::set<std::string> owned_vs;
  for (const auto* index : {&draft_vs_, &active_vs_}) {
    for (const auto& [ref, list] : *index) {
      for (const PceVirtualService* v : list) owned_vs.insert(ActiveHref(v->href));
    }
  }
  for (const PceServiceBinding& b : bindings_) {
    const std::string vs = ActiveHref(b.virtual_service_href);
    const auto w = owned_workloads.find(b.workload_href);
    if (w == owned_workloads.end() || !owned_vs.contains(vs)) continue;  // not moat's
    if (!gone.contains(b.workload_href) && !gone.contains(vs)) continue;
    Remove(plan_.bindings_to_delete, {w->second.first,
                                      "service_binding",
                                      w->second.second,
                                      "its workload or virtual service is removed",
                                      b.href,
                                      nullptr,
                                      {}});
  }
}

SyncPlan Planner::Finish() && {
  for (const auto& [label, databases] : labels_to_create_) {
    plan_.labels_to_create.push_back({label, {databases.begin(), databases.end()}});
  }
  plan_.provision_virtual_services.assign(provision_.begin(), provision_.end());
  // Stable: within a database, workloads, then virtual services, then bindings, each by href.
  auto by_database = [](const SyncChange& a, const SyncChange& b) { return a.database < b.database; };
  for (auto* list :
       {&plan_.workloads_to_delete, &plan_.virtual_services_to_delete, &plan_.bindings_to_delete, &plan_.stale}) {
    std::stable_sort(list->begin(), list->end(), by_database);
  }
  return std::move(plan_);
}

}  // namespace

std::string TargetId(const SyncDatabase& db) {
  return (db.place.empty() ? "" : db.place + "/") + (db.cluster ? "cluster/" + db.id : db.id);
}

bool SyncPlan::HasChanges() const {
  return !labels_to_create.empty() || !workloads_to_create.empty() || !workloads_to_update.empty() ||
         !workloads_to_delete.empty() || !virtual_services_to_create.empty() || !virtual_services_to_update.empty() ||
         !virtual_services_to_delete.empty() || !bindings_to_create.empty() || !bindings_to_delete.empty();
}

SyncPlan Plan(const std::vector<SyncDatabase>& databases, const LabelMap& map, const PceObjects& pce, bool prune) {
  std::vector<const SyncDatabase*> sorted;
  sorted.reserve(databases.size());
  for (const SyncDatabase& db : databases) sorted.push_back(&db);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const SyncDatabase* a, const SyncDatabase* b) { return TargetId(*a) < TargetId(*b); });
  Planner planner(map, pce, prune);
  std::set<std::string> live;
  for (const SyncDatabase* db : sorted) {
    if (live.insert(Reference(*db)).second) planner.Database(*db);  // a repeated id is planned once
  }
  planner.Stale(live);
  return std::move(planner).Finish();
}

Status ResolvePendingLabels(std::vector<SyncChange>& changes, const std::vector<PceLabel>& labels) {
  std::map<LabelRef, std::string> href;
  for (const PceLabel& l : labels) href.emplace(LabelRef{l.key, l.value}, l.href);
  for (SyncChange& c : changes) {
    for (const LabelRef& l : c.pending_labels) {
      const auto it = href.find(l);
      if (it == href.end()) {
        return Fail(Internal(c.database + ": label " + l.key + "=" + Quoted(l.value) + " was not created"));
      }
      c.body["labels"].push_back({{"href", it->second}});
    }
    c.pending_labels.clear();
  }
  return {};
}

}  // namespace moat::pce
