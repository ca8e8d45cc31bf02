// The PCE conformance suite: every case in tests/conformance (README.md there) is a bundle in the
// PCE's shapes with an allow set written by hand from Illumio's documentation. Each case must
// compile to exactly that set: compared address by address and port by port, however the
// compiler happens to cut its entries. Cases built on Illumio's published mock data read it from
// ../shared and are skipped, saying so, when it is not there.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "compile/compile.h"
#include "compile/render.h"
#include "policy/loader.h"

namespace moat::compile {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

const fs::path kCases = fs::path(MOAT_SOURCE_DIR) / "tests" / "conformance";
const fs::path kPublished = fs::path(MOAT_SOURCE_DIR) / ".." / "shared" / "testdata" / "illumio-published";

std::vector<std::string> CaseFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kCases)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 3 && std::isdigit(name[0]) && std::isdigit(name[1]) && name[2] == '-' &&
        name.ends_with(".json")) {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

// Appends a published file's objects to the bundle; deny rules go into the rule set whose href
// begins theirs.
void Merge(Json& bundle, const std::string& collection, const Json& objects) {
  for (const Json& o : objects) {
    if (collection != "deny_rules") {
      bundle[collection].push_back(o);
      continue;
    }
    const std::string href = o.value("href", "");
    for (Json& rs : bundle["rule_sets"]) {
      if (href.starts_with(rs["href"].get<std::string>() + "/")) rs["deny_rules"].push_back(o);
    }
  }
}

net::AddressSet Set(const Json& prefixes) {
  net::AddressSet s;
  for (const Json& p : prefixes) {
    auto prefix = net::ParsePrefix(p.get<std::string>());
    EXPECT_TRUE(prefix) << p;
    if (prefix) s.Add(*prefix);
  }
  return s;
}

// One expected or compiled piece of an allow set.
struct Piece {
  int protocol;
  net::PortRange ports;
  net::AddressSet sources;
  net::AddressSet to;  // empty: every address of the target
};

Piece Expected(const Json& item) {
  Piece p{item.at("protocol").get<int>(), {}, Set(item.at("from")), {}};
  if (policy::IsIcmp(p.protocol)) {
    p.ports = policy::IcmpRange(item.value("icmp_type", -1), item.value("icmp_code", -1));
  } else if (const std::string ports = item.value("ports", "all"); ports != "all") {
    const size_t dash = ports.find('-');
    p.ports.from = static_cast<uint16_t>(std::stoi(ports.substr(0, dash)));
    p.ports.to = dash == std::string::npos ? p.ports.from : static_cast<uint16_t>(std::stoi(ports.substr(dash + 1)));
  }
  if (item.contains("to")) {
    for (const Json& a : item["to"]) p.to.Add(*net::ParseAddress(a.get<std::string>()));
  }
  return p;
}

// Compares two allow sets as sets: at every address of the target (or the one "all" place when
// it has none), for every protocol and every port, the same sources.
void ExpectSameAllowSet(const Target& t, const std::vector<Piece>& want, const std::string& where) {
  std::vector<Piece> got;
  for (const AllowEntry& e : t.allow) got.push_back({e.protocol, e.ports, e.sources, e.destinations});
  std::vector<std::optional<net::Address>> places;
  for (const net::Prefix& p : t.addresses.ToPrefixes()) {
    ASSERT_EQ(p.length, p.base.is_v4() ? 32 : 128) << where << ": the test expects single target addresses";
    places.emplace_back(p.base);
  }
  if (places.empty()) places.emplace_back();
  std::map<int, std::set<uint32_t>> cuts;
  for (const std::vector<Piece>* list : {&std::as_const(got), &want}) {
    for (const Piece& p : *list) {
      cuts[p.protocol].insert(p.ports.from);
      cuts[p.protocol].insert(uint32_t{p.ports.to} + 1);
    }
  }
  const auto sources = [](const std::vector<Piece>& pieces, int protocol, uint32_t port,
                          const std::optional<net::Address>& at) {
    net::AddressSet s;
    for (const Piece& p : pieces) {
      if (p.protocol != protocol || port < p.ports.from || port > p.ports.to) continue;
      if (at && !p.to.empty() && !p.to.Contains(*at)) continue;
      s.Add(p.sources);
    }
    return s;
  };
  for (const auto& [protocol, points] : cuts) {
    for (uint32_t port : points) {
      if (port > 65535) continue;
      for (const auto& at : places) {
        const net::AddressSet g = sources(got, protocol, port, at), w = sources(want, protocol, port, at);
        EXPECT_EQ(g.ToStrings(), w.ToStrings()) << where << ": protocol " << protocol << " port " << port << " at "
                                                << (at ? net::ToString(*at) : std::string("every address"));
      }
    }
  }
}

const Target* Find(const Compiled& c, const std::string& name) {
  for (const Target& t : c.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool AnyContains(const std::vector<std::string>& texts, const std::string& needle) {
  return std::any_of(texts.begin(), texts.end(),
                     [&](const std::string& t) { return t.find(needle) != std::string::npos; });
}

class ConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceTest, CompilesAsThePceMeansIt) {
  const Json c = ReadJson(kCases / GetParam());
  const std::string where = GetParam() + " (" + c.at("name").get<std::string>() + ")";
  Json bundle = c.at("bundle");
  if (c.contains("shared_files")) {
    for (const auto& [collection, path] : c["shared_files"].items()) {
      const fs::path file = kPublished / path.get<std::string>();
      if (!fs::exists(file)) GTEST_SKIP() << where << ": needs Illumio's published data at " << file.string();
      Merge(bundle, collection, ReadJson(file));
    }
  }
  auto policy = policy::LoadBundle(bundle.dump(), GetParam(), c.at("policy_version").get<std::string>());
  ASSERT_TRUE(policy) << where << ": " << policy.error().message;
  const Compiled compiled = Compile(*policy);
  const Json& expect = c.at("expect");
  for (const auto& [name, want] : expect.at("targets").items()) {
    const Target* t = Find(compiled, name);
    ASSERT_NE(t, nullptr) << where << ": no target " << name << "\n" << RenderText(compiled);
    if (want.contains("error")) {
      EXPECT_FALSE(t->error.empty()) << where << ": " << name << " must fail";
      for (const Json& s : want["error"]) {
        EXPECT_NE(t->error.find(s.get<std::string>()), std::string::npos)
            << where << ": " << name << ": error lacks " << s << ": " << t->error;
      }
      continue;
    }
    EXPECT_EQ(t->error, "") << where << ": " << name;
    std::vector<Piece> pieces;
    for (const Json& item : want.value("allow", Json::array())) pieces.push_back(Expected(item));
    ExpectSameAllowSet(*t, pieces, where + ": " + name);
    for (const Json& s : want.value("warnings", Json::array())) {
      EXPECT_TRUE(AnyContains(t->warnings, s.get<std::string>())) << where << ": " << name << ": no warning with " << s;
    }
  }
  for (const Json& name : expect.value("absent", Json::array())) {
    EXPECT_EQ(Find(compiled, name.get<std::string>()), nullptr) << where << ": " << name << " must not be a target";
  }
  const std::vector<std::string> warnings = AllWarnings(compiled);
  for (const Json& s : expect.value("warnings", Json::array())) {
    EXPECT_TRUE(AnyContains(warnings, s.get<std::string>())) << where << ": no warning with " << s;
  }
  for (const auto* list : {&expect["admits"], &expect["refuses"]}) {
    const bool admit = list == &expect["admits"];
    for (const Json& f : *list) {
      const Target* t = Find(compiled, f.at("target").get<std::string>());
      ASSERT_NE(t, nullptr) << where << ": " << f;
      const Decision d = Decide(*t, *net::ParseAddress(f.at("source").get<std::string>()), f.at("protocol").get<int>(),
                                static_cast<uint16_t>(f.value("port", 0)));
      EXPECT_EQ(d.allowed, admit) << where << ": " << f.dump();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Illumio, ConformanceTest, ::testing::ValuesIn(CaseFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           std::replace_if(
                               name.begin(), name.end(), [](char ch) { return !std::isalnum(ch); }, '_');
                           return name;
                         });

}  // namespace
}  // namespace moat::compile
