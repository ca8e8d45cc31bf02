#include "cli/options.h"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "base/strings.h"

namespace moat::cli {

std::string EnvName(const std::string& long_name) {
  std::string out = "MOAT_";
  for (char c : long_name) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

namespace {

bool OnCommandLine(const std::string& name, const std::vector<std::string>& args) {
  const std::string flag = "--" + name;
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a == flag || StartsWith(a, flag + "="); });
}

// A scalar TOML value as an argument; nullopt for tables, arrays and dates.
std::optional<std::string> Scalar(const toml::node& n) {
  if (auto v = n.value<std::string>()) return *v;
  if (n.is_integer()) return std::to_string(*n.value<int64_t>());
  if (n.is_floating_point()) {
    std::ostringstream out;
    out << *n.value<double>();
    return out.str();
  }
  return std::nullopt;
}

const CLI::Option* FindOption(const CLI::App& command, const std::string& name) {
  for (const CLI::Option* opt : command.get_options()) {
    if (!opt->get_lnames().empty() && opt->get_lnames().front() == name && !opt->get_positional()) return opt;
  }
  return nullptr;
}

}  // namespace

std::string ConfigPath(const std::vector<std::string>& args, const std::function<const char*(const char*)>& getenv) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (StartsWith(args[i], "--config=")) return args[i].substr(9);
  }
  const char* env = getenv("MOAT_CONFIG");
  return env != nullptr ? env : "";
}

Result<std::vector<std::string>> ArgsFromConfig(const CLI::App& command, const std::string& table,
                                                const std::vector<std::string>& given, const std::string& text,
                                                const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Fail(InvalidInput(path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
                             std::string(e.description())));
  }
  // The command's table first: its values win over the top level's.
  std::vector<std::pair<std::string, const toml::node*>> entries;
  if (const toml::table* own = doc[table].as_table()) {
    for (const auto& [key, node] : *own) {
      std::string name(key.str());
      std::replace(name.begin(), name.end(), '_', '-');
      if (FindOption(command, name) == nullptr || name == "help" || name == "config") {
        return Fail(InvalidInput(path + ": [" + table + "] " + std::string(key.str()) +
                                 ": the command has no option --" + name));
      }
      entries.emplace_back(name, &node);
    }
  }
  for (const auto& [key, node] : doc) {
    if (node.is_table()) continue;
    std::string name(key.str());
    std::replace(name.begin(), name.end(), '_', '-');
    if (FindOption(command, name) == nullptr || name == "help" || name == "config") continue;
    entries.emplace_back(name, &node);
  }
  std::vector<std::string> extra;
  std::vector<std::string> done;
  for (const auto& [name, node] : entries) {
    if (OnCommandLine(name, given) || std::find(done.begin(), done.end(), name) != done.end()) continue;
    done.push_back(name);
    const CLI::Option* opt = FindOption(command, name);
    const std::string key = path + ": " + name;
    if (opt->get_expected_min() == 0) {  // a flag
      auto b = node->value<bool>();
      if (!node->is_boolean() || !b) return Fail(InvalidInput(key + ": expected true or false"));
      if (*b) extra.push_back("--" + name);
      continue;
    }
    std::vector<std::string> items;
    if (const toml::array* a = node->as_array()) {
      if (opt->get_expected_max() <= 1) return Fail(InvalidInput(key + ": takes one value, not a list"));
      for (const toml::node& item : *a) {
        auto v = Scalar(item);
        if (!v) return Fail(InvalidInput(key + ": expected a list of strings or numbers"));
        items.push_back(*v);
      }
    } else {
      auto v = Scalar(*node);
      if (!v) return Fail(InvalidInput(key + ": expected a string or a number"));
      items.push_back(*v);
    }
    for (const auto& item : items) {
      extra.push_back("--" + name);
      extra.push_back(item);
    }
  }
  return extra;
}

Result<std::vector<std::string>> ArgsFromEnvironment(const CLI::App& command, const std::vector<std::string>& args,
                                                     const std::function<const char*(const char*)>& getenv) {
  std::vector<std::string> extra;
  for (const CLI::Option* opt : command.get_options()) {
    if (opt->get_lnames().empty() || opt->get_positional()) continue;
    const std::string& name = opt->get_lnames().front();
    if (name == "help" || OnCommandLine(name, args)) continue;
    const std::string env = EnvName(name);
    const char* value = getenv(env.c_str());
    if (value == nullptr) continue;
    const std::string v = value;
    if (opt->get_expected_min() == 0) {  // a flag
      if (v == "true" || v == "1") {
        extra.push_back("--" + name);
      } else if (v != "false" && v != "0") {
        return Fail(InvalidInput(env + ": expected true, false, 1 or 0, got " + Quote(v)));
      }
      continue;
    }
    const std::vector<std::string> items =
        opt->get_expected_max() > 1 ? SplitEscaped(v, ',') : std::vector<std::string>{v};
    for (const auto& item : items) {
      extra.push_back("--" + name);
      extra.push_back(item);
    }
  }
  return extra;
}

}  // namespace moat::cli
