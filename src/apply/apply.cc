#include "apply/apply.h"

#include <algorithm>
#include <type_traits>

#include "net/protocol.h"

namespace moat::apply {
namespace {

aws::IngressRule ToIngress(const plan::SgRule& r) {
  return {r.protocol, r.from_port, r.to_port, r.cidr, r.description};
}

std::vector<aws::IngressRule> ToIngress(const std::vector<plan::SgRule>& rules) {
  std::vector<aws::IngressRule> out;
  out.reserve(rules.size());
  for (const auto& r : rules) out.push_back(ToIngress(r));
  return out;
}

class Runner {
 public:
  Runner(const TargetWork& work, const Env& env) : w_(work), env_(env) {}

  Result<Outcome> Run() {
    Status st = Steps();
    if (st) return out_;
    Error e = std::move(st).error();
    if (!out_.unaudited.empty()) {
      e.message += "; not audited (" + out_.audit_error + ")";
      for (size_t i = 0; i < out_.unaudited.size(); ++i) e.message += (i == 0 ? ": " : "; ") + out_.unaudited[i];
    }
    return Fail(std::move(e));
  }

 private:
  Status Steps() {
    // 1. What no policy admitted out of moat's groups, and moat's tags back on them.
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (!g.create) ids_[g.name] = g.id;
    }
    if (auto st = Retag(); !st) return st;
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (g.create) continue;
      if (auto st = RevokeOther(g); !st) return st;
      if (auto st = Revoke(g, true); !st) return st;
    }
    // 2. Groups.
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (!g.create) continue;
      auto id = Create(g);
      if (!id) return Fail(std::move(id).error());
      ids_[g.name] = *id;
    }
    // 3. Rules in.
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (auto st = Authorize(g); !st) return Fail(std::move(st).error());
      if (auto st = Redescribe(g); !st) return Fail(std::move(st).error());
    }
    // 4. The attachment, in one call.
    if (auto st = Attach(); !st) return Fail(std::move(st).error());
    // 5. The rules the policy no longer wants.
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (auto st = Revoke(g, false); !st) return Fail(std::move(st).error());
    }
    return TagDigest();
  }

  // The policy digest on the existing groups a policy change touched.
  Status TagDigest() {
    std::vector<std::string> retag;
    for (const plan::GroupChange& g : w_.plan.groups) {
      const auto policy = [](const std::vector<plan::SgRule>& v) {
        return std::any_of(v.begin(), v.end(), [](const plan::SgRule& r) { return !r.drift; });
      };
      if (!g.create && (policy(g.authorize) || policy(g.revoke) || policy(g.redescribe))) retag.push_back(g.id);
    }
    if (retag.empty() || w_.tags.empty()) return {};
    ++out_.writes;
    if (auto st = env_.ec2->CreateTags(retag, w_.tags); !st) {
      return Fail(std::move(st).error().Context(w_.plan.target + ": tagging its groups"));
    }
    return {};
  }

  // moat's tags on its groups that lost them, in one call.
  Status Retag() {
    std::vector<std::string> ids;
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (g.retag && !g.create) ids.push_back(g.id);
    }
    if (ids.empty()) return {};
    const std::string tags = "moat:managed=true moat:target=" + w_.plan.target;
    std::vector<AuditEntry> entries;
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (g.retag && !g.create) entries.push_back(Entry(g.id, g.name, "retag", tags, true));
    }
    if (auto st = Noted(entries,
                        [&] {
                          return env_.ec2->CreateTags(ids, {{"moat:managed", "true"}, {"moat:target", w_.plan.target}});
                        });
        !st) {
      return Fail(std::move(st).error().Context(w_.plan.target + ": restoring moat's tags on its groups"));
    }
    for (const AuditEntry& e : entries) Log(e.group, e.group_name, "retag", tags, true, false);
    return {};
  }

  std::string NameOf(const std::string& id, const plan::GroupChange& g) const {
    auto made = names_.find(id);
    return made != names_.end() ? made->second : g.name;
  }

  std::string What(const std::string& group) const { return w_.plan.target + ": group " + group; }

  AuditEntry Entry(const std::string& group, const std::string& name, const char* change, const std::string& rule,
                   bool drift) const {
    AuditEntry e;
    e.target = w_.plan.target;
    e.group = group;
    e.group_name = name;
    e.change = change;
    e.rule = rule;
    e.drift = drift;
    return e;
  }

  void Log(const std::string& group, const std::string& name, const char* change, const std::string& rule, bool drift,
           bool converged) {
    if (env_.audit == nullptr) return;
    AuditEntry e = Entry(group, name, change, rule, drift);
    e.converged = converged;
    if (Status st = env_.audit->Write(e); !st) {
      out_.unaudited.push_back(DescribeChange(e));
      if (out_.audit_error.empty()) out_.audit_error = st.error().message;
    }
  }

  // The changes of one call, before it ("intent") or after it failed ("failed"). A line that
  // cannot be written is not fatal: the change's own line says whether it was recorded.
  void Note(std::vector<AuditEntry> entries, const char* note) {
    if (env_.audit == nullptr) return;
    for (AuditEntry& e : entries) {
      e.note = note;
      (void)env_.audit->Note(e);
    }
  }

  // Runs one mutating call between its intent lines and, when it fails, its failed lines.
  template <typename F>
  std::invoke_result_t<F> Noted(const std::vector<AuditEntry>& entries, F&& call) {
    Note(entries, "intent");
    ++out_.writes;
    auto result = call();
    if (!result) Note(entries, "failed");
    return result;
  }

  // Creates the group under its planned name, or the next free number when someone else holds
  // that name in the VPC: a group moat did not create is never taken as its own.
  Result<std::string> Create(const plan::GroupChange& g) {
    std::map<std::string, std::string> tags = w_.tags;
    tags["moat:managed"] = "true";
    tags["moat:target"] = w_.plan.target;
    if (next_number_ == 0) {
      for (const plan::GroupChange& c : w_.plan.groups) next_number_ = std::max(next_number_, c.number + 1);
    }
    std::string name = g.name;
    for (int tries = 0;; ++tries) {
      tags["Name"] = name;
      auto id = Noted({Entry("", name, "create-group", "", false)}, [&] {
        return env_.ec2->CreateSecurityGroup(name, "moat: ingress of " + w_.plan.target + " (managed by moat)",
                                             w_.vpc_id, tags);
      });
      if (id) {
        if (env_.created) env_.created(*id, name);
        out_.created[name] = *id;
        names_[*id] = name;
        Log(*id, name, "create-group", "", false, false);
        return id;
      }
      if (id.error().code != ErrorCode::kConflict || tries == kNameTries) {
        return Fail(std::move(id).error().Context(What(name)));
      }
      auto holder = Holder(name);
      if (!holder) return Fail(std::move(holder).error());
      if (!holder->empty()) {
        ++out_.converged;
        out_.created[name] = *holder;
        names_[*holder] = name;
        Log(*holder, name, "create-group", "", false, true);
        return *holder;
      }
      const std::string taken = name;
      name = plan::GroupName(w_.plan.target, next_number_++);
      out_.notes.push_back(taken + " is taken in " + w_.vpc_id + " by a group moat did not create; made " + name +
                           " instead");
    }
  }

  // The id of the group holding `name` in the VPC when moat recorded it for this target (a run
  // side by side made it a moment ago); "" when the holder is someone else's.
  Result<std::string> Holder(const std::string& name) {
    if (!env_.recorded) return std::string();
    auto found = env_.ec2->DescribeSecurityGroups({{"group-name", {name}}, {"vpc-id", {w_.vpc_id}}});
    if (!found) return Fail(std::move(found).error().Context(What(name)));
    for (const aws::SecurityGroup& g : *found) {
      if (env_.recorded(g.id)) return g.id;
    }
    return std::string();
  }

  // A call that may meet a group not yet visible after its creation (EC2 is eventually consistent).
  template <typename F>
  Status Retrying(F&& call) {
    Status st = call();
    for (int attempt = 1; !st && st.error().code == ErrorCode::kNotFound && attempt < 5; ++attempt) {
      if (env_.clock != nullptr) env_.clock->Sleep(std::chrono::milliseconds(250 * attempt));
      st = call();
    }
    return st;
  }

  // One call for the batch. The batch is all-or-nothing, so when it fails because one rule is
  // already as wanted (`converged`: Duplicate on authorize, NotFound on revoke), one call a rule.
  template <typename Call>
  Status Batch(const plan::GroupChange& g, const std::vector<plan::SgRule>& rules, const char* change,
               ErrorCode converged, Call call) {
    if (rules.empty()) return {};
    const std::string& id = ids_[g.name];
    std::vector<AuditEntry> entries;
    entries.reserve(rules.size());
    for (const auto& r : rules) entries.push_back(Entry(id, NameOf(id, g), change, DescribeRule(r), r.drift));
    Note(entries, "intent");
    ++out_.writes;
    Status st = call(id, ToIngress(rules));
    if (!st && st.error().code != converged) Note(entries, "failed");
    if (st) {
      for (const auto& r : rules) Log(id, NameOf(id, g), change, DescribeRule(r), r.drift, false);
      return {};
    }
    if (st.error().code != converged) return Fail(std::move(st).error().Context(What(g.name)));
    for (const auto& r : rules) {
      ++out_.writes;
      Status one = call(id, {ToIngress(r)});
      if (!one && one.error().code != converged) {
        Note({Entry(id, NameOf(id, g), change, DescribeRule(r), r.drift)}, "failed");
        return Fail(std::move(one).error().Context(What(g.name)));
      }
      if (!one) ++out_.converged;
      Log(id, NameOf(id, g), change, DescribeRule(r), r.drift, !one);
    }
    return {};
  }

  Status Authorize(const plan::GroupChange& g) {
    return Batch(g, g.authorize, "authorize", ErrorCode::kConflict,
                 [&](const std::string& id, const std::vector<aws::IngressRule>& rules) {
                   return Retrying([&] { return env_.ec2->AuthorizeIngress(id, rules); });
                 });
  }

  Status Redescribe(const plan::GroupChange& g) {
    if (g.redescribe.empty()) return {};
    const std::string& id = ids_[g.name];
    auto existing = env_.ec2->DescribeIngressRules(id);
    if (!existing) return Fail(std::move(existing).error().Context(What(g.name)));
    std::vector<aws::IdentifiedRule> changes;
    for (const auto& r : g.redescribe) {
      const aws::IngressRule want = ToIngress(r);
      for (const auto& e : *existing) {
        if (e.reference.empty() && e.rule == want) changes.push_back({e.id, want, ""});
      }
    }
    if (changes.empty()) return {};
    std::vector<AuditEntry> entries;
    for (const auto& r : g.redescribe) {
      entries.push_back(Entry(id, NameOf(id, g), "redescribe", DescribeRule(r), r.drift));
    }
    if (auto st = Noted(entries, [&] { return env_.ec2->SetRuleDescriptions(id, changes); }); !st) {
      return Fail(std::move(st).error().Context(What(g.name)));
    }
    for (const auto& r : g.redescribe) Log(id, NameOf(id, g), "redescribe", DescribeRule(r), r.drift, false);
    return {};
  }

  Status Attach() {
    std::vector<std::string> final_list;
    for (const plan::PackedGroup& p : w_.groups) final_list.push_back(ids_[p.name]);
    for (const std::string& k : w_.kept_foreign) {
      if (std::find(final_list.begin(), final_list.end(), k) == final_list.end()) final_list.push_back(k);
    }
    out_.attached = final_list;
    if (w_.plan.attach.empty() && w_.plan.detach.empty()) return {};
    std::vector<AuditEntry> entries;
    for (const std::string& a : w_.plan.attach) {
      auto it = ids_.find(a);
      const std::string id = it != ids_.end() ? it->second : a;
      std::string name = a;
      for (const auto& p : w_.groups)
        if (ids_[p.name] == id) name = p.name;
      if (auto made = names_.find(id); made != names_.end()) name = made->second;
      entries.push_back(Entry(id, name, "attach", "", w_.plan.IsDrift(a)));
    }
    for (const std::string& d : w_.plan.detach) {
      auto name = w_.group_names.find(d);
      entries.push_back(Entry(d, name != w_.group_names.end() ? name->second : "", "detach", "", w_.plan.IsDrift(d)));
    }
    if (auto st = Noted(entries, [&] { return env_.rds->SetSecurityGroups(w_.db, final_list); }); !st) {
      return Fail(std::move(st).error().Context(w_.plan.target + ": setting its security groups"));
    }
    for (const AuditEntry& e : entries) Log(e.group, e.group_name, e.change.c_str(), "", e.drift, false);
    return {};
  }

  // Rules naming another group or a prefix list: never moat's; revoked by their ids.
  Status RevokeOther(const plan::GroupChange& g) {
    if (g.revoke_other == 0) return {};
    const std::string& id = ids_[g.name];
    auto existing = env_.ec2->DescribeIngressRules(id);
    if (!existing) return Fail(std::move(existing).error().Context(What(g.name)));
    std::vector<std::string> ids;
    std::vector<std::string> described;
    for (const auto& r : *existing) {
      if (r.reference.empty()) continue;
      ids.push_back(r.id);
      plan::SgRule shown{r.rule.protocol, r.rule.from_port, r.rule.to_port, {}, ""};
      std::string text = DescribeRule(shown);
      described.push_back(text.substr(0, text.rfind(" from ")) + " from " + r.reference);
    }
    if (ids.empty()) return {};
    std::vector<AuditEntry> entries;
    entries.reserve(described.size());
    for (const auto& d : described) entries.push_back(Entry(id, NameOf(id, g), "revoke", d, true));
    Note(entries, "intent");
    ++out_.writes;
    Status st = env_.ec2->RevokeIngressById(id, ids);
    if (!st && st.error().code != ErrorCode::kNotFound) {
      Note(entries, "failed");
      return Fail(std::move(st).error().Context(What(g.name)));
    }
    if (!st) ++out_.converged;
    for (const auto& d : described) Log(id, NameOf(id, g), "revoke", d, true, !st);
    return {};
  }

  // The rules to revoke that revert drift (`drift`), or those the policy no longer wants.
  Status Revoke(const plan::GroupChange& g, bool drift) {
    std::vector<plan::SgRule> rules;
    for (const plan::SgRule& r : g.revoke) {
      if (r.drift == drift) rules.push_back(r);
    }
    return Batch(g, rules, "revoke", ErrorCode::kNotFound,
                 [&](const std::string& id, const std::vector<aws::IngressRule>& rules) {
                   return env_.ec2->RevokeIngress(id, rules);
                 });
  }

  const TargetWork& w_;
  const Env& env_;
  Outcome out_;
  static constexpr int kNameTries = 8;
  std::map<std::string, std::string> ids_;    // planned group name -> id
  std::map<std::string, std::string> names_;  // created group id -> its name as made
  int next_number_ = 0;
};

}  // namespace

std::string DescribeRule(const plan::SgRule& r) {
  std::string s;
  if (r.protocol == -1) {
    s = "all traffic";
  } else if (r.from_port < 0) {
    s = net::ProtocolName(r.protocol);
  } else if (r.from_port == r.to_port) {
    s = net::ProtocolName(r.protocol) + " " + std::to_string(r.from_port);
  } else {
    s = net::ProtocolName(r.protocol) + " " + std::to_string(r.from_port) + "-" + std::to_string(r.to_port);
  }
  return s + " from " + net::ToString(r.cidr);
}

Result<Outcome> ApplyTarget(const TargetWork& work, const Env& env) { return Runner(work, env).Run(); }

}  // namespace moat::apply
