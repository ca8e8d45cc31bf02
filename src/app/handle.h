// HandleEvent: what the Lambda function and the SQS worker do with one event (events/events.h):
//   - each new flow-log object is streamed from S3 and read; its flows are kept next to it as a
//     summary (s3://<bucket>/moat/flows/<key>.jsonl.gz, store/history.h) for people and other
//     tools — the map, the what-if and suggest read the local flow history (store/flow_store.h);
//   - then the databases the event touched are reconciled (app/enforce.h, applied without asking):
//     those whose addresses appear in the flows read, those a CloudTrail call named (a database,
//     or a group attached to one or managed for one), or every database for a schedule;
//   - last, the distinct flows go to the PCE's traffic loader when a PCE is configured, within
//     the deadline: a PCE that does not answer never delays a revert.
// The event's refused objects (events/events.h) are in the report and never read.
// In a run over several accounts and regions (HandleDeps::place set, app/fleet.h) the work is done
// where it happened: a CloudTrail call in the account and region of its event, a flow-log
// object's flows (and the reconcile of the databases at their addresses) in the account and region
// its name gives, a reconcile message in the place it names — each place with its own services,
// its state under STATE/<account>/<region>, and audit lines that name it; what names no place is
// the run's own. A schedule reconciles every place: one reconcile message per place on the
// reconcile queue when there is one (HandleDeps::fan_out), else each in turn. An event of a place
// that is not one of the run's is refused in one line and not acted on.
// Work stops before the deadline: what was done and what was left are both in the report.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/enforce.h"
#include "app/fleet.h"
#include "app/flows.h"
#include "base/clock.h"
#include "base/result.h"
#include "events/events.h"
#include "pce/client.h"
#include "traffic/report.h"

namespace moat::app {

struct HandleRequest {
  EnforceRequest enforce;               // policy, mode, targets, state... (executed)
  std::vector<uint16_t> service_ports;  // for reading flow logs
  int64_t deadline_ms = 0;              // unix milliseconds; 0: none
  int64_t reserve_ms = 5000;            // kept free before the deadline for the reconcile and the answer
};

struct HandleDeps {
  EnforceDeps enforce;
  ObjectStore* s3 = nullptr;
  // Sends distinct flow lines to the PCE; unset when no PCE is configured.
  // Answered by `deadline_ms` (unix ms; 0: no limit) or failed.
  std::function<Result<pce::UploadResult>(const std::vector<std::string>& lines, int64_t deadline_ms)> upload;
  Clock* clock = &SystemClock();  // the deadline is measured on its wall time
  // Keeps each object's flows as flow history (store/history.h) in
  // s3://<bucket>/moat/flows/<key>.jsonl.gz; unset: not kept.
  std::function<Status(const std::string& name, const std::string& gzip)> keep_flows;
  // A run over several places: the services of an account and region ("", "": the run's own), or
  // why they cannot be had (not one of the run's places, its role refused). Unset: one place.
  std::function<Result<Place>(const std::string& account, const std::string& region)> place;
  // Every place of the run, listed again (for a schedule).
  std::function<Result<std::vector<Place>>()> places;
  // Sends one reconcile message per reachable place; unset: a schedule reconciles each here.
  std::function<Status(const std::vector<Place>& places)> fan_out;
};

struct HandleReport {
  std::vector<std::string> done, left;  // s3://bucket/key
  uint64_t records = 0, flows = 0, skipped = 0;
  std::optional<pce::UploadResult> uploaded;
  std::optional<EnforceReport> enforce;
  // In a run over several places: each place's reconcile, the places a reconcile message was sent
  // for, and the places skipped ("account[/region]: why").
  struct PlacedReconcile {
    std::string account, region;
    EnforceReport report;
  };
  std::vector<PlacedReconcile> placed;
  std::vector<std::string> fanned_out, skipped_places;
  std::vector<std::string> ignored;
  std::vector<std::string> refused;  // S3 objects not read: not of a configured bucket, or a bad key
  std::vector<std::string> errors;

  // A refused object is a decision, not a failure: redelivering the event cannot change it.
  bool Failed() const;
  // The answer returned to Lambda (and logged by the worker): a JSON object.
  std::string Json() const;
};

Result<HandleReport> HandleEvent(const events::EventWork& work, const HandleRequest& request, const HandleDeps& deps);

}  // namespace moat::app
