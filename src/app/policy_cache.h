// PolicyCache: the PCE's policy as bundle text, read whole from the PCE only when it changed.
//   - active: each request asks the PCE for its newest provisioned version (one GET,
//     pce::Client::NewestPolicyVersion) and answers with the policy it holds when that is the
//     version it holds: in memory (for the life of the process: a warm Lambda container, a
//     `moat watch` worker), or else in the copy kept with the state (store/policy_copy.h: a cold
//     start, the next CLI run). Otherwise the policy is read whole (eight GETs or more) and kept
//     in both.
//   - a number: that version never changes; it is read once.
//   - draft: it has no version number; it is read whole every time.
// Labels, workloads and service bindings change without a new policy version (the PCE applies
// them at once), so a policy held for longer than max_age is read whole again.
// Errors: a version request or a read that fails is the caller's error — the cache never answers
// with what it holds then (the caller falls back to the last known good). A copy that cannot be
// read, verified or written is a warning, and the policy is read from the PCE. The API secret
// appears in no message. Thread-safe: one request at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/pce.h"
#include "base/result.h"
#include "store/policy_copy.h"
#include "store/state.h"

namespace moat::app {

struct PolicyCacheOptions {
  // A policy held for this long is read whole again: what changes without a new policy version
  // (workloads, labels, bindings) is seen within it.
  std::chrono::milliseconds max_age = std::chrono::minutes(5);
};

struct PolicyCacheDeps {
  PceDeps pce;  // the PCE (its deadline is each request's) and the clock
  // Opens the state at a --state location (a directory or s3://bucket/prefix/); unset: no copy.
  std::function<Result<std::unique_ptr<store::StateStore>>(const std::string& state_dir)> open_state;
  std::function<void(const std::string& warning)> warn;  // unset: warnings are dropped
};

class PolicyCache {
 public:
  explicit PolicyCache(PolicyCacheDeps deps, PolicyCacheOptions options = {});

  // The PCE's policy `version` (active, draft or a number) as bundle text. Every PCE request is
  // answered by `deadline_ms` (unix ms on the clock; 0: no limit) or fails. `state_dir` is where
  // the copy is kept ("": nowhere).
  Result<std::string> Bundle(const std::string& version, const std::string& state_dir, int64_t deadline_ms);

  // PCE requests sent so far (every attempt).
  int requests() const;

 private:
  // The version the PCE has for `version` (active: asked; a number: itself), or nullopt when
  // what it answers cannot tell (the policy is then read whole, and not kept).
  Result<std::optional<int64_t>> Want(const std::string& version, pce::Client& client);
  bool Fresh(const store::PolicyCopy& c, const std::string& source, const std::string& version, int64_t want,
             int64_t now) const;
  std::optional<store::PolicyCopy> ReadCopy(store::StateStore& store, const std::string& key);
  void Warn(const std::string& warning) const;

  PolicyCacheDeps deps_;
  PolicyCacheOptions options_;
  mutable std::mutex mu_;
  std::optional<store::PolicyCopy> held_;
  int requests_ = 0;
  bool warned_order_ = false;
};

}  // namespace moat::app
