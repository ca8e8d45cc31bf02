#include "app/policy_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "testing/env.h"
#include "testing/fake_clock.h"

namespace moat::app {
namespace {

constexpr const char* kSecret = "s3cr3t-0123";

// A PCE of one policy: GET sec_policy?max_results=1 lists `version` (newest first), every
// collection answers one label naming the version it was read at.
struct FakePce : http::Transport {
  int64_t version = 7;
  int64_t total = -1;     // X-Total-Count of the version list; -1: `version`
  int status = 200;       // of every answer
  int read_status = 200;  // of the collections' answers
  int version_requests = 0, reads = 0;

  Result<http::Response> Send(const http::Request& r) override {
    http::Response resp;
    resp.status = status;
    if (r.url.ends_with("/sec_policy?max_results=1")) {
      ++version_requests;
      resp.body = version == 0 ? "[]" : nlohmann::json::array({{{"version", version}}}).dump();
      resp.headers = {{"x-total-count", std::to_string(total >= 0 ? total : version)}};
      return resp;
    }
    ++reads;
    if (read_status != 200) resp.status = read_status;
    resp.body = r.url.ends_with("/labels")
                    ? nlohmann::json::array(
                          {{{"href", "/orgs/1/labels/1"}, {"key", "role"}, {"value", "v" + std::to_string(version)}}})
                          .dump()
                    : "[]";
    resp.headers = {{"x-total-count", r.url.ends_with("/labels") ? "1" : "0"}};
    return resp;
  }
};

// The transport a connection owns, over the test's PCE.
struct Forward : http::Transport {
  explicit Forward(http::Transport& to) : to_(to) {}
  Result<http::Response> Send(const http::Request& r) override { return to_.Send(r); }
  http::Transport& to_;
};

// A state store in memory (what S3 or a directory holds).
struct MemoryState : store::StateStore {
  std::map<std::string, std::string> files;
  bool fail_reads = false, fail_writes = false;
  Result<std::optional<std::string>> Read(const std::string& name) override {
    if (fail_reads) return Fail(Transient("SlowDown"));
    auto it = files.find(name);
    return it == files.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  }
  Status Write(const std::string& name, const std::string& text) override {
    if (fail_writes) return Fail(Error{ErrorCode::kDenied, "AccessDenied"});
    files[name] = text;
    return {};
  }
  std::string Where(const std::string& name) const override { return "s3://state/moat/state/" + name; }
  Status Remove(const std::string& name) override {
    files.erase(name);
    return {};
  }
};

class PolicyCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<PolicyCache> NewCache(const std::string& secret = kSecret) {
    env_.vars["ILLUMIO_API_KEY_SECRET"] = secret;
    PolicyCacheDeps deps;
    deps.pce.getenv = env_.getter();
    deps.pce.transport = [this](const http::TlsOptions&) { return std::make_unique<Forward>(pce_); };
    deps.pce.clock = &clock_;
    deps.open_state = [this](const std::string& dir) -> Result<std::unique_ptr<store::StateStore>> {
      EXPECT_EQ(dir, "s3://state/moat/state/");
      return std::unique_ptr<store::StateStore>(new Borrowed(state_));
    };
    deps.warn = [this](const std::string& w) { warnings_.push_back(w); };
    return std::make_unique<PolicyCache>(std::move(deps));
  }
  Result<std::string> Bundle(PolicyCache& cache, const std::string& version = "active") {
    return cache.Bundle(version, "s3://state/moat/state/", 0);
  }
  // A requested bundle's one label value ("v7"), or the error.
  std::string Label(const Result<std::string>& bundle) {
    if (!bundle) return "error: " + bundle.error().message;
    return nlohmann::json::parse(*bundle)["labels"][0]["value"].get<std::string>();
  }
  int Requests() const { return pce_.version_requests + pce_.reads; }

