// IsFlowLogObject: which objects of a listing are flow logs — the one rule for S3 listings, S3
// event notifications and local directory walks. A flow log's name ends `.log` or `.log.gz`
// (case matters: AWS writes lowercase), and it is not inside moat's own directory: `moat/` at the
// root, where moat keeps its state, audit and flow history (s3://<bucket>/moat/state/, moat/audit/,
// moat/flows/<key>.jsonl.gz) and where its default local state directory ($XDG_STATE_HOME/moat)
// sits. A `moat` directory deeper down is anybody's. Pure.
#pragma once

#include <string_view>

namespace moat::flowlog {

// `name` is relative to the root: an S3 object's key (from the bucket's root, whatever prefix was
// listed), or a file's path below the directory being walked, '/'-separated. An object named
// explicitly (a file argument, the exact key listed) is read whatever its name; this is for the
// objects found by listing.
bool IsFlowLogObject(std::string_view name);

}  // namespace moat::flowlog
