// PolicyCase (tests only): a small policy written in the PCE's shapes, built one object at a
// time, for the compiler's tests; and the helpers their assertions share.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compile/compile.h"
#include "policy/loader.h"

namespace moat::compile {

using Json = nlohmann::json;

// One semantic rule at a time.
class PolicyCase {
 public:
  std::string Label(const std::string& key, const std::string& value) {
    std::string href = "/orgs/1/labels/" + std::to_string(++ids_);
    bundle_["labels"].push_back({{"href", href}, {"key", key}, {"value", value}});
    return href;
  }
  std::string Group(const std::string& key, std::vector<std::string> labels, std::vector<std::string> subs = {}) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/label_groups/" + std::to_string(++ids_);
    Json g = {{"href", href},
              {"name", "LG" + std::to_string(ids_)},
              {"key", key},
              {"labels", Json::array()},
              {"sub_groups", Json::array()}};
    for (auto& l : labels) g["labels"].push_back({{"href", l}});
    for (auto& s : subs) g["sub_groups"].push_back({{"href", s}});
    bundle_["label_groups"].push_back(g);
    return href;
  }
  std::string Workload(const std::string& name, std::vector<std::string> addresses, std::vector<std::string> labels) {
    std::string href = "/orgs/1/workloads/w" + std::to_string(++ids_);
    Json w = {{"href", href},
              {"name", name},
              {"hostname", name + ".internal"},
              {"interfaces", Json::array()},
              {"labels", Json::array()}};
    for (auto& a : addresses) w["interfaces"].push_back({{"name", "eth0"}, {"address", a}});
    for (auto& l : labels) w["labels"].push_back({{"href", l}});
    bundle_["workloads"].push_back(w);
    return href;
  }
  std::string VirtualService(const std::string& name, const std::string& fqdn, Json ports,
                             std::vector<std::string> labels) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/virtual_services/vs" + std::to_string(++ids_);
    Json v = {{"href", href},
              {"name", name},
              {"service_ports", ports},
              {"service_addresses", {{{"fqdn", fqdn}}}},
              {"labels", Json::array()}};
    for (auto& l : labels) v["labels"].push_back({{"href", l}});
    bundle_["virtual_services"].push_back(v);
    return href;
  }
  void Bind(const std::string& vs, const std::string& workload, Json overrides = Json::array()) {
    bundle_["service_bindings"].push_back(
        {{"virtual_service", {{"href", vs}}}, {"workload", {{"href", workload}}}, {"port_overrides", overrides}});
  }
  std::string IpList(const std::string& name, Json ranges, Json fqdns = Json::array()) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/ip_lists/" + std::to_string(++ids_);
    bundle_["ip_lists"].push_back({{"href", href}, {"name", name}, {"ip_ranges", ranges}, {"fqdns", fqdns}});
    return href;
  }
  std::string Service(Json ports) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/services/" + std::to_string(++ids_);
    bundle_["services"].push_back({{"href", href}, {"name", "S" + std::to_string(ids_)}, {"service_ports", ports}});
    return href;
  }
  // A rule set; returns its index for adding rules.
  size_t RuleSet(Json scopes, bool enabled = true) {
    std::string href = "/orgs/1/sec_policy/" + version_ + "/rule_sets/" + std::to_string(++ids_);
    bundle_["rule_sets"].push_back({{"href", href},
                                    {"name", "RS" + std::to_string(ids_)},
                                    {"enabled", enabled},
                                    {"scopes", scopes},
                                    {"rules", Json::array()},
                                    {"deny_rules", Json::array()}});
    return bundle_["rule_sets"].size() - 1;
  }
  std::string Rule(size_t rs, Json providers, Json consumers, Json ingress, bool unscoped,
                   Json resolve = {{"providers", {"workloads"}}, {"consumers", {"workloads"}}}, bool enabled = true) {
    Json& set = bundle_["rule_sets"][rs];
    std::string href = set["href"].get<std::string>() + "/sec_rules/" + std::to_string(++ids_);
    set["rules"].push_back({{"href", href},
                            {"enabled", enabled},
                            {"providers", providers},
                            {"consumers", consumers},
                            {"ingress_services", ingress},
                            {"unscoped_consumers", unscoped},
                            {"resolve_labels_as", resolve}});
    return href;
  }
  std::string Deny(size_t rs, Json providers, Json consumers, Json ingress, bool override) {
    Json& set = bundle_["rule_sets"][rs];
    std::string href = set["href"].get<std::string>() + "/deny_rules/" + std::to_string(++ids_);
    set["deny_rules"].push_back({{"href", href},
                                 {"enabled", true},
                                 {"providers", providers},
                                 {"consumers", consumers},
                                 {"ingress_services", ingress},
                                 {"override", override}});
    return href;
  }
  void SetVersion(const std::string& v) { version_ = v; }
  Json& bundle() { return bundle_; }

  Compiled Compile(const std::string& version = "active") {
    auto p = policy::LoadBundle(bundle_.dump(), "case.json", version);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    return p ? moat::compile::Compile(*p) : Compiled{};
  }

 private:
  Json bundle_ = Json::object();
  int ids_ = 0;
  std::string version_ = "active";
};

inline Json L(const std::string& href) { return {{"label", {{"href", href}}}}; }
inline Json LX(const std::string& href) { return {{"label", {{"href", href}}}, {"exclusion", true}}; }
inline Json G(const std::string& href) { return {{"label_group", {{"href", href}}}}; }
inline Json W(const std::string& href) { return {{"workload", {{"href", href}}}}; }
inline Json IPL(const std::string& href) { return {{"ip_list", {{"href", href}}}}; }
inline Json Ams() { return {{"actors", "ams"}}; }
inline Json Tcp(int port, int to = -1) {
  Json j = {{"port", port}, {"proto", 6}};
  if (to >= 0) j["to_port"] = to;
  return j;
}
// One empty scope: everything.
inline const Json kAll = Json::array({Json::array()});
// Scopes, each a list of labels or label groups.
inline Json Scopes(std::initializer_list<std::vector<Json>> scopes) {
  Json out = Json::array();
  for (const auto& s : scopes) out.push_back(Json(s));
  return out;
}
inline const Json kVsResolve = {{"providers", {"virtual_services"}}, {"consumers", {"workloads"}}};

inline std::vector<std::string> Prefixes(const Compiled& c, const std::string& target, size_t entry = 0) {
  for (const Target& t : c.targets) {
    if (t.name == target && entry < t.allow.size()) return t.allow[entry].sources.ToStrings();
  }
  return {};
}
using V = std::vector<std::string>;

// The database: a provider workload db (10.0.2.45) labelled role=DB, app=Orders, env=Prod.
struct Fixture {
  PolicyCase pc;
  std::string db_role, web_role, app_orders, app_billing, env_prod, env_dev, db;
  Fixture() {
    db_role = pc.Label("role", "DB");
    web_role = pc.Label("role", "Web");
    app_orders = pc.Label("app", "Orders");
    app_billing = pc.Label("app", "Billing");
    env_prod = pc.Label("env", "Prod");
    env_dev = pc.Label("env", "Dev");
    db = pc.Workload("db", {"10.0.2.45"}, {db_role, app_orders, env_prod});
  }
};

}  // namespace moat::compile
