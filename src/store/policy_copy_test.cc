#include "store/policy_copy.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace moat::store {
namespace {

PolicyCopy Copy() {
  return {"https://pce.example.com:8443/orgs/1", "active", 81, 1764547200000, "{\n\"labels\": []\n}\n"};
}

TEST(PolicyCopyTest, ACopyReadsBackExactlyWithItsKey) {
  const std::string key = PolicyCopyKey("api_1", "s3cr3t");
  const std::string text = EncodePolicyCopy(Copy(), key);
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos);
  auto back = DecodePolicyCopy(text, key);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->pce, "https://pce.example.com:8443/orgs/1");
  EXPECT_EQ(back->policy_version, "active");
  EXPECT_EQ(back->version, 81);
  EXPECT_EQ(back->fetched_at_ms, 1764547200000);
  EXPECT_EQ(back->bundle, Copy().bundle);
}

TEST(PolicyCopyTest, AnAlteredFieldOrAnotherKeyFailsTheMac) {
  const std::string key = PolicyCopyKey("api_1", "s3cr3t");
  nlohmann::json j = nlohmann::json::parse(EncodePolicyCopy(Copy(), key));
  for (const char* field : {"version", "fetched_at"}) {
    nlohmann::json altered = j;
    altered[field] = altered[field].get<int64_t>() + 1;
    EXPECT_EQ(DecodePolicyCopy(altered.dump(), key).error().message,
              "mac: does not match (altered, or written with another PCE API key)")
        << field;
  }
  nlohmann::json other_bundle = j;
  other_bundle["bundle"] = "{\"labels\": [{}]}";
  EXPECT_FALSE(DecodePolicyCopy(other_bundle.dump(), key));
  EXPECT_FALSE(DecodePolicyCopy(j.dump(), PolicyCopyKey("api_1", "rotated")));
  EXPECT_FALSE(DecodePolicyCopy(j.dump(), PolicyCopyKey("api_2", "s3cr3t")));
}

TEST(PolicyCopyTest, ABrokenCopySaysWhatIsWrong) {
  const std::string key = PolicyCopyKey("api_1", "s3cr3t");
  const std::string text = EncodePolicyCopy(Copy(), key);
  EXPECT_EQ(DecodePolicyCopy(text.substr(0, text.size() / 2), key).error().message, "not valid JSON");
  nlohmann::json j = nlohmann::json::parse(text);
  j["format"] = 2;
  EXPECT_EQ(DecodePolicyCopy(j.dump(), key).error().message, "format: expected 1");
  j["format"] = 1;
  j["version"] = "81";
  EXPECT_EQ(DecodePolicyCopy(j.dump(), key).error().message, "version: expected a version number");
  j.erase("version");
  EXPECT_EQ(DecodePolicyCopy(j.dump(), key).error().message, "version: expected a version number");
}

}  // namespace
}  // namespace moat::store
