// `moat pce sync`: models each RDS instance and Aurora cluster in the PCE (pce/sync_plan.h says
// what and how objects are owned). One run:
//   1. reads the label map (a JSON file, or inline; none: no labels are managed), the databases (two RDS
//      reads), their private addresses (DNS, else the RDS network interfaces: one EC2 read) and
//      the PCE's labels, workloads, draft and active virtual services and service bindings; any
//      failure here ends the run before anything is written;
//   2. plans, and with `execute` asks `confirm` with the plan;
//   3. writes, in an order the PCE accepts: labels; bindings to delete; workloads, then draft
//      virtual services (bulk create, update, delete: a request per 1,000); with `provision`,
//      one provisioning of the changed virtual services; the bindings to active virtual services;
//   4. when step 3 made a workload or an active virtual service that a binding waited for, reads
//      the PCE again and creates those bindings, so one run with --provision leaves every
//      database bound.
// A failed write stops the run; what was written is reported, and the next run plans from the
// PCE's objects.
// Over several accounts and regions (PceSyncDeps::places), every place's databases are modelled,
// each with its place in its names and reference (pce/sync_plan.h), so that two accounts' databases
// of one name never meet; only the objects of the places read are in view (planned, pruned): an
// unreachable account's objects, and those of a run over one place, are left as they are.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/aws.h"
#include "app/fleet.h"
#include "app/pce.h"
#include "pce/sync_plan.h"

namespace moat::app {

struct PceSyncRequest {
  std::vector<std::string> targets;  // identifiers, cluster/<id>, tag:KEY=VALUE; empty: every database
  std::string label_map;             // a label map file, or the map inline (JSON); "": no labels managed
  bool prune = false;                // delete the objects of databases that are gone
  bool provision = false;            // provision the draft virtual services moat changed
  bool execute = false;              // write (else plan only)
};

struct PceSyncCounts {
  int labels = 0;
  int workloads_created = 0, workloads_updated = 0, workloads_deleted = 0;
  int virtual_services_created = 0, virtual_services_updated = 0, virtual_services_deleted = 0;
  int bindings_created = 0, bindings_deleted = 0;
  int provisioned_version = 0;           // 0: nothing provisioned
  std::vector<std::string> provisioned;  // draft virtual service hrefs
};

struct PceSyncReport {
  pce::SyncPlan plan;
  bool provision = false;  // --provision was asked
  size_t databases = 0;    // chosen
  bool labels_managed = false;
  std::vector<std::string> errors;   // a --target that selects nothing; failed writes
  std::vector<std::string> skipped;  // places that could not be read ("account[/region]: why")
  bool executed = false, cancelled = false;
  PceSyncCounts done;  // what was written
  int pce_writes = 0;  // write requests sent to the PCE (retries included)

  // The plan writes something, or (with --provision) provisions something.
  bool HasWork() const { return plan.HasChanges() || (provision && !plan.provision_virtual_services.empty()); }
};

struct PceSyncDeps {
  AwsServices* aws = nullptr;
  std::vector<Place> places;  // a run over several accounts and regions (app/fleet.h); empty: `aws`'s
  PceDeps pce;
  // Resolves a database endpoint to addresses; unset: names are not resolved.
  std::function<std::vector<std::string>(const std::string& host)> resolve;
  // Asked once with the plan before anything is written; false cancels.
  std::function<bool(const PceSyncReport& plan)> confirm;
};

// Fails (nothing written) when an input cannot be read: the label map, AWS, the PCE.
Result<PceSyncReport> RunPceSync(const PceSyncRequest& request, const PceSyncDeps& deps);

std::string RenderPceSyncText(const PceSyncReport& report);
// The plan's JSON (pce/sync_plan.h), "changes" counting a provisioning asked for, plus
// "databases", "errors" and, after a run that wrote,
// "applied": {"labels", "workloads": {"created","updated","deleted"}, "virtual_services": {...},
// "service_bindings": {"created","deleted"}, "provisioned": {"version", "virtual_services"},
// "pce_writes"}.
std::string RenderPceSyncJson(const PceSyncReport& report);

}  // namespace moat::app
