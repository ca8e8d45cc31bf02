// JsonPath: a simdjson element together with the JSON path that led to it ("rule_sets[2].rules[0]"),
// so that every message about bad input names where it is. Accessors throw JsonPathError, which a
// parser catches once at its boundary and turns into an Error; nothing escapes a parser.
// Shared by the policy loader and the PCE sync planner's parsers.
//
// JSON lets an object repeat a key, and readers disagree on which value wins (simdjson's lookups
// the first, jq and Python the last): every reader of PCE JSON refuses such a document first with
// RepeatedKey, so that no two tools can read one policy two ways.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moat::policy {

struct JsonPathError {
  std::string path, what;
};

// The first member, in document order, whose key (unescaped) repeats an earlier key of the same
// object: its path below `path` ("rule_sets[0].enabled") and what is wrong; nullopt when there is
// none. One pass over the parsed document; nothing is allocated unless a key repeats.
std::optional<JsonPathError> RepeatedKey(simdjson::dom::element doc, std::string_view path);
// The same for a JSON text; nullopt also when it is not JSON (its parser says so).
std::optional<JsonPathError> RepeatedKey(std::string_view json, std::string_view path);

class JsonPath {
 public:
  JsonPath(simdjson::dom::element e, std::string path) : e_(e), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  [[noreturn]] void Fail(const std::string& what) const { throw JsonPathError{path_, what}; }

  bool IsNull() const { return e_.is_null(); }
  // A member; nullopt when absent or null.
  std::optional<JsonPath> Find(std::string_view key) const {
    if (!e_.is_object()) Fail("expected an object");
    simdjson::dom::element v;
    if (e_.get_object().at_key(key).get(v) != simdjson::SUCCESS || v.is_null()) return std::nullopt;
    return JsonPath(v, Join(key));
  }
  JsonPath At(std::string_view key) const {
    auto v = Find(key);
    if (!v) Fail("missing '" + std::string(key) + "'");
    return *v;
  }
  std::string Str() const {
    std::string_view s;
    if (e_.get_string().get(s) != simdjson::SUCCESS) Fail("expected a string");
    return std::string(s);
  }
  int64_t Int() const {
    int64_t v = 0;
    if (e_.get_int64().get(v) != simdjson::SUCCESS) Fail("expected an integer");
    return v;
  }
  bool Bool() const {
    bool v = false;
    if (e_.get_bool().get(v) != simdjson::SUCCESS) Fail("expected true or false");
    return v;
  }
  std::vector<JsonPath> Arr() const {
    simdjson::dom::array a;
    if (e_.get_array().get(a) != simdjson::SUCCESS) Fail("expected an array");
    std::vector<JsonPath> out;
    size_t i = 0;
    for (simdjson::dom::element v : a) out.emplace_back(v, path_ + "[" + std::to_string(i++) + "]");
    return out;
  }
  // (key, value) pairs of an object, in document order.
  std::vector<std::pair<std::string, JsonPath>> Obj() const {
    simdjson::dom::object o;
    if (e_.get_object().get(o) != simdjson::SUCCESS) Fail("expected an object");
    std::vector<std::pair<std::string, JsonPath>> out;
    for (auto field : o) out.emplace_back(std::string(field.key), JsonPath(field.value, Join(field.key)));
    return out;
  }
  std::string Href() const { return At("href").Str(); }
  // The hrefs of an array of {"href": …} objects; none when absent.
  std::vector<std::string> Hrefs(std::string_view key) const {
    std::vector<std::string> out;
    for (const JsonPath& l : ArrOr(key)) out.push_back(l.Href());
    return out;
  }

  // Optional members, with a default.
  bool BoolOr(std::string_view key, bool def) const {
    auto v = Find(key);
    return v ? v->Bool() : def;
  }
  std::string StrOr(std::string_view key) const {
    auto v = Find(key);
    return v ? v->Str() : "";
  }
  std::vector<JsonPath> ArrOr(std::string_view key) const {
    auto v = Find(key);
    return v ? v->Arr() : std::vector<JsonPath>{};
  }

 private:
  std::string Join(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  simdjson::dom::element e_;
  std::string path_;
};

}  // namespace moat::policy
