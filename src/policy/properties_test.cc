// The schema walk: every property Illumio's published API schemas give the objects moat reads
// (tests/conformance/pce-schema-properties.json, made by scripts/pce_schema_properties.py) is in
// the loader's table, and every entry of that table is in docs/policy-semantics.md with the same
// treatment — so a new PCE release's fields are noticed, not ignored. And Illumio's published
// mock answers, when ../shared has them, hold no property moat does not know.
#include "policy/properties.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "policy/loader.h"

namespace moat::policy {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PropertiesTest, TheTableIsSortedWithoutRepeats) {
  const auto all = KnownProperties();
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(std::pair(all[i - 1].object, all[i - 1].property), std::pair(all[i].object, all[i].property))
        << all[i].object << "." << all[i].property;
  }
  EXPECT_NE(FindProperty("rule", "machine_auth"), nullptr);
  EXPECT_EQ(FindProperty("rule", "machine_auth")->treatment, Treatment::kQualifier);
  EXPECT_EQ(FindProperty("rule", "no_such_thing"), nullptr);
  EXPECT_EQ(FindProperty("zzz", "href"), nullptr);
}

TEST(PropertiesTest, EveryPublishedSchemaPropertyIsKnown) {
  const Json schemas = Json::parse(Read(fs::path(MOAT_SOURCE_DIR) / "tests/conformance/pce-schema-properties.json"));
  ASSERT_TRUE(schemas.contains("25.2.20"));
  ASSERT_TRUE(schemas.contains("26.3.0"));
  size_t checked = 0;
  for (const auto& [version, objects] : schemas.items()) {
    for (const auto& [object, properties] : objects.items()) {
      for (const Json& p : properties) {
        ++checked;
        EXPECT_NE(FindProperty(object, p.get<std::string>()), nullptr)
            << "PCE " << version << ": " << object << " property '" << p.get<std::string>()
            << "' is neither read by moat nor documented: classify it in src/policy/properties.cc and "
               "docs/policy-semantics.md";
      }
    }
  }
  EXPECT_GT(checked, 400u);
}

TEST(PropertiesTest, EveryKnownPropertyIsDocumentedWithItsTreatment) {
  // docs/policy-semantics.md: "### object" headings, then rows "| `property` | treatment | ... |".
  const std::string doc = Read(fs::path(MOAT_SOURCE_DIR) / "docs/policy-semantics.md");
  std::map<std::pair<std::string, std::string>, std::string> documented;
  std::string object;
  std::istringstream lines(doc);
  const std::regex heading(R"(^### ([a-z_]+)$)"), row(R"(^\| `([a-z_0-9]+)` \| ([a-z]+) \|)");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, heading)) {
      object = m[1];
    } else if (!object.empty() && std::regex_search(line, m, row)) {
      documented[{object, m[1]}] = m[2];
    }
  }
  for (const Property& p : KnownProperties()) {
    auto it = documented.find({std::string(p.object), std::string(p.property)});
    if (it == documented.end()) {
      ADD_FAILURE() << p.object << "." << p.property << " is not in docs/policy-semantics.md";
      continue;
    }
    EXPECT_EQ(it->second, TreatmentName(p.treatment)) << p.object << "." << p.property;
    documented.erase(it);
  }
  for (const auto& [key, treatment] : documented) {
    ADD_FAILURE() << "docs/policy-semantics.md documents " << key.first << "." << key.second
                  << ", which the loader does not know";
  }
}

// Illumio's own mock answers (illumio-py's tests) load without an unknown property.
TEST(PropertiesTest, PublishedMockDataHasNoPropertyMoatDoesNotKnow) {
  const fs::path root = fs::path(MOAT_SOURCE_DIR) / ".." / "shared" / "testdata" / "illumio-published";
  if (!fs::exists(root)) GTEST_SKIP() << "Illumio's published data is not at " << root.string();
  const std::pair<const char*, const char*> files[] = {
      {"labels", nullptr},
      {"label_groups", "illumio-py/tests/data/label_groups.json"},
      {"workloads", "illumio-py/tests/data/workloads.json"},
      {"virtual_services", "illumio-py/tests/data/virtual_services.json"},
      {"ip_lists", "illumio-py/tests/data/ip_lists.json"},
      {"services", "illumio-py/tests/data/services.json"},
      {"rule_sets", "illumio-py/tests/data/rule_sets.json"},
  };
  for (const char* version : {"draft", "active"}) {
    PolicyBuilder builder(version);
    for (const auto& [collection, file] : files) {
      if (file == nullptr) continue;
      ASSERT_TRUE(builder.AddCollection(collection, Read(root / file), file));
    }
    // Rules and deny rules, in a rule set of their own.
    Json rs = {{"href", std::string("/orgs/1/sec_policy/") + version + "/rule_sets/900"}, {"scopes", {Json::array()}}};
    rs["rules"] = Json::parse(Read(root / "illumio-py/tests/data/rules.json"));
    rs["deny_rules"] = Json::parse(Read(root / "alexgoller-illumio-py/tests/data/deny_rules.json"));
    for (const Json& r : Json::parse(Read(root / "alexgoller-illumio-py/tests/data/override_deny_rules.json"))) {
      rs["deny_rules"].push_back(r);
    }
    ASSERT_TRUE(builder.AddCollection("rule_sets", Json::array({rs}).dump(), "rules"));
    auto p = std::move(builder).Build();
    ASSERT_TRUE(p) << p.error().message;
    for (const std::string& w : p->warnings) {
      EXPECT_EQ(w.find("is not known to moat"), std::string::npos) << version << ": " << w;
    }
  }
}

}  // namespace
}  // namespace moat::policy
