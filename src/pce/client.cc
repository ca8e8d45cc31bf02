#include "pce/client.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>

#include "base/strings.h"
#include "policy/json_path.h"
#include "policy/loader.h"

namespace moat::pce {
namespace {

int ParseSeconds(std::string_view s, int fallback) {
  return static_cast<int>(ParseInt(s, 0, std::numeric_limits<int>::max()).value_or(fallback));
}

// The message of a PCE error body: [{"token","message"}], {"token","message"} or {"error"}.
std::string ErrorText(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return Quote(body, 120);
  simdjson::dom::element item = doc;
  if (doc.is_array()) {
    simdjson::dom::array a = doc.get_array().value_unsafe();
    if (a.size() == 0) return "";
    item = a.at(0).value_unsafe();
  }
  std::string out;
  for (const char* key : {"token", "message", "error"}) {
    std::string_view v;
    if (item.is_object() && item[key].get(v) == simdjson::SUCCESS) out += (out.empty() ? "" : ": ") + std::string(v);
  }
  return out.empty() ? Quote(body, 120) : out;
}

bool IsJsonArray(const std::string& body, size_t* count) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || !doc.is_array()) return false;
  *count = doc.get_array().value_unsafe().size();
  return true;
}

// The paths of (bundle key, path) pairs.
std::vector<std::string> Paths(const std::vector<std::pair<std::string, std::string>>& collections) {
  std::vector<std::string> out;
  out.reserve(collections.size());
  for (const auto& c : collections) out.push_back(c.second);
  return out;
}

}  // namespace

Result<Config> Config::FromEnvironment(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> std::string {
    const char* v = getenv(name);
    return v == nullptr ? "" : v;
  };
  Config c;
  std::string host = get("ILLUMIO_PCE_HOST");
  if (host.empty())
    return Fail(InvalidInput("ILLUMIO_PCE_HOST is not set (the PCE's URL, https://pce.example.com:8443)"));
  if (host.find("://") == std::string::npos) host = "https://" + host;
  while (!host.empty() && host.back() == '/') host.pop_back();
  const std::string port = get("ILLUMIO_PCE_PORT");
  if (!port.empty()) {
    if (ParseSeconds(port, -1) <= 0 || ParseSeconds(port, -1) > 65535) {
      return Fail(InvalidInput("ILLUMIO_PCE_PORT: not a port number: " + Quote(port)));
    }
    const size_t authority = host.find("://") + 3;
    if (host.find(':', authority) == std::string::npos) host += ":" + port;
  }
  c.base_url = host;
  if (const std::string org = get("ILLUMIO_PCE_ORG_ID"); !org.empty()) {
    if (ParseSeconds(org, -1) <= 0) return Fail(InvalidInput("ILLUMIO_PCE_ORG_ID: not an org number: " + Quote(org)));
    c.org_id = org;
  }
  c.user = get("ILLUMIO_API_KEY_USERNAME");
  c.secret = get("ILLUMIO_API_KEY_SECRET");
  if (c.user.empty() || c.secret.empty()) {
    return Fail(InvalidInput("ILLUMIO_API_KEY_USERNAME and ILLUMIO_API_KEY_SECRET must both be set"));
  }
  c.tls.ca_file = get("ILLUMIO_CA_FILE");
  const std::string insecure = get("ILLUMIO_ALLOW_INSECURE_TLS");
  if (insecure == "true" || insecure == "1") {
    c.tls.verify = false;
  } else if (!insecure.empty() && insecure != "false" && insecure != "0") {
    return Fail(InvalidInput("ILLUMIO_ALLOW_INSECURE_TLS: expected true, false, 1 or 0"));
  }
  return c;
}

Client::Client(Config config, http::Transport& transport, Clock& clock, RetryPolicy retry)
    : config_(std::move(config)),
      transport_(transport),
      clock_(clock),
      retry_(retry),
      backoff_(retry.base_delay, retry.max_delay) {}

