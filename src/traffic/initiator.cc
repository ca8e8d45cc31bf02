#include "traffic/initiator.h"

namespace moat::traffic {

ServicePorts::ServicePorts(const std::vector<uint16_t>& extra) {
  for (uint32_t p = 0; p < 1024; ++p) ports_.set(p);
  for (uint16_t p : extra) ports_.set(p);
}

namespace {

// True when the record's source is the side that responded. Written without branches on the
// ports: which side of a record is the client is close to random in a flow log, so a branch
// here would be mispredicted about every other record.
inline bool SourceResponds(const flowlog::Record& r, const ServicePorts& sp) {
  if (r.protocol == 6 && r.tcp_flags != flowlog::kNoFlags) {
    if (r.tcp_flags == 2 || r.tcp_flags == 3) return false;
    if (r.tcp_flags == 18 || r.tcp_flags == 19) return true;
  }
  const bool src_service = sp.Contains(r.src_port);
  const bool dst_service = sp.Contains(r.dst_port);
  const bool by_service = src_service & !dst_service;
  const bool by_port = (src_service == dst_service) & (r.src_port < r.dst_port);
  return by_service | by_port;
}

inline net::Address Select(bool first, const net::Address& a, const net::Address& b) {
  const uint64_t m = 0 - static_cast<uint64_t>(first);
  net::Address out;
  out.hi = (a.hi & m) | (b.hi & ~m);
  out.lo = (a.lo & m) | (b.lo & ~m);
  out.family = static_cast<net::Family>((static_cast<uint8_t>(a.family) & m) | (static_cast<uint8_t>(b.family) & ~m));
  return out;
}

}  // namespace

FlowKey KeyOf(const flowlog::Record& r, const ServicePorts& sp) {
  const bool swap = SourceResponds(r, sp);
  FlowKey k;
  k.protocol = r.protocol;
  k.action = r.action;
  k.initiator = Select(swap, r.dst, r.src);
  k.responder = Select(swap, r.src, r.dst);
  k.port = swap ? r.src_port : r.dst_port;
  return k;
}

}  // namespace moat::traffic
