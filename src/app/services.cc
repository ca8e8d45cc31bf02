#include "app/services.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "app/enforce_internal.h"

namespace moat::app {

Services::Services() : clock_(SystemClock()) {
  PolicyCacheDeps cache;
  cache.pce = Pce();
  cache.open_state = [this](const std::string& dir) { return OpenStateStore(dir, aws_); };
  cache.warn = [](const std::string& warning) { std::fprintf(stderr, "moat: warning: %s\n", warning.c_str()); };
  policy_cache_ = std::make_unique<PolicyCache>(std::move(cache));
}

const char* Services::Env(const char* name) { return std::getenv(name); }

Result<std::string> Services::Secret(const std::string& arn) {
  std::lock_guard<std::mutex> lock(secrets_mu_);
  if (auto it = secrets_.find(arn); it != secrets_.end()) return it->second;
  auto value = aws_.Secret(arn);
  if (value) secrets_[arn] = *value;
  return value;
}

PceDeps Services::Pce() {
  PceDeps deps;
  deps.getenv = &Services::Env;
  deps.transport = [](const http::TlsOptions& tls) { return http::NewCurlTransport(tls); };
  deps.secret = [this](const std::string& arn) { return Secret(arn); };
  deps.clock = &clock_;
  return deps;
}

PolicyDeps Services::Policy() {
  return PolicyDeps{&local_, [this](const std::string& v) { return FetchPcePolicy(v, Pce()); }};
}

FlowsDeps Services::Flows() { return FlowsDeps{&local_, &store::NewStdinStream, nullptr}; }

Result<FlowsDeps> Services::FlowsFor(const std::vector<std::string>& sources) {
  FlowsDeps deps = Flows();
  if (std::any_of(sources.begin(), sources.end(), [](const std::string& s) { return s.starts_with("s3://"); })) {
    auto s3 = aws_.S3();
    if (!s3) return Fail(std::move(s3).error());
    deps.s3 = *s3;
  }
  return deps;
}

std::function<std::vector<std::string>(const std::string& host)> Services::Resolver() {
  if (aws_.CustomRdsEndpoint()) return nullptr;
  return ResolveHost;
}

EnforceDeps Services::Enforce() {
  EnforceDeps deps;
  deps.policy = {&local_, nullptr};
  deps.fetch_pce_bundle = [this](const std::string& v, const std::string& state_dir, int64_t deadline_ms) {
    return policy_cache_->Bundle(v, state_dir, deadline_ms);
  };
  deps.aws = &aws_;
  deps.resolve = Resolver();
  deps.clock = &clock_;
  return deps;
}

}  // namespace moat::app
