#include "flowlog/header.h"

#include <algorithm>

namespace moat::flowlog {

const std::vector<std::string_view>& KnownFieldNames() {
  static const std::vector<std::string_view> kNames = {
      // version 2
      "version",
      "account-id",
      "interface-id",
      "srcaddr",
      "dstaddr",
      "srcport",
      "dstport",
      "protocol",
      "packets",
      "bytes",
      "start",
      "end",
      "action",
      "log-status",
      // version 3
      "vpc-id",
      "subnet-id",
      "instance-id",
      "tcp-flags",
      "type",
      "pkt-srcaddr",
      "pkt-dstaddr",
      // version 4
      "region",
      "az-id",
      "sublocation-type",
      "sublocation-id",
      // version 5
      "pkt-src-aws-service",
      "pkt-dst-aws-service",
      "flow-direction",
      "traffic-path",
      // version 7
      "ecs-cluster-arn",
      "ecs-cluster-name",
      "ecs-container-instance-arn",
      "ecs-container-instance-id",
      "ecs-container-id",
      "ecs-second-container-id",
      "ecs-service-name",
      "ecs-task-definition-arn",
      "ecs-task-arn",
      "ecs-task-id",
      // version 8
      "reject-reason",
  };
  return kNames;
}

namespace {

struct SlotName {
  std::string_view name;
  Slot slot;
};

constexpr SlotName kUsed[] = {
    {"version", Slot::kVersion},
    {"srcaddr", Slot::kSrcAddr},
    {"dstaddr", Slot::kDstAddr},
    {"srcport", Slot::kSrcPort},
    {"dstport", Slot::kDstPort},
    {"protocol", Slot::kProtocol},
    {"packets", Slot::kPackets},
    {"bytes", Slot::kBytes},
    {"start", Slot::kStart},
    {"end", Slot::kEnd},
    {"action", Slot::kAction},
    {"log-status", Slot::kLogStatus},
    {"tcp-flags", Slot::kTcpFlags},
    {"pkt-srcaddr", Slot::kPktSrcAddr},
    {"pkt-dstaddr", Slot::kPktDstAddr},
    {"flow-direction", Slot::kFlowDirection},
    {"interface-id", Slot::kInterfaceId},
};

// The fields without which a record is not a flow.
constexpr SlotName kRequired[] = {
    {"srcaddr", Slot::kSrcAddr}, {"dstaddr", Slot::kDstAddr},   {"srcport", Slot::kSrcPort},
    {"dstport", Slot::kDstPort}, {"protocol", Slot::kProtocol},
};

bool IsNameWord(std::string_view t) {
  if (t.empty() || t[0] < 'a' || t[0] > 'z') return false;
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool IsKnown(std::string_view t) {
  const auto& names = KnownFieldNames();
  return std::find(names.begin(), names.end(), t) != names.end();
}

template <typename F>
void ForEachToken(std::string_view line, F&& f) {
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) f(line.substr(i, j - i));
    i = j;
  }
}

}  // namespace

bool Header::Has(Slot s) const { return std::find(slots.begin(), slots.end(), s) != slots.end(); }

bool LooksLikeHeader(std::string_view line) {
  bool all_words = true, any_known = false;
  ForEachToken(line, [&](std::string_view t) {
    all_words = all_words && IsNameWord(t);
    any_known = any_known || IsKnown(t);
  });
  return all_words && any_known;
}

Header ParseHeader(std::string_view line) {
  Header h;
  ForEachToken(line, [&](std::string_view t) {
    Slot slot = IsKnown(t) ? Slot::kOther : Slot::kUnknown;
    for (const auto& u : kUsed) {
      if (u.name == t) slot = u.slot;
    }
    if (slot == Slot::kUnknown) h.unknown.emplace_back(t);
    h.slots.push_back(slot);
    h.names.emplace_back(t);
  });
  for (const auto& r : kRequired) {
    if (!h.Has(r.slot)) h.missing.emplace_back(r.name);
  }
  return h;
}

}  // namespace moat::flowlog
