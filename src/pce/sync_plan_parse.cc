// Parsing for the sync planner: the label map file and the PCE collections it compares against.
#include <simdjson.h>

#include <cctype>
#include <optional>

#include "base/strings.h"
#include "pce/sync_plan.h"
#include "policy/json_path.h"

namespace moat::pce {
namespace {

using simdjson::dom::element;

using J = policy::JsonPath;
using ParseError = policy::JsonPathError;

// A port: 0 to 65535 (Illumio writes none rather than -1 for every port).
int PortNumber(const J& j) {
  const int64_t v = j.Int();
  if (v < 0 || v > 65535) j.Fail("port out of range 0-65535: " + std::to_string(v));
  return static_cast<int>(v);
}

// A protocol: -1 (all) or an IANA number.
int ProtocolNumber(const J& j) {
  const int64_t v = j.Int();
  if (v < -1 || v > 255) j.Fail("protocol out of range -1-255: " + std::to_string(v));
  return static_cast<int>(v);
}

bool ValidLabelKey(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) return false;
  }
  return true;
}

LabelMap::Entry ParseEntry(const std::string& tag, const J& j) {
  LabelMap::Entry e;
  e.tag = tag;
  bool has_label = false;
  for (const auto& [key, v] : j.Obj()) {
    if (key == "label") {
      e.label_key = v.Str();
      if (!ValidLabelKey(e.label_key)) v.Fail("label key must be non-empty without spaces: " + Quote(e.label_key));
      has_label = true;
    } else if (key == "values") {
      for (const auto& [from, to] : v.Obj()) e.values[from] = to.Str();
    } else {
      v.Fail("unknown key (expected 'label' or 'values')");
    }
  }
  if (!has_label) j.Fail("missing 'label'");
  return e;
}

PceWorkload ParseWorkload(const J& j) {
  PceWorkload w;
  w.href = j.Href();
  w.name = j.StrOr("name");
  w.hostname = j.StrOr("hostname");
  for (const J& i : j.ArrOr("interfaces")) {
    if (auto a = i.Find("address")) w.addresses.push_back(a->Str());
  }
  w.label_hrefs = j.Hrefs("labels");
  w.external_data_set = j.StrOr("external_data_set");
  w.external_data_reference = j.StrOr("external_data_reference");
  return w;
}

PceVirtualService ParseVirtualService(const J& j) {
  PceVirtualService v;
  v.href = j.Href();
  v.name = j.StrOr("name");
  for (const J& p : j.ArrOr("service_ports")) {
    PceServicePort sp;
    if (auto x = p.Find("port")) sp.port = PortNumber(*x);
    if (auto x = p.Find("to_port")) sp.to_port = PortNumber(*x);
    if (auto x = p.Find("proto")) sp.proto = ProtocolNumber(*x);
    v.service_ports.push_back(sp);
  }
  for (const J& a : j.ArrOr("service_addresses")) {
    if (auto f = a.Find("fqdn")) v.fqdns.push_back(f->Str());
  }
  v.label_hrefs = j.Hrefs("labels");
  v.external_data_set = j.StrOr("external_data_set");
  v.external_data_reference = j.StrOr("external_data_reference");
  v.update_type = j.StrOr("update_type");
  return v;
}

PceServiceBinding ParseBinding(const J& j) {
  PceServiceBinding b;
  b.href = j.Href();
  if (auto vs = j.Find("virtual_service")) b.virtual_service_href = vs->Href();
  if (auto w = j.Find("workload")) b.workload_href = w->Href();
  return b;
}

// Parses `json` as an array and calls `each` for every element; the path is `name[i]`.
template <typename Fn>
void ParseCollection(simdjson::dom::parser& parser, std::string_view json, const std::string& name, Fn each) {
  element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc); err != simdjson::SUCCESS) {
    throw ParseError{name, std::string("not valid JSON: ") + simdjson::error_message(err)};
  }
  if (auto repeat = policy::RepeatedKey(doc, name)) throw *repeat;
  for (const J& item : J(doc, name).Arr()) each(item);
}

}  // namespace

Result<LabelMap> ParseLabelMap(std::string_view json, std::string_view where) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc); err != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(where) + ": not valid JSON: " + simdjson::error_message(err)));
  }
  LabelMap map;
  try {
    if (auto repeat = policy::RepeatedKey(doc, "")) throw *repeat;
    std::map<std::string, std::string> tag_of_key;
    for (const auto& [tag, entry] : J(doc, "").Obj()) {
      LabelMap::Entry e = ParseEntry(tag, entry);
      if (auto [it, fresh] = tag_of_key.emplace(e.label_key, tag); !fresh) {
        entry.Fail("label key " + Quote(e.label_key) + " is already mapped from tag " + Quote(it->second));
      }
      map.entries.push_back(std::move(e));
    }
  } catch (const ParseError& e) {
    const std::string path = e.path.empty() ? "" : e.path + ": ";
    return Fail(InvalidInput(std::string(where) + ": " + path + e.what));
  }
  return map;
}

Result<PceObjects> ParsePceObjects(std::string_view labels_json, std::string_view workloads_json,
                                   std::string_view draft_vs_json, std::string_view active_vs_json,
                                   std::string_view bindings_json) {
  simdjson::dom::parser parser;
  PceObjects out;
  try {
    ParseCollection(parser, labels_json, "labels", [&](const J& j) {
      if (j.BoolOr("deleted", false)) return;
      PceLabel l{j.Href(), j.StrOr("key"), j.StrOr("value")};
      out.labels.push_back(std::move(l));
    });
    ParseCollection(parser, workloads_json, "workloads", [&](const J& j) {
      if (!j.BoolOr("deleted", false)) out.workloads.push_back(ParseWorkload(j));
    });
    ParseCollection(parser, draft_vs_json, "sec_policy/draft/virtual_services",
                    [&](const J& j) { out.draft_virtual_services.push_back(ParseVirtualService(j)); });
    ParseCollection(parser, active_vs_json, "sec_policy/active/virtual_services",
                    [&](const J& j) { out.active_virtual_services.push_back(ParseVirtualService(j)); });
    ParseCollection(parser, bindings_json, "service_bindings",
                    [&](const J& j) { out.service_bindings.push_back(ParseBinding(j)); });
  } catch (const ParseError& e) {
    return Fail(InvalidInput(e.path + ": " + e.what));
  }
  return out;
}

}  // namespace moat::pce
