// Credentials providers: where signed requests (aws/signed_client.h) get their credentials. A
// provider resolves once and keeps what it got. Credentials that expire (the container endpoint's
// and IMDS's carry an Expiration) are fetched again when fewer than 5 minutes of validity remain,
// as the AWS SDKs do, and at once when a service answers that they have expired (Refresh).
// Credentials without an expiry (environment, profile files) are never refreshed by time.
// Providers are thread-safe (a worker's heartbeat thread signs too); errors are the resolver's and
// never hold a secret.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/result.h"

namespace moat::aws {

// Credentials are renewed when they expire in less than this (the SDKs' advisory refresh).
inline constexpr int64_t kRefreshBeforeSeconds = 300;

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Credentials to sign with now.
  virtual Result<Credentials> Get() = 0;
  // After a service said `rejected` had expired: fresh credentials, or the same ones again when
  // nothing newer can be had (the caller then does not retry). When another thread has renewed
  // them meanwhile, those are returned without asking again.
  virtual Result<Credentials> Refresh(const Credentials& rejected) = 0;
};

// The same credentials always (tests, and callers that resolved them themselves).
class StaticCredentials : public CredentialsProvider {
 public:
  explicit StaticCredentials(Credentials credentials) : credentials_(std::move(credentials)) {}
  Result<Credentials> Get() override { return credentials_; }
  Result<Credentials> Refresh(const Credentials&) override { return credentials_; }

 private:
  const Credentials credentials_;
};

// Resolves with `fetch` on first use, again when the credentials it holds come within
// kRefreshBeforeSeconds of their expiration (measured on `clock`, which must outlive it), and on
// Refresh. A failed renewal keeps handing out the old credentials while they are still valid.
class RefreshingCredentials : public CredentialsProvider {
 public:
  RefreshingCredentials(std::function<Result<Credentials>()> fetch, Clock& clock)
      : fetch_(std::move(fetch)), clock_(clock) {}
  Result<Credentials> Get() override;
  Result<Credentials> Refresh(const Credentials& rejected) override;

  // How many times `fetch` was called.
  int fetches() const;

 private:
  Result<Credentials> FetchLocked();

  std::function<Result<Credentials>()> fetch_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::optional<Credentials> cached_;  // guarded by mu_
  int fetches_ = 0;                    // guarded by mu_
};

// Whether two credentials are the same key (and session).
bool SameCredentials(const Credentials& a, const Credentials& b);

}  // namespace moat::aws
