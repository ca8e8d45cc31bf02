// The copy of the PCE's policy kept with the state (`pce-policy.json` beside `applied.json`), so
// that a new process — a cold Lambda container, the next CLI run — whose PCE still has the same
// policy version reads the policy there instead of from the PCE. One JSON object:
//   {"format": 1, "pce": "https://pce.example.com:8443/orgs/1", "policy_version": "active",
//    "version": 81, "fetched_at": 1764398567000, "mac": "<64 hex>", "bundle": "<bundle text>"}
// `mac` authenticates every other field with a key derived from the PCE API key's secret, so
// whoever can write the state but does not hold the key cannot make moat enforce a policy of
// their own through the copy, and a copy written for another key is not taken. Pure functions;
// the secret is used, never returned.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace moat::store {

inline constexpr const char* kPolicyCopyName = "pce-policy.json";

struct PolicyCopy {
  std::string pce;             // where it came from: the PCE's URL and org, "https://pce:8443/orgs/1"
  std::string policy_version;  // as asked: "active" or a number
  int64_t version = 0;         // the PCE's number of that policy; 0: none was ever provisioned
  int64_t fetched_at_ms = 0;   // when it was read from the PCE (unix ms)
  std::string bundle;          // the policy bundle text, as the PCE's export made it
};

// The key that authenticates copies for this API key (a digest of it, never the secret itself).
std::string PolicyCopyKey(std::string_view api_user, std::string_view api_secret);

std::string EncodePolicyCopy(const PolicyCopy& copy, std::string_view key);
// The copy `text` holds when it is whole and its mac holds for `key`; else an error saying what
// is wrong with it ("mac: …", "version: expected …").
Result<PolicyCopy> DecodePolicyCopy(std::string_view text, std::string_view key);

}  // namespace moat::store
