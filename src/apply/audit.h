// The audit log: one JSON object per line for every change moat makes to AWS —
//   {"time": "2026-11-29T06:42:47Z", "target": "orders-db", "group": "sg-0abc", "group_name":
//    "moat-orders-db-1", "change": "revoke", "rule": "tcp 5432 from 0.0.0.0/0", "reason": "drift",
//    "drift": true, "result": "done"}
// A run over several accounts or regions (app/fleet.h) adds "account" and "region" after "time".
// `change` is create-group, authorize, redescribe, attach, detach or revoke; `reason` is policy
// (the policy asked for it) or drift (it reverts a change made outside moat); `result` is done or
// converged (another run had made it already). Lines are appended one at a time, each in one
// write(2). A line that cannot be written is an error from Write naming the log and the system's
// reason: the change was made all the same, and the caller says which changes went unrecorded.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace moat::apply {

struct AuditEntry {
  int64_t time = 0;             // unix seconds
  std::string account, region;  // where, in a run over several places; empty otherwise
  std::string target, group, group_name, change, rule;
  bool drift = false;
  bool converged = false;
  // Not a change made: the change about to be attempted ("intent", written before the call), or
  // one whose call failed ("failed").
  std::string note;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Records one change; an error (one line naming the log) when it could not be recorded.
  virtual Status Write(const AuditEntry& entry) = 0;
  // Records a change about to be attempted, or one that failed (`entry.note`), so that a crash
  // between a call reaching AWS and its answer still leaves the change in the log. Logs that are
  // only read after the run (the report, the per-event S3 object) ignore it.
  virtual Status Note(const AuditEntry& entry) {
    (void)entry;
    return {};
  }
};

// The JSON line of an entry (no newline).
std::string AuditLine(const AuditEntry& entry);

// The change of an entry in one line, for saying it was not recorded:
// "orders-db: revoke tcp 22 from 0.0.0.0/0, group sg-0abc (moat-orders-db-1)".
std::string DescribeChange(const AuditEntry& entry);

// Appends to a file (created with its directory when missing). Owns its descriptor.
class FileAuditLog : public AuditLog {
 public:
  // Entries without a time are stamped with the clock's (borrowed: it outlives the log).
  static Result<std::unique_ptr<FileAuditLog>> Open(const std::string& path, Clock& clock);
  ~FileAuditLog() override;
  FileAuditLog(const FileAuditLog&) = delete;
  FileAuditLog& operator=(const FileAuditLog&) = delete;
  // Errors: "audit log <path>: <the system's reason>".
  Status Write(const AuditEntry& entry) override;
  Status Note(const AuditEntry& entry) override { return Write(entry); }

 private:
  FileAuditLog(int fd, std::string path, Clock& clock) : fd_(fd), path_(std::move(path)), clock_(clock) {}
  int fd_;
  std::string path_;
  Clock& clock_;
};

// Stamps every entry with an account and region, and hands it on to another log (borrowed).
class PlacedAuditLog : public AuditLog {
 public:
  PlacedAuditLog(AuditLog& inner, std::string account, std::string region)
      : inner_(inner), account_(std::move(account)), region_(std::move(region)) {}
  Status Write(const AuditEntry& entry) override { return inner_.Write(Placed(entry)); }
  Status Note(const AuditEntry& entry) override { return inner_.Note(Placed(entry)); }

 private:
  AuditEntry Placed(AuditEntry entry) const {
    entry.account = account_;
    entry.region = region_;
    return entry;
  }
  AuditLog& inner_;
  std::string account_, region_;
};

// Keeps entries in memory (tests, and the run's report). Never fails.
class MemoryAuditLog : public AuditLog {
 public:
  Status Write(const AuditEntry& entry) override {
    entries.push_back(entry);
    return {};
  }
  std::vector<AuditEntry> entries;
};

// Writes to every log it holds (null entries are skipped), whichever fail; an error when any
// failed, their messages joined with "; ".
class TeeAuditLog : public AuditLog {
 public:
  explicit TeeAuditLog(std::vector<AuditLog*> logs) : logs_(std::move(logs)) { std::erase(logs_, nullptr); }
  Status Write(const AuditEntry& entry) override { return Each(&AuditLog::Write, entry); }
  Status Note(const AuditEntry& entry) override { return Each(&AuditLog::Note, entry); }

 private:
  // `record` on every log, whichever fail; their messages joined.
  Status Each(Status (AuditLog::*record)(const AuditEntry&), const AuditEntry& entry);
  std::vector<AuditLog*> logs_;
};

}  // namespace moat::apply
