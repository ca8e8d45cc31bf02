// The policy loader's working state (internal to src/policy): the model being filled, the
// references to check once everything is read, and who made each, so that a reference that
// cannot be resolved becomes a problem of the object that made it rather than an error of the
// whole policy. Parsers throw JsonPathError; the code that calls them decides whether that is an
// object's problem or the end of the load (an object whose href cannot be read).
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "policy/json_path.h"
#include "policy/loader.h"
#include "policy/model.h"

namespace moat::policy {

// The kinds of object a reference may name.
enum class RefKind { kLabel, kGroup, kWorkload, kVirtualService, kIpList, kService };

// Who made a reference: its problem, if the reference fails.
struct Owner {
  enum Kind { kRule, kRuleSet, kLabelGroup, kVirtualService, kBinding } kind;
  size_t a = 0, b = 0;  // rule: (rule set, rule); others: (index, unused)
};

struct Ref {
  RefKind kind;
  std::string id, path;  // path: where in the owner ("consumers[1].label")
  std::string href;      // as written, for messages
  Owner owner;
  // A rule's actor that made it: side 0 providers (which objects the rule reaches depends on it),
  // 1 consumers, -1 none; and its index. A failed reference turns the actor into kUnknown (or
  // kNothing for a deleted workload), so that the compiler never meets a dangling reference.
  int side = -1;
  size_t actor = 0;
};

struct PolicyBuilder::State {
  Policy policy;
  std::string where;  // the source of the collection being read, for messages
  std::vector<Ref> refs;
  // Services named by virtual services and rules, resolved at Build().
  std::vector<std::pair<size_t, std::string>> vs_services;  // (vs, service id)
  struct RuleService {
    size_t set, rule;
    std::string id, href, path;
  };
  std::vector<RuleService> rule_services;
  std::unordered_set<std::string> deleted_workloads;                 // hrefs
  std::set<std::pair<std::string, std::string>> unknown_properties;  // (object, property) warned once

  // True when a versioned object belongs to the chosen version. Throws when its href is not a
  // versioned href: such an object cannot even be named.
  bool Selected(const JsonPath& obj) const;
  // Warns (once per object kind and property) about properties moat does not know.
  void CheckProperties(std::string_view object, const JsonPath& j);
  std::string Need(RefKind kind, const JsonPath& href, Owner owner, std::string path, int side = -1, size_t actor = 0);

  void Add(std::string_view collection, const JsonPath& obj);
  void AddLabel(const JsonPath& j);
  void AddLabelGroup(const JsonPath& j);
  void AddWorkload(const JsonPath& j);
  void AddVirtualService(const JsonPath& j);
  void AddServiceBinding(const JsonPath& j);
  void AddIpList(const JsonPath& j);
  void AddService(const JsonPath& j);
  void AddRuleSet(const JsonPath& j);

  // Rules (loader_rules.cc).
  void ParseRule(const JsonPath& j, Rule& r, size_t set, size_t index);
  void ParseActors(const JsonPath& rule, std::string_view side, std::vector<Actor>& out, size_t set, size_t index);
  void ParseIngress(const JsonPath& j, Rule& r, size_t set, size_t index);
  void ParseQualifiers(const JsonPath& j, Rule& r);

  // Build(): resolves references, records their failures as problems, fills in services.
  Status Resolve();
  std::string* ProblemOf(const Owner& o);
  // Resolve()'s steps (loader_rules.cc).
  void IndexObjects();  // fills the policy's indexes and shared_ids
  // What is wrong with referring to `id` (`shown` in the message, when given), or empty when nothing is.
  std::string Failure(RefKind kind, const std::string& id, const std::string& shown = {}) const;
  void ResolveRefs();  // the references of all but label groups; drops the bindings that bind nothing
  void DeletedWorkloadRef(const Ref& r, std::vector<bool>& unbound);
  void AddServicePorts();  // the named services' ports and qualifiers, into virtual services and rules
  std::map<RefKind, std::set<std::string>> shared_ids;  // ids two objects of a kind share (IndexObjects)
};

// The version segment of a versioned href ("/orgs/1/sec_policy/active/..." -> "active").
std::string_view HrefVersion(std::string_view href);

// {proto, port?, to_port?, icmp_type?, icmp_code?}: no port means every port of the protocol.
PortSpec ParsePortSpec(const JsonPath& j);

// A service's (or an inline ingress service's) ports and qualifiers. Throws what cannot be read or
// expressed; `object` names it in that message.
void ParseServiceBody(const JsonPath& j, Service& s, std::string_view object);

// Runs `f`; a JsonPathError it throws becomes `problem` (the first one is kept), with the path
// relative to `base` when it lies below it. Returns false when `f` failed.
template <typename F>
bool Try(std::string& problem, std::string_view base, F&& f) {
  try {
    f();
    return true;
  } catch (const JsonPathError& e) {
    if (problem.empty()) {
      std::string_view path = e.path;
      if (path == base) {
        problem = e.what;
        return false;
      }
      if (!base.empty() && path.starts_with(base) && path[base.size()] == '.') path.remove_prefix(base.size() + 1);
      problem = std::string(path) + ": " + e.what;
    }
    return false;
  }
}

}  // namespace moat::policy
