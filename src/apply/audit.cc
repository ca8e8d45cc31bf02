#include "apply/audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/strings.h"

namespace moat::apply {

std::string AuditLine(const AuditEntry& e) {
  nlohmann::ordered_json j;
  j["time"] = FormatUtc(e.time);
  if (!e.account.empty()) j["account"] = e.account;
  if (!e.region.empty()) j["region"] = e.region;
  j["target"] = e.target;
  j["group"] = e.group;
  j["group_name"] = e.group_name;
  j["change"] = e.change;
  j["rule"] = e.rule;
  j["reason"] = e.drift ? "drift" : "policy";
  j["drift"] = e.drift;
  j["result"] = !e.note.empty() ? e.note : e.converged ? "converged" : "done";
  return j.dump();
}

std::string DescribeChange(const AuditEntry& e) {
  std::string s = (e.account.empty() ? "" : e.account + "/" + e.region + "/") + e.target + ": " + e.change;
  if (!e.rule.empty()) s += " " + e.rule;
  s += ", group " + e.group;
  if (!e.group_name.empty()) s += " (" + e.group_name + ")";
  return s;
}

Result<std::unique_ptr<FileAuditLog>> FileAuditLog::Open(const std::string& path, Clock& clock) {
  if (Status s = MakeDirectories(std::filesystem::path(path).parent_path()); !s) {
    return Fail(std::move(s).error().Context("audit log " + path));
  }
  // A new log is private to the user whatever the umask; an existing one keeps its mode.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) {
    (void)::fchmod(fd, 0600);
  } else if (errno == EEXIST) {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0) {
    return Fail(Internal("audit log " + path + ": cannot be opened for appending: " + std::strerror(errno)));
  }
  return std::unique_ptr<FileAuditLog>(new FileAuditLog(fd, path, clock));
}

FileAuditLog::~FileAuditLog() { ::close(fd_); }

Status FileAuditLog::Write(const AuditEntry& entry) {
  AuditEntry e = entry;
  if (e.time == 0) e.time = clock_.WallSeconds();
  const std::string line = AuditLine(e) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      const std::string why = n < 0 ? std::strerror(errno) : "nothing written";
      return Fail(Error{ErrorCode::kTransient, "audit log " + path_ + ": " + why});
    }
  }
  return {};
}

Status TeeAuditLog::Each(Status (AuditLog::*record)(const AuditEntry&), const AuditEntry& entry) {
  std::string failed;
  for (AuditLog* l : logs_) {
    if (Status st = (l->*record)(entry); !st) failed += (failed.empty() ? "" : "; ") + st.error().message;
  }
  if (!failed.empty()) return Fail(Error{ErrorCode::kTransient, failed});
  return {};
}

}  // namespace moat::apply
