#include "store/policy_copy.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "aws/sigv4.h"

namespace moat::store {
namespace {

constexpr int64_t kFormat = 1;

// Every field but the mac, each with its length, so that no two copies share a message.
std::string Message(const PolicyCopy& c) {
  std::string m;
  for (const std::string& field : {std::to_string(kFormat), c.pce, c.policy_version, std::to_string(c.version),
                                   std::to_string(c.fetched_at_ms), c.bundle}) {
    m += std::to_string(field.size()) + ":" + field + "\n";
  }
  return m;
}

// A keyed digest in HMAC's nested form: the outer hash over a fixed-length inner one.
std::string Mac(const PolicyCopy& c, std::string_view key) {
  const std::string k(key);
  return aws::Sha256Hex(k + "outer" + aws::Sha256Hex(k + "inner" + Message(c)));
}

bool SameDigest(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::string PolicyCopyKey(std::string_view api_user, std::string_view api_secret) {
  return aws::Sha256Hex("moat pce-policy copy key\n" + std::string(api_user) + "\n" + std::string(api_secret));
}

std::string EncodePolicyCopy(const PolicyCopy& copy, std::string_view key) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["pce"] = copy.pce;
  j["policy_version"] = copy.policy_version;
  j["version"] = copy.version;
  j["fetched_at"] = copy.fetched_at_ms;
  j["mac"] = Mac(copy, key);
  j["bundle"] = copy.bundle;
  return j.dump() + "\n";
}

Result<PolicyCopy> DecodePolicyCopy(std::string_view text, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
    return Fail(InvalidInput("not valid JSON"));
  }
  int64_t format = 0;
  if (root["format"].get(format) != simdjson::SUCCESS || format != kFormat) {
    return Fail(InvalidInput("format: expected 1"));
  }
  PolicyCopy c;
  std::string_view pce, policy_version, mac, bundle;
  if (root["pce"].get(pce) != simdjson::SUCCESS) return Fail(InvalidInput("pce: expected a string"));
  if (root["policy_version"].get(policy_version) != simdjson::SUCCESS) {
    return Fail(InvalidInput("policy_version: expected a string"));
  }
  if (root["version"].get(c.version) != simdjson::SUCCESS || c.version < 0) {
    return Fail(InvalidInput("version: expected a version number"));
  }
  if (root["fetched_at"].get(c.fetched_at_ms) != simdjson::SUCCESS) {
    return Fail(InvalidInput("fetched_at: expected unix milliseconds"));
  }
  if (root["mac"].get(mac) != simdjson::SUCCESS) return Fail(InvalidInput("mac: expected a string"));
  if (root["bundle"].get(bundle) != simdjson::SUCCESS) return Fail(InvalidInput("bundle: expected a string"));
  c.pce = pce;
  c.policy_version = policy_version;
  c.bundle = bundle;
  if (!SameDigest(mac, Mac(c, key))) {
    return Fail(InvalidInput("mac: does not match (altered, or written with another PCE API key)"));
  }
  return c;
}

}  // namespace moat::store
