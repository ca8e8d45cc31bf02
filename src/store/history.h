// Flow history: what one flow-log object held, kept next to it by the event handlers as
// s3://<bucket>/moat/flows/<key>.jsonl.gz — gzip JSON Lines: a first line
// {"source": "s3://…", "totals": {…}} (the totals of `moat flows --json`), then one line per flow,
// each the object of `moat flows --json`'s flows[]. Written compressed as it is rendered, so its
// memory is a fraction of the flows'.
#pragma once

#include <string>

#include "base/result.h"
#include "traffic/report.h"

namespace moat::store {

Result<std::string> FlowHistory(const traffic::FlowsReport& report, const std::string& source);

}  // namespace moat::store
