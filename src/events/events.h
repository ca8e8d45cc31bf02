// The events moat runs for, as they reach the Lambda function or the SQS worker, turned into work:
//   - S3 object-created notifications (`Records[]` with eventSource aws:s3; keys are
//     form-URL-encoded), also wrapped in SQS records (`aws:sqs`, the notification in `body`) or in
//     an SNS envelope (`Type: Notification`, the notification in `Message`), and the EventBridge
//     "Object Created" shape; `s3:TestEvent` is ignored;
//   - EventBridge CloudTrail events ("AWS API Call via CloudTrail") of the calls that can change a
//     database's access: AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress,
//     ModifySecurityGroupRules (-> the group), ModifyDBInstance, ModifyDBCluster (-> the database);
//   - scheduled events (-> every database);
//   - moat's own reconcile message, {"moat": "reconcile", "account": "<12 digits>", "region": "…"}
//     (one per account-region of a scheduled run over several: app/handle.h) -> every database there.
// An EventBridge event names where it happened ("account", "region": a member account's event
// forwarded to a central bus keeps its own), and a flow-log object's name does (its account and
// region: flowlog::PlaceOfObject); a run over several accounts and regions does the work there.
// S3 objects are accepted only from the configured flow-log buckets (Sources): an object of any
// other bucket, of a malformed bucket name, or whose key has an empty, `.` or `..` path segment is
// refused — one line naming where in the event and why — and never read; with no bucket
// configured every S3 object is refused (fail closed). A refusal is a decision, not a failure of
// the event. Objects that are not flow logs by flowlog::IsFlowLogObject (not ending
// `.log`/`.log.gz`, or under the bucket's own `moat/`) are ignored, and said so. Anything else is
// invalid input with a one-line error naming where in the event.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace moat::events {

struct ObjectRef {
  std::string bucket, key;      // the key decoded
  int64_t size = -1;            // -1: not given
  std::string account, region;  // whose flow log it is, by its name; empty when the name does not say

  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

// Where S3 objects may come from (--flow-log-bucket): bucket names, each valid (CheckBucketName).
struct Sources {
  std::vector<std::string> buckets;  // empty: every S3 object is refused
};

struct EventWork {
  std::vector<ObjectRef> objects;      // new flow-log objects, in event order, without repeats
  std::vector<std::string> databases;  // DBInstanceIdentifier, or cluster/<DBClusterIdentifier>
  std::vector<std::string> groups;     // security group ids
  bool reconcile_all = false;          // a scheduled run (or a reconcile message)
  // The same work by where it happened ("account/region"), for the events that say so: the
  // CloudTrail calls and the reconcile messages (a schedule is every place's).
  struct Placed {
    std::vector<std::string> databases, groups;
    bool reconcile_all = false;
  };
  std::map<std::string, Placed> placed;
  std::vector<std::string> ignored;  // what was left aside, and why
  std::vector<std::string> refused;  // S3 objects refused, one line each: where in the event, and why

  bool empty() const { return objects.empty() && databases.empty() && groups.empty() && !reconcile_all; }
};

// `where` names the event in errors and refusals ("event", "sqs message 4f1c…").
Result<EventWork> ParseEvent(std::string_view json, std::string_view where, const Sources& sources);

// An S3 bucket name by today's naming rules: 3 to 63 characters of lowercase letters, digits, '.'
// and '-', beginning and ending with a letter or a digit, no "..", not shaped like an IPv4
// address, none of the reserved prefixes (xn--, sthree-) and suffixes (-s3alias, --ol-s3).
// The error says what is wrong, without the name.
Status CheckBucketName(std::string_view name);

// An object key moat may name in a request: not empty, and no empty, `.` or `..` path segment
// (a request path with those could be read as another object's). The error says which.
Status CheckObjectKey(std::string_view key);

// Form-URL decoding of an S3 event key: '+' is a space, %XX a byte. Malformed escapes stay as
// they are.
std::string DecodeS3Key(std::string_view key);

}  // namespace moat::events
