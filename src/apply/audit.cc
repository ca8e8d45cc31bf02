#include "apply/audit.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/strings.h"

namespace moat::apply {

std::string AuditLine(const AuditEntry& e) {
  nlohmann::ordered_json j;
  j["time"] = FormatUtc(e.time);
  j["target"] = e.target;
  j["group"] = e.group;
  j["group_name"] = e.group_name;
  j["change"] = e.change;
  j["rule"] = e.rule;
  j["reason"] = e.drift ? "drift" : "policy";
  j["drift"] = e.drift;
  j["result"] = e.converged ? "converged" : "done";
  return j.dump();
}

Result<std::unique_ptr<FileAuditLog>> FileAuditLog::Open(const std::string& path, std::function<int64_t()> now) {
  if (Status s = MakeDirectories(std::filesystem::path(path).parent_path()); !s) {
    return Fail(std::move(s).error().Context("audit log " + path));
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return Fail(Internal("audit log " + path + ": cannot be opened for appending"));
  return std::unique_ptr<FileAuditLog>(new FileAuditLog(f, std::move(now)));
}

FileAuditLog::~FileAuditLog() { std::fclose(file_); }

void FileAuditLog::Write(const AuditEntry& entry) {
  AuditEntry e = entry;
  if (e.time == 0) e.time = now_();
  const std::string line = AuditLine(e) + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace moat::apply