Result<http::Response> Client::Send(const Call& call) {
  http::Request req;
  req.method = call.method;
  req.url = config_.base_url + "/api/v2" + call.path;
  req.headers = call.headers;
  req.headers.emplace_back("Accept", "application/json");
  req.body = call.body;
  req.basic_user = config_.user;
  req.basic_password = config_.secret;
  req.timeout_ms = retry_.request_timeout_ms;
  std::string last;
  // A create that may have been done is not repeated: the caller re-plans instead.
  const auto maybe_done = [&](const std::string& what) {
    return Fail(Transient(what + "; it may or may not have been done, so it is not repeated: run again, and the "
                                 "next plan starts from what the PCE holds"));
  };
  const auto out_of_time = [&](const std::string& why) {
    return Fail(
        Transient(Name(call) + ": the time budget for the PCE ran out" + (why.empty() ? "" : " (" + why + ")")));
  };
  for (int attempt = 1;; ++attempt) {
    if (deadline_ms_ > 0) {
      const int64_t left = deadline_ms_ - clock_.WallMs();
      if (left <= 0) return out_of_time(last);
      req.timeout_ms = static_cast<int>(std::min<int64_t>(retry_.request_timeout_ms, left));
    }
    ++requests_;
    if (call.method != "GET") ++writes_;
    auto resp = transport_.Send(req);
    std::chrono::milliseconds wait{0};
    if (!resp) {
      if (resp.error().code != ErrorCode::kTransient) return Fail(std::move(resp).error());
      last = resp.error().message;
      if (call.creates) return maybe_done(Name(call) + ": " + last);
    } else if (resp->status == 429) {
      last = Name(call) + ": 429 too many requests";
      const int after = ParseSeconds(resp->Header("retry-after"), -1);
      if (after >= 0) wait = std::min<std::chrono::milliseconds>(std::chrono::seconds(after), retry_.max_retry_after);
    } else if (resp->status >= 500) {
      last = Name(call) + ": " + std::to_string(resp->status) + " server error";
      if (call.creates) return maybe_done(last);
    } else if (resp->status == 401) {
      return Fail(Error{ErrorCode::kDenied, Name(call) + ": 401 authentication failed: check ILLUMIO_API_KEY_USERNAME "
                                                         "and ILLUMIO_API_KEY_SECRET"});
    } else if (resp->status == 403) {
      return Fail(Error{ErrorCode::kDenied, Name(call) + ": 403 forbidden: the API key lacks the permission, or "
                                                         "ILLUMIO_PCE_ORG_ID is not its org"});
    } else if (resp->status >= 400) {
      return Fail(InvalidInput(Name(call) + ": " + std::to_string(resp->status) + " " + ErrorText(resp->body)));
    } else {
      return std::move(*resp);
    }
    if (attempt >= retry_.max_attempts) {
      return Fail(Transient(last + " (gave up after " + std::to_string(attempt) + " attempts)"));
    }
    if (wait.count() == 0) wait = backoff_.Delay(attempt);
    if (deadline_ms_ > 0 && clock_.WallMs() + wait.count() >= deadline_ms_) return out_of_time(last);
    clock_.Sleep(wait);
  }
}

Result<std::string> Client::GetCollection(std::string_view path) {
  auto out = GetCollections({std::string(path)});
  if (!out) return Fail(std::move(out).error());
  return std::move(out->front());
}

