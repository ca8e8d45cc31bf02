#include "apply/apply.h"

#include <algorithm>

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
    // 1. Groups.
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (!g.create) {
        ids_[g.name] = g.id;
        continue;
      }
      auto id = Create(g);
      if (!id) return Fail(std::move(id).error());
      ids_[g.name] = *id;
      out_.created[g.name] = *id;
    }
    // 2. Rules in.
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (auto st = Authorize(g); !st) return Fail(std::move(st).error());
      if (auto st = Redescribe(g); !st) return Fail(std::move(st).error());
    }
    // 3. The attachment, in one call.
    if (auto st = Attach(); !st) return Fail(std::move(st).error());
    // 4. Rules out.
    for (const plan::GroupChange& g : w_.plan.groups) {
      if (auto st = Revoke(g); !st) return Fail(std::move(st).error());
    }
    // 5. The policy digest on the existing groups a policy change touched.
    std::vector<std::string> retag;
    for (const plan::GroupChange& g : w_.plan.groups) {
      const auto policy = [](const std::vector<plan::SgRule>& v) {
        return std::any_of(v.begin(), v.end(), [](const plan::SgRule& r) { return !r.drift; });
      };
      if (!g.create && (policy(g.authorize) || policy(g.revoke) || policy(g.redescribe))) retag.push_back(g.id);
    }
    if (!retag.empty() && !w_.tags.empty()) {
      ++out_.writes;
      if (auto st = env_.ec2->CreateTags(retag, w_.tags); !st) {
        return Fail(std::move(st).error().Context(w_.plan.target + ": tagging its groups"));
      }
    }
    return {};
  }

  std::string What(const std::string& group) const { return w_.plan.target + ": group " + group; }

  void Log(const std::string& group, const std::string& name, const char* change, const std::string& rule, bool drift,
           bool converged) {
    if (env_.audit == nullptr) return;
    AuditEntry e;
    e.target = w_.plan.target;
    e.group = group;
    e.group_name = name;
    e.change = change;
    e.rule = rule;
    e.drift = drift;
    e.converged = converged;
    if (Status st = env_.audit->Write(e); !st) {
      out_.unaudited.push_back(DescribeChange(e));
      if (out_.audit_error.empty()) out_.audit_error = st.error().message;
    }
  }

  Result<std::string> Create(const plan::GroupChange& g) {
    std::map<std::string, std::string> tags = w_.tags;
    tags["moat:managed"] = "true";
    tags["moat:target"] = w_.plan.target;
    tags["Name"] = g.name;
    ++out_.writes;
    auto id = env_.ec2->CreateSecurityGroup(g.name, "moat: ingress of " + w_.plan.target + " (managed by moat)",
                                            w_.vpc_id, tags);
    if (id) {
      Log(*id, g.name, "create-group", "", false, false);
      return id;
    }
    if (id.error().code != ErrorCode::kConflict) return Fail(std::move(id).error().Context(What(g.name)));
    // The name exists in the VPC: another run made it a moment ago. Adopt it only if it is ours.
    auto found = env_.ec2->DescribeSecurityGroups({{"group-name", {g.name}}, {"vpc-id", {w_.vpc_id}}});
    if (!found) return Fail(std::move(found).error().Context(What(g.name)));
    for (const aws::SecurityGroup& s : *found) {
      auto managed = s.tags.find("moat:managed");
      auto target = s.tags.find("moat:target");
      if (managed != s.tags.end() && managed->second == "true" && target != s.tags.end() &&
          target->second == w_.plan.target) {
        ++out_.converged;
        Log(s.id, g.name, "create-group", "", false, true);
        return s.id;
      }
    }
    return Fail(InvalidInput(What(g.name) + ": a group of that name exists in " + w_.vpc_id +
                             " without moat's tags for this target; rename or tag it"));
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
    ++out_.writes;
    Status st = call(id, ToIngress(rules));
    if (st) {
      for (const auto& r : rules) Log(id, g.name, change, DescribeRule(r), r.drift, false);
      return {};
    }
    if (st.error().code != converged) return Fail(std::move(st).error().Context(What(g.name)));
    for (const auto& r : rules) {
      ++out_.writes;
      Status one = call(id, {ToIngress(r)});
      if (!one && one.error().code != converged) return Fail(std::move(one).error().Context(What(g.name)));
      if (!one) ++out_.converged;
      Log(id, g.name, change, DescribeRule(r), r.drift, !one);
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
    ++out_.writes;
    if (auto st = env_.ec2->SetRuleDescriptions(id, changes); !st) {
      return Fail(std::move(st).error().Context(What(g.name)));
    }
    for (const auto& r : g.redescribe) Log(id, g.name, "redescribe", DescribeRule(r), r.drift, false);
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
    ++out_.writes;
    if (auto st = env_.rds->SetSecurityGroups(w_.db, final_list); !st) {
      return Fail(std::move(st).error().Context(w_.plan.target + ": setting its security groups"));
    }
    for (const std::string& a : w_.plan.attach) {
      auto it = ids_.find(a);
      const std::string id = it != ids_.end() ? it->second : a;
      std::string name = a;
      for (const auto& p : w_.groups)
        if (ids_[p.name] == id) name = p.name;
      Log(id, name, "attach", "", w_.plan.IsDrift(a), false);
    }
    for (const std::string& d : w_.plan.detach) {
      auto name = w_.group_names.find(d);
      Log(d, name != w_.group_names.end() ? name->second : "", "detach", "", w_.plan.IsDrift(d), false);
    }
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
    ++out_.writes;
    Status st = env_.ec2->RevokeIngressById(id, ids);
    if (!st && st.error().code != ErrorCode::kNotFound) return Fail(std::move(st).error().Context(What(g.name)));
    if (!st) ++out_.converged;
    for (const auto& d : described) Log(id, g.name, "revoke", d, true, !st);
    return {};
  }

  Status Revoke(const plan::GroupChange& g) {
    if (auto st = RevokeOther(g); !st) return st;
    return Batch(g, g.revoke, "revoke", ErrorCode::kNotFound,
                 [&](const std::string& id, const std::vector<aws::IngressRule>& rules) {
                   return env_.ec2->RevokeIngress(id, rules);
                 });
  }

  const TargetWork& w_;
  const Env& env_;
  Outcome out_;
  std::map<std::string, std::string> ids_;  // group name -> id
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
