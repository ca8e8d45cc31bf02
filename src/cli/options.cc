#include "cli/options.h"

#include <algorithm>

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

}  // namespace

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