Result<std::vector<std::string>> Client::GetCollections(const std::vector<std::string>& paths) {
  std::vector<std::string> out(paths.size());
  std::vector<Job> jobs;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string org_path = OrgPath(paths[i]);
    auto resp = Send({"GET", org_path, "", {}});
    if (!resp) return Fail(std::move(resp).error());
    size_t count = 0;
    if (!IsJsonArray(resp->body, &count)) {
      return Fail(InvalidInput("GET " + org_path + ": the response is not a JSON array: " + Quote(resp->body, 60)));
    }
    const int total = ParseSeconds(resp->Header("x-total-count"), -1);
    // The synchronous answer stops at 500 objects: a larger collection comes through a job.
    const bool truncated = total >= 0 ? static_cast<size_t>(total) > count : count >= 500;
    if (!truncated) {
      out[i] = std::move(resp->body);
      continue;
    }
    auto job = StartJob(org_path);
    if (!job) return Fail(std::move(job).error());
    job->index = i;
    jobs.push_back(std::move(*job));
  }
  // The jobs run on the PCE side by side: wait for them together.
  auto waited = std::chrono::milliseconds(0);
  while (!jobs.empty()) {
    std::chrono::milliseconds next = jobs.front().next;
    for (const Job& j : jobs) next = std::min(next, j.next);
    if (deadline_ms_ > 0 && clock_.WallMs() + next.count() >= deadline_ms_) {
      return Fail(Transient("GET " + jobs.front().href + ": the time budget for the PCE ran out while its job for " +
                            jobs.front().org_path + " ran"));
    }
    clock_.Sleep(next);
    waited += next;
    for (size_t k = 0; k < jobs.size();) {
      auto done = PollJob(jobs[k]);
      if (!done) return Fail(std::move(done).error());
      if (*done) {
        out[jobs[k].index] = std::move(jobs[k].body);
        jobs.erase(jobs.begin() + static_cast<std::ptrdiff_t>(k));
        continue;
      }
      if (waited >= retry_.job_deadline) {
        return Fail(Transient("GET " + jobs[k].href + ": the job for " + jobs[k].org_path + " did not finish in " +
                              std::to_string(retry_.job_deadline.count()) + " s"));
      }
      jobs[k].next = std::min<std::chrono::milliseconds>(jobs[k].next * 2, std::chrono::seconds(10));
      ++k;
    }
  }
  return out;
}

Result<Client::Job> Client::StartJob(const std::string& org_path) {
  auto started = Send({"GET", org_path, "", {{"Prefer", "respond-async"}}});
  if (!started) return Fail(std::move(started).error());
  Job job;
  job.org_path = org_path;
  job.href = started->Header("location");
  if (started->status != 202 || job.href.empty()) {
    return Fail(InvalidInput("GET " + org_path + " (async): expected 202 with a Location, got " +
                             std::to_string(started->status)));
  }
  job.next = std::chrono::seconds(ParseSeconds(started->Header("retry-after"), 1));
  return job;
}

Result<bool> Client::PollJob(Job& job) {
  auto poll = Send({"GET", job.href, "", {}});
  if (!poll) return Fail(std::move(poll).error());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view status, result;
  if (parser.parse(poll->body).get(doc) != simdjson::SUCCESS || doc["status"].get(status) != simdjson::SUCCESS) {
    return Fail(InvalidInput("GET " + job.href + ": not a job: " + Quote(poll->body, 60)));
  }
  if (auto repeat = policy::RepeatedKey(doc, "")) {
    return Fail(InvalidInput("GET " + job.href + ": " + repeat->path + ": " + repeat->what));
  }
  if (status == "failed") return Fail(Transient("GET " + job.href + ": the PCE's job for " + job.org_path + " failed"));
  if (status != "done") return false;
  if (doc["result"]["href"].get(result) != simdjson::SUCCESS) {
    return Fail(InvalidInput("GET " + job.href + ": a done job without result.href"));
  }
  auto data = Send({"GET", std::string(result), "", {}});
  if (!data) return Fail(std::move(data).error());
  size_t count = 0;
  if (!IsJsonArray(data->body, &count)) {
    return Fail(InvalidInput("GET " + std::string(result) + ": the datafile is not a JSON array"));
  }
  job.body = std::move(data->body);
  return true;
}

std::vector<std::pair<std::string, std::string>> PolicyCollections(const std::string& version) {
  const std::string v = "sec_policy/" + version + "/";
  return {{"labels", "labels"},
          {"label_groups", v + "label_groups"},
          {"workloads", "workloads"},
          {"virtual_services", v + "virtual_services"},
          {"service_bindings", "service_bindings"},
          {"ip_lists", v + "ip_lists"},
          {"services", v + "services"},
          {"rule_sets", v + "rule_sets"}};
}

namespace {

// The policy of the PCE's answers to PolicyCollections(version); `requests` name them in messages.
Result<policy::Policy> Load(const std::string& version, const std::vector<std::string>& bodies,
                            const std::vector<std::string>& requests) {
  policy::PolicyBuilder builder(version);
  const auto collections = PolicyCollections(version);
  for (size_t i = 0; i < collections.size(); ++i) {
    if (auto st = builder.AddCollection(collections[i].first, bodies[i], requests[i]); !st) {
      return Fail(std::move(st).error());
    }
  }
  return std::move(builder).Build();
}

}  // namespace

