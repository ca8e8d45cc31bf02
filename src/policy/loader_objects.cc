// The policy objects other than rules: labels, label groups, workloads, virtual services, service
// bindings, IP lists and services. A value moat cannot read becomes the object's problem (the
// rules that use the object fail their targets); only an object that cannot be named (no href)
// stops the load.
#include "base/strings.h"
#include "policy/loader_state.h"

namespace moat::policy {
namespace {

using J = JsonPath;

uint16_t Port(const J& j) {
  const int64_t v = j.Int();
  if (v < 0 || v > 65535) j.Fail("port out of range 0-65535: " + std::to_string(v));
  return static_cast<uint16_t>(v);
}

net::Address ParseAddr(const J& j) {
  const std::string s = j.Str();
  auto a = net::ParseAddress(s);
  if (!a) j.Fail("not an IP address: " + Quote(s));
  return *a;
}

bool IsLoopbackOrLinkLocal(const net::Address& a) {
  if (a.is_v4()) return (a.lo >> 24) == 127;
  if (a.hi == 0 && a.lo == 1) return true;  // ::1
  return (a.hi >> 54) == (0xfe80ULL >> 6);  // fe80::/10
}

// The protocol of a port override: an IANA number.
int Protocol(const J& j) {
  const int64_t v = j.Int();
  if (v < 0 || v > 255) j.Fail("protocol out of range 0-255: " + std::to_string(v));
  return static_cast<int>(v);
}

int IcmpField(const J& j, std::string_view key) {
  auto v = j.Find(key);
  if (!v) return -1;
  const int64_t n = v->Int();
  if (n < 0 || n > 255) v->Fail("out of range 0-255: " + std::to_string(n));
  return static_cast<int>(n);
}

std::vector<std::string> LabelHrefs(const J& obj) {
  std::vector<std::string> out;
  for (const J& l : obj.ArrOr("labels")) out.push_back(l.At("href").Str());
  return out;
}

}  // namespace

// Illumio's service port: `proto` -1 (all traffic) or an IANA number; `port` and `to_port` (0-65535,
// to_port not below port) for TCP and UDP only; `icmp_type` and `icmp_code` for ICMP and ICMPv6
// only. Anything else, -1 as a port included, is refused: read loosely it could only widen.
PortSpec ParsePortSpec(const J& j) {
  PortSpec s;
  const J proto = j.At("proto");
  const int64_t p = proto.Int();
  if (p < -1 || p > 255) proto.Fail("protocol out of range -1-255: " + std::to_string(p));
  s.protocol = static_cast<int>(p);
  const auto port = j.Find("port"), to = j.Find("to_port");
  if (IsIcmp(s.protocol)) {
    if (port || to) (port ? *port : *to).Fail("ICMP has types and codes (icmp_type, icmp_code), not ports");
    const int type = IcmpField(j, "icmp_type"), code = IcmpField(j, "icmp_code");
    if (type < 0 && code >= 0) j.Fail("icmp_code without icmp_type");
    s.ports = IcmpRange(type, code);
    return s;
  }
  for (const char* key : {"icmp_type", "icmp_code"}) {
    if (auto v = j.Find(key)) v->Fail("only ICMP (proto 1) and ICMPv6 (proto 58) have types and codes");
  }
  if (port || to) {
    if (s.protocol != 6 && s.protocol != 17) {
      (port ? *port : *to).Fail("only TCP (proto 6) and UDP (proto 17) have ports; proto is " + std::to_string(p));
    }
    if (!port) to->Fail("to_port without port");
    s.ports.from = s.ports.to = Port(*port);
    if (to) {
      s.ports.to = Port(*to);
      if (s.ports.to < s.ports.from) to->Fail("to_port is below port");
    }
  }
  return s;
}

void PolicyBuilder::State::AddLabel(const J& j) {
  CheckProperties("label", j);
  Label l;
  l.href = j.Href();
  Try(l.problem, j.path(), [&] {
    l.deleted = j.BoolOr("deleted", false);
    l.key = j.At("key").Str();
    l.value = j.At("value").Str();
  });
  policy.labels.push_back(std::move(l));
}

void PolicyBuilder::State::AddLabelGroup(const J& j) {
  if (!Selected(j)) return;
  CheckProperties("label_group", j);
  const size_t index = policy.label_groups.size();
  LabelGroup g;
  g.href = j.Href();
  Try(g.problem, j.path(), [&] {
    g.name = j.StrOr("name");
    g.key = j.StrOr("key");
    g.labels = LabelHrefs(j);
    const auto subs = j.ArrOr("sub_groups");
    for (size_t i = 0; i < subs.size(); ++i) {
      g.sub_groups.push_back(Need(RefKind::kGroup, subs[i].At("href"), {Owner::kLabelGroup, index},
                                  "sub_groups[" + std::to_string(i) + "]"));
    }
  });
  policy.label_groups.push_back(std::move(g));
}

void PolicyBuilder::State::AddWorkload(const J& j) {
  CheckProperties("workload", j);
  if (j.BoolOr("deleted", false)) {
    deleted_workloads.insert(j.Href());
    return;
  }
  Workload w;
  w.href = j.Href();
  // The name and labels first and on their own: they decide what selects it, even when one of
  // its interfaces cannot be read.
  Try(w.problem, j.path(), [&] {
    w.name = j.StrOr("name");
    w.hostname = j.StrOr("hostname");
    w.managed = j.Find("ven").has_value() || j.Find("agent").has_value();
  });
  Try(w.problem, j.path(), [&] { w.labels = LabelHrefs(j); });
  Try(w.problem, j.path(), [&] {
    for (const J& i : j.ArrOr("interfaces")) {
      CheckProperties("interface", i);
      if (i.BoolOr("loopback", false)) continue;
      auto addr = i.Find("address");
      if (!addr) continue;
      const net::Address a = ParseAddr(*addr);
      if (IsLoopbackOrLinkLocal(a)) continue;
      w.addresses.Add(a);
      if (auto bits = i.Find("cidr_block")) {
        const int64_t n = bits->Int();
        if (n < 0 || n > (a.is_v4() ? 32 : 128)) bits->Fail("not a prefix length of the address: " + std::to_string(n));
        w.subnets.Add(net::PrefixOf(a, static_cast<int>(n)));
      } else {
        w.subnets.Add(a);
        ++w.without_subnet;
      }
    }
  });
  policy.workloads.push_back(std::move(w));
}

void PolicyBuilder::State::AddVirtualService(const J& j) {
  if (!Selected(j)) return;
  CheckProperties("virtual_service", j);
  const size_t index = policy.virtual_services.size();
  VirtualService vs;
  vs.href = j.Href();
  Try(vs.problem, j.path(), [&] {
    vs.name = j.StrOr("name");
    vs.labels = LabelHrefs(j);
  });
  Try(vs.problem, j.path(), [&] {
    for (const J& p : j.ArrOr("service_ports")) {
      CheckProperties("service_port", p);
      vs.ports.push_back(ParsePortSpec(p));
    }
    if (auto s = j.Find("service")) {
      vs.service = Need(RefKind::kService, s->At("href"), {Owner::kVirtualService, index}, "service");
      vs_services.emplace_back(index, vs.service);
    }
  });
  Try(vs.problem, j.path(), [&] {
    for (const J& a : j.ArrOr("service_addresses")) {
      CheckProperties("service_address", a);
      ServiceAddress sa;
      sa.fqdn = a.StrOr("fqdn");
      if (auto ip = a.Find("ip")) sa.ip = ParseAddr(*ip);
      vs.addresses.push_back(std::move(sa));
    }
  });
  policy.virtual_services.push_back(std::move(vs));
}

void PolicyBuilder::State::AddServiceBinding(const J& j) {
  CheckProperties("service_binding", j);
  const size_t index = policy.service_bindings.size();
  ServiceBinding b;
  b.href = j.StrOr("href");
  // The virtual service: `virtual_service` (what the PCE takes on create and usually returns),
  // else `bound_service` (the name the published GET schema gives it).
  std::optional<J> vs = j.Find("virtual_service");
  std::string vs_field = "virtual_service";
  if (!vs) {
    vs = j.Find("bound_service");
    vs_field = "bound_service";
  }
  if (!vs) {  // binds nothing any rule can name
    policy.warnings.push_back(where + ": " + j.path() +
                              ": a service binding without virtual_service or bound_service; ignored");
    return;
  }
  b.virtual_service = HrefId(vs->At("href").Str());
  Try(b.problem, j.path(), [&] {
    if (auto w = j.Find("workload")) {
      b.workload = w->At("href").Str();
      refs.push_back({RefKind::kWorkload, b.workload, "workload", b.workload, {Owner::kBinding, index}});
    } else if (auto c = j.Find("container_workload")) {
      b.container_workload = c->At("href").Str();
    } else {
      j.Fail("binds neither a workload nor a container_workload");
    }
    for (const J& o : j.ArrOr("port_overrides")) {
      CheckProperties("port_override", o);
      PortOverride po;
      if (auto proto = o.Find("proto")) po.protocol = Protocol(*proto);
      po.port = Port(o.At("port"));
      po.to.from = po.to.to = Port(o.At("new_port"));
      if (auto to = o.Find("new_to_port")) po.to.to = Port(*to);
      if (po.to.to < po.to.from) o.Fail("new_to_port is below new_port");
      b.overrides.push_back(po);
    }
  });
  refs.push_back(
      {RefKind::kVirtualService, b.virtual_service, vs_field, vs->At("href").Str(), {Owner::kBinding, index}});
  policy.service_bindings.push_back(std::move(b));
}

void PolicyBuilder::State::AddIpList(const J& j) {
  if (!Selected(j)) return;
  CheckProperties("ip_list", j);
  IpList l;
  l.href = j.Href();
  Try(l.problem, j.path(), [&] {
    l.name = j.StrOr("name");
    net::AddressSet excluded;
    for (const J& r : j.ArrOr("ip_ranges")) {
      CheckProperties("ip_range", r);
      const J from = r.At("from_ip");
      net::AddressSet range;
      if (auto to = r.Find("to_ip")) {
        const net::Address a = ParseAddr(from), b = ParseAddr(*to);
        if (a.family != b.family || b < a) to->Fail("to_ip is below from_ip or of another family");
        range.AddRange(a, b);
      } else {
        const std::string s = from.Str();
        auto p = net::ParsePrefix(s);
        if (!p) from.Fail("not an IP address or CIDR: " + Quote(s));
        range.Add(*p);
      }
      (r.BoolOr("exclusion", false) ? excluded : l.addresses).Add(range);
    }
    l.addresses.Subtract(excluded);
    for (const J& f : j.ArrOr("fqdns")) {
      CheckProperties("fqdn", f);
      l.fqdns.push_back(f.At("fqdn").Str());
    }
  });
  policy.ip_lists.push_back(std::move(l));
}

// A service's ports and what they are limited to. Windows services with a port are ports with a
// qualifier; one without a port names a program, not ports, and cannot be expressed.
void ParseServiceBody(const J& j, Service& s, std::string_view object) {
  if (auto process = j.Find("process_name")) {
    s.qualifiers.push_back("process_name: limited to the process " + Quote(process->Str(), 80));
  }
  for (const J& p : j.ArrOr("service_ports")) s.ports.push_back(ParsePortSpec(p));
  const auto windows = j.ArrOr("windows_services");
  for (size_t i = 0; i < windows.size(); ++i) {
    const J& w = windows[i];
    std::string names;
    for (const char* key : {"service_name", "process_name"}) {
      if (auto v = w.Find(key)) names += std::string(names.empty() ? "" : ", ") + key + " " + Quote(v->Str(), 80);
    }
    const bool has_port = w.Find("port") && w.Find("proto");
    const bool icmp = w.Find("proto") && IsIcmp(static_cast<int>(w.At("proto").Int()));
    if (!has_port && !icmp) {
      w.Fail("a Windows service (" + (names.empty() ? std::string("no name") : names) +
             ") without a port and protocol names a program, not ports; a security group cannot express it");
    }
    s.ports.push_back(ParsePortSpec(w));
    if (!names.empty()) s.qualifiers.push_back("windows_services[" + std::to_string(i) + "]: limited to " + names);
  }
  if (s.ports.empty() && !j.ArrOr("windows_egress_services").empty()) {
    j.Fail(std::string(object) +
           " has only windows_egress_services: those limit the consumers' processes, they name "
           "no destination port");
  }
}

void PolicyBuilder::State::AddService(const J& j) {
  if (!Selected(j)) return;
  CheckProperties("service", j);
  Service s;
  s.href = j.Href();
  Try(s.problem, j.path(), [&] {
    s.name = j.StrOr("name");
    for (const J& p : j.ArrOr("service_ports")) CheckProperties("service_port", p);
    for (const J& p : j.ArrOr("windows_services")) CheckProperties("windows_service", p);
    ParseServiceBody(j, s, "the service");
  });
  policy.services.push_back(std::move(s));
}

}  // namespace moat::policy
