// The plan and apply reports: text in the manner of `terraform plan` (+ to add, - to remove, ~ to
// change, per group and per target, drift marked), and JSON (docs/formats.md).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "apply/apply.h"
#include "base/strings.h"
#include "enforce/report.h"
#include "traffic/report.h"

namespace moat::enforce {
namespace {

struct Totals {
  int create = 0, authorize = 0, revoke = 0, redescribe = 0, attach = 0, detach = 0, drift = 0;
};

Totals Count(const EnforceReport& r) {
  Totals t;
  for (const TargetReport& target : r.targets) {
    if (!target.error.empty()) continue;
    const plan::TargetPlan& p = target.plan.plan;
    for (const plan::GroupChange& g : p.groups) {
      t.create += g.create ? 1 : 0;
      t.authorize += static_cast<int>(g.authorize.size());
      t.revoke += static_cast<int>(g.revoke.size()) + g.revoke_other;
      t.drift += g.revoke_other + (g.retag ? 1 : 0);
      t.redescribe += static_cast<int>(g.redescribe.size());
      for (const auto* v : {&g.authorize, &g.revoke, &g.redescribe}) {
        t.drift += static_cast<int>(std::count_if(v->begin(), v->end(), [](const plan::SgRule& x) { return x.drift; }));
      }
    }
    t.attach += static_cast<int>(p.attach.size());
    t.detach += static_cast<int>(p.detach.size());
    t.drift += static_cast<int>(p.drift.size());
  }
  return t;
}

std::string GroupLabel(const TargetReport& t, const std::string& handle) {
  auto it = t.group_names.find(handle);
  if (it != t.group_names.end() && it->second != handle) return handle + " (" + it->second + ")";
  return handle;
}

std::string RuleLine(char sign, const plan::SgRule& r, const std::string& note) {
  std::string tail;
  if (r.protocol == -1) tail += " ALL TRAFFIC";
  if (r.drift) tail += " [drift]";
  if (!note.empty()) tail += " " + note;
  if (tail.empty()) return fmt::format("      {} {}\n", sign, apply::DescribeRule(r));
  return fmt::format("      {} {:<40}{}\n", sign, apply::DescribeRule(r), tail);
}

nlohmann::ordered_json RuleJson(const plan::SgRule& r) {
  return {{"protocol", r.protocol},        {"from_port", r.from_port},     {"to_port", r.to_port},
          {"cidr", net::ToString(r.cidr)}, {"description", r.description}, {"reason", r.drift ? "drift" : "policy"}};
}

constexpr size_t kCutsShown = 10;

std::string CutLine(const plan::CutFlow& c) {
  const traffic::FlowKey& k = c.flow.key;
  std::string s = fmt::format("      x {:<16} -> {}/{:<5} {} records", net::ToString(k.initiator), k.port,
                              traffic::ProtocolName(k.protocol), c.flow.counts.records);
  if (c.flow.counts.last != flowlog::kNoTime) s += ", last seen " + FormatUtc(c.flow.counts.last);
  if (!c.breaking) s += " [only drift admitted it]";
  return s + "\n";
}

nlohmann::ordered_json CutJson(const plan::CutFlow& c) {
  const traffic::FlowKey& k = c.flow.key;
  return {{"initiator", net::ToString(k.initiator)},
          {"responder", net::ToString(k.responder)},
          {"port", k.port},
          {"protocol", k.protocol},
          {"records", c.flow.counts.records},
          {"bytes", c.flow.counts.bytes},
          {"first", c.flow.counts.first},
          {"last", c.flow.counts.last},
          {"breaking", c.breaking}};
}

// A group's changes, and how many rules it holds once packed.
nlohmann::ordered_json GroupJson(const TargetReport& t, const plan::GroupChange& g) {
  nlohmann::ordered_json gj = {{"id", g.id}, {"name", g.name}, {"create", g.create}};
  for (const auto& [key, rules] :
       {std::pair{"authorize", &g.authorize}, std::pair{"revoke", &g.revoke}, std::pair{"redescribe", &g.redescribe}}) {
    gj[key] = nlohmann::ordered_json::array();
    for (const auto& rule : *rules) gj[key].push_back(RuleJson(rule));
  }
  size_t count = 0;
  for (const auto& pg : t.plan.groups) {
    if (pg.name == g.name) count = pg.rules.size();
  }
  gj["rules"] = count;
  gj["revoke_other"] = g.revoke_other;
  gj["retag"] = g.retag;
  return gj;
}

nlohmann::ordered_json TargetJson(const TargetReport& t) {
  using nlohmann::ordered_json;
  ordered_json x;
  x["id"] = t.id;
  x["kind"] = t.cluster ? "cluster" : "instance";
  x["endpoint"] = t.endpoint;
  x["port"] = t.port;
  x["vpc_id"] = t.vpc_id;
  x["policy_target"] = t.policy_target;
  x["matched_by"] = t.matched_by;
  x["addresses"] = t.addresses;
  x["attached"] = t.attached;
  x["error"] = t.error;
  x["held"] = t.plan.held;
  x["warnings"] = t.warnings;
  x["widened"] = t.widened;
  x["foreign_claims"] = t.foreign_claims;
  x["unaudited"] = t.unaudited;
  x["cuts"] = ordered_json::array();
  for (const plan::CutFlow& c : t.plan.cuts) x["cuts"].push_back(CutJson(c));
  ordered_json groups = ordered_json::array();
  for (const plan::GroupChange& g : t.plan.plan.groups) groups.push_back(GroupJson(t, g));
  x["groups"] = std::move(groups);
  for (const auto& [key, list] : {std::pair{"attach", &t.plan.plan.attach}, std::pair{"detach", &t.plan.plan.detach}}) {
    x[key] = ordered_json::array();
    for (const std::string& g : *list) {
      auto name = t.group_names.find(g);
      x[key].push_back({{"group", g},
                        {"name", name != t.group_names.end() ? name->second : g},
                        {"reason", t.plan.plan.IsDrift(g) ? "drift" : "policy"}});
    }
  }
  x["changes"] = t.error.empty() && t.plan.plan.HasChanges();
  x["applied"] = t.applied;
  x["writes"] = t.writes;
  x["converged"] = t.converged;
  return x;
}

// The summary when nothing is to change: never "AWS matches the policy" when it does not.
std::string Unchanged(const EnforceReport& r) {
  int failed = 0, held = 0;
  for (const TargetReport& t : r.targets) {
    failed += t.error.empty() ? 0 : 1;
    held += t.error.empty() && !t.plan.held.empty() ? 1 : 0;
  }
  if (failed == 0 && held == 0 && r.policy_error.empty() && r.errors.empty() && !r.OtherPlace()) {
    return "No changes. AWS matches the policy.";
  }
  std::string s = "No changes to make, but AWS does not match the policy:";
  if (failed > 0) s += fmt::format(" {} database(s) failed (see '! error' above);", failed);
  if (held > 0) s += fmt::format(" {} held back by a guard (see '! held' above);", held);
  if (!r.policy_error.empty()) s += " the policy could not be used;";
  if (!r.errors.empty()) s += " the run had errors (see '! error' above);";
  if (r.OtherPlace()) s += " the state was last applied in another account or region (see '!' at the top);";
  s.back() = '.';
  return s;
}

// "account 111122223333 us-east-1" ("account unknown" when STS failed).
std::string Place(const std::string& account, const std::string& region) {
  return fmt::format("account {} {}", account.empty() ? "unknown" : account, region);
}

// The what-if line: how many flows were replayed, and of how many the history holds.
std::string WhatIfLine(const EnforceReport& r) {
  if (!r.what_if) {
    return "what-if: no flow history: the flows this plan would cut are not known (--flows SOURCE records flow "
           "logs)\n";
  }
  const std::string window = r.observed_window.empty() ? "" : " (" + r.observed_window + ")";
  if (!r.from_history) return fmt::format("what-if: {} observed flow(s){}\n", r.observed_flows, window);
  return fmt::format("what-if: {} of {} recorded flow(s) fall in the window{}; {}\n", r.observed_flows,
                     r.recorded_flows, window, r.history_span);
}

}  // namespace

std::string RenderPlanText(const EnforceReport& r) {
  std::string out =
      fmt::format("moat {}: policy {} ({}{}), mode {}, {}\n", r.executed ? "apply" : "plan", r.policy_source,
                  r.policy_version, r.digest.empty() ? "" : ", sha256 " + r.digest.substr(0, 12), r.mode,
                  r.aws_region.empty() ? "AWS not read" : "in " + Place(r.aws_account, r.aws_region));
  if (r.OtherPlace()) {
    out += fmt::format("! this state was last applied in {}; this run is in {}\n",
                       Place(r.state_account, r.state_region), Place(r.aws_account, r.aws_region));
  }
  if (!r.policy_error.empty()) {
    out += "! the policy could not be used: " + r.policy_error +
           "\n! enforcing what moat last applied: drift is reverted, nothing else changes\n";
  }
  for (const std::string& w : r.warnings) out += "! warning: " + w + "\n";
  out += WhatIfLine(r);
  for (const TargetReport& t : r.targets) {
    out += fmt::format("\n# {}{} ({} {}:{}", r.place.empty() ? "" : r.place + "/", t.id,
                       t.cluster ? "cluster" : "instance", t.endpoint, t.port);
    if (!t.policy_target.empty()) out += ", policy " + t.policy_target + " by " + t.matched_by;
    if (!t.addresses.empty()) out += ", address " + t.addresses[0];
    out += ")\n";
    for (const std::string& w : t.warnings) out += "  ! warning: " + w + "\n";
    for (const std::string& w : t.widened) out += "  ! over-permission: " + w + "\n";
    for (const std::string& c : t.foreign_claims) out += "  ! foreign group claims to be moat's: " + c + "\n";
    for (const std::string& u : t.unaudited) out += "  ! unaudited: " + u + "\n";
    if (!t.error.empty()) {
      out += "  ! error: " + t.error + "\n";
      continue;
    }
    if (!t.plan.held.empty()) out += "  ! held: " + t.plan.held + "\n";
    if (!t.plan.cuts.empty()) {
      out += fmt::format("  ! {} cut {} observed flow(s): accepted in the logs, not admitted by the rules {}\n",
                         t.plan.policy_applied || t.plan.held.empty() ? "would" : "held back, the policy would",
                         t.plan.cuts.size(), t.plan.held.empty() ? "this plan writes" : "of the policy");
      for (size_t i = 0; i < t.plan.cuts.size() && i < kCutsShown; ++i) out += CutLine(t.plan.cuts[i]);
      if (t.plan.cuts.size() > kCutsShown)
        out += fmt::format("      ... and {} more\n", t.plan.cuts.size() - kCutsShown);
    }
    const plan::TargetPlan& p = t.plan.plan;
    if (!p.HasChanges()) {
      out += "  no changes\n";
      continue;
    }
    for (const plan::GroupChange& g : p.groups) {
      if (!g.create && !g.retag && g.authorize.empty() && g.revoke.empty() && g.redescribe.empty() &&
          g.revoke_other == 0) {
        continue;
      }
      out += g.create ? fmt::format("  + group {} (to create, tagged moat:managed=true moat:target={})\n", g.name, t.id)
                      : fmt::format("  ~ group {} ({})\n", g.id, g.name);
      if (g.retag) out += fmt::format("      ~ tags moat:managed=true moat:target={} restored [drift]\n", t.id);
      for (const auto& x : g.authorize) out += RuleLine('+', x, "");
      for (const auto& x : g.revoke) out += RuleLine('-', x, "");
      for (const auto& x : g.redescribe) out += RuleLine('~', x, "description: " + x.description);
      if (g.revoke_other > 0) {
        out += fmt::format("      - {} rule(s) naming other groups or prefix lists [drift]\n", g.revoke_other);
      }
    }
    if (!p.attach.empty() || !p.detach.empty()) {
      out += "  ~ attached groups\n";
      for (const std::string& a : p.attach)
        out += fmt::format("      + {}{}\n", GroupLabel(t, a), p.IsDrift(a) ? " [drift]" : "");
      for (const std::string& d : p.detach)
        out += fmt::format("      - {}{}\n", GroupLabel(t, d), p.IsDrift(d) ? " [drift]" : "");
    }
    if (t.applied) out += fmt::format("  applied: {} calls, {} already done by another run\n", t.writes, t.converged);
  }
  for (const auto& [id, why] : r.skipped) out += fmt::format("\n# {}: not protected by the policy ({})\n", id, why);
  for (const std::string& e : r.errors) out += "\n! error: " + e + "\n";
  const Totals n = Count(r);
  if (!r.HasChanges()) {
    out += "\n" + Unchanged(r) + "\n";
  } else {
    out += fmt::format(
        "\n{}: {} group(s) to create, {} rule(s) to authorize, {} to revoke, {} to redescribe, {} group(s) to attach, "
        "{} to detach; {} of these revert drift.\n",
        r.executed ? "Applied" : "Plan", n.create, n.authorize, n.revoke, n.redescribe, n.attach, n.detach, n.drift);
  }
  if (r.cancelled) out += "Cancelled: nothing was changed.\n";
  if (r.interrupted != 0) {
    out += fmt::format("Interrupted ({}): {} of {} databases applied; the rest were not begun.\n",
                       r.interrupted == 15 ? "SIGTERM" : "SIGINT", r.attempted, r.targets.size());
  }
  if (r.mode == "visibility" && r.HasChanges()) out += "Visibility mode: nothing is written.\n";
  out += fmt::format("AWS calls: {} read, {} write.\n", r.reads, r.writes);
  return out;
}

std::string RenderPlanJson(const EnforceReport& r) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["policy"] = {{"source", r.policy_source},
                 {"version", r.policy_version},
                 {"sha256", r.digest},
                 {"ok", r.policy_error.empty()},
                 {"error", r.policy_error}};
  j["mode"] = r.mode;
  j["executed"] = r.executed;
  j["changes"] = r.HasChanges();
  if (r.interrupted != 0) {
    j["interrupted"] = {{"signal", r.interrupted}, {"applied", r.attempted}, {"total", r.targets.size()}};
  }
  j["aws"] = {{"account", r.aws_account}, {"region", r.aws_region}, {"state_applied_in", nullptr}};
  if (r.OtherPlace()) j["aws"]["state_applied_in"] = {{"account", r.state_account}, {"region", r.state_region}};
  if (r.what_if) {
    j["what_if"] = {{"flows", r.observed_flows}, {"window", r.observed_window}};
    if (r.from_history) {
      j["what_if"]["recorded"] = r.recorded_flows;
      j["what_if"]["first"] = r.history_first;
      j["what_if"]["last"] = r.history_last;
      j["what_if"]["empty_window"] = r.empty_window;
    }
  } else {
    j["what_if"] = nullptr;
  }
  ordered_json targets = ordered_json::array();
  for (const TargetReport& t : r.targets) {
    targets.push_back(TargetJson(t));
    if (!r.place.empty()) targets.back()["place"] = r.place;
  }
  j["targets"] = std::move(targets);
  j["skipped"] = ordered_json::array();
  for (const auto& [id, why] : r.skipped) j["skipped"].push_back({{"id", id}, {"reason", why}});
  j["warnings"] = r.warnings;
  if (r.OtherPlace()) {
    j["warnings"].push_back(fmt::format("this state was last applied in {}; this run is in {}",
                                        Place(r.state_account, r.state_region), Place(r.aws_account, r.aws_region)));
  }
  j["errors"] = r.errors;
  const Totals n = Count(r);
  j["summary"] = {{"create", n.create}, {"authorize", n.authorize}, {"revoke", n.revoke}, {"redescribe", n.redescribe},
                  {"attach", n.attach}, {"detach", n.detach},       {"drift", n.drift}};
  j["calls"] = {{"read", r.reads}, {"write", r.writes}};
  return j.dump(2) + "\n";
}

}  // namespace moat::enforce
