// The PCE REST API v2 client: collections (the 500-object cap, X-Total-Count, and the async job
// flow for large ones), the policy of one version as a Policy or as a policy bundle, the bulk
// traffic loader, the writes of `moat pce sync` (labels, bulk workloads and draft virtual
// services, service bindings, provisioning) and of `moat suggest --push` (draft objects one by
// one). Every request goes through one retry loop: 429 waits as Retry-After says, 5xx and
// transport failures back off (capped, with jitter), all bounded; 401, 403 and 406 fail at once
// with a message naming the request. A request that creates something (POST, bulk_create) is
// retried only after a 429, which the PCE answers without doing anything: after a 5xx or a lost
// connection it may have been done, so it fails at once (a new run plans from what the PCE then
// holds). The API secret never appears in messages. Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/result.h"
#include "http/transport.h"
#include "policy/model.h"

namespace moat::pce {

struct Config {
  std::string base_url;  // scheme://host:port, no trailing slash
  std::string org_id = "1";
  std::string user;    // ILLUMIO_API_KEY_USERNAME
  std::string secret;  // ILLUMIO_API_KEY_SECRET; never logged
  http::TlsOptions tls;

  // From ILLUMIO_PCE_HOST (a URL or a host name; https when no scheme), ILLUMIO_PCE_PORT,
  // ILLUMIO_PCE_ORG_ID, ILLUMIO_API_KEY_USERNAME, ILLUMIO_API_KEY_SECRET, ILLUMIO_CA_FILE and
  // ILLUMIO_ALLOW_INSECURE_TLS. Errors name the variable.
  static Result<Config> FromEnvironment(const std::function<const char*(const char*)>& getenv);
};

struct RetryPolicy {
  int max_attempts = 6;                        // per request, the first included
  std::chrono::milliseconds base_delay{500};   // doubled per attempt
  std::chrono::milliseconds max_delay{30000};  // cap of one wait
  std::chrono::seconds max_retry_after{120};   // longer Retry-After values are capped
  std::chrono::seconds job_deadline{600};      // an async job must finish within this
  int request_timeout_ms = 60000;
};

struct UploadResult {
  uint64_t sent = 0;                      // lines sent
  uint64_t received = 0;                  // num_flows_received summed
  uint64_t failed = 0;                    // num_flows_failed summed
  std::vector<std::string> failed_flows;  // the first few rejected lines
  int requests = 0;
};

inline constexpr size_t kMaxUploadLines = 1000;  // the bulk loader's limit per request
inline constexpr size_t kMaxBulkItems = 1000;    // per bulk_* request (workloads, virtual services)

// `items` as JSON arrays of at most `max` consecutive items (a bulk request's limit).
// REQUIRES: max > 0.
std::vector<nlohmann::json> Chunk(const std::vector<nlohmann::json>& items, size_t max = kMaxBulkItems);

// One item of a bulk_* answer, in request order: the href and status ("created",
// "updated", "deleted"), or the item's errors as one line ("invalid_label: ...").
struct BulkItemResult {
  std::string href, status, error;
};

// The provisioned policy versions as the PCE lists them (GET /orgs/N/sec_policy, newest first):
// the highest version number answered, and how many versions there are (X-Total-Count).
struct PolicyVersions {
  int64_t newest = 0;  // 0: nothing was ever provisioned
  int64_t total = -1;  // -1: the PCE did not say
};

// What provisioning made: the new policy version.
struct Provisioned {
  int version = 0;
  std::string href;
};

class Client {
 public:
  // Borrows the transport and the clock (its waits: retries, job polls), which must outlive it.
  Client(Config config, http::Transport& transport, Clock& clock = SystemClock(), RetryPolicy retry = {});

  // Every object of a collection, as the JSON array text the PCE returned. `path` is relative to
  // the org: "labels", "sec_policy/active/rule_sets".
  Result<std::string> GetCollection(std::string_view path);
  // Several collections, in order. The ones larger than a synchronous answer go through async
  // jobs that run side by side: their waits overlap.
  Result<std::vector<std::string>> GetCollections(const std::vector<std::string>& paths);

  // The policy of `version` (active, draft or a number).
  Result<policy::Policy> FetchPolicy(const std::string& version);
  // The same collections as one policy bundle file's text.
  Result<std::string> ExportBundle(const std::string& version);
  // The active policy's version in one request: GET /orgs/N/sec_policy?max_results=1 (the
  // provisioned versions, newest first, cut to one). A PCE that ignores max_results answers them
  // all; the highest is taken.
  Result<PolicyVersions> NewestPolicyVersion();

