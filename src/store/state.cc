#include "store/state.h"

#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/files.h"

namespace moat::store {
namespace {

Status WriteAtomically(const std::string& path, const std::string& text) {
  if (Status s = MakeDirectories(std::filesystem::path(path).parent_path()); !s) return s;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out.flush()) return Fail(Internal(tmp + ": cannot write"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Fail(Internal(path + ": cannot write"));
  }
  return {};
}

}  // namespace

S3StateStore::S3StateStore(aws::S3Store& s3, std::string prefix) : s3_(s3), prefix_(std::move(prefix)) {
  if (!prefix_.ends_with('/')) prefix_ += '/';
}

std::string StateDirectory(const std::string& dir, const char* xdg_state_home, const char* home) {
  if (!dir.empty()) return dir;
  if (xdg_state_home != nullptr && *xdg_state_home != '\0') return std::string(xdg_state_home) + "/moat";
  if (home != nullptr && *home != '\0') return std::string(home) + "/.local/state/moat";
  return ".moat-state";
}

Result<std::optional<std::string>> DirectoryStateStore::Read(const std::string& name) {
  const std::string path = Where(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::optional<std::string>();
    return Fail(InvalidInput(path + ": cannot be read"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

Status DirectoryStateStore::Write(const std::string& name, const std::string& text) {
  return WriteAtomically(Where(name), text);
}

Result<EnforcedState> LoadState(StateStore& store) {
  const std::string path = store.Where("applied.json");
  EnforcedState state;
  auto read = store.Read("applied.json");
  if (!read) return Fail(std::move(read).error());
  if (!*read) return state;
  const std::string& text = **read;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text).get(root) != simdjson::SUCCESS) return Fail(InvalidInput(path + ": not valid JSON"));
  auto bad = [&](const std::string& where) { return Fail(InvalidInput(path + ": " + where)); };
  simdjson::dom::object targets;
  if (root["targets"].get(targets) != simdjson::SUCCESS) return bad("targets: expected an object");
  for (auto [key, value] : targets) {
    const std::string id(key);
    const std::string at = "targets." + id;
    AppliedTarget t;
    std::string_view digest;
    if (value["time"].get(t.time) != simdjson::SUCCESS) return bad(at + ".time: expected an integer");
    if (value["digest"].get(digest) != simdjson::SUCCESS) return bad(at + ".digest: expected a string");
    t.digest = digest;
    simdjson::dom::array rules;
    if (value["rules"].get(rules) != simdjson::SUCCESS) return bad(at + ".rules: expected an array");
    size_t i = 0;
    for (simdjson::dom::element r : rules) {
      const std::string rat = at + ".rules[" + std::to_string(i++) + "]";
      int64_t protocol = 0, from = 0, to = 0;
      std::string_view cidr, description;
      if (r["protocol"].get(protocol) != simdjson::SUCCESS || r["from_port"].get(from) != simdjson::SUCCESS ||
          r["to_port"].get(to) != simdjson::SUCCESS || r["cidr"].get(cidr) != simdjson::SUCCESS ||
          r["description"].get(description) != simdjson::SUCCESS) {
        return bad(rat + ": expected protocol, from_port, to_port, cidr and description");
      }
      auto prefix = net::ParsePrefix(cidr);
      if (!prefix || protocol < -1 || protocol > 255 || from < -1 || from > 65535 || to < -1 || to > 65535) {
        return bad(rat + ": not a valid rule");
      }
      t.rules.push_back({static_cast<int>(protocol), static_cast<int>(from), static_cast<int>(to), *prefix,
                         std::string(description)});
    }
    state.targets[id] = std::move(t);
  }
  return state;
}

Status SaveState(StateStore& store, const EnforcedState& state) {
  nlohmann::ordered_json j;
  j["version"] = 1;
  j["targets"] = nlohmann::ordered_json::object();
  for (const auto& [id, t] : state.targets) {
    nlohmann::ordered_json rules = nlohmann::ordered_json::array();
    for (const plan::SgRule& r : t.rules) {
      rules.push_back({{"protocol", r.protocol},
                       {"from_port", r.from_port},
                       {"to_port", r.to_port},
                       {"cidr", net::ToString(r.cidr)},
                       {"description", r.description}});
    }
    j["targets"][id] = {{"time", t.time}, {"digest", t.digest}, {"rules", std::move(rules)}};
  }
  return store.Write("applied.json", j.dump(1) + "\n");
}

Status SaveSnapshot(StateStore& store, const std::string& bundle, const std::string& digest) {
  if (auto st = store.Write("policy.json", bundle); !st) return st;
  return store.Write("policy.sha256", digest + "\n");
}

}  // namespace moat::store
