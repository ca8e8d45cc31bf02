// IsFlowLogObject: which objects of a listing are flow logs — the one rule for S3 listings, S3
// event notifications and local directory walks. A flow log's name ends `.log` or `.log.gz`
// (case matters: AWS writes lowercase), and it is not inside moat's own directory: `moat/` at the
// root, where moat keeps its state, audit and flow history (s3://<bucket>/moat/state/, moat/audit/,
// moat/flows/<key>.jsonl.gz) and where its default local state directory ($XDG_STATE_HOME/moat)
// sits. A `moat` directory deeper down is anybody's. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace moat::flowlog {

// `name` is relative to the root: an S3 object's key (from the bucket's root, whatever prefix was
// listed), or a file's path below the directory being walked, '/'-separated. An object named
// explicitly (a file argument, the exact key listed) is read whatever its name; this is for the
// objects found by listing.
bool IsFlowLogObject(std::string_view name);

// The account and region whose flow log an object is, from its name — AWS names every flow-log
// file "<account>_vpcflowlogs_<region>_<flow log id>_<time>_<hash>.log.gz", under
// AWSLogs/<account>/vpcflowlogs/<region>/<yyyy>/<mm>/<dd>/[<hh>/] (the Control Tower log archive's
// layout too, after any prefix), or its Hive form
// AWSLogs/aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/…. The file name
// decides; a directory that names another account or region makes the name ambiguous (nullopt),
// as does a name that follows neither form.
struct ObjectPlace {
  std::string account, region;
  friend bool operator==(const ObjectPlace&, const ObjectPlace&) = default;
};
std::optional<ObjectPlace> PlaceOfObject(std::string_view name);

}  // namespace moat::flowlog
