// The local state of enforcement (DESIGN.md §8 'Last known good'): what moat last applied to each
// target — its rules, when, and the digest of the policy they came from — and the policy snapshot
// itself. The fail-safe guards and drift marking compare against it; when the policy source
// fails, its rules keep being enforced. Files in the state directory:
//   applied.json   {"version": 2, "targets": {"orders-db": {"time": 1764398567, "digest": "…",
//                   "rules": [{"protocol": 6, "from_port": 5432, "to_port": 5432,
//                              "cidr": "10.0.1.20/32", "description": "moat …"}]}},
//                   "groups": {"sg-0abc": {"target": "orders-db", "vpc": "vpc-1"}},
//                   "applied_in": {"account": "111122223333", "region": "us-east-1"}}
//                  `groups` are the security groups moat created: the only ones it treats as its
//                  own (tags say nothing: anyone allowed to tag can write them). Version 1 files
//                  have no `groups`; files from before moat recorded where it applied have no
//                  `applied_in` (the AWS account and region of the last apply).
//   groups/<id>.<vpc>.<target>   one empty record per group moat created (the target's '/' written
//                  '~'): written once, the moment the group exists, so that a run side by side
//                  that saves applied.json without it does not erase it; a group tagged as moat's
//                  but missing from applied.json is looked up here
//   policy.json    the policy bundle last enforced (what `--policy FILE` reads)
//   policy.sha256  its digest
// The state lives in a local directory (the CLI), or under an S3 prefix (the Lambda function and
// the workers: s3://<bucket>/moat/state/). Writes are atomic (a file renamed over the old one; an
// S3 PutObject).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aws/s3.h"
#include "base/result.h"
#include "plan/plan.h"

namespace moat::store {

struct AppliedTarget {
  int64_t time = 0;
  std::string digest;
  std::vector<plan::SgRule> rules;
};

// A security group moat created: the target it was made for and the VPC it is in.
struct OwnedGroup {
  std::string target;
  std::string vpc_id;
  friend bool operator==(const OwnedGroup&, const OwnedGroup&) = default;
};

// An AWS account and region; empty strings: not known.
struct AwsPlace {
  std::string account, region;
  bool empty() const { return account.empty() && region.empty(); }
  friend bool operator==(const AwsPlace&, const AwsPlace&) = default;
};

struct EnforcedState {
  std::map<std::string, AppliedTarget> targets;
  std::map<std::string, OwnedGroup> groups;  // group id -> what moat created it for
  // False for a state written before moat recorded the groups it created (version 1, with
  // targets): the groups tagged as moat's are then taken as its own once, and recorded.
  bool groups_recorded = true;
  AwsPlace applied_in;  // where apply last ran against this state; empty: not recorded
};

// Where the state files are read and written.
class StateStore {
 public:
  virtual ~StateStore() = default;
  // The file's text, or nullopt when there is none.
  virtual Result<std::optional<std::string>> Read(const std::string& name) = 0;
  virtual Status Write(const std::string& name, const std::string& text) = 0;
  virtual std::string Where(const std::string& name) const = 0;  // for messages
  virtual Status Remove(const std::string& name) = 0;            // a file already gone is not an error
};

// A local directory (created on the first write).
class DirectoryStateStore : public StateStore {
 public:
  explicit DirectoryStateStore(std::string dir) : dir_(std::move(dir)) {}
  Result<std::optional<std::string>> Read(const std::string& name) override;
  Status Write(const std::string& name, const std::string& text) override;
  std::string Where(const std::string& name) const override { return dir_ + "/" + name; }
  Status Remove(const std::string& name) override;

 private:
  std::string dir_;
};

// An S3 prefix ("s3://bucket/moat/state/"): GetObject and PutObject.
class S3StateStore : public StateStore {
 public:
  S3StateStore(aws::S3Store& s3, std::string prefix);
  Result<std::optional<std::string>> Read(const std::string& name) override { return s3_.Get(Where(name)); }
  Status Write(const std::string& name, const std::string& text) override {
    return s3_.Put(Where(name), text, "application/json");
  }
  std::string Where(const std::string& name) const override { return prefix_ + name; }
  Status Remove(const std::string& name) override { return s3_.Delete(Where(name)); }

 private:
  aws::S3Store& s3_;
  std::string prefix_;
};

// The state directory: `dir` when given, else $XDG_STATE_HOME/moat, else ~/.local/state/moat.
std::string StateDirectory(const std::string& dir, const char* xdg_state_home, const char* home);

// A missing file is an empty state; an unreadable or invalid one is an error naming the file.
Result<EnforcedState> LoadState(StateStore& store);

// The record of a group moat just created (groups/<id>.<vpc>.<target>), and whether one exists.
Status RecordGroup(StateStore& store, const std::string& id, const OwnedGroup& group);
Result<bool> GroupRecorded(StateStore& store, const std::string& id, const OwnedGroup& group);
Status SaveState(StateStore& store, const EnforcedState& state);

// Saves `state` over what the store holds now, so that concurrent runs (Lambda instances, workers
// on one S3 prefix) do not erase each other's records: the stored targets are kept except those
// in `changed`, which take `state`'s; the groups are the union of both, less `forgotten` (groups
// found deleted, whose records are removed); `applied_in` is `state`'s when it has one.
Status MergeAndSaveState(StateStore& store, const EnforcedState& state, const std::vector<std::string>& changed,
                         const std::vector<std::string>& forgotten);
Status SaveSnapshot(StateStore& store, const std::string& bundle, const std::string& digest);

}  // namespace moat::store
