// The audit log: one JSON object per line for every change moat makes to AWS —
//   {"time": "2026-11-29T06:42:47Z", "target": "orders-db", "group": "sg-0abc", "group_name":
//    "moat-orders-db-1", "change": "revoke", "rule": "tcp 5432 from 0.0.0.0/0", "reason": "drift",
//    "drift": true, "result": "done"}
// `change` is create-group, authorize, redescribe, attach, detach or revoke; `reason` is policy
// (the policy asked for it) or drift (it reverts a change made outside moat); `result` is done or
// converged (another run had made it already). Lines are appended and flushed one at a time.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace moat::apply {

struct AuditEntry {
  int64_t time = 0;  // unix seconds
  std::string target, group, group_name, change, rule;
  bool drift = false;
  bool converged = false;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual void Write(const AuditEntry& entry) = 0;
};

// The JSON line of an entry (no newline).
std::string AuditLine(const AuditEntry& entry);

// Appends to a file (created with its directory when missing).
class FileAuditLog : public AuditLog {
 public:
  static Result<std::unique_ptr<FileAuditLog>> Open(const std::string& path, std::function<int64_t()> now);
  ~FileAuditLog() override;
  void Write(const AuditEntry& entry) override;

 private:
  FileAuditLog(std::FILE* f, std::function<int64_t()> now) : file_(f), now_(std::move(now)) {}
  std::FILE* file_;
  std::function<int64_t()> now_;
};

// Keeps entries in memory (tests, and the run's report).
class MemoryAuditLog : public AuditLog {
 public:
  void Write(const AuditEntry& entry) override { entries.push_back(entry); }
  std::vector<AuditEntry> entries;
};

// Writes to every log it holds (null entries are skipped).
class TeeAuditLog : public AuditLog {
 public:
  explicit TeeAuditLog(std::vector<AuditLog*> logs) : logs_(std::move(logs)) { std::erase(logs_, nullptr); }
  void Write(const AuditEntry& entry) override {
    for (AuditLog* l : logs_) l->Write(entry);
  }

 private:
  std::vector<AuditLog*> logs_;
};

}  // namespace moat::apply
