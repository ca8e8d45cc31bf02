#include "aws/credentials.h"

namespace moat::aws {

bool SameCredentials(const Credentials& a, const Credentials& b) {
  return a.access_key_id == b.access_key_id && a.secret_access_key == b.secret_access_key &&
         a.session_token == b.session_token;
}

Result<Credentials> RefreshingCredentials::FetchLocked() {
  ++fetches_;
  auto fresh = fetch_();
  if (fresh) {
    cached_ = *fresh;
    return fresh;
  }
  // Keep using what we have while it still works: the endpoint may be back before it expires.
  if (cached_ && (cached_->expiration == 0 || cached_->expiration > clock_.WallSeconds())) return *cached_;
  return fresh;
}

Result<Credentials> RefreshingCredentials::Get() {
  std::lock_guard lock(mu_);
  if (cached_ && (cached_->expiration == 0 || cached_->expiration - clock_.WallSeconds() >= kRefreshBeforeSeconds)) {
    return *cached_;
  }
  return FetchLocked();
}

Result<Credentials> RefreshingCredentials::Refresh(const Credentials& rejected) {
  std::lock_guard lock(mu_);
  if (cached_ && !SameCredentials(*cached_, rejected)) return *cached_;  // renewed meanwhile
  return FetchLocked();
}

int RefreshingCredentials::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

}  // namespace moat::aws
