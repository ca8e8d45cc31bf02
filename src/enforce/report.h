// What plan and apply report, per database and per run, and how it is rendered: text in the
// manner of `terraform plan` and JSON (keys in docs/formats.md). Values only; the use case
// (app/enforce.h) fills them, the CLI prints them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "plan/reconcile.h"

namespace moat::enforce {

struct TargetReport {
  std::string id;  // orders-db, cluster/ledger
  // "<account>/<region>" where it is, when the run knows (a map over several places); "": not said.
  std::string place;
  bool cluster = false;
  std::string endpoint;
  int port = 0;
  std::string vpc_id;
  std::string policy_target;  // the policy's name for it
  std::string matched_by;     // "endpoint" or "address"
  std::vector<std::string> addresses;
  // Its RDS network interfaces, read when the flow history names interfaces: a flow logged at one
  // of them is this database's alone.
  std::vector<std::string> interfaces;
  std::vector<std::string> attached;               // before
  std::map<std::string, std::string> group_names;  // id -> name, for the groups it mentions
  plan::Reconciled plan;
  std::vector<std::string> warnings;
  std::vector<std::string> widened;  // over-permission spent on it (plan/widen.h), one line each
  // Groups tagged as moat's for it that moat did not create (or made for another database or
  // VPC), one line each: treated as any foreign group, never attached.
  std::vector<std::string> foreign_claims;
  std::string error;  // the plan or the apply failed: nothing (more) changed on it
  // After apply:
  bool applied = false;
  int writes = 0;
  int converged = 0;
  std::vector<std::string> unaudited;  // changes made whose audit record could not be written
};

struct EnforceReport {
  std::string policy_source, policy_version, digest;
  std::string policy_error;  // the policy source failed: the last known good was enforced
  std::string mode;
  bool executed = false;  // apply ran (changes were made, or nothing was needed)
  bool cancelled = false;
  int interrupted = 0;  // the signal that stopped apply before every target was done
  int attempted = 0;    // apply: the targets begun
  std::vector<TargetReport> targets;
  std::vector<std::pair<std::string, std::string>> skipped;  // database, why
  // The skipped databases as read (id, endpoint, port, addresses; no plan), for the map.
  std::vector<TargetReport> unprotected;
  // The VPCs of the other network interfaces that logged flows to an address several of its
  // databases share (ObservedIndex::SetInterfaceVpc), for the map: interface id -> VPC id.
  std::map<std::string, std::string> interface_vpcs;
  bool what_if = false;         // observed flows were replayed against the plans
  std::string observed_window;  // how the flow history was chosen
  uint64_t observed_flows = 0;
  // When the flows came from the flow history (not an event's object): the flows it holds
  // whatever the window, its span ("the history spans ... to ... UTC"), and whether the window
  // holds none of them (the what-if then checked nothing).
  bool from_history = false;
  uint64_t recorded_flows = 0;
  int64_t history_first = 0, history_last = 0;  // unix seconds; 0: no times
  std::string history_span;
  bool empty_window = false;
  // Where this run is (the account from STS GetCallerIdentity, empty when it failed; the region),
  // and where the state was last applied when that is elsewhere (empty: the same place, or not
  // recorded).
  std::string aws_account, aws_region;
  std::string state_account, state_region;
  // In a run over several places: "111122223333/eu-west-1", which prefixes every database's
  // header in the text and is each database's "place" in JSON. Empty otherwise.
  std::string place;
  std::vector<std::string> warnings;
  std::vector<std::string> errors;  // run-level: a --target that matched nothing, a state that could not be saved
  int reads = 0, writes = 0;

  bool HasChanges() const;
  bool Failed() const;
  bool OtherPlace() const {
    return !state_account.empty() || !state_region.empty();
  }  // the policy failed, a target failed or was held back, or a run-level error
  // Targets whose policy change a guard held back, with no other failure in the run.
  int HeldOnly() const;
};

// Terraform-like text, and JSON (docs/formats.md).
std::string RenderPlanText(const EnforceReport& report);
std::string RenderPlanJson(const EnforceReport& report);

}  // namespace moat::enforce
