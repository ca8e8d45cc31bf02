#include "traffic/initiator.h"

namespace moat::traffic {

ServicePorts::ServicePorts(const std::vector<uint16_t>& extra) {
  for (uint32_t p = 0; p < 1024; ++p) ports_.set(p);
  for (uint16_t p : extra) ports_.set(p);
}

namespace {

// True when the record's source is the side that responded.
bool SourceResponds(const flowlog::Record& r, const ServicePorts& sp) {
  if (r.protocol == 6 && r.tcp_flags != flowlog::kNoFlags) {
    if (r.tcp_flags == 2 || r.tcp_flags == 3) return false;
    if (r.tcp_flags == 18 || r.tcp_flags == 19) return true;
  }
  const bool src_service = sp.Contains(r.src_port);
  const bool dst_service = sp.Contains(r.dst_port);
  if (src_service != dst_service) return src_service;
  if (r.src_port != r.dst_port) return r.src_port < r.dst_port;
  return false;
}

}  // namespace

FlowKey KeyOf(const flowlog::Record& r, const ServicePorts& sp) {
  FlowKey k;
  k.protocol = r.protocol;
  k.action = r.action;
  if (SourceResponds(r, sp)) {
    k.initiator = r.dst;
    k.responder = r.src;
    k.port = r.src_port;
  } else {
    k.initiator = r.src;
    k.responder = r.dst;
    k.port = r.dst_port;
  }
  return k;
}

}  // namespace moat::traffic
