// Initiator inference (DESIGN.md §8), per record, nothing joined across records:
// tcp-flags 2 or 3 (SYN, SYN|FIN) -> the source initiated; 18 or 19 (SYN-ACK) -> the source
// responded. Otherwise the side whose port is a service port responds; failing that the side
// with the lower port; failing that the destination. Pure; ServicePorts is immutable once built.
#pragma once

#include <bitset>
#include <cstdint>
#include <vector>

#include "flowlog/record.h"
#include "traffic/flow.h"

namespace moat::traffic {

class ServicePorts {
 public:
  // Ports below 1024 plus `extra` (targets' ports, --service-port).
  explicit ServicePorts(const std::vector<uint16_t>& extra = {});
  bool Contains(uint16_t port) const { return ports_[port]; }

 private:
  std::bitset<65536> ports_;
};

// The key this record aggregates under.
FlowKey KeyOf(const flowlog::Record& r, const ServicePorts& service_ports);

}  // namespace moat::traffic
