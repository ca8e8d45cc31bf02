// Flow: the aggregate of records of one conversation shape — key (initiator, responder, responder
// port, protocol, action) with records, packets, bytes, first and last seen. Values.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "flowlog/record.h"
#include "net/address.h"

namespace moat::traffic {

struct FlowKey {
  net::Address initiator;
  net::Address responder;
  uint16_t port = 0;  // the responder's port
  uint8_t protocol = 0;
  flowlog::Action action = flowlog::Action::kNone;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
  friend auto operator<=>(const FlowKey&, const FlowKey&) = default;
};

struct FlowCounts {
  uint64_t records = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t first = flowlog::kNoTime;  // earliest start; kNoTime when the input has no times
  int64_t last = flowlog::kNoTime;   // latest end

  void Add(const FlowCounts& o) {
    records += o.records;
    packets += o.packets;
    bytes += o.bytes;
    if (o.first != flowlog::kNoTime && (first == flowlog::kNoTime || o.first < first)) first = o.first;
    if (o.last != flowlog::kNoTime && (last == flowlog::kNoTime || o.last > last)) last = o.last;
  }
};

struct Flow {
  FlowKey key;
  FlowCounts counts;
};

// Where the flows of a history were logged: the account and region whose flow log each came
// from, as "<account>/<region>" (flowlog::PlaceOfObject), or "" when its object's name said
// neither; and the network interface that logged it ("eni-..."), or "" when its log's format has
// no interface-id. `of` and `interface_of` are parallel to the flows and index `names` and
// `interfaces`; empty, every flow's place (or interface) is "".
struct FlowPlaces {
  std::vector<std::string> names{""};  // names[0] is ""
  std::vector<uint32_t> of;
  std::vector<std::string> interfaces{""};  // interfaces[0] is ""
  std::vector<uint32_t> interface_of{};

  const std::string& Of(size_t flow) const { return of.empty() ? names[0] : names[of[flow]]; }
  uint32_t InterfaceOf(size_t flow) const { return interface_of.empty() ? 0 : interface_of[flow]; }
  // Whether any flow names its place.
  bool Named() const { return names.size() > 1; }
};

}  // namespace moat::traffic