  // The store a cache opens, over the test's.
  struct Borrowed : store::StateStore {
    explicit Borrowed(MemoryState& s) : s_(s) {}
    Result<std::optional<std::string>> Read(const std::string& n) override { return s_.Read(n); }
    Status Write(const std::string& n, const std::string& t) override { return s_.Write(n, t); }
    std::string Where(const std::string& n) const override { return s_.Where(n); }
    Status Remove(const std::string& n) override { return s_.Remove(n); }
    MemoryState& s_;
  };

  moat::testing::Env env_{{{"ILLUMIO_PCE_HOST", "http://pce.test:8443"}, {"ILLUMIO_API_KEY_USERNAME", "api_1"}}};
  moat::testing::FakeClock clock_;
  FakePce pce_;
  MemoryState state_;
  std::vector<std::string> warnings_;
};

TEST_F(PolicyCacheTest, AnUnchangedActivePolicyCostsOneRequest) {
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  EXPECT_EQ(pce_.version_requests, 1);
  EXPECT_EQ(pce_.reads, 8);  // the whole policy, once
  for (int event = 0; event < 3; ++event) {
    auto again = Bundle(*cache);
    EXPECT_EQ(Label(again), "v7");
  }
  EXPECT_EQ(pce_.version_requests, 4);
  EXPECT_EQ(pce_.reads, 8);
  EXPECT_EQ(cache->requests(), 12);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(PolicyCacheTest, ANewVersionIsReadWholeAtTheNextRequest) {
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  pce_.version = 8;  // provisioned
  EXPECT_EQ(Label(Bundle(*cache)), "v8");
  EXPECT_EQ(pce_.version_requests, 2);
  EXPECT_EQ(pce_.reads, 16);
  EXPECT_EQ(Label(Bundle(*cache)), "v8");
  EXPECT_EQ(pce_.reads, 16);
}

TEST_F(PolicyCacheTest, ANumberedVersionIsReadOnceAndNeverAsked) {
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache, "42")), "v7");
  EXPECT_EQ(Requests(), 8);
  EXPECT_EQ(Label(Bundle(*cache, "42")), "v7");
  EXPECT_EQ(Label(Bundle(*cache, "42")), "v7");
  EXPECT_EQ(Requests(), 8);
  EXPECT_EQ(pce_.version_requests, 0);
}

TEST_F(PolicyCacheTest, TheDraftIsReadWholeEveryTime) {
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache, "draft")), "v7");
  EXPECT_EQ(Label(Bundle(*cache, "draft")), "v7");
  EXPECT_EQ(pce_.reads, 16);
  EXPECT_EQ(pce_.version_requests, 0);
  EXPECT_TRUE(state_.files.empty());  // nothing kept for the draft
}

TEST_F(PolicyCacheTest, WhatIsHeldIsReadAgainOnceOlderThanTheMaxAge) {
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  clock_.Advance(std::chrono::minutes(4));
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  EXPECT_EQ(pce_.reads, 8);
  clock_.Advance(std::chrono::minutes(1));  // workloads and labels may have changed unversioned
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  EXPECT_EQ(pce_.reads, 16);
}

TEST_F(PolicyCacheTest, AColdStartReadsTheCopyWithOneRequest) {
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  ASSERT_EQ(state_.files.count("pce-policy.json"), 1u);
  EXPECT_EQ(state_.files["pce-policy.json"].find(kSecret), std::string::npos);
  auto cold = NewCache();
  EXPECT_EQ(Label(Bundle(*cold)), "v7");
  EXPECT_EQ(pce_.version_requests, 2);
  EXPECT_EQ(pce_.reads, 8);  // the first process's only
  EXPECT_TRUE(warnings_.empty());

  pce_.version = 9;  // a copy of an older version is not taken, and is replaced
  EXPECT_EQ(Label(Bundle(*NewCache())), "v9");
  EXPECT_EQ(pce_.reads, 16);
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(Label(Bundle(*NewCache())), "v9");
  EXPECT_EQ(pce_.reads, 16);
}

