// EventRunner: what `moat lambda` and `moat watch` do with each event — HandleEvent
// (app/handle.h) with its changes audited:
//   - every change as a JSON line on standard output (the function's log) and, when set, in the
//     --audit-log file;
//   - with the state in S3, the event's changes as one object,
//     s3://<state bucket>/moat/audit/<unix seconds>-<event id>.jsonl (S3 cannot append), written
//     only if no object has that name (If-None-Match: *): the audit is never replaced.
// An audit record that cannot be written is an error of the event's report (so the event fails
// and says which changes are unaudited), never only a line on stderr. One runner per process;
// Handle is called by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/fleet.h"
#include "app/handle.h"
#include "apply/audit.h"
#include "base/clock.h"
#include "events/events.h"

namespace moat::app {

class Services;

struct EventRunnerOptions {
  EnforceRequest enforce;  // executed; state_dir resolved
  std::vector<uint16_t> service_ports;
  std::string audit_log;      // a file to append to; empty: none
  events::Sources sources{};  // the flow-log buckets whose objects are read (--flow-log-bucket)
  // The accounts and regions the events are handled in (app/fleet.h); none: the process's own.
  FleetOptions fleet;
  // With a fleet: the SQS queue a schedule sends one reconcile message per account-region to
  // (each handled as an event of its own, by Lambda's concurrency or the worker pool); empty: a
  // schedule reconciles every account-region in turn.
  std::string reconcile_queue;
};

// The settings `moat lambda` and `moat watch` check once, at start, so that one they cannot use
// stops them there (the function's init error) instead of failing every event: the policy, its
// version, the mode, the quotas, the revoke share, and each flow-log bucket's name. The error is
// one line naming the option. The fleet options too, and --reconcile-queue only with them.
Status CheckEventOptions(const EventRunnerOptions& options);

class EventRunner {
 public:
  // Writes a whole object (s3://bucket/key).
  using PutObject = std::function<Status(const std::string& name, const std::string& bytes)>;
  using Handler =
      std::function<Result<HandleReport>(const events::EventWork&, const HandleRequest&, const HandleDeps&)>;

  // The real runner: HandleEvent over `services` (S3, the PCE when ILLUMIO_PCE_HOST is set).
  static Result<std::unique_ptr<EventRunner>> Open(const EventRunnerOptions& options, Services& services);
  // Over given parts (tests): `deps` as HandleEvent gets them (their audit is replaced),
  // `log_lines` the standard-output log (may be null).
  EventRunner(EventRunnerOptions options, HandleDeps deps, Handler handler, PutObject put, Clock& clock,
              std::unique_ptr<apply::AuditLog> log_lines, std::unique_ptr<apply::AuditLog> log_file);

  Result<HandleReport> Handle(const events::EventWork& work, int64_t deadline_ms, const std::string& event_id);

  // The S3 prefix of the per-event audit objects ("s3://bucket/moat/audit/"), or "".
  const std::string& audit_prefix() const { return audit_prefix_; }

 private:
  EventRunnerOptions options_;
  HandleDeps deps_;
  Handler handler_;
  PutObject put_;
  Clock& clock_;
  std::unique_ptr<apply::AuditLog> log_lines_, log_file_;
  apply::MemoryAuditLog one_event_;
  std::unique_ptr<apply::TeeAuditLog> audit_;
  std::string audit_prefix_;
  // A run over several places: the fleet, its places as last listed (again when an event names an
  // account not among them, at most every 5 minutes, and at each schedule), and who the run is.
  Result<Place> PlaceFor(const std::string& account, const std::string& region);
  Result<std::vector<Place>> ListPlaces();
  std::unique_ptr<Fleet> fleet_;
  AwsServices* home_ = nullptr;
  std::optional<std::vector<Place>> places_;
  int64_t places_at_ms_ = 0;
};

}  // namespace moat::app
