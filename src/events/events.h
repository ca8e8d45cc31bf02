// The events moat runs for, as they reach the Lambda function or the SQS worker, turned into work:
//   - S3 object-created notifications (`Records[]` with eventSource aws:s3; keys are
//     form-URL-encoded), also wrapped in SQS records (`aws:sqs`, the notification in `body`) or in
//     an SNS envelope (`Type: Notification`, the notification in `Message`), and the EventBridge
//     "Object Created" shape; `s3:TestEvent` is ignored;
//   - EventBridge CloudTrail events ("AWS API Call via CloudTrail") of the calls that can change a
//     database's access: AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress,
//     ModifySecurityGroupRules (-> the group), ModifyDBInstance, ModifyDBCluster (-> the database);
//   - scheduled events (-> every database).
// Objects that are not flow logs by flowlog::IsFlowLogObject (not ending `.log`/`.log.gz`, or
// under the bucket's own `moat/`) are ignored, and said so. Anything else is invalid input with a one-line error naming
// where in the event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace moat::events {

struct ObjectRef {
  std::string bucket, key;  // the key decoded
  int64_t size = -1;        // -1: not given

  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
};

struct EventWork {
  std::vector<ObjectRef> objects;      // new flow-log objects, in event order, without repeats
  std::vector<std::string> databases;  // DBInstanceIdentifier, or cluster/<DBClusterIdentifier>
  std::vector<std::string> groups;     // security group ids
  bool reconcile_all = false;          // a scheduled run
  std::vector<std::string> ignored;    // what was left aside, and why

  bool empty() const { return objects.empty() && databases.empty() && groups.empty() && !reconcile_all; }
};

// `where` names the event in errors ("event", "sqs message 4f1c…").
Result<EventWork> ParseEvent(std::string_view json, std::string_view where);

// Form-URL decoding of an S3 event key: '+' is a space, %XX a byte. Malformed escapes stay as
// they are.
std::string DecodeS3Key(std::string_view key);

}  // namespace moat::events