std::vector<std::string> Client::Requests(const std::vector<std::string>& paths) const {
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const std::string& p : paths) out.push_back("GET " + OrgPath(p));
  return out;
}

Result<policy::Policy> Client::FetchPolicy(const std::string& version) {
  if (!policy::IsPolicyVersion(version)) return Fail(InvalidInput("policy version must be active, draft or a number"));
  const auto paths = Paths(PolicyCollections(version));
  auto bodies = GetCollections(paths);
  if (!bodies) return Fail(std::move(bodies).error());
  return Load(version, *bodies, Requests(paths));
}

Result<std::string> Client::ExportBundle(const std::string& version) {
  if (!policy::IsPolicyVersion(version)) return Fail(InvalidInput("policy version must be active, draft or a number"));
  const auto collections = PolicyCollections(version);
  const auto paths = Paths(collections);
  auto bodies = GetCollections(paths);
  if (!bodies) return Fail(std::move(bodies).error());
  // What is written must load: check it now, naming the answer at fault, rather than when it is needed.
  if (auto p = Load(version, *bodies, Requests(paths)); !p) return Fail(std::move(p).error());
  std::string out = "{";
  for (size_t i = 0; i < collections.size(); ++i) {
    out += (out.size() > 1 ? ",\n\"" : "\n\"") + collections[i].first + "\": " + (*bodies)[i];
  }
  out += "\n}\n";
  return out;
}

Result<PolicyVersions> Client::NewestPolicyVersion() {
  const std::string path = OrgPath("sec_policy") + "?max_results=1";
  auto resp = Send({"GET", path, "", {}});
  if (!resp) return Fail(std::move(resp).error());
  const std::string name = "GET " + path;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array versions;
  if (parser.parse(resp->body).get(doc) != simdjson::SUCCESS || doc.get(versions) != simdjson::SUCCESS) {
    return Fail(InvalidInput(name + ": the response is not a JSON array: " + Quote(resp->body, 60)));
  }
  if (auto repeat = policy::RepeatedKey(doc, ""))
    return Fail(InvalidInput(name + ": " + repeat->path + ": " + repeat->what));
  PolicyVersions out;
  out.total = ParseSeconds(resp->Header("x-total-count"), -1);
  size_t i = 0;
  for (simdjson::dom::element v : versions) {
    int64_t number = 0;
    if (v["version"].get(number) != simdjson::SUCCESS || number < 1) {
      return Fail(InvalidInput(name + ": [" + std::to_string(i) + "].version: expected a positive integer"));
    }
    out.newest = std::max(out.newest, number);
    ++i;
  }
  return out;
}

Result<UploadResult> Client::UploadFlows(const std::vector<std::string>& lines) {
  UploadResult r;
  const std::string path = OrgPath("agents/bulk_traffic_flows");
  for (size_t begin = 0; begin < lines.size(); begin += kMaxUploadLines) {
    const size_t end = std::min(lines.size(), begin + kMaxUploadLines);
    std::string body;
    for (size_t i = begin; i < end; ++i) body += lines[i] + "\n";
    auto resp = Send({"POST", path, body, {{"Content-Type", "text/csv"}}});
    if (!resp) return Fail(std::move(resp).error());
    ++r.requests;
    r.sent += end - begin;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    uint64_t received = 0, failed = 0;
    if (parser.parse(resp->body).get(doc) != simdjson::SUCCESS ||
        doc["num_flows_received"].get(received) != simdjson::SUCCESS ||
        doc["num_flows_failed"].get(failed) != simdjson::SUCCESS) {
      return Fail(InvalidInput("POST " + path + ": unexpected response: " + Quote(resp->body, 80)));
    }
    if (auto repeat = policy::RepeatedKey(doc, "")) {
      return Fail(InvalidInput("POST " + path + ": " + repeat->path + ": " + repeat->what));
    }
    r.received += received;
    r.failed += failed;
    simdjson::dom::array bad;
    if (doc["failed_flows"].get(bad) == simdjson::SUCCESS) {
      for (auto line : bad) {
        std::string_view s;
        if (line.get(s) == simdjson::SUCCESS && r.failed_flows.size() < 10) r.failed_flows.emplace_back(s);
      }
    }
  }
  return r;
}

}  // namespace moat::pce
