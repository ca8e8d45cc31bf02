#include "store/state.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/files.h"

namespace moat::store {
namespace {

Status WriteAtomically(const std::string& path, const std::string& text) {
  if (Status s = MakeDirectories(std::filesystem::path(path).parent_path()); !s) return s;
  const std::string tmp = path + ".tmp";
  // Private to the user whatever the umask: the state says what guards each database.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(Internal(tmp + ": cannot write: " + std::strerror(errno)));
  bool ok = ::fchmod(fd, 0600) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  const std::string why = ok ? std::string() : std::strerror(errno);
  if (::close(fd) != 0 || !ok) {
    std::remove(tmp.c_str());
    return Fail(Internal(tmp + ": cannot write" + (why.empty() ? std::string() : ": " + why)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Fail(Internal(path + ": cannot write"));
  }
  return {};
}

// Where the state was last applied; absent in older files. Strings or nothing.
Status LoadAppliedIn(simdjson::dom::element root, EnforcedState& state, const std::string& path) {
  simdjson::dom::object place;
  const auto found = root["applied_in"].get(place);
  if (found == simdjson::NO_SUCH_FIELD) return {};
  std::string_view account, region;
  if (found != simdjson::SUCCESS || place["account"].get(account) != simdjson::SUCCESS ||
      place["region"].get(region) != simdjson::SUCCESS) {
    return Fail(InvalidInput(path + ": applied_in: expected an account and a region"));
  }
  state.applied_in = {std::string(account), std::string(region)};
  return {};
}

// The `groups` record; its absence in a file with targets marks a state from before it existed.
Result<EnforcedState> LoadGroups(simdjson::dom::element root, EnforcedState& state, const std::string& path) {
  simdjson::dom::object groups;
  const auto found = root["groups"].get(groups);
  if (found == simdjson::NO_SUCH_FIELD) {
    state.groups_recorded = state.targets.empty();
    return std::move(state);
  }
  if (found != simdjson::SUCCESS) return Fail(InvalidInput(path + ": groups: expected an object"));
  for (auto [key, value] : groups) {
    std::string_view target, vpc;
    if (key.empty() || value["target"].get(target) != simdjson::SUCCESS || value["vpc"].get(vpc) != simdjson::SUCCESS) {
      return Fail(InvalidInput(path + ": groups." + std::string(key) + ": expected a target and a vpc"));
    }
    state.groups[std::string(key)] = {std::string(target), std::string(vpc)};
  }
  return std::move(state);
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

Status DirectoryStateStore::Remove(const std::string& name) {
  std::error_code ec;
  std::filesystem::remove(Where(name), ec);
  if (ec) return Fail(Internal(Where(name) + ": cannot be removed: " + ec.message()));
  return {};
}

namespace {

constexpr std::string_view kGroups = "groups/";

// "groups/<id>.<vpc>.<target>": only characters S3 keys need not escape (no identifier holds a
// '.', and the target's '/' is written '~').
std::string RecordName(const std::string& id, const OwnedGroup& g) {
  std::string target = g.target;
  std::replace(target.begin(), target.end(), '/', '~');
  return std::string(kGroups) + id + "." + g.vpc_id + "." + target;
}

}  // namespace

Status RecordGroup(StateStore& store, const std::string& id, const OwnedGroup& group) {
  return store.Write(RecordName(id, group), "{}\n");
}

Result<bool> GroupRecorded(StateStore& store, const std::string& id, const OwnedGroup& group) {
  auto found = store.Read(RecordName(id, group));
  if (!found) return Fail(std::move(found).error());
  return found->has_value();
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
  if (Status st = LoadAppliedIn(root, state, path); !st) return Fail(std::move(st).error());
  return LoadGroups(root, state, path);
}

Status SaveState(StateStore& store, const EnforcedState& state) {
  nlohmann::ordered_json j;
  j["version"] = 2;
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
  j["groups"] = nlohmann::ordered_json::object();
  for (const auto& [id, g] : state.groups) j["groups"][id] = {{"target", g.target}, {"vpc", g.vpc_id}};
  if (!state.applied_in.empty()) {
    j["applied_in"] = {{"account", state.applied_in.account}, {"region", state.applied_in.region}};
  }
  return store.Write("applied.json", j.dump(1) + "\n");
}

Status MergeAndSaveState(StateStore& store, const EnforcedState& state, const std::vector<std::string>& changed,
                         const std::vector<std::string>& forgotten) {
  auto stored = LoadState(store);
  if (!stored) return Fail(std::move(stored).error());
  EnforcedState merged = std::move(*stored);
  for (const std::string& id : changed) {
    if (auto it = state.targets.find(id); it != state.targets.end()) merged.targets[id] = it->second;
  }
  for (const auto& [id, g] : state.groups) merged.groups.insert_or_assign(id, g);
  if (!state.applied_in.empty()) merged.applied_in = state.applied_in;
  for (const std::string& id : forgotten) {
    if (auto it = merged.groups.find(id); it != merged.groups.end()) {
      if (Status st = store.Remove(RecordName(id, it->second)); !st) return st;
      merged.groups.erase(it);
    }
  }
  return SaveState(store, merged);
}

Status SaveSnapshot(StateStore& store, const std::string& bundle, const std::string& digest) {
  if (auto st = store.Write("policy.json", bundle); !st) return st;
  return store.Write("policy.sha256", digest + "\n");
}

}  // namespace moat::store
