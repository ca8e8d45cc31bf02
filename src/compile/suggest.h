// Suggest: from the flows observed to one target, a draft rule set (and the IP lists it needs) in
// the PCE's own JSON, for users to import into their PCE as a draft and review. Once imported, its
// rules admit on each observed (protocol, port) exactly the observed sources plus the other
// interface addresses of the workloads observed there — no address of a workload not observed
// there, no other address. Workload sources become label sets (the coarsest that select workloads
// observed there only, suggest_cover.h), else workload hrefs; other sources become an exact IP
// list per set of ports, or an existing IP list whose every address was observed. Ports share a
// rule only when their consumers are the same. A separate coverage report says which flows each
// rule covers and whether the current policy already admits them. Output is sorted: the same
// flows in any order give the same JSON. Pure functions; the request borrows policy and target.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compile/compile.h"
#include "net/address.h"
#include "policy/model.h"

namespace moat::compile {

// Accepted traffic to one target from one source on one (protocol, port), aggregated. Protocols
// other than TCP and UDP have no ports: their port is ignored.
struct ObservedFlow {
  net::Address source;
  int protocol = 6;
  uint16_t port = 0;
  uint64_t records = 0;
  int64_t last = 0;  // unix seconds of the last record; 0 when unknown
};

struct SuggestRequest {
  const policy::Policy* policy = nullptr;  // REQUIRES: non-null, outlives the call
  const Target* target = nullptr;          // REQUIRES: one of Compile(*policy).targets
  std::vector<ObservedFlow> flows;
  int first_ip_list = 1;  // the <n> of the first placeholder IP list href
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's noexcept constructors, misread
struct Suggestion {
  // A POST /sec_policy/draft/rule_sets body named "moat-suggested-<target>", scope all, one rule
  // per distinct consumer set; null without flows (or without the target in the policy).
  nlohmann::json rule_set;
  // POST /sec_policy/draft/ip_lists bodies, each with a placeholder "href"
  // (/orgs/<org>/sec_policy/draft/ip_lists/moat-suggested-<n>) that the rules refer to: replace it
  // with the href the PCE assigns.
  std::vector<nlohmann::json> ip_lists;
  // [{"rule_set", "rule" (index), "flows": [{"source", "protocol", "port", "records", "last" (null
  //   when unknown), "already_allowed"}], "workloads": [names]}], one entry per rule, in rule order;
  //   every observed flow under exactly one rule.
  nlohmann::json coverage;
  std::vector<std::string> notes;  // what a reviewer should know, sorted
};

Suggestion Suggest(const SuggestRequest& request);

// What marks the rule sets and IP lists of a suggestion as moat's in the PCE: their
// external_data_set, and an external_data_reference that names the subject, stable across runs:
// "suggest:<target>" for the rule set, "suggest:<target>:clients" for its IP list, or
// "suggest:<target>:clients-<k>" (k from 1) for the k-th of `count` (the order they are made in).
inline constexpr const char* kSuggestDataSet = "moat";
std::string SuggestReference(const std::string& target);
std::string SuggestReference(const std::string& target, size_t n, size_t count);

// Several targets in one document, by target name, placeholder numbers unique across it:
// {"rule_sets": [...], "ip_lists": [...], "coverage": [...], "notes": ["<target>: ...", ...]}.
nlohmann::json SuggestDocument(std::vector<SuggestRequest> requests);

}  // namespace moat::compile
