// The policy engine benchmark: times the phases of `moat policy show` on a bundle file, one core:
// JSON parsing alone (simdjson, MB/s), loading into the model (parse included), and compiling
// every target's allow set. Usage: policy_bench BUNDLE [repetitions]
#include <simdjson.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "compile/compile.h"
#include "policy/loader.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: policy_bench BUNDLE [repetitions]\n");
    return 1;
  }
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const simdjson::padded_string padded(text);
  double best_parse = 1e9, best_cold = 1e9, best_load = 1e9, best_compile = 1e9;
  size_t targets = 0, entries = 0, workloads = 0, rules = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    {
      // Cold: a new parser, as one CLI run has (its buffers are allocated and faulted in).
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return 1;
      best_cold = std::min(best_cold, Seconds(t0));
      // Warm: the same parser again: the parsing itself.
      t0 = std::chrono::steady_clock::now();
      if (parser.parse(padded).get(doc) != simdjson::SUCCESS) return 1;
      best_parse = std::min(best_parse, Seconds(t0));
    }
    t0 = std::chrono::steady_clock::now();
    auto policy = moat::policy::LoadBundle(text, argv[1], "active");
    if (!policy) {
      std::fprintf(stderr, "%s\n", policy.error().message.c_str());
      return 1;
    }
    best_load = std::min(best_load, Seconds(t0));
    t0 = std::chrono::steady_clock::now();
    const moat::compile::Compiled c = moat::compile::Compile(*policy);
    best_compile = std::min(best_compile, Seconds(t0));
    targets = c.targets.size();
    entries = 0;
    for (const auto& t : c.targets) entries += t.allow.size();
    workloads = policy->workloads.size();
    rules = 0;
    for (const auto& rs : policy->rule_sets) rules += rs.rules.size();
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf("bundle %.1f MB: %zu workloads, %zu rules -> %zu targets, %zu allow entries\n", mb, workloads, rules,
              targets, entries);
  std::printf("json parse   %.3f s  %.0f MB/s (simdjson %s; a fresh parser: %.3f s, %.0f MB/s)\n", best_parse,
              mb / best_parse, simdjson::get_active_implementation()->name().c_str(), best_cold, mb / best_cold);
  std::printf("load         %.3f s  (parse included)\n", best_load);
  std::printf("compile      %.3f s\n", best_compile);
  std::printf("load+compile %.3f s\n", best_load + best_compile);
  std::printf("peak rss     %.0f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  return 0;
}