  // Sends "source_ip,destination_ip,destination_port,protocol" lines in requests of at most
  // kMaxUploadLines.
  Result<UploadResult> UploadFlows(const std::vector<std::string>& lines);

  // POST /labels: the new label's href.
  Result<std::string> CreateLabel(const std::string& key, const std::string& value);
  // PUT /workloads/bulk_<op> (op: create, update, delete) in requests of at most kMaxBulkItems
  // items; one result per item, in order. Item errors are results, not a failure; a failed
  // request stops the rest. Update and delete items carry "href".
  Result<std::vector<BulkItemResult>> BulkWorkloads(std::string_view op, const std::vector<nlohmann::json>& items);
  // The same for PUT /sec_policy/draft/virtual_services/bulk_<op>.
  Result<std::vector<BulkItemResult>> BulkVirtualServices(std::string_view op,
                                                          const std::vector<nlohmann::json>& items);
  // POST `body` to a collection: an href ("/orgs/1/sec_policy/draft/rule_sets/7/sec_rules") or a
  // path under the org ("sec_policy/draft/ip_lists"). The new object's href.
  Result<std::string> Create(const std::string& collection, const nlohmann::json& body);
  // PUT `body` to `href` (a partial update: what it leaves out stays as it is).
  Status Update(const std::string& href, const nlohmann::json& body);
  // DELETE `href`; an object already gone (404, or a 406 "already_deleted") is not an error.
  Status Delete(const std::string& href);
  // POST /service_bindings with the items: the new hrefs, in order. The virtual service hrefs
  // must be active ones (the PCE refuses a draft href with 406 invalid_uri).
  Result<std::vector<std::string>> CreateServiceBindings(const std::vector<nlohmann::json>& items);
  // POST /sec_policy: provisions the draft changes of these objects (a change subset) with a
  // commit message. `virtual_services` are draft hrefs. REQUIRES: not empty.
  Result<Provisioned> Provision(const std::string& message, const std::vector<std::string>& virtual_services);

  // A time (unix milliseconds on the clock; 0: none) by which every request must be answered:
  // each attempt's timeout is cut to what is left, no retry waits past it, and a request it finds
  // passed fails at once (kTransient) saying the time budget ran out.
  void SetDeadline(int64_t wall_ms) { deadline_ms_ = wall_ms; }

  // Requests sent (every attempt), and those of them that were writes (not GET).
  int requests() const { return requests_; }
  int writes() const { return writes_; }

 private:
  struct Call {
    std::string method = "GET";
    std::string path;  // relative to /api/v2
    std::string body;
    http::Headers headers;
    bool creates = false;  // not safe to repeat after a 5xx or a lost connection
  };
  Result<http::Response> SendJson(std::string method, std::string path, const nlohmann::json& body, bool creates);
  Result<std::vector<BulkItemResult>> Bulk(std::string_view collection, std::string_view op,
                                           const std::vector<nlohmann::json>& items);
  Result<http::Response> Send(const Call& call);
  // An async collection job: started, then polled until done.
  struct Job {
    std::string org_path, href;
    std::chrono::milliseconds next{0};  // wait before the next poll
    size_t index = 0;                   // the collection's place in the answer
    std::string body;                   // the datafile, once done
  };
  Result<Job> StartJob(const std::string& org_path);
  // One poll; true once done (the datafile read into job.body).
  Result<bool> PollJob(Job& job);
  std::string Name(const Call& call) const { return call.method + " " + call.path; }
  std::string OrgPath(std::string_view path) const { return "/orgs/" + config_.org_id + "/" + std::string(path); }
  // "GET /orgs/N/<path>" for each path: what names the answers in messages.
  std::vector<std::string> Requests(const std::vector<std::string>& paths) const;

  Config config_;
  http::Transport& transport_;
  Clock& clock_;
  RetryPolicy retry_;
  int requests_ = 0, writes_ = 0;
  int64_t deadline_ms_ = 0;
  Backoff backoff_;
};

// The collection paths of one policy version, in bundle order: (bundle key, path under the org).
std::vector<std::pair<std::string, std::string>> PolicyCollections(const std::string& version);

}  // namespace moat::pce
