#include "app/policy.h"

#include <algorithm>

#include "base/strings.h"
#include "policy/loader.h"

namespace moat::app {

Result<std::string> ReadAll(ByteStream& stream) {
  std::string out;
  std::string buf(1 << 16, '\0');
  for (;;) {
    auto n = stream.Read(std::span<char>(buf.data(), buf.size()));
    if (!n) return Fail(std::move(n).error());
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

bool TargetMatches(const compile::Target& t, std::string_view id) {
  const std::string_view fqdn = t.fqdn;
  return EqualsIgnoreCase(t.name, id) || EqualsIgnoreCase(fqdn, id) ||
         EqualsIgnoreCase(fqdn.substr(0, fqdn.find('.')), id);
}

Result<compile::Compiled> ChooseTargets(compile::Compiled compiled, const std::vector<std::string>& selectors,
                                        const std::string& none) {
  if (selectors.empty()) return compiled;
  std::vector<compile::Target> kept;
  for (const std::string& id : selectors) {
    bool found = false;
    for (const compile::Target& t : compiled.targets) {
      if (!TargetMatches(t, id)) continue;
      found = true;
      if (std::none_of(kept.begin(), kept.end(), [&](const compile::Target& k) { return k.name == t.name; })) {
        kept.push_back(t);
      }
    }
    if (!found) return Fail(NotFound("--target " + id + ": " + none));
  }
  compiled.targets = std::move(kept);
  return compiled;
}

Result<policy::Policy> LoadPolicy(const std::string& source, const std::string& version, const PolicyDeps& deps) {
  if (source == "pce") {
    if (!deps.fetch_pce) return Fail(InvalidInput("--policy pce: no PCE connection available"));
    return deps.fetch_pce(version);
  }
  auto stream = deps.local->Open(source);
  if (!stream) return Fail(std::move(stream).error());
  auto text = ReadAll(**stream);
  if (!text) return Fail(std::move(text).error().Context(source));
  return policy::LoadBundle(*text, source, version);
}

Result<compile::Compiled> RunPolicyShow(const PolicyShowRequest& req, const PolicyDeps& deps) {
  if (req.policy.empty()) return Fail(InvalidInput("no policy given: --policy pce, or --policy FILE"));
  if (!policy::IsPolicyVersion(req.version)) {
    return Fail(
        InvalidInput("--policy-version: expected active, draft or a version number, got '" + req.version + "'"));
  }
  auto loaded = LoadPolicy(req.policy, req.version, deps);
  if (!loaded) return Fail(std::move(loaded).error());
  return ChooseTargets(compile::Compile(*loaded), req.targets, "no target of the policy has that name or endpoint");
}

}  // namespace moat::app
