// The planner benchmark: times the pure planner (plan/plan.h) over many targets on one core, phase
// by phase — DesiredRules (allow set -> exact rules), Pack (into managed groups within the default
// quotas) and Diff (against the recorded AWS state) — and then what `moat plan` runs per target:
// DesiredRules + Reconcile (Pack, Diff, the guards and drift marking against the last applied
// rules), and prints the medians over the repetitions.
// The data is generated with a fixed seed (deterministic):
//   - each target admits `prefixes` source prefixes on tcp 5432: about 90% IPv4 (seven in ten /32s,
//     the rest /22../28s) and 10% IPv6 (/128s and /64s), from three policy rules; every other
//     target also admits a quarter of them on tcp 8000-8099;
//   - its recorded state: the managed groups moat made for 95% of those rules (some with an older
//     description), plus three foreign rules added by hand; attached to the target, the managed
//     groups and a hand-made group to keep, and on one target in ten a stray group to detach.
// Usage: plan_bench [targets] [prefixes] [repetitions]   (defaults 1000 200 5)
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compile/compile.h"
#include "plan/plan.h"
#include "plan/reconcile.h"
#include "rng.h"

namespace {

using moat::compile::Target;
using moat::net::Address;
using moat::net::Prefix;
using moat::plan::GroupState;
using moat::plan::PackedGroup;
using moat::plan::SgRule;
using moat::plan::TargetPlan;

using moat::bench::Rng;

constexpr int kKeptForeign = 1;  // the hand-made group each database was created with

struct Case {
  std::string id;
  Target target;
  std::vector<GroupState> existing;
  std::vector<std::string> attached, keep;
};

// The k-th source prefix of target t. IPv4 wide prefixes each start their own /20 of 100.64.0.0/10
// and /32s are random in 10.0.0.0/8, so prefixes of a target seldom overlap or merge.
Prefix SourcePrefix(Rng& rng, int t, int k) {
  if (rng.Below(10) == 0) {
    const uint64_t hi = 0x20010db800000000ULL | (static_cast<uint64_t>(t & 0xffff) << 16) | static_cast<uint64_t>(k);
    if (rng.Below(2) == 0) return {Address::V6(hi, 0), 64};
    return {Address::V6(hi, rng.Next()), 128};
  }
  if (rng.Below(10) < 7) return {Address::V4(0x0a000000U | static_cast<uint32_t>(rng.Next() & 0xffffffU)), 32};
  const uint32_t block = static_cast<uint32_t>((t * 37 + k) % 1024);  // one /20 of 100.64.0.0/10
  return {Address::V4(0x64400000U + (block << 12)), 22 + rng.Below(7)};
}

// One tcp allow entry over `sources`, admitted by three policy rules (the first also admits every
// /32 and /128, so those rules' descriptions name two rules).
moat::compile::AllowEntry Entry(int t, uint16_t from, uint16_t to, const std::vector<Prefix>& sources) {
  moat::compile::AllowEntry e{6, {from, to}, {}, {}, {}};
  for (int r = 0; r < 3; ++r) {
    e.provenance.push_back(
        {"/orgs/1/sec_policy/active/rule_sets/" + std::to_string(t % 97) + "/sec_rules/" + std::to_string(3 * t + r),
         {}});
  }
  for (size_t k = 0; k < sources.size(); ++k) {
    e.sources.Add(sources[k]);
    e.provenance[k % 3].sources.Add(sources[k]);
    const bool host = sources[k].length == (sources[k].base.is_v6() ? 128 : 32);
    if (host) e.provenance[0].sources.Add(sources[k]);
  }
  return e;
}

SgRule Foreign(int n) {
  SgRule r;
  r.from_port = r.to_port = n == 0 ? 22 : 5432;
  r.cidr = n == 0 ? Prefix{Address::V4(0), 0} : Prefix{Address::V4(0xc0000200U + static_cast<uint32_t>(n)), 32};
  r.description = "added by hand";
  return r;
}

Case MakeCase(int t, int prefixes, const moat::plan::Quotas& quotas) {
  Rng rng(0x6d6f6174ULL * 1000003ULL + static_cast<uint64_t>(t));
  Case c;
  char id[32];
  std::snprintf(id, sizeof id, "db-%04d", t);
  c.id = id;
  c.target.name = c.id;
  std::vector<Prefix> sources, quarter;
  for (int k = 0; k < prefixes; ++k) {
    sources.push_back(SourcePrefix(rng, t, k));
    if (k % 4 == 0) quarter.push_back(sources.back());
  }
  c.target.allow.push_back(Entry(t, 5432, 5432, sources));
  if (t % 2 == 0) c.target.allow.push_back(Entry(t, 8000, 8099, quarter));

  // What moat applied before: 95% of today's rules, packed as moat packs them, some of them
  // described differently (the policy rule behind them was renamed since).
  std::vector<SgRule> applied;
  for (SgRule r : moat::plan::DesiredRules(c.target)) {
    if (rng.Below(20) == 0) continue;
    if (rng.Below(50) == 0) r.description = "moat /orgs/1/sec_policy/active/rule_sets/0/sec_rules/0";
    applied.push_back(r);
  }
  auto packed = moat::plan::Pack(c.id, applied, {}, kKeptForeign, quotas);
  if (packed) {
    for (const PackedGroup& g : *packed) {
      c.existing.push_back({"sg-" + std::to_string(100000 + t) + std::to_string(g.number), g.name, g.number, g.rules});
      c.attached.push_back(c.existing.back().id);
    }
    for (int n = 0; n < 3; ++n) c.existing.back().rules.push_back(Foreign(n));
  }
  c.keep = {"sg-hand-made-" + std::to_string(t)};
  c.attached.push_back(c.keep[0]);
  if (t % 10 == 0) c.attached.push_back("sg-stray-" + std::to_string(t));
  return c;
}

double Seconds(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Counts {
  size_t rules = 0, v6_rules = 0, groups = 0, created = 0, authorize = 0, revoke = 0, redescribe = 0, attach = 0,
         detach = 0, unfit = 0;
};

int ArgOr(int argc, char** argv, int i, int fallback) {
  if (argc <= i) return fallback;
  const int v = std::atoi(argv[i]);
  return v > 0 ? v : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const int targets = ArgOr(argc, argv, 1, 1000);
  const int prefixes = ArgOr(argc, argv, 2, 200);
  const int reps = ArgOr(argc, argv, 3, 5);
  if (argc > 4 || targets < 1 || prefixes < 1 || reps < 1) {
    std::fprintf(stderr, "usage: plan_bench [targets] [prefixes] [repetitions]   (positive integers)\n");
    return 1;
  }
  const moat::plan::Quotas quotas;  // AWS's defaults: 60 rules per group, 5 groups per interface
  std::vector<Case> cases;
  cases.reserve(static_cast<size_t>(targets));
  for (int t = 0; t < targets; ++t) cases.push_back(MakeCase(t, prefixes, quotas));

  std::vector<double> desired_s, pack_s, diff_s, total_s, reconcile_s;
  Counts counts;
  for (int r = 0; r < reps; ++r) {
    std::vector<std::vector<SgRule>> desired(cases.size());
    std::vector<moat::Result<std::vector<PackedGroup>>> packed;
    std::vector<TargetPlan> plans;
    packed.reserve(cases.size());
    plans.reserve(cases.size());
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < cases.size(); ++i) desired[i] = moat::plan::DesiredRules(cases[i].target);
    const auto t1 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < cases.size(); ++i) {
      packed.push_back(moat::plan::Pack(cases[i].id, desired[i], cases[i].existing, kKeptForeign, quotas));
    }
    const auto t2 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < cases.size(); ++i) {
      if (!packed[i]) continue;
      plans.push_back(moat::plan::Diff(cases[i].id, *packed[i], cases[i].existing, cases[i].attached, cases[i].keep));
    }
    const auto t3 = std::chrono::steady_clock::now();
    desired_s.push_back(Seconds(t0, t1));
    pack_s.push_back(Seconds(t1, t2));
    diff_s.push_back(Seconds(t2, t3));
    total_s.push_back(Seconds(t0, t3));

