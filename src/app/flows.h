// RunFlows: `moat flows` — resolve sources into objects, read them on a pool of threads (one
// flow table per thread, merged at the end), and report. Sources are local paths, directories and
// `-` (stdin); further stores (s3://) plug in through Deps. Input errors are counted in the
// report, never returned; an Error means the request itself could not run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/byte_stream.h"
#include "base/result.h"
#include "traffic/report.h"

namespace moat::app {

struct FlowsRequest {
  std::vector<std::string> sources;     // paths, directories, "-", s3://bucket/prefix
  unsigned threads = 0;                 // 0: one per core
  std::vector<uint16_t> service_ports;  // in addition to ports below 1024
  bool exact = false;                   // each source names one object: opened as it is, not listed
  // Keep the flows of different network interfaces apart (the flow history): each report's
  // `interface_of` and `interfaces` say which logged each flow.
  bool interfaces = false;
};

struct FlowsDeps {
  ObjectStore* local = nullptr;                           // files and directories
  std::unique_ptr<ByteStream> (*open_stdin)() = nullptr;  // for "-"
  ObjectStore* s3 = nullptr;                              // for s3://bucket/prefix; nullptr: refused
};

Result<traffic::FlowsReport> RunFlows(const FlowsRequest& request, const FlowsDeps& deps);

}  // namespace moat::app
