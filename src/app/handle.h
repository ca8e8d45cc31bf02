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
// Work stops before the deadline: what was done and what was left are both in the report.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/enforce.h"
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
};

struct HandleReport {
  std::vector<std::string> done, left;  // s3://bucket/key
  uint64_t records = 0, flows = 0, skipped = 0;
  std::optional<pce::UploadResult> uploaded;
  std::optional<EnforceReport> enforce;
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
