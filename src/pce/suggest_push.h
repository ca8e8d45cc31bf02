// The push of a suggestion document (compile/suggest.h: "rule_sets" and "ip_lists" bodies, each
// with external_data_set "moat" and a stable external_data_reference) to the PCE's draft policy,
// planned: which IP lists and rule sets to create, which to update in place (a rule set's own
// fields with a PUT, its rules one by one under .../sec_rules) and which are equal already, given
// the draft objects the PCE holds. An object is moat's when it carries the same external data; an
// object of a suggested name that is not moat's is a conflict, and then nothing of that subject
// (the database the suggestion is for) is written. Nothing here provisions. Pure functions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace moat::pce {

enum class PushAction { kCreate, kUpdate, kUnchanged };

// One rule of a rule set that is updated: POST .../sec_rules, PUT or DELETE its href.
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's noexcept constructors, misread
struct RulePush {
  enum class Op { kCreate, kUpdate, kDelete, kUnchanged };
  Op op = Op::kCreate;
  std::string href;     // the PCE's rule (not for a create)
  nlohmann::json body;  // the rule (create, update), IP-list placeholders possibly left in
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's noexcept constructors, misread
struct IpListPush {
  PushAction action = PushAction::kCreate;
  std::string subject, name, reference;
  std::string placeholder;  // the document's href for it, which the rules refer to
  std::string href;         // the PCE's (update, unchanged)
  nlohmann::json body;      // POST or PUT body: no href
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's noexcept constructors, misread
struct RuleSetPush {
  PushAction action = PushAction::kCreate;
  std::string subject, name, reference;
  std::string href;             // the PCE's (update, unchanged)
  nlohmann::json body;          // create: the POST body with its rules; update: the PUT body without rules,
                                // null when its own fields are equal already
  std::vector<RulePush> rules;  // update: what happens to each rule, in order
};

struct PushConflict {
  std::string subject, kind, name, href, why;
};

// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json's noexcept constructors, misread
struct PushPlan {
  std::vector<IpListPush> ip_lists;  // written first: the rules refer to them
  std::vector<RuleSetPush> rule_sets;
  std::vector<PushConflict> conflicts;  // their subjects are left out of the lists above
  bool HasChanges() const;
};

// `document` is what compile::SuggestDocument returns; `ip_lists` and `rule_sets` are the PCE's
// draft collections (JSON arrays as the API returns them; those filtered by external data and by
// name together are enough). Errors: the document or an answer is not of the expected shape.
Result<PushPlan> PlanPush(const nlohmann::json& document, std::string_view ip_lists, std::string_view rule_sets);

// `body` with every IP-list href that `hrefs` maps (placeholder -> the PCE's href) replaced.
nlohmann::json ReplaceHrefs(const nlohmann::json& body, const std::map<std::string, std::string>& hrefs);

// One line per object, what the plan does: "+ create rule set NAME (subject) with N rule(s)",
// "~ update IP list NAME (subject) HREF", "= unchanged ...", "! conflict subject: ...".
std::vector<std::string> DescribePush(const PushPlan& plan);

}  // namespace moat::pce
