#include "app/event_runner.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "app/pce.h"
#include "app/services.h"
#include "aws/s3.h"
#include "aws/sqs.h"
#include "base/strings.h"
#include "policy/loader.h"

namespace moat::app {

Status CheckEventOptions(const EventRunnerOptions& options) {
  if (auto st = CheckEnforceRequest(options.enforce); !st) return st;
  if (auto st = CheckFleetOptions(options.fleet); !st) return st;
  if (!options.reconcile_queue.empty() && !options.fleet.Enabled()) {
    return Fail(InvalidInput("--reconcile-queue: only with --accounts or --regions (one message per account-region)"));
  }
  for (const std::string& bucket : options.sources.buckets) {
    if (auto st = events::CheckBucketName(bucket); !st) {
      return Fail(InvalidInput("--flow-log-bucket " + Quote(bucket, 80) +
                               ": not a valid S3 bucket name: " + st.error().message));
    }
  }
  return {};
}

namespace {

// Writes an audit object only if none of that name exists (If-None-Match: *): the audit is
// write-once, and the deployed bucket policy refuses the function a PutObject there without it.
Status PutOnce(aws::S3Store& s3, const std::string& name, const std::string& bytes) {
  std::string bucket, key;
  if (!aws::ParseS3Url(name, &bucket, &key) || key.empty()) {
    return Fail(InvalidInput(name + ": not an s3://bucket/key URL"));
  }
  auto r =
      s3.Request("PUT", bucket, key, "", {{"Content-Type", "application/x-ndjson"}, {"If-None-Match", "*"}}, bytes);
  if (!r) return Fail(std::move(r).error());
  if (r->status == 412) return Fail(Error{ErrorCode::kConflict, name + ": exists already; the audit is not replaced"});
  if (r->status != 200) {
    const ErrorCode code = r->status == 403   ? ErrorCode::kDenied
                           : r->status >= 500 ? ErrorCode::kTransient
                                              : ErrorCode::kInvalidInput;
    return Fail(Error{code, name + ": HTTP " + std::to_string(r->status)});
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<EventRunner>> EventRunner::Open(const EventRunnerOptions& options, Services& services) {
  auto s3 = services.aws().S3();
  if (!s3) return Fail(std::move(s3).error());
  HandleDeps deps;
  deps.s3 = *s3;
  deps.enforce = services.Enforce();
  Clock& clock = services.clock();
  deps.clock = &clock;
  AwsServices& aws = services.aws();
  deps.keep_flows = [&aws](const std::string& name, const std::string& gzip) -> Status {
    auto objects = aws.S3Objects();
    if (!objects) return Fail(std::move(objects).error());
    return (*objects)->Put(name, gzip, "application/gzip");
  };
  if (const char* host = Services::Env("ILLUMIO_PCE_HOST"); host != nullptr && *host != '\0') {
    deps.upload = [&services](const std::vector<std::string>& lines, int64_t deadline_ms) {
      PceDeps pce = services.Pce();
      pce.deadline_ms = deadline_ms;
      return UploadToPce(lines, pce);
    };
  }
  auto to_log = apply::FileAuditLog::Open("/dev/stdout", clock);
  if (!to_log) return Fail(std::move(to_log).error());
  std::unique_ptr<apply::FileAuditLog> to_file;
  if (!options.audit_log.empty()) {
    auto opened = apply::FileAuditLog::Open(options.audit_log, clock);
    if (!opened) return Fail(std::move(opened).error());
    to_file = std::move(*opened);
  }
  const PutObject put = [&aws](const std::string& name, const std::string& bytes) -> Status {
    auto objects = aws.S3Objects();
    if (!objects) return Fail(std::move(objects).error());
    return PutOnce(**objects, name, bytes);
  };
  auto runner = std::make_unique<EventRunner>(options, std::move(deps), HandleEvent, put, clock, std::move(*to_log),
                                              std::move(to_file));
  if (!options.fleet.Enabled()) return runner;
  EventRunner* r = runner.get();
  r->fleet_ = std::make_unique<Fleet>(aws, options.fleet);
  r->home_ = &aws;
  r->deps_.place = [r](const std::string& account, const std::string& region) { return r->PlaceFor(account, region); };
  r->deps_.places = [r] { return r->ListPlaces(); };
  if (!options.reconcile_queue.empty()) {
    const std::string queue = options.reconcile_queue;
    r->deps_.fan_out = [&aws, queue](const std::vector<Place>& places) -> Status {
      auto client = aws.NewSqsClient();
      if (!client) return Fail(std::move(client).error());
      aws::Sqs sqs(**client, queue);
      for (const Place& p : places) {
        const std::string body =
            nlohmann::json{{"moat", "reconcile"}, {"account", p.account}, {"region", p.region}}.dump();
        if (auto sent = sqs.Send(body); !sent) {
          return Fail(std::move(sent).error().Context("--reconcile-queue: the message for " + p.Name()));
        }
      }
      return {};
    };
  }
  return runner;
}

Result<std::vector<Place>> EventRunner::ListPlaces() {
  auto places = fleet_->Places();
  if (!places) return Fail(std::move(places).error());
  places_ = *places;
  places_at_ms_ = clock_.MonotonicMs();
  return places;
}

Result<Place> EventRunner::PlaceFor(const std::string& account, const std::string& region) {
  std::string a = account, r = region;
  if (a.empty()) {
    auto me = home_->Identity();
    if (!me) return Fail(std::move(me).error());
    auto here = home_->Region();
    if (!here) return Fail(std::move(here).error());
    a = me->account;
    r = *here;
  }
  const auto find = [&]() -> const Place* {
    for (const Place& p : *places_) {
      if (p.account == a && (p.region == r || p.region.empty())) return &p;
    }
    return nullptr;
  };
  if (!places_ || (find() == nullptr && clock_.MonotonicMs() - places_at_ms_ > 300'000)) {
    if (auto listed = ListPlaces(); !listed) return Fail(std::move(listed).error());
  }
  if (const Place* p = find()) return *p;
  return Fail(InvalidInput(a + "/" + r +
                           ": not one of the account-regions this deployment works on (--accounts, --regions): "
                           "nothing was done there"));
}

EventRunner::EventRunner(EventRunnerOptions options, HandleDeps deps, Handler handler, PutObject put, Clock& clock,
                         std::unique_ptr<apply::AuditLog> log_lines, std::unique_ptr<apply::AuditLog> log_file)
    : options_(std::move(options)),
      deps_(std::move(deps)),
      handler_(std::move(handler)),
      put_(std::move(put)),
      clock_(clock),
      log_lines_(std::move(log_lines)),
      log_file_(std::move(log_file)) {
  audit_ = std::make_unique<apply::TeeAuditLog>(
      std::vector<apply::AuditLog*>{log_lines_.get(), log_file_.get(), &one_event_});
  deps_.enforce.audit = audit_.get();
  std::string bucket, key;
  if (aws::ParseS3Url(options_.enforce.state_dir, &bucket, &key)) audit_prefix_ = "s3://" + bucket + "/moat/audit/";
}

Result<HandleReport> EventRunner::Handle(const events::EventWork& work, int64_t deadline_ms,
                                         const std::string& event_id) {
  HandleRequest request;
  request.enforce = options_.enforce;
  request.service_ports = options_.service_ports;
  request.deadline_ms = deadline_ms;
  one_event_.entries.clear();
  auto report = handler_(work, request, deps_);
  if (audit_prefix_.empty() || one_event_.entries.empty()) return report;
  std::string lines;
  for (const apply::AuditEntry& e : one_event_.entries) {
    apply::AuditEntry stamped = e;
    if (stamped.time == 0) stamped.time = clock_.WallSeconds();
    lines += apply::AuditLine(stamped) + "\n";
  }
  const std::string object = audit_prefix_ + std::to_string(clock_.WallSeconds()) + "-" + event_id + ".jsonl";
  if (Status put = put_ ? put_(object, lines) : Fail(Internal("no object store")); !put) {
    const std::string why = fmt::format("audit log {}: {}; {} change(s) made by this event are not in it", object,
                                        put.error().message, one_event_.entries.size());
    if (!report) return Fail(std::move(report).error().Context(why));
    report->errors.push_back(why);
  }
  return report;
}

}  // namespace moat::app
