#include "policy/json_path.h"

#include <array>
#include <unordered_set>

#include "base/strings.h"

namespace moat::policy {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Objects with up to this many keys are checked pair by pair; larger ones with a hash set.
constexpr size_t kPairwiseKeys = 16;

// The first key of `o` that repeats an earlier one.
std::optional<std::string_view> FirstRepeat(object o) {
  std::array<std::string_view, kPairwiseKeys> seen;
  size_t n = 0;
  std::unordered_set<std::string_view> many;
  for (auto field : o) {
    const std::string_view key = field.key;
    if (n < kPairwiseKeys) {
      for (size_t i = 0; i < n; ++i) {
        if (seen[i] == key) return key;
      }
      seen[n++] = key;
      continue;
    }
    if (many.empty()) many.insert(seen.begin(), seen.end());
    if (!many.insert(key).second) return key;
  }
  return std::nullopt;
}

struct Repeat {
  std::string below;  // the path below the element walked, in reverse order of discovery
  std::string key;
};

std::optional<Repeat> Walk(element e) {
  if (e.type() == element_type::ARRAY) {
    const simdjson::dom::array a = e.get_array().value_unsafe();
    size_t i = 0;
    for (element v : a) {
      if (auto r = Walk(v)) {
        r->below = "[" + std::to_string(i) + "]" + r->below;
        return r;
      }
      ++i;
    }
    return std::nullopt;
  }
  if (e.type() != element_type::OBJECT) return std::nullopt;
  const object o = e.get_object().value_unsafe();
  if (auto key = FirstRepeat(o)) return Repeat{"." + std::string(*key), std::string(*key)};
  for (auto field : o) {
    if (auto r = Walk(field.value)) {
      r->below = "." + std::string(field.key) + r->below;
      return r;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<JsonPathError> RepeatedKey(simdjson::dom::element doc, std::string_view path) {
  auto r = Walk(doc);
  if (!r) return std::nullopt;
  std::string where = std::string(path) + r->below;
  if (path.empty() && where.starts_with('.')) where.erase(0, 1);
  return JsonPathError{std::move(where), "duplicate key " + Quote(r->key, 80)};
}

std::optional<JsonPathError> RepeatedKey(std::string_view json, std::string_view path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  return RepeatedKey(doc, path);
}

}  // namespace moat::policy