TEST_F(PolicyCacheTest, ABrokenCopyIsAWarningAndAWholeRead) {
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  nlohmann::json copy = nlohmann::json::parse(state_.files["pce-policy.json"]);
  copy["bundle"] = R"({"labels": [{"href": "/orgs/1/labels/1", "key": "role", "value": "forged"}]})";
  state_.files["pce-policy.json"] = copy.dump();
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  EXPECT_EQ(pce_.reads, 16);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0],
            "s3://state/moat/state/pce-policy.json: the copy of the PCE's policy is not used: mac: does not match "
            "(altered, or written with another PCE API key); the policy is read from the PCE");
  // The whole read wrote a good copy over it.
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  EXPECT_EQ(pce_.reads, 16);

  state_.files["pce-policy.json"] = "{\"format\": 1, \"pce\": ";
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  EXPECT_EQ(pce_.reads, 24);
  ASSERT_EQ(warnings_.size(), 2u);
  EXPECT_NE(warnings_[1].find("is not used: not valid JSON"), std::string::npos) << warnings_[1];
}

TEST_F(PolicyCacheTest, ACopyWrittenWithAnotherKeyIsNotTaken) {
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  EXPECT_EQ(Label(Bundle(*NewCache("rotated-secret"))), "v7");
  EXPECT_EQ(pce_.reads, 16);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0].find("rotated"), std::string::npos);
}

TEST_F(PolicyCacheTest, AnUnreadableOrUnwritableCopyIsAWarning) {
  state_.fail_writes = true;
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0],
            "s3://state/moat/state/pce-policy.json: the copy of the PCE's policy could not be written: AccessDenied");
  state_.fail_reads = true;
  EXPECT_EQ(Label(Bundle(*NewCache())), "v7");
  ASSERT_EQ(warnings_.size(), 3u);
  EXPECT_EQ(warnings_[1],
            "s3://state/moat/state/pce-policy.json: the copy of the PCE's policy could not be read (SlowDown); the "
            "policy is read from the PCE");
}

TEST_F(PolicyCacheTest, AFailedVersionRequestIsAnErrorNeverWhatIsHeld) {
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  pce_.status = 403;
  auto failed = Bundle(*cache);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message,
            "GET /orgs/1/sec_policy?max_results=1: 403 forbidden: the API key lacks the permission, or "
            "ILLUMIO_PCE_ORG_ID is not its org");
  EXPECT_EQ(failed.error().message.find(kSecret), std::string::npos);
  EXPECT_EQ(pce_.reads, 8);
  pce_.status = 200;
  EXPECT_EQ(Label(Bundle(*cache)), "v7");  // answering again, and unchanged
  EXPECT_EQ(pce_.reads, 8);
}

TEST_F(PolicyCacheTest, AFailedReadOfANewVersionIsAnErrorNotTheOldPolicy) {
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  pce_.version = 8;
  pce_.read_status = 403;
  EXPECT_EQ(Label(Bundle(*cache)),
            "error: GET /orgs/1/labels: 403 forbidden: the API key lacks the permission, or ILLUMIO_PCE_ORG_ID is not "
            "its org");
  pce_.read_status = 200;
  EXPECT_EQ(Label(Bundle(*cache)), "v8");
}

TEST_F(PolicyCacheTest, APceThatDoesNotListTheNewestFirstIsReadWholeEveryTime) {
  pce_.total = 12;  // version 7 answered as the first of 12
  auto cache = NewCache();
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  EXPECT_EQ(Label(Bundle(*cache)), "v7");
  EXPECT_EQ(pce_.reads, 16);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_EQ(warnings_[0],
            "the PCE answered version 7 as the newest of its 12 policy versions: it does not list the newest first, "
            "so the policy is read whole for every run");
}

TEST_F(PolicyCacheTest, APceWithNothingProvisionedIsVersionZero) {
  pce_.version = 0;
  auto cache = NewCache();
  EXPECT_TRUE(Bundle(*cache));
  EXPECT_TRUE(Bundle(*cache));
  EXPECT_EQ(pce_.reads, 8);
  EXPECT_EQ(pce_.version_requests, 2);
}

}  // namespace
}  // namespace moat::app
