// IANA protocol numbers by name, for people: "tcp", "udp", "icmp", "icmpv6", "all" for -1 (every
// protocol, as the PCE writes it), else the number.
#pragma once

#include <string>

namespace moat::net {

inline std::string ProtocolName(int protocol) {
  switch (protocol) {
    case -1:
      return "all";
    case 1:
      return "icmp";
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 58:
      return "icmpv6";
    default:
      return std::to_string(protocol);
  }
}

}  // namespace moat::net