    // As `moat plan` does it: the rules, then Reconcile with what was applied last time.
    const auto r0 = std::chrono::steady_clock::now();
    size_t reconciled = 0;
    for (const Case& c : cases) {
      moat::plan::ReconcileInput in;
      in.target_id = c.id;
      in.wanted = moat::plan::DesiredRules(c.target);
      in.last_applied = in.wanted;
      in.managed = c.existing;
      in.attached = c.attached;
      in.keep = c.keep;
      in.quotas = quotas;
      reconciled += moat::plan::Reconcile(in) ? 1 : 0;
    }
    reconcile_s.push_back(Seconds(r0, std::chrono::steady_clock::now()));
    if (reconciled + counts.unfit == 0) return 1;

    counts = {};
    for (const auto& d : desired) {
      counts.rules += d.size();
      counts.v6_rules += static_cast<size_t>(std::count_if(d.begin(), d.end(), [](const SgRule& x) { return x.v6(); }));
    }
    for (const auto& p : packed) {
      if (p) {
        counts.groups += p->size();
      } else {
        ++counts.unfit;
      }
    }
    for (const TargetPlan& p : plans) {
      for (const auto& g : p.groups) {
        counts.created += g.create ? 1 : 0;
        counts.authorize += g.authorize.size();
        counts.revoke += g.revoke.size();
        counts.redescribe += g.redescribe.size();
      }
      counts.attach += p.attach.size();
      counts.detach += p.detach.size();
    }
  }

  std::printf("%d targets x %d prefixes, %d repetitions, one core\n", targets, prefixes, reps);
  std::printf(
      "rules %zu (%zu IPv6), groups %zu (%zu to create), authorize %zu, revoke %zu, redescribe %zu, "
      "attach %zu, detach %zu, targets that do not fit %zu\n",
      counts.rules, counts.v6_rules, counts.groups, counts.created, counts.authorize, counts.revoke, counts.redescribe,
      counts.attach, counts.detach, counts.unfit);
  const auto line = [](const char* phase, const std::vector<double>& v) {
    std::printf("%-13s median %.3f s  (min %.3f, max %.3f)\n", phase, Median(v), *std::min_element(v.begin(), v.end()),
                *std::max_element(v.begin(), v.end()));
  };
  line("desired rules", desired_s);
  line("pack", pack_s);
  line("diff", diff_s);
  line("total", total_s);
  line("rules+reconcile", reconcile_s);
  std::printf("plan: %d targets x %d prefixes: median %.3f s for DesiredRules + Reconcile (goal <= 1 s)\n", targets,
              prefixes, Median(reconcile_s));
  return 0;
}
