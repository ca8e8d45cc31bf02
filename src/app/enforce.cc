#include "app/enforce.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "app/estate.h"
#include "apply/apply.h"
#include "aws/sigv4.h"
#include "base/strings.h"
#include "policy/loader.h"
#include "store/state.h"

namespace moat::app {
namespace {

struct PolicyLoad {
  std::string text;
  std::optional<compile::Compiled> compiled;
  std::string error;
};

PolicyLoad LoadCompiled(const EnforceRequest& req, const EnforceDeps& deps) {
  PolicyLoad out;
  Result<std::string> text = std::string();
  if (req.policy == "pce") {
    if (!deps.fetch_pce_bundle) {
      out.error = "--policy pce: no PCE connection available";
      return out;
    }
    text = deps.fetch_pce_bundle(req.version);
  } else {
    auto stream = deps.policy.local->Open(req.policy);
    if (!stream) {
      out.error = stream.error().message;
      return out;
    }
    text = ReadAll(**stream);
    if (!text) text = Fail(std::move(text).error().Context(req.policy));
  }
  if (!text) {
    out.error = text.error().message;
    return out;
  }
  auto loaded = policy::LoadBundle(*text, req.policy, req.version);
  if (!loaded) {
    out.error = loaded.error().message;
    return out;
  }
  out.text = std::move(*text);
  out.compiled = compile::Compile(*loaded);
  return out;
}

int GroupNumber(const std::string& name) {
  const size_t dash = name.rfind('-');
  if (dash == std::string::npos) return 0;
  try {
    return std::stoi(name.substr(dash + 1));
  } catch (...) {
    return 0;
  }
}

plan::SgRule FromIngress(const aws::IngressRule& r) {
  return {r.protocol, r.from_port, r.to_port, r.cidr, r.description};
}

const compile::Target* MatchPolicy(const compile::Compiled& compiled, const aws::Database& db,
                                   const std::vector<std::string>& addresses, std::string& how) {
  for (const compile::Target& t : compiled.targets) {
    if (!db.endpoint.empty() && EqualsIgnoreCase(t.fqdn, db.endpoint)) {
      how = "endpoint";
      return &t;
    }
  }
  for (const std::string& a : addresses) {
    auto address = net::ParseAddress(a);
    if (!address) continue;
    for (const compile::Target& t : compiled.targets) {
      if (t.addresses.Contains(*address)) {
        how = "address";
        return &t;
      }
    }
  }
  return nullptr;
}

bool AdmitsPort(const compile::Target& t, int port) {
  return std::any_of(t.allow.begin(), t.allow.end(), [&](const compile::AllowEntry& e) {
    return e.protocol == -1 || (e.protocol == 6 && e.ports.from <= port && port <= e.ports.to);
  });
}

}  // namespace

bool EnforceReport::HasChanges() const {
  return std::any_of(targets.begin(), targets.end(),
                     [](const TargetReport& t) { return t.error.empty() && t.plan.plan.HasChanges(); });
}

bool EnforceReport::Failed() const {
  return !policy_error.empty() || !errors.empty() || std::any_of(targets.begin(), targets.end(), [](const auto& t) {
    return !t.error.empty() || !t.plan.held.empty();
  });
}

Result<EnforceReport> RunEnforce(const EnforceRequest& req, const EnforceDeps& deps) {
  if (req.policy.empty()) return Fail(InvalidInput("no policy given: --policy pce, or --policy FILE"));
  if (!policy::IsPolicyVersion(req.version)) {
    return Fail(
        InvalidInput("--policy-version: expected active, draft or a version number, got '" + req.version + "'"));
  }
  if (req.mode != "enforce" && req.mode != "visibility") {
    return Fail(InvalidInput("--mode: expected enforce or visibility, got '" + req.mode + "'"));
  }
  if (auto st = req.quotas.Validate(); !st) return Fail(std::move(st).error());
  if (!(req.guards.max_revoke_share >= 0 && req.guards.max_revoke_share <= 1)) {
    return Fail(InvalidInput("--max-revoke-share: expected a share between 0 and 1"));
  }
  std::unique_ptr<store::StateStore> store;
  if (req.state_dir.starts_with("s3://")) {
    auto s3 = deps.aws->S3Objects();
    if (!s3) return Fail(std::move(s3).error().Context("--state " + req.state_dir));
    store = std::make_unique<store::S3StateStore>(**s3, req.state_dir);
  } else {
    store = std::make_unique<store::DirectoryStateStore>(req.state_dir);
  }
  auto state = store::LoadState(*store);
  if (!state) return Fail(std::move(state).error());

  EnforceReport report;
  // What-if: the observed flows by responder.
  std::unordered_map<net::Address, std::vector<const traffic::Flow*>, net::AddressHash> observed_by_responder;
  if (req.observed != nullptr) {
    report.what_if = true;
    report.observed_window = req.observed_window;
    report.observed_flows = req.observed->size();
    for (const traffic::Flow& f : *req.observed) observed_by_responder[f.key.responder].push_back(&f);
  }
  report.policy_source = req.policy;
  report.policy_version = req.version;
  report.mode = req.mode;
  PolicyLoad policy = LoadCompiled(req, deps);
  report.policy_error = policy.error;
  if (policy.compiled) {
    report.digest = aws::Sha256Hex(policy.text);
    report.warnings = policy.compiled->warnings;
  }

  auto ec2 = deps.aws->Ec2();
  if (!ec2) return Fail(std::move(ec2).error());
  auto rds = deps.aws->Rds();
  if (!rds) return Fail(std::move(rds).error());

  // The estate, in a fixed number of reads.
  auto dbs = ReadDatabases(**rds);
  if (!dbs) return Fail(std::move(dbs).error());
  const std::vector<const aws::Database*> chosen = Choose(*dbs, req.targets, report.errors);

  auto managed_groups = (*ec2)->DescribeSecurityGroups({{"tag:moat:managed", {"true"}}});
  if (!managed_groups) return Fail(std::move(managed_groups).error());
  std::map<std::string, std::vector<const aws::SecurityGroup*>> managed_by_target;
  std::set<std::string> managed_ids;
  for (const aws::SecurityGroup& g : *managed_groups) {
    auto t = g.tags.find("moat:target");
    if (t == g.tags.end()) continue;
    managed_by_target[t->second].push_back(&g);
    managed_ids.insert(g.id);
  }
  // The other groups attached to the chosen databases: names, VPCs, and --keep-group by name.
  std::vector<std::string> foreign_ids;
  for (const aws::Database* d : chosen) {
    for (const std::string& g : d->security_groups) {
      if (!managed_ids.count(g) && std::find(foreign_ids.begin(), foreign_ids.end(), g) == foreign_ids.end()) {
        foreign_ids.push_back(g);
      }
    }
  }
  std::map<std::string, const aws::SecurityGroup*> groups_by_id;
  for (const aws::SecurityGroup& g : *managed_groups) groups_by_id[g.id] = &g;
  std::vector<aws::SecurityGroup> foreign;
  for (size_t i = 0; i < foreign_ids.size(); i += 200) {
    const std::vector<std::string> chunk(
        foreign_ids.begin() + static_cast<long>(i),
        foreign_ids.begin() + static_cast<long>(std::min(i + 200, foreign_ids.size())));
    auto found = (*ec2)->DescribeSecurityGroups({{"group-id", chunk}});
    if (!found) return Fail(std::move(found).error());
    foreign.insert(foreign.end(), found->begin(), found->end());
  }
  for (const aws::SecurityGroup& g : foreign) groups_by_id[g.id] = &g;

  // Private addresses: DNS, else the RDS network interfaces (one read for all).
  const auto vpc_of = [&](const aws::Database& d) {
    if (!d.vpc_id.empty()) return d.vpc_id;
    for (const std::string& g : d.security_groups) {
      if (auto it = groups_by_id.find(g); it != groups_by_id.end() && !it->second->vpc_id.empty()) {
        return it->second->vpc_id;
      }
    }
    return std::string();
  };
  auto addresses = FindAddresses(chosen, **ec2, deps.resolve, vpc_of);
  if (!addresses) return Fail(std::move(addresses).error());

  const std::unordered_set<std::string> event_addresses(req.addresses.begin(), req.addresses.end());
  for (const aws::Database* d : chosen) {
    TargetReport t;
    t.id = TargetId(*d);
    t.cluster = d->cluster;
    t.endpoint = d->endpoint;
    t.port = d->port;
    t.attached = d->security_groups;
    t.vpc_id = d->vpc_id;
    for (const std::string& g : d->security_groups) {
      auto it = groups_by_id.find(g);
      if (it != groups_by_id.end()) {
        t.group_names[g] = it->second->name;
        if (t.vpc_id.empty()) t.vpc_id = it->second->vpc_id;
      }
    }
    const std::vector<std::string>& addrs = (*addresses)[d].addresses;
    if (addrs.empty()) t.warnings.push_back((*addresses)[d].warning + "; matched by endpoint only");
    t.addresses = addrs;
    if (req.narrow) {
      const auto has = [](const std::vector<std::string>& v, const std::string& x) {
        return std::find(v.begin(), v.end(), x) != v.end();
      };
      bool touched = has(req.databases, t.id);
      for (const std::string& g : d->security_groups) touched = touched || has(req.groups, g);
      for (const aws::SecurityGroup* g : managed_by_target[t.id]) touched = touched || has(req.groups, g->id);
      for (const std::string& a : addrs) touched = touched || event_addresses.count(a) > 0;
      if (!touched) continue;
    }

    std::optional<std::vector<plan::SgRule>> wanted;
    std::string no_longer_in_policy;
    const auto applied = state->targets.find(t.id);
    std::optional<std::vector<plan::SgRule>> last;
    if (applied != state->targets.end()) last = applied->second.rules;
    const compile::Target* match = policy.compiled ? MatchPolicy(*policy.compiled, *d, addrs, t.matched_by) : nullptr;
    if (policy.compiled) {
      if (match == nullptr) {
        const std::string why = "no virtual service of the policy has its endpoint " + d->endpoint +
                                (addrs.empty() ? std::string() : ", and no workload has its address " + addrs[0]);
        if (req.targets.empty() && !last) {
          report.skipped.emplace_back(t.id, why);
          continue;
        }
        if (!last) {
          t.error = why + "; left untouched";
          report.targets.push_back(std::move(t));
          continue;
        }
        // Applied before, gone from the policy now: keep what was applied (drift is still
        // reverted) and say so; taking its access away is not a decision to make by omission.
        no_longer_in_policy = why + "; moat applied it before, so what it applied stays enforced";
      }
    }
    // The policy's target as this database sees it; a target the policy cannot be compiled for
    // exactly keeps what moat last applied (drift is still reverted) and fails the run.
    std::optional<compile::Narrowed> narrowed;
    std::string refused;
    if (match != nullptr) {
      t.policy_target = match->name;
      for (const std::string& w : match->warnings) t.warnings.push_back(w);
      std::vector<net::Address> parsed;
      for (const std::string& a : addrs) {
        if (auto address = net::ParseAddress(a)) parsed.push_back(*address);
      }
      narrowed = compile::ForAddresses(*match, parsed);
      refused = !match->error.empty() ? match->error : narrowed->error;
    }
    if (!refused.empty()) {
      if (!last) {
        t.error = "the policy cannot be compiled exactly for it: " + refused + "; nothing on it is changed";
        report.targets.push_back(std::move(t));
        continue;
      }
      no_longer_in_policy =
          "the policy cannot be compiled exactly for it: " + refused + "; what moat applied before stays enforced";
    } else if (match != nullptr) {
      if (d->port > 0 && !AdmitsPort(narrowed->target, d->port)) {
        t.warnings.push_back("the policy admits nothing on its endpoint port " + std::to_string(d->port));
      }
      wanted = plan::DesiredRules(narrowed->target);
      if (req.over_permission_budget > 0) {
        int kept = 0;
        for (const std::string& a : d->security_groups) {
          const bool managed = std::any_of(managed_by_target[t.id].begin(), managed_by_target[t.id].end(),
                                           [&](const aws::SecurityGroup* g) { return g->id == a; });
          const bool keep = std::any_of(req.keep_groups.begin(), req.keep_groups.end(),
                                        [&](const std::string& k) { return k == a || t.group_names[a] == k; });
          if (!managed && keep) ++kept;
        }
        const size_t capacity = static_cast<size_t>(std::max(req.quotas.groups_per_interface - kept, 0)) *
                                static_cast<size_t>(req.quotas.rules_per_group);
        plan::Widened w = plan::Widen(std::move(*wanted), capacity, req.over_permission_budget);
        for (const plan::Widening& x : w.widenings) t.widened.push_back(plan::DescribeWidening(x));
        wanted = std::move(w.rules);
      }
    } else if (!policy.compiled && !last) {
      report.skipped.emplace_back(t.id, "the policy could not be read, and moat never applied it");
      continue;
    }

    plan::ReconcileInput in;
    in.target_id = t.id;
    in.wanted = std::move(wanted);
    in.last_applied = last;
    for (const aws::SecurityGroup* g : managed_by_target[t.id]) {
      plan::GroupState s{g->id, g->name, GroupNumber(g->name), {}, g->other_ingress};
      for (const aws::IngressRule& r : g->ingress) s.rules.push_back(FromIngress(r));
      in.managed.push_back(std::move(s));
      t.group_names[g->id] = g->name;
    }
    in.attached = d->security_groups;
    for (const std::string& k : req.keep_groups) {
      for (const std::string& a : d->security_groups) {
        if (a == k || t.group_names[a] == k) in.keep.push_back(a);
      }
    }
    in.quotas = req.quotas;
    in.guards = req.guards;
    for (const std::string& k : in.keep) {
      auto g = groups_by_id.find(k);
      if (g == groups_by_id.end()) continue;
      for (const aws::IngressRule& r : g->second->ingress) in.kept_rules.push_back(FromIngress(r));
    }
    for (const std::string& a : d->security_groups) {
      auto g = groups_by_id.find(a);
      const bool managed = std::any_of(managed_by_target[t.id].begin(), managed_by_target[t.id].end(),
                                       [&](const aws::SecurityGroup* m) { return m->id == a; });
      if (managed) continue;
      if (g == groups_by_id.end()) {
        in.foreign_references = true;  // not readable: what it admits is not known
        continue;
      }
      for (const aws::IngressRule& r : g->second->ingress) in.foreign_rules.push_back(FromIngress(r));
      if (g->second->other_ingress > 0) in.foreign_references = true;
    }
    std::vector<const traffic::Flow*> observed;
    for (const std::string& a : addrs) {
      const auto address = net::ParseAddress(a);
      if (!address) continue;
      auto it = observed_by_responder.find(*address);
      if (it != observed_by_responder.end()) observed.insert(observed.end(), it->second.begin(), it->second.end());
    }
    in.observed = observed;
    auto reconciled = plan::Reconcile(in);
    if (!reconciled) {
      t.error = reconciled.error().message;
    } else {
      t.plan = std::move(*reconciled);
      if (!no_longer_in_policy.empty()) t.plan.held = no_longer_in_policy;
      if (t.vpc_id.empty() && std::any_of(t.plan.plan.groups.begin(), t.plan.plan.groups.end(),
                                          [](const plan::GroupChange& g) { return g.create; })) {
        t.error = t.id + ": its VPC is unknown (no group attached to it could be read); nothing on it is changed";
      }
    }
    report.targets.push_back(std::move(t));
  }

  const bool write = req.execute && req.mode == "enforce";
  report.reads = deps.aws->calls().reads();
  if (write && report.HasChanges() && deps.confirm && !deps.confirm(report)) {
    report.cancelled = true;
    return report;
  }
  if (write) {
    report.executed = true;
    bool state_changed = false;
    for (TargetReport& t : report.targets) {
      if (!t.error.empty()) continue;
      const aws::Database* db = nullptr;
      for (const aws::Database* d : chosen) {
        if (TargetId(*d) == t.id) db = d;
      }
      if (t.plan.plan.HasChanges()) {
        apply::TargetWork work;
        work.db = *db;
        work.vpc_id = t.vpc_id;
        work.plan = t.plan.plan;
        work.groups = t.plan.groups;
        work.group_names = t.group_names;
        if (!report.digest.empty() && t.plan.policy_applied) work.tags["moat:policy-sha256"] = report.digest;
        for (const std::string& a : db->security_groups) {
          const bool managed = std::any_of(work.groups.begin(), work.groups.end(),
                                           [&](const plan::PackedGroup& g) { return g.id == a; });
          if (!managed && std::find(work.plan.detach.begin(), work.plan.detach.end(), a) == work.plan.detach.end()) {
            work.kept_foreign.push_back(a);
          }
        }
        auto outcome = apply::ApplyTarget(work, apply::Env{*ec2, *rds, deps.audit, deps.sleep});
        if (!outcome) {
          t.error = outcome.error().message;
          continue;
        }
        t.applied = true;
        t.writes = outcome->writes;
        t.converged = outcome->converged;
        for (const auto& [name, id] : outcome->created) t.group_names[id] = name;
      }
      if (t.plan.policy_applied) {
        store::AppliedTarget& a = state->targets[t.id];
        if (a.rules != t.plan.desired || a.digest != report.digest) {
          a.time = deps.now ? deps.now() : 0;
          a.digest = report.digest;
          a.rules = t.plan.desired;
          state_changed = true;
        }
      }
    }
    if (state_changed) {
      if (auto st = store::SaveSnapshot(*store, policy.text, report.digest); !st) {
        report.errors.push_back(st.error().message);
      } else if (auto st2 = store::SaveState(*store, *state); !st2) {
        report.errors.push_back(st2.error().message);
      }
    }
  }
  report.reads = deps.aws->calls().reads();
  report.writes = deps.aws->calls().writes();
  return report;
}

}  // namespace moat::app
