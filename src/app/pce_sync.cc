#include "app/pce_sync.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "estate/estate.h"

namespace moat::app {
namespace {

using nlohmann::json;

// A label map file, or the map itself inline (a JSON object: from a config file or MOAT_LABEL_MAP).
Result<pce::LabelMap> LoadLabelMap(const std::string& value) {
  if (value.empty()) return pce::LabelMap{};
  const size_t first = value.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && value[first] == '{') return pce::ParseLabelMap(value, "--label-map");
  std::ifstream in(value, std::ios::binary);
  if (!in) return Fail(InvalidInput("--label-map " + value + ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return pce::ParseLabelMap(text.str(), value);
}

// The PCE's collections the planner compares, in ParsePceObjects's order.
const std::vector<std::string> kCollections = {"labels", "workloads", "sec_policy/draft/virtual_services",
                                               "sec_policy/active/virtual_services", "service_bindings"};
// What a binding depends on: the workloads, the active virtual services and the bindings.
const std::vector<size_t> kBindingCollections = {1, 3, 4};

Result<pce::PceObjects> Parse(const std::vector<std::string>& b) {
  return pce::ParsePceObjects(b[0], b[1], b[2], b[3], b[4]);
}

// With --target, only the chosen databases' own objects are in view: the others' are neither
// planned nor pruned. Foreign objects stay, so that name conflicts are still seen.
void KeepOnly(pce::PceObjects& pce, const std::set<std::string>& references) {
  const auto other = [&](const auto& o) {
    return o.external_data_set == pce::kMoatDataSet && !references.contains(o.external_data_reference);
  };
  std::erase_if(pce.workloads, other);
  std::erase_if(pce.draft_virtual_services, other);
  std::erase_if(pce.active_virtual_services, other);
}

std::string Describe(const pce::SyncChange& c) { return c.kind + " " + c.name + " (" + c.database + ")"; }

class Executor {
 public:
  Executor(pce::Client& client, PceSyncReport& report) : client_(client), report_(report) {}

  // Every write of `plan` in order; false when a write failed (the error is in the report).
  bool Run(pce::SyncPlan plan, bool provision, std::vector<pce::PceLabel> labels);
  bool Bindings(const std::vector<pce::SyncChange>& changes);

 private:
  bool Failed(const std::string& what, const Error& e) {
    report_.errors.push_back(what + ": " + e.message);
    return false;
  }
  enum class Collection { kWorkloads, kVirtualServices };
  // One bulk operation over `changes`; counts the items done and reports the failed ones.
  // `created` gets the hrefs of the items done.
  bool Bulk(Collection collection, std::string_view op, const std::vector<pce::SyncChange>& changes, int& count,
            std::vector<std::string>* created = nullptr);

  pce::Client& client_;
  PceSyncReport& report_;
  std::set<std::string> refused_;  // hrefs of the objects whose update or delete the PCE refused
};

bool Executor::Bulk(Collection collection, std::string_view op, const std::vector<pce::SyncChange>& changes, int& count,
                    std::vector<std::string>* created) {
  if (changes.empty()) return true;
  std::vector<json> items;
  items.reserve(changes.size());
  for (const pce::SyncChange& c : changes) items.push_back(c.body.is_null() ? json{{"href", c.href}} : c.body);
  auto results =
      collection == Collection::kWorkloads ? client_.BulkWorkloads(op, items) : client_.BulkVirtualServices(op, items);
  const char* name = collection == Collection::kWorkloads ? "workloads" : "virtual services";
  if (!results) return Failed(std::string(name) + " bulk_" + std::string(op), results.error());
  for (size_t i = 0; i < results->size() && i < changes.size(); ++i) {
    const pce::BulkItemResult& r = (*results)[i];
    if (!r.error.empty()) {
      report_.errors.push_back(std::string(op) + " " + Describe(changes[i]) + ": " + r.error);
      if (!changes[i].href.empty()) refused_.insert(changes[i].href);
      continue;
    }
    ++count;
    if (created != nullptr) created->push_back(r.href);
  }
  return true;
}

bool Executor::Bindings(const std::vector<pce::SyncChange>& changes) {
  if (changes.empty()) return true;
  std::vector<json> items;
  items.reserve(changes.size());
  for (const pce::SyncChange& c : changes) items.push_back(c.body);
  auto created = client_.CreateServiceBindings(items);
  if (!created) return Failed("service bindings", created.error());
  report_.done.bindings_created += static_cast<int>(created->size());
  return true;
}

bool Executor::Run(pce::SyncPlan plan, bool provision, std::vector<pce::PceLabel> labels) {
  PceSyncCounts& done = report_.done;
  for (const pce::LabelCreate& l : plan.labels_to_create) {
    auto href = client_.CreateLabel(l.label.key, l.label.value);
    if (!href) return Failed("label " + l.label.key + "=" + l.label.value, href.error());
    labels.push_back({*href, l.label.key, l.label.value});
    ++done.labels;
  }
  for (auto* changes : {&plan.workloads_to_create, &plan.workloads_to_update, &plan.virtual_services_to_create,
                        &plan.virtual_services_to_update}) {
    if (auto st = pce::ResolvePendingLabels(*changes, labels); !st) return Failed("labels", st.error());
  }
  // Bindings go before what they bind.
  for (const pce::SyncChange& c : plan.bindings_to_delete) {
    if (auto st = client_.Delete(c.href); !st) return Failed("delete " + Describe(c), st.error());
    ++done.bindings_deleted;
  }
  std::vector<std::string> to_provision = plan.provision_virtual_services;
  if (!Bulk(Collection::kWorkloads, "create", plan.workloads_to_create, done.workloads_created) ||
      !Bulk(Collection::kWorkloads, "update", plan.workloads_to_update, done.workloads_updated) ||
      !Bulk(Collection::kWorkloads, "delete", plan.workloads_to_delete, done.workloads_deleted) ||
      !Bulk(Collection::kVirtualServices, "create", plan.virtual_services_to_create, done.virtual_services_created,
            &to_provision) ||
      !Bulk(Collection::kVirtualServices, "update", plan.virtual_services_to_update, done.virtual_services_updated) ||
      !Bulk(Collection::kVirtualServices, "delete", plan.virtual_services_to_delete, done.virtual_services_deleted)) {
    return false;
  }
  // A refused change is not provisioned: the PCE would refuse the whole change subset.
  std::erase_if(to_provision, [&](const std::string& h) { return refused_.contains(h); });
  if (provision && !to_provision.empty()) {
    std::set<std::string> databases;
    for (const auto* list :
         {&plan.virtual_services_to_create, &plan.virtual_services_to_update, &plan.virtual_services_to_delete}) {
      for (const pce::SyncChange& c : *list) databases.insert(c.database);
    }
    std::string names;
    for (const std::string& d : databases) {
      if (names.size() > 200) {
        names += ", ...";
        break;
      }
      names += (names.empty() ? "" : ", ") + d;
    }
    const std::string message = fmt::format("moat pce sync: {} virtual service(s) of Amazon RDS databases{}",
                                            to_provision.size(), names.empty() ? "" : " (" + names + ")");
    auto p = client_.Provision(message, to_provision);
    if (!p) return Failed("provision", p.error());
    done.provisioned_version = p->version;
    done.provisioned = to_provision;
  }
  return Bindings(plan.bindings_to_create);
}

// The chosen RDS databases, as the planner sees them, and their external data references; over
// several places, those read and those skipped.
struct Chosen {
  std::vector<pce::SyncDatabase> databases;
  std::set<std::string> references;
  std::set<std::string> places;
  std::vector<std::string> skipped;
};

// Reads one place's databases and their addresses from AWS (`place`: "" or "account/region");
// targets that match nothing go to `errors`.
Status ReadPlace(AwsServices& aws, const std::string& place, const std::vector<std::string>& targets,
                 const PceSyncDeps& deps, Chosen& out, std::vector<std::string>& errors) {
  auto rds = aws.Rds();
  if (!rds) return Fail(std::move(rds).error());
  auto ec2 = aws.Ec2();
  if (!ec2) return Fail(std::move(ec2).error());
  auto dbs = estate::ReadDatabases(**rds);
  if (!dbs) return Fail(std::move(dbs).error());
  const std::vector<const aws::Database*> chosen = estate::Choose(*dbs, targets, errors);
  auto addresses = estate::FindAddresses(chosen, **ec2, deps.resolve, [](const aws::Database& d) { return d.vpc_id; });
  if (!addresses) return Fail(std::move(addresses).error());
  for (const aws::Database* d : chosen) {
    const estate::AddressLookup& found = (*addresses)[d];
    out.databases.push_back(
        {d->id, d->cluster, d->engine, d->endpoint, d->port, found.addresses, d->tags, found.warning, place});
    out.references.insert("rds:" + pce::TargetId(out.databases.back()));
  }
  return {};
}

// Reads the databases and their addresses from AWS; targets that match nothing go to `errors`.
Result<Chosen> ReadChosen(const PceSyncRequest& req, const PceSyncDeps& deps, std::vector<std::string>& errors) {
  Chosen out;
  if (deps.places.empty()) {
    if (auto st = ReadPlace(*deps.aws, "", req.targets, deps, out, errors); !st) return Fail(std::move(st).error());
    return out;
  }
  std::map<std::string, size_t> found;  // bare target -> places where it chose something
  for (const Place& p : deps.places) {
    if (p.aws == nullptr) {
      out.skipped.push_back(p.Name() + ": " + p.error);
      continue;
    }
    std::vector<std::string> targets;
    for (const std::string& t : req.targets) {
      if (auto placed = ParsePlacedSelector(t)) {
        if (placed->account == p.account && placed->region == p.region) targets.push_back(placed->selector);
      } else {
        targets.push_back(t);
      }
    }
    if (!req.targets.empty() && targets.empty()) continue;
    std::vector<std::string> unmatched;
    if (auto st = ReadPlace(*p.aws, p.Name(), targets, deps, out, unmatched); !st) {
      out.skipped.push_back(p.Name() + ": " + st.error().message);
      continue;
    }
    out.places.insert(p.Name());
    for (const std::string& t : targets) {
      const bool missed = std::any_of(unmatched.begin(), unmatched.end(),
                                      [&](const std::string& e) { return e.starts_with("--target " + t + ":"); });
      if (!missed) ++found[t];
    }
  }
  for (const std::string& t : req.targets) {
    if (!ParsePlacedSelector(t) && found[t] == 0) {
      errors.push_back("--target " + t +
                       ": no RDS instance or Aurora cluster in the account-regions read has that "
                       "identifier or tag");
    }
  }
  return out;
}

// moat's objects of the places not read are out of view: over several places, those of the other
// places and of runs over one; over one place (`places` empty), those of runs over several.
void KeepPlaces(pce::PceObjects& pce, const std::set<std::string>& places, bool fleet) {
  const auto other = [&](const auto& o) {
    if (o.external_data_set != pce::kMoatDataSet) return false;
    const std::string& ref = o.external_data_reference;  // rds:<account>/<region>/<id>, or rds:<id>
    const size_t slash = ref.find('/', ref.find('/') + 1);
    const bool placed =
        ref.starts_with("rds:") && slash != std::string::npos && ParsePlacedSelector(ref.substr(4)).has_value();
    if (!fleet) return placed;
    return !placed || !places.contains(ref.substr(4, slash - 4));
  };
  std::erase_if(pce.workloads, other);
  std::erase_if(pce.draft_virtual_services, other);
  std::erase_if(pce.active_virtual_services, other);
}

// The PCE's objects with what bindings depend on read again; the rest as `bodies` (the first read).
Result<pce::PceObjects> ReadForBindings(pce::Client& client, const std::vector<std::string>& bodies) {
  std::vector<std::string> paths;
  paths.reserve(kBindingCollections.size());
  for (size_t i : kBindingCollections) paths.push_back(kCollections[i]);
  auto fresh = client.GetCollections(paths);
  if (!fresh) return Fail(std::move(fresh).error());
  std::vector<std::string> now = bodies;
  for (size_t k = 0; k < kBindingCollections.size(); ++k) now[kBindingCollections[k]] = std::move((*fresh)[k]);
  return Parse(now);
}

}  // namespace

Result<PceSyncReport> RunPceSync(const PceSyncRequest& req, const PceSyncDeps& deps) {
  PceSyncReport report;
  report.provision = req.provision;
  auto map = LoadLabelMap(req.label_map);
  if (!map) return Fail(std::move(map).error());
  report.labels_managed = !map->entries.empty();
  // The PCE's settings are checked before AWS is read (no request is made yet).
  auto connection = ConnectPce(deps.pce);
  if (!connection) return Fail(std::move(connection).error());
  auto chosen = ReadChosen(req, deps, report.errors);
  if (!chosen) return Fail(std::move(chosen).error());
  report.databases = chosen->databases.size();
  report.skipped = chosen->skipped;

  pce::Client& client = *connection->client;
  // Large collections come through jobs that run side by side.
  auto bodies = client.GetCollections(kCollections);
  if (!bodies) return Fail(std::move(bodies).error());
  auto objects = Parse(*bodies);
  if (!objects) return Fail(std::move(objects).error());
  if (!req.targets.empty()) KeepOnly(*objects, chosen->references);
  KeepPlaces(*objects, chosen->places, !deps.places.empty());
  report.plan = pce::Plan(chosen->databases, *map, *objects, req.prune);

  // Found nothing, yet would delete: more likely the wrong region or account than an empty estate.
  if (req.prune && chosen->databases.empty() &&
      (!report.plan.workloads_to_delete.empty() || !report.plan.virtual_services_to_delete.empty())) {
    return Fail(InvalidInput(
        "--prune: no RDS database was found, so every database's PCE objects would be deleted; check AWS_REGION "
        "and the account, or delete them in the PCE"));
  }
  if (!req.execute || !report.HasWork() || !report.errors.empty()) return report;
  if (deps.confirm && !deps.confirm(report)) {
    report.cancelled = true;
    return report;
  }
  report.executed = true;
  Executor run(client, report);
  const bool waited = !report.plan.binding_waits_for_workload.empty() ||
                      (req.provision && !report.plan.binding_waits_for_provision.empty());
  if (run.Run(report.plan, req.provision, objects->labels) && waited) {
    // What this run made may let bindings through: read what bindings depend on again, and plan
    // again (only its bindings are used: the rest of the PCE is as the first read saw it).
    auto reread = ReadForBindings(client, *bodies);
    if (!reread) {
      report.errors.push_back("reading the PCE again for the bindings: " + reread.error().message);
    } else {
      if (!req.targets.empty()) KeepOnly(*reread, chosen->references);
      KeepPlaces(*reread, chosen->places, !deps.places.empty());
      const pce::SyncPlan next = pce::Plan(chosen->databases, *map, *reread, req.prune);
      run.Bindings(next.bindings_to_create);
      report.plan.binding_waits_for_provision = next.binding_waits_for_provision;
      report.plan.binding_waits_for_workload = next.binding_waits_for_workload;
    }
  }
  report.pce_writes = client.writes();
  return report;
}

std::string RenderPceSyncText(const PceSyncReport& r) {
  std::string out = pce::RenderSyncPlanText(r.plan);
  const size_t pending = r.plan.provision_virtual_services.size() + r.plan.virtual_services_to_create.size();
  if (pending > 0 && r.provision) {
    out += fmt::format("Provision: {} draft virtual service change(s), with a commit message naming moat.\n", pending);
  } else if (pending > 0) {
    out += fmt::format(
        "{} draft virtual service change(s) take effect when provisioned: run with --provision, or provision them in "
        "the PCE.\n",
        pending);
  }
  if (!r.labels_managed) out += "No --label-map: labels are not managed.\n";
  if (r.executed) {
    const PceSyncCounts& d = r.done;
    out += fmt::format(
        "Applied: {} label(s) created; workloads {} created, {} updated, {} deleted; virtual services {} created, {} "
        "updated, {} deleted; service bindings {} created, {} deleted",
        d.labels, d.workloads_created, d.workloads_updated, d.workloads_deleted, d.virtual_services_created,
        d.virtual_services_updated, d.virtual_services_deleted, d.bindings_created, d.bindings_deleted);
    if (d.provisioned_version > 0) out += fmt::format("; provisioned as policy version {}", d.provisioned_version);
    out += fmt::format(" ({} PCE write request(s)).\n", r.pce_writes);
  }
  for (const std::string& e : r.skipped) out += "skipped: " + e + "\n";
  for (const std::string& e : r.errors) out += "error: " + e + "\n";
  return out;
}

std::string RenderPceSyncJson(const PceSyncReport& r) {
  json out = pce::RenderSyncPlanJson(r.plan);
  out["changes"] = r.HasWork();  // a provisioning is a change too
  out["databases"] = r.databases;
  out["errors"] = r.errors;
  if (!r.skipped.empty()) out["skipped_places"] = r.skipped;
  if (r.executed) {
    const PceSyncCounts& d = r.done;
    out["applied"] = {
        {"labels", d.labels},
        {"workloads",
         {{"created", d.workloads_created}, {"updated", d.workloads_updated}, {"deleted", d.workloads_deleted}}},
        {"virtual_services",
         {{"created", d.virtual_services_created},
          {"updated", d.virtual_services_updated},
          {"deleted", d.virtual_services_deleted}}},
        {"service_bindings", {{"created", d.bindings_created}, {"deleted", d.bindings_deleted}}},
        {"provisioned", {{"version", d.provisioned_version}, {"virtual_services", d.provisioned}}},
        {"pce_writes", r.pce_writes}};
  }
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace moat::app
