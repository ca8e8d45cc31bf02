#include "app/policy_cache.h"

#include <fmt/format.h>

#include "base/strings.h"

namespace moat::app {

PolicyCache::PolicyCache(PolicyCacheDeps deps, PolicyCacheOptions options)
    : deps_(std::move(deps)), options_(options) {}

int PolicyCache::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void PolicyCache::Warn(const std::string& warning) const {
  if (deps_.warn) deps_.warn(warning);
}

Result<std::optional<int64_t>> PolicyCache::Want(const std::string& version, pce::Client& client) {
  if (version != "active") {
    const std::optional<int64_t> number = ParseInt(version, 0);
    if (!number) return Fail(InvalidInput("policy version must be active, draft or a number"));
    return number;
  }
  auto listed = client.NewestPolicyVersion();
  if (!listed) return Fail(std::move(listed).error());
  // Versions are numbered from 1 and never reused: the newest is at least their count. A PCE that
  // answers a lower one did not list the newest first, and its answer cannot be trusted.
  if (listed->total > listed->newest) {
    if (!warned_order_) {
      Warn(
          fmt::format("the PCE answered version {} as the newest of its {} policy versions: it does not list "
                      "the newest first, so the policy is read whole for every run",
                      listed->newest, listed->total));
      warned_order_ = true;
    }
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(listed->newest);
}

bool PolicyCache::Fresh(const store::PolicyCopy& c, const std::string& source, const std::string& version, int64_t want,
                        int64_t now) const {
  const int64_t age = now - c.fetched_at_ms;
  const int64_t max_age = options_.max_age.count();
  return c.pce == source && c.policy_version == version && c.version == want && age < max_age && age > -max_age;
}

std::optional<store::PolicyCopy> PolicyCache::ReadCopy(store::StateStore& store, const std::string& key) {
  const std::string where = store.Where(store::kPolicyCopyName);
  auto text = store.Read(store::kPolicyCopyName);
  if (!text) {
    Warn(where + ": the copy of the PCE's policy could not be read (" + text.error().message +
         "); the policy is read from the PCE");
    return std::nullopt;
  }
  if (!*text) return std::nullopt;
  auto copy = store::DecodePolicyCopy(**text, key);
  if (!copy) {
    Warn(where + ": the copy of the PCE's policy is not used: " + copy.error().message +
         "; the policy is read from the PCE");
    return std::nullopt;
  }
  return std::move(*copy);
}

Result<std::string> PolicyCache::Bundle(const std::string& version, const std::string& state_dir, int64_t deadline_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  PceDeps pce = deps_.pce;
  pce.deadline_ms = deadline_ms;
  auto config = PceConfig(pce);
  if (!config) return Fail(std::move(config).error());
  const std::string source = config->base_url + "/orgs/" + config->org_id;
  const std::string key = store::PolicyCopyKey(config->user, config->secret);
  PceConnection c = ConnectPce(std::move(*config), pce);
  pce::Client& client = *c.client;
  // Every PCE request of this call is counted, whichever way it returns.
  struct Count {
    int& total;
    pce::Client& client;
    ~Count() { total += client.requests(); }
  } count{requests_, client};

  if (version == "draft") return client.ExportBundle(version);
  auto want = Want(version, client);
  if (!want) return Fail(std::move(want).error());
  if (!*want) return client.ExportBundle(version);
  Clock& clock = deps_.pce.clock != nullptr ? *deps_.pce.clock : SystemClock();
  const int64_t now = clock.WallMs();
  if (held_ && Fresh(*held_, source, version, **want, now)) return held_->bundle;

  std::unique_ptr<store::StateStore> store;
  if (!state_dir.empty() && deps_.open_state) {
    auto opened = deps_.open_state(state_dir);
    if (opened) {
      store = std::move(*opened);
    } else {
      Warn("the copy of the PCE's policy in " + state_dir + " cannot be reached (" + opened.error().message +
           "); the policy is read from the PCE");
    }
  }
  if (store) {
    if (auto copy = ReadCopy(*store, key); copy && Fresh(*copy, source, version, **want, now)) {
      held_ = std::move(copy);
      return held_->bundle;
    }
  }
  auto bundle = client.ExportBundle(version);
  if (!bundle) return Fail(std::move(bundle).error());
  held_ = store::PolicyCopy{source, version, **want, now, std::move(*bundle)};
  if (store) {
    if (auto st = store->Write(store::kPolicyCopyName, store::EncodePolicyCopy(*held_, key)); !st) {
      Warn(store->Where(store::kPolicyCopyName) +
           ": the copy of the PCE's policy could not be written: " + st.error().message);
    }
  }
  return held_->bundle;
}

}  // namespace moat::app
