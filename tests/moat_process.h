// Helpers for the integration tests: run the real moat binary as a subprocess (capturing stdout,
// stderr and the exit status), a fresh temporary directory per test, and gzip made with zlib.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace moat::integration {

struct RunResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  int signal = 0;      // the signal that ended it, if any
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string cwd;         // working directory of the child; empty: this process's
  std::string stdin_path;  // file fed to standard input; empty: /dev/null
  // Set in the child's environment, which otherwise is this process's minus every MOAT_* variable.
  std::vector<std::pair<std::string, std::string>> env;
};

// Runs `binary args...` and waits for it (killing it after `timeout_seconds`). stdout and stderr
// go through files created in `capture_dir`, which must exist.
RunResult RunProcess(const std::string& binary, const std::vector<std::string>& args, const RunOptions& options,
                     const std::string& capture_dir, int timeout_seconds = 60);

// A directory made with mkdtemp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `bytes` to path()/relative, creating parent directories. Returns the full path.
  std::string Write(const std::string& relative, const std::string& bytes) const;

 private:
  std::string path_;
};

// A process running in the background (environment: this process's minus MOAT_*, plus `env`),
// its output in files under `dir`; killed on destruction.
class Background {
 public:
  Background(std::vector<std::string> args, const std::vector<std::pair<std::string, std::string>>& env,
             const std::string& dir);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // The exit status after `signal` (0: none), waiting up to `seconds`; -1 if it did not end.
  int Stop(int signal, int seconds);
  std::string out() const;
  std::string err() const;

 private:
  std::string out_, err_;
  int pid_ = -1;
};

// One gzip member holding `data` (zlib, default level).
std::string Gzip(const std::string& data);

std::string ReadFile(const std::string& path);

// A diagnostic for failed expectations: exit status and both streams, abbreviated.
std::string Describe(const RunResult& result);

}  // namespace moat::integration
