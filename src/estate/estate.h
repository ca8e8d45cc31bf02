// The RDS estate as the commands that act on databases see it (plan, apply, map, pce sync): the
// instances and Aurora clusters, the ones --target selects, their security groups (moat's and the
// others attached) and their current private addresses — read through the AWS clients in a fixed
// number of calls whatever the number of databases. Selection is pure; the reads are the only I/O
// of the stage.
//
// A group is moat's because moat created it, not because of its tags: its id is recorded in the
// state for that database, and it is in the database's VPC. A group tagged as moat's that moat did
// not create is a foreign group like any other (and reported); one of moat's whose tags were
// removed is still moat's (and re-tagged).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aws/ec2.h"
#include "aws/rds.h"
#include "base/result.h"
#include "store/state.h"

namespace moat::estate {

// "<id>" for an instance, "cluster/<id>" for an Aurora cluster (DESIGN.md §8).
std::string TargetId(const aws::Database& db);

// Whether a --target selector (an identifier, cluster/<id>, tag:KEY or tag:KEY=VALUE) names `db`.
bool Selects(const std::string& selector, const aws::Database& db);

// Every instance and Aurora cluster, in two paginated reads. An Aurora member instance is left
// out: it is its cluster's.
Result<std::vector<aws::Database>> ReadDatabases(aws::Rds& rds);

// The databases the selectors name, each once, in the order of `databases`; all of them when
// there is no selector. A selector that names none adds a line to `errors`.
std::vector<const aws::Database*> Choose(const std::vector<aws::Database>& databases,
                                         const std::vector<std::string>& selectors, std::vector<std::string>& errors);

struct AddressLookup {
  std::vector<std::string> addresses;  // empty when not found
  std::string warning;                 // why not, when not found
  // Its RDS network interfaces ("eni-..."), when asked for: those in its VPC that hold one of its
  // addresses (RdsInterfacesOf).
  std::vector<std::string> interfaces;
};

// The private addresses of each database: its endpoint resolved (`resolve`, when set), else the
// one RDS network interface in its VPC (`vpc_of`; "" for any) that carries exactly its security
// groups — one DescribeNetworkInterfaces for all of them, only when a name did not resolve or
// `interfaces` asks for each database's network interfaces too.
Result<std::map<const aws::Database*, AddressLookup>> FindAddresses(
    const std::vector<const aws::Database*>& databases, aws::Ec2& ec2,
    const std::function<std::vector<std::string>(const std::string& host)>& resolve,
    const std::function<std::string(const aws::Database&)>& vpc_of, bool interfaces = false);

// The ids of the RDS network interfaces of `all` that are in `vpc` ("": any) and hold one of
// `addresses`: a database's own, since no two interfaces of a VPC share an address. Pure.
std::vector<std::string> RdsInterfacesOf(const std::vector<std::string>& addresses, const std::string& vpc,
                                         const std::vector<aws::NetworkInterface>& all);

// What plan and apply act on, read once per run. Indexes point into the vectors it owns, so an
// Estate moves but is never copied.
struct Estate {
  std::vector<aws::Database> databases;      // every instance and Aurora cluster
  std::vector<const aws::Database*> chosen;  // the ones the selectors name, in that order
  std::vector<aws::SecurityGroup> managed;   // moat's groups (created by moat: recorded in the state)
  std::vector<aws::SecurityGroup> foreign;   // the others read: attached to the chosen ones, or tagged as moat's
  std::map<std::string, std::vector<const aws::SecurityGroup*>> managed_by_target;  // target id -> moat's groups
  std::map<std::string, const aws::SecurityGroup*> groups_by_id;                    // managed and foreign
  std::map<const aws::Database*, AddressLookup> addresses;                          // of the chosen ones
  std::set<std::string> tags_missing;  // moat's groups whose moat:managed / moat:target tags are not as made
  // Groups tagged as moat's for a chosen database that moat did not create there, one line each
  // ("sg-0abc (moat-orders-db-1) in vpc-1: tagged moat:target=orders-db, not created by moat").
  std::map<std::string, std::vector<std::string>> foreign_claims;
  // Groups taken as moat's on their tags alone, from a state written before moat recorded them:
  // to record at the next save.
  std::map<std::string, store::OwnedGroup> adopted;
  // Groups whose own record (store::RecordGroup) says moat made them, missing from the state read.
  std::map<std::string, store::OwnedGroup> recovered;
  std::vector<std::string> vanished;  // recorded groups of the chosen databases that no longer exist

  Estate() = default;
  Estate(Estate&&) = default;
  Estate& operator=(Estate&&) = default;
  Estate(const Estate&) = delete;
  Estate& operator=(const Estate&) = delete;

  // The database's VPC: its own, else that of a readable group attached to it; "" when unknown.
  std::string VpcOf(const aws::Database& db) const;
  // Whether `group_id` is one of moat's groups for the target `target_id`.
  bool IsManaged(const std::string& target_id, const std::string& group_id) const;
  // The name of a group it read; "" when it did not read that group.
  std::string GroupName(const std::string& group_id) const;
};

// Reads the estate: the databases (2 reads), the groups tagged as moat's (1), the other groups
// attached to the chosen ones and moat's recorded groups that lost their tags (1 per 200, none
// when there are none), and the RDS network interfaces when a name does not resolve or
// `interfaces` asks for each database's (1, paginated). Which
// groups are moat's comes from `state` (its `groups`, and `lookup` for a tagged group it lacks; on
// a state that predates them, the tags).
// A selector that names nothing adds a line to `errors`; a failed read is the error.
// Whether moat's record of the group it made says `id` is its own for that target and VPC
// (store::GroupRecorded); asked only of groups tagged as moat's that the state read does not hold.
using RecordLookup = std::function<bool(const std::string& id, const store::OwnedGroup& group)>;

Result<Estate> ReadEstate(aws::Ec2& ec2, aws::Rds& rds, const store::EnforcedState& state, const RecordLookup& lookup,
                          const std::vector<std::string>& selectors,
                          const std::function<std::vector<std::string>(const std::string& host)>& resolve,
                          bool interfaces, std::vector<std::string>& errors);

}  // namespace moat::estate
