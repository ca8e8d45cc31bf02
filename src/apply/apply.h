// Apply: executes one target's plan through the EC2 and RDS clients, make-before-break:
//   1. revoke the rules moat never authorised (drift) from its groups, and restore their moat
//      tags when they were removed — first, whatever happens next: taking away what no policy
//      admitted cannot cut admitted traffic,
//   2. create the missing managed groups (tagged moat:managed=true, moat:target=<id>), each
//      reported to Env::created at once so that it is recorded as moat's; a group that already
//      holds the name is taken only when a run side by side recorded it as moat's for this target
//      (Env::recorded), else the next free name is used,
//   3. authorize the missing rules and fix changed descriptions,
//   4. set the database's group list (ModifyDBInstance, or ModifyDBCluster for a cluster) to its
//      managed groups plus the foreign groups it keeps — one call, since the list replaces the
//      old one atomically, made only once the new groups hold their rules,
//   5. revoke the rules the policy no longer wants.
// InvalidPermission.Duplicate on authorize and InvalidPermission.NotFound on revoke mean the rule
// is already as wanted (another run got there first). Every change done is written to the audit
// log, marked as drift when it reverts one; a change the log cannot record does not stop the
// target (the change is made), it is named in Outcome::unaudited. The first failing call stops
// the target. Existing
// groups that took a policy change get `tags` (the policy digest) in one CreateTags call at the end.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "apply/audit.h"
#include "aws/ec2.h"
#include "aws/rds.h"
#include "base/result.h"
#include "plan/plan.h"

namespace moat::apply {

struct TargetWork {
  aws::Database db;
  std::string vpc_id;                     // where new groups are made
  plan::TargetPlan plan;                  // from plan::Reconcile
  std::vector<plan::PackedGroup> groups;  // the managed groups as they will be (in order)
  std::vector<std::string> kept_foreign;  // foreign groups attached now that stay
  // Tags for the target's groups beyond moat:managed and moat:target (the policy digest): set at
  // creation, and on existing groups when a policy change is applied to them.
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> group_names;  // id -> name of the groups attached now, for the log
};

struct Outcome {
  int writes = 0;                              // mutating calls made
  int converged = 0;                           // changes another run had already made (Duplicate / NotFound)
  std::map<std::string, std::string> created;  // group name (as made) -> new id
  std::vector<std::string> attached;           // the database's group list afterwards
  std::vector<std::string> notes;              // what the operator should know: a group name held by another
  // The changes made that the audit log could not record, one line each (DescribeChange:
  // "orders-db: revoke tcp 22 from 0.0.0.0/0, group sg-0abc (moat-orders-db-1)"), and the first
  // reason ("audit log /var/log/moat/audit.log: No space left on device"); empty when all were.
  std::vector<std::string> unaudited;
  std::string audit_error;
};

struct Env {
  aws::Ec2* ec2 = nullptr;
  aws::Rds* rds = nullptr;
  AuditLog* audit = nullptr;
  Clock* clock = nullptr;  // waits for eventual consistency after a create; nullptr: none
  // Called with each group created (its id, its name), before any other call: the caller records
  // it as moat's. Unset: not recorded.
  std::function<void(const std::string& id, const std::string& name)> created;
  // Whether the group `id` is recorded as made by moat for this target (by a run side by side):
  // a group holding the name moat wants is taken only then. Unset: never.
  std::function<bool(const std::string& id)> recorded;
};

// Errors name the target, the group and the call; changes made before the failure stay logged.
// When some of those could not be logged, the error's message ends with them: "...; not audited
// (audit log /x: No space left on device): orders-db: create-group, group sg-1 (moat-orders-db-1)".
Result<Outcome> ApplyTarget(const TargetWork& work, const Env& env);

// "tcp 5432 from 10.0.1.20/32", "all traffic from 10.0.0.0/8", "udp 1000-2000 from ::/0".
std::string DescribeRule(const plan::SgRule& rule);

}  // namespace moat::apply
