// The PCE commands: `moat pce export` (the policy of one version as a bundle file) and
// `moat pce upload-flows` (deduplicated flows from flow logs to the bulk traffic loader), and the
// PCE as a policy source. The PCE is reached with the ILLUMIO_* environment (pce::Config).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "app/flows.h"
#include "base/result.h"
#include "http/transport.h"
#include "pce/client.h"
#include "policy/model.h"

namespace moat::app {

struct PceDeps {
  std::function<const char*(const char*)> getenv;
  // Makes the transport for the PCE's TLS settings (the real one: http::NewCurlTransport).
  std::function<std::unique_ptr<http::Transport>(const http::TlsOptions&)> transport;
  Clock* clock = nullptr;   // the PCE client's waits; nullptr: the system clock
  int64_t deadline_ms = 0;  // unix ms on that clock by which every PCE request must be answered; 0: none
  // Reads a Secrets Manager secret: ILLUMIO_API_KEY_SECRET may hold its ARN (the Lambda's way).
  std::function<Result<std::string>(const std::string& arn)> secret;
};

// A client of the PCE the environment names (an ILLUMIO_API_KEY_SECRET that is a Secrets
// Manager ARN is read first), with the transport it owns.
struct PceConnection {
  std::unique_ptr<http::Transport> transport;
  std::unique_ptr<pce::Client> client;
};
Result<PceConnection> ConnectPce(const PceDeps& deps);
// The PCE's settings from the environment, the secret read from Secrets Manager when it is an ARN.
Result<pce::Config> PceConfig(const PceDeps& deps);
// A client of the PCE `config` names, with its deadline (deps.deadline_ms) and clock.
PceConnection ConnectPce(pce::Config config, const PceDeps& deps);

Result<policy::Policy> FetchPcePolicy(const std::string& version, const PceDeps& deps);
// The PCE's policy of `version` as policy bundle text (what `moat pce export` writes).
Result<std::string> FetchPceBundle(const std::string& version, const PceDeps& deps);

struct PceExportRequest {
  std::string out;  // the file to write
  std::string version = "active";
};
// Writes the bundle (atomically: a temporary file renamed over `out`). Returns its size.
Result<size_t> RunPceExport(const PceExportRequest& request, const PceDeps& deps);

struct PceUploadRequest {
  FlowsRequest flows;             // where the flow logs are
  bool include_rejected = false;  // REJECT flows too (the PCE shows them as traffic)
};
struct PceUploadReport {
  traffic::FlowsReport flows;  // what was read
  pce::UploadResult upload;
};
Result<PceUploadReport> RunPceUpload(const PceUploadRequest& request, const FlowsDeps& flows_deps, const PceDeps& deps);

// Sends distinct flow lines to the PCE's bulk traffic loader.
Result<pce::UploadResult> UploadToPce(const std::vector<std::string>& lines, const PceDeps& deps);

// "source_ip,destination_ip,destination_port,protocol" lines, one per distinct 4-tuple, in flow order.
std::vector<std::string> UploadLines(const std::vector<traffic::Flow>& flows, bool include_rejected);

}  // namespace moat::app
