#include "policy/loader.h"

#include <simdjson.h>

#include <algorithm>

#include "base/strings.h"
#include "policy/loader_state.h"
#include "policy/properties.h"

namespace moat::policy {

using J = JsonPath;

std::string_view HrefVersion(std::string_view href) {
  constexpr std::string_view kMarker = "/sec_policy/";
  const size_t at = href.find(kMarker);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = href.substr(at + kMarker.size());
  return rest.substr(0, rest.find('/'));
}

std::string HrefId(std::string_view href) { return HrefAtVersion(href, "*"); }

std::string HrefAtVersion(std::string_view href, std::string_view version) {
  const std::string_view current = HrefVersion(href);
  if (current.empty()) return std::string(href);
  const size_t at = href.find("/sec_policy/") + 12;
  return std::string(href.substr(0, at)) + std::string(version) + std::string(href.substr(at + current.size()));
}

bool IsPolicyVersion(std::string_view v) {
  if (v == "active" || v == "draft") return true;
  if (v.empty() || v[0] == '0') return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool PolicyBuilder::State::Selected(const J& obj) const {
  const J href = obj.At("href");
  const std::string h = href.Str();
  const std::string_view v = HrefVersion(h);
  if (v.empty()) href.Fail("not a versioned href (/orgs/N/sec_policy/VERSION/...): " + Quote(h, 80));
  return v == policy.version;
}

void PolicyBuilder::State::CheckProperties(std::string_view object, const J& j) {
  for (const auto& [key, value] : j.Obj()) {
    if (FindProperty(object, key) != nullptr) continue;
    if (unknown_properties.emplace(std::string(object), key).second) {
      policy.warnings.push_back(where + ": " + j.path() + ": " + std::string(object) + " property '" + key +
                                "' is not known to moat (a newer PCE?); it is ignored");
    }
  }
}

std::string PolicyBuilder::State::Need(RefKind kind, const J& href, Owner owner, std::string path, int side,
                                       size_t actor) {
  std::string shown = href.Str();
  std::string id = HrefId(shown);
  refs.push_back({kind, id, std::move(path), std::move(shown), owner, side, actor});
  return id;
}

void PolicyBuilder::State::Add(std::string_view collection, const J& obj) {
  if (collection == "labels") return AddLabel(obj);
  if (collection == "label_groups") return AddLabelGroup(obj);
  if (collection == "workloads") return AddWorkload(obj);
  if (collection == "virtual_services") return AddVirtualService(obj);
  if (collection == "service_bindings") return AddServiceBinding(obj);
  if (collection == "ip_lists") return AddIpList(obj);
  if (collection == "services") return AddService(obj);
  if (collection == "rule_sets") return AddRuleSet(obj);
}

PolicyBuilder::PolicyBuilder(std::string version) : state_(std::make_unique<State>()) {
  state_->policy.version = std::move(version);
}
PolicyBuilder::~PolicyBuilder() = default;
PolicyBuilder::PolicyBuilder(PolicyBuilder&&) noexcept = default;

namespace {

using simdjson::dom::element;

// "source: path.in.json: what is wrong".
std::string Where(std::string_view where, const JsonPathError& e) {
  return std::string(where) + ": " + e.path + ": " + e.what;
}

// An object whose own href cannot be read ends the load: nothing could name what it breaks.
Status AddArray(PolicyBuilder::State& st, std::string_view collection, element array, std::string path,
                std::string_view where) {
  st.where = std::string(where);
  try {
    for (const J& obj : J(array, std::move(path)).Arr()) st.Add(collection, obj);
  } catch (const JsonPathError& e) {
    return Fail(InvalidInput(Where(where, e)));
  }
  return {};
}

}  // namespace

Status PolicyBuilder::AddCollection(std::string_view collection, std::string_view json, std::string_view where) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(simdjson::padded_string(json)).get(doc); err != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(where) + ": not valid JSON: " + simdjson::error_message(err)));
  }
  if (auto repeat = RepeatedKey(doc, collection)) return Fail(InvalidInput(Where(where, *repeat)));
  return AddArray(*state_, collection, doc, std::string(collection), where);
}

Result<Policy> PolicyBuilder::Build() && {
  if (auto st = state_->Resolve(); !st) return Fail(std::move(st).error());
  return std::move(state_->policy);
}

Result<Policy> LoadBundle(std::string_view json, std::string_view where, const std::string& version) {
  if (!IsPolicyVersion(version)) return Fail(InvalidInput("policy version must be active, draft or a number"));
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(simdjson::padded_string(json)).get(doc); err != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(where) + ": not valid JSON: " + simdjson::error_message(err)));
  }
  if (auto repeat = RepeatedKey(doc, "")) return Fail(InvalidInput(Where(where, *repeat)));
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(where) + ": expected a policy bundle: an object of PCE collections"));
  }
  PolicyBuilder builder(version);
  for (std::string_view collection : kCollections) {
    element array;
    if (root.at_key(collection).get(array) != simdjson::SUCCESS || array.is_null()) continue;
    if (auto st = AddArray(*builder.state_, collection, array, std::string(collection), where); !st) {
      return Fail(std::move(st).error());
    }
  }
  return std::move(builder).Build();
}

}  // namespace moat::policy
