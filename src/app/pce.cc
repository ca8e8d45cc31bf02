#include "app/pce.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <tuple>

#include "aws/secrets.h"

namespace moat::app {

Result<pce::Config> PceConfig(const PceDeps& deps) {
  // An API secret given as a Secrets Manager ARN is read from there.
  std::string secret;
  if (const char* v = deps.getenv("ILLUMIO_API_KEY_SECRET"); v != nullptr && aws::IsSecretArn(v)) {
    if (!deps.secret)
      return Fail(InvalidInput("ILLUMIO_API_KEY_SECRET names a Secrets Manager secret, but AWS is not available"));
    auto value = deps.secret(v);
    if (!value) return Fail(std::move(value).error().Context("ILLUMIO_API_KEY_SECRET"));
    secret = std::move(*value);
  }
  const auto getenv = [&](const char* name) -> const char* {
    if (!secret.empty() && std::string_view(name) == "ILLUMIO_API_KEY_SECRET") return secret.c_str();
    return deps.getenv(name);
  };
  return pce::Config::FromEnvironment(getenv);
}

PceConnection ConnectPce(pce::Config config, const PceDeps& deps) {
  PceConnection c;
  c.transport = deps.transport(config.tls);
  c.client = std::make_unique<pce::Client>(std::move(config), *c.transport,
                                           deps.clock != nullptr ? *deps.clock : SystemClock());
  c.client->SetDeadline(deps.deadline_ms);
  return c;
}

Result<PceConnection> ConnectPce(const PceDeps& deps) {
  auto config = PceConfig(deps);
  if (!config) return Fail(std::move(config).error());
  return ConnectPce(std::move(*config), deps);
}

Result<policy::Policy> FetchPcePolicy(const std::string& version, const PceDeps& deps) {
  auto c = ConnectPce(deps);
  if (!c) return Fail(std::move(c).error());
  return c->client->FetchPolicy(version);
}

Result<std::string> FetchPceBundle(const std::string& version, const PceDeps& deps) {
  auto c = ConnectPce(deps);
  if (!c) return Fail(std::move(c).error());
  return c->client->ExportBundle(version);
}

Result<size_t> RunPceExport(const PceExportRequest& req, const PceDeps& deps) {
  if (req.out.empty()) return Fail(InvalidInput("--out FILE is required"));
  auto c = ConnectPce(deps);
  if (!c) return Fail(std::move(c).error());
  auto bundle = c->client->ExportBundle(req.version);
  if (!bundle) return Fail(std::move(bundle).error());
  const std::string tmp = req.out + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bundle->data(), static_cast<std::streamsize>(bundle->size()));
    if (!out.flush()) return Fail(InvalidInput(tmp + ": cannot write"));
  }
  if (std::rename(tmp.c_str(), req.out.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Fail(InvalidInput(req.out + ": cannot write"));
  }
  return bundle->size();
}

Result<pce::UploadResult> UploadToPce(const std::vector<std::string>& lines, const PceDeps& deps) {
  auto c = ConnectPce(deps);
  if (!c) return Fail(std::move(c).error());
  return c->client->UploadFlows(lines);
}

std::vector<std::string> UploadLines(const std::vector<traffic::Flow>& flows, bool include_rejected) {
  std::set<std::tuple<net::Address, net::Address, uint16_t, uint8_t>> seen;
  std::vector<std::string> out;
  for (const traffic::Flow& f : flows) {
    if (f.key.action == flowlog::Action::kReject && !include_rejected) continue;
    if (!seen.emplace(f.key.initiator, f.key.responder, f.key.port, f.key.protocol).second) continue;
    out.push_back(net::ToString(f.key.initiator) + "," + net::ToString(f.key.responder) + "," +
                  std::to_string(f.key.port) + "," + std::to_string(f.key.protocol));
  }
  return out;
}

Result<PceUploadReport> RunPceUpload(const PceUploadRequest& req, const FlowsDeps& flows_deps, const PceDeps& deps) {
  auto c = ConnectPce(deps);  // before reading: a missing configuration is found at once
  if (!c) return Fail(std::move(c).error());
  auto flows = RunFlows(req.flows, flows_deps);
  if (!flows) return Fail(std::move(flows).error());
  PceUploadReport report;
  report.flows = std::move(*flows);
  if (report.flows.stats.files_read == 0) return Fail(InvalidInput("nothing could be read from the sources"));
  auto uploaded = c->client->UploadFlows(UploadLines(report.flows.flows, req.include_rejected));
  if (!uploaded) return Fail(std::move(uploaded).error());
  report.upload = std::move(*uploaded);
  return report;
}

}  // namespace moat::app
