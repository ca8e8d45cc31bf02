// gen_flowlogs: writes deterministic VPC flow-log data (default format v2) for moat's benchmarks.
// A fixed-seed PRNG and integer-only arithmetic make the output byte-identical on every machine.
// Usage: gen_flowlogs [--records N] [--flows F] [--out PATH] [--plain] [--files K] [--level L]

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace moat::bench {
namespace {

constexpr uint64_t kSeed = 0x6d6f61742d62656eULL;  // "moat-ben"
constexpr int64_t kStartTime = 1714521600;         // 2024-05-01T00:00:00Z
constexpr int64_t kDaySeconds = 86400;
constexpr int kNumV4Databases = 48;  // 10.0.2.10 .. 10.0.2.57
constexpr int kNumV6Databases = 2;   // 2001:db8:2::1, ::2 (half weight: ~2% of flows)
constexpr int kNumDatabases = kNumV4Databases + kNumV6Databases;
constexpr int kNumInterfaces = 6;
constexpr uint16_t kDbPorts[] = {5432, 5432, 5432, 3306, 3306, 1433, 1521, 6379};
constexpr const char* kAccounts[] = {"123456789012", "210987654321", "555566667777"};
constexpr uint64_t kRejectPerMille = 30;      // 3% of flows are REJECT
constexpr uint64_t kNodataPerMillion = 1000;  // 0.1% of records are NODATA
constexpr uint64_t kUniformPickPerTen = 1;    // 10% of records pick a flow uniformly
constexpr int kMaxClients = 120000;           // distinct addresses in 10.1/16 + 10.2/16
constexpr size_t kFlushBytes = 1 << 20;
constexpr char kHeader[] =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status\n";

struct Options {
  int64_t records = 5000000;
  int64_t flows = 50000;
  std::string out;  // default: flowlogs.log.gz, flowlogs.log with --plain; a stem with --files > 1
  bool plain = false;
  int files = 1;
  int level = 6;  // gzip level
};

// xoshiro256** seeded through splitmix64; Below() is Lemire's multiply-shift (no floating point).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix64(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // REQUIRES: n > 0. Returns a value in [0, n).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

// Zipf-like (s = 1) choice of an index in [0, n): weight of k is floor(2^40 / (k + 1)).
class ZipfPicker {
 public:
  explicit ZipfPicker(size_t n) : cumulative_(n) {
    uint64_t total = 0;
    for (size_t k = 0; k < n; ++k) cumulative_[k] = total += (uint64_t{1} << 40) / (k + 1);
  }
  size_t Pick(Rng& rng) const {
    const uint64_t r = rng.Below(cumulative_.back());
    return std::upper_bound(cumulative_.begin(), cumulative_.end(), r) - cumulative_.begin();
  }

 private:
  std::vector<uint64_t> cumulative_;
};

struct Database {
  std::string addr;
  uint16_t port;
  int interface_index;
  bool v6;
};

struct Flow {       // one aggregated flow: client → database port, one action
  uint32_t client;  // index into World::client_v4 or client_v6 (the database's family)
  uint16_t db;      // index into World::dbs
  bool reject;
};

struct World {
  std::vector<std::string> client_v4;
  std::vector<std::string> client_v6;
  std::vector<Database> dbs;
  std::vector<std::string> interfaces;  // eni ids; interface i belongs to kAccounts[i % 3]
  std::vector<Flow> flows;
};

std::string HexGroup(uint32_t v) {
  char buf[8];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v, 16).ptr);
}

// 2001:db8:<net>::<id>, already in RFC 5952 form (id > 0, at most two groups).
std::string V6Address(uint32_t net, uint32_t id) {
  std::string addr = "2001:db8:" + HexGroup(net) + "::";
  if (id >> 16) addr += HexGroup(id >> 16) + ":";
  return addr + HexGroup(id & 0xffff);
}

std::vector<std::string> MakeClientsV4(size_t n, Rng& rng) {
  std::unordered_set<uint32_t> seen;
  std::vector<std::string> clients;
  while (clients.size() < n) {
    const uint32_t second = 1 + rng.Below(2);  // 10.1/16 or 10.2/16
    const uint32_t third = rng.Below(256);
    const uint32_t fourth = 1 + rng.Below(254);
    if (!seen.insert(second << 16 | third << 8 | fourth).second) continue;
    clients.push_back("10." + std::to_string(second) + "." + std::to_string(third) + "." + std::to_string(fourth));
  }
  return clients;
}

std::vector<Database> MakeDatabases(Rng& rng) {
  std::vector<Database> dbs;
  for (int d = 0; d < kNumDatabases; ++d) {
    const bool v6 = d >= kNumV4Databases;
    Database db;
    db.addr = v6 ? V6Address(2, d - kNumV4Databases + 1) : "10.0.2." + std::to_string(10 + d);
    db.port = kDbPorts[rng.Below(std::size(kDbPorts))];
    db.interface_index = static_cast<int>(rng.Below(kNumInterfaces));
    db.v6 = v6;
    dbs.push_back(std::move(db));
  }
  return dbs;
}

std::vector<std::string> MakeInterfaces(Rng& rng) {
  std::vector<std::string> enis;
  for (int i = 0; i < kNumInterfaces; ++i) {
    std::string eni = "eni-";
    for (int c = 0; c < 17; ++c) eni += "0123456789abcdef"[rng.Below(16)];
    enis.push_back(std::move(eni));
  }
  return enis;
}

// IPv4 databases weigh 2, IPv6 ones 1.
int PickDatabase(Rng& rng) {
  const int v = static_cast<int>(rng.Below(2 * kNumV4Databases + kNumV6Databases));
  return v < 2 * kNumV4Databases ? v / 2 : kNumV4Databases + (v - 2 * kNumV4Databases);
}

// Distinct (client, database) pairs, each with one action; clients drawn with skew (a few heavy).
void MakeFlows(int64_t want, Rng& rng, World& world) {
  const ZipfPicker client_picker(world.client_v4.size());
  std::unordered_set<uint64_t> seen;
  for (int64_t attempt = 0; attempt < 100 * want + 1000 && std::ssize(world.flows) < want; ++attempt) {
    const uint64_t client = client_picker.Pick(rng);
    const int db = PickDatabase(rng);
    if (!seen.insert(client << 8 | static_cast<uint64_t>(db)).second) continue;
    const bool reject = rng.Below(1000) < kRejectPerMille;
    world.flows.push_back({static_cast<uint32_t>(client), static_cast<uint16_t>(db), reject});
  }
}

World MakeWorld(const Options& options, Rng& rng) {
  World world;
  const size_t num_clients = std::clamp<int64_t>(options.flows / 4, 64, kMaxClients);
  world.dbs = MakeDatabases(rng);  // databases and interfaces first: they do not depend on F
  world.interfaces = MakeInterfaces(rng);
  world.client_v4 = MakeClientsV4(num_clients, rng);
  for (size_t k = 0; k < num_clients; ++k) world.client_v6.push_back(V6Address(1, k + 1));
  MakeFlows(options.flows, rng, world);
  return world;
}

// Buffered output to a gzip (zlib) or plain file; errors are reported once, on stderr.
class Output {
 public:
  bool Open(const std::string& path, bool plain, int level) {
    path_ = path;
    if (plain) {
      file_ = std::fopen(path.c_str(), "wb");
    } else {
      gz_ = gzopen(path.c_str(), ("wb" + std::to_string(level)).c_str());
      if (gz_ != nullptr) gzbuffer(gz_, 1 << 18);
    }
    if (file_ == nullptr && gz_ == nullptr) return Fail(std::strerror(errno));
    buffer_.reserve(kFlushBytes + 512);
    return true;
  }
  std::string& buffer() { return buffer_; }
  bool MaybeFlush() { return buffer_.size() < kFlushBytes || Flush(); }
  bool Close() {
    bool ok = Flush();
    if (file_ != nullptr && std::fclose(file_) != 0 && ok) ok = Fail(std::strerror(errno));
    if (gz_ != nullptr && gzclose(gz_) != Z_OK && ok) ok = Fail("gzclose failed");
    file_ = nullptr;
    gz_ = nullptr;
    return ok;
  }

 private:
  bool Flush() {
    if (buffer_.empty()) return true;
    const bool ok = file_ != nullptr ? std::fwrite(buffer_.data(), 1, buffer_.size(), file_) == buffer_.size()
                                     : gzwrite(gz_, buffer_.data(), static_cast<unsigned>(buffer_.size())) ==
                                           static_cast<int>(buffer_.size());
    buffer_.clear();
    return ok || Fail("write failed");
  }
  bool Fail(const char* why) {
    std::fprintf(stderr, "gen_flowlogs: %s: %s\n", path_.c_str(), why);
    return false;
  }
  std::string path_;
  std::string buffer_;
  FILE* file_ = nullptr;
  gzFile gz_ = nullptr;
};

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void AppendField(std::string& out, std::string_view field) {
  out += field;
  out += ' ';
}

void AppendNumber(std::string& out, int64_t v) {
  AppendInt(out, v);
  out += ' ';
}

void AppendPrefix(std::string& out, int interface_index, const World& world) {
  AppendField(out, "2");
  AppendField(out, kAccounts[interface_index % std::size(kAccounts)]);
  AppendField(out, world.interfaces[interface_index]);
}

void AppendNodata(std::string& out, int64_t start, int64_t end, Rng& rng, const World& world) {
  AppendPrefix(out, static_cast<int>(rng.Below(kNumInterfaces)), world);
  out += "- - - - - - - ";
  AppendNumber(out, start);
  AppendNumber(out, end);
  out += "- NODATA\n";
}

// Half the records go client → database, half are the return direction.
void AppendData(std::string& out, int64_t start, int64_t end, const Flow& flow, Rng& rng, const World& world) {
  const int64_t ephemeral = 32768 + rng.Below(60999 - 32768 + 1);
  const int64_t packets = 1 + rng.Below(200);
  const int64_t bytes = packets * (40 + rng.Below(1500 - 40 + 1));
  const bool outbound = rng.Below(2) == 0;
  const Database& db = world.dbs[flow.db];
  const std::string& client = (db.v6 ? world.client_v6 : world.client_v4)[flow.client];
  AppendPrefix(out, db.interface_index, world);
  AppendField(out, outbound ? client : db.addr);
  AppendField(out, outbound ? db.addr : client);
  AppendNumber(out, outbound ? ephemeral : db.port);
  AppendNumber(out, outbound ? db.port : ephemeral);
  AppendField(out, "6");
  AppendNumber(out, packets);
  AppendNumber(out, bytes);
  AppendNumber(out, start);
  AppendNumber(out, end);
  out += flow.reject ? "REJECT OK\n" : "ACCEPT OK\n";
}

struct Counts {
  int64_t data = 0;
  int64_t nodata = 0;
  int64_t lines = 0;
  std::vector<bool> flow_used;
};

class RecordWriter {
 public:
  RecordWriter(const Options& options, const World& world, Rng& rng)
      : options_(options), world_(world), rng_(rng), flow_picker_(world.flows.size()) {
    counts_.flow_used.assign(world.flows.size(), false);
  }
  // Writes records [begin, end) of the whole stream to one file.
  bool WriteFile(const std::string& path, int64_t begin, int64_t end) {
    Output out;
    if (!out.Open(path, options_.plain, options_.level)) return false;
    out.buffer() += kHeader;
    ++counts_.lines;
    for (int64_t i = begin; i < end; ++i) {
      AppendRecord(out.buffer(), i);
      if (!out.MaybeFlush()) return false;
    }
    return out.Close();
  }
  const Counts& counts() const { return counts_; }

 private:
  void AppendRecord(std::string& out, int64_t i) {
    const int64_t start = kStartTime + i * kDaySeconds / options_.records;
    const int64_t end = start + static_cast<int64_t>(rng_.Below(61));
    ++counts_.lines;
    if (rng_.Below(1000000) < kNodataPerMillion) {
      ++counts_.nodata;
      return AppendNodata(out, start, end, rng_, world_);
    }
    const size_t f = rng_.Below(10) < kUniformPickPerTen ? rng_.Below(world_.flows.size()) : flow_picker_.Pick(rng_);
    counts_.flow_used[f] = true;
    ++counts_.data;
    AppendData(out, start, end, world_.flows[f], rng_, world_);
  }
  const Options& options_;
  const World& world_;
  Rng& rng_;
  ZipfPicker flow_picker_;  // skewed choice; early flows (mostly heavy clients) are busiest
  Counts counts_;
};

std::optional<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max) {
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) return {};
  return v;
}

constexpr char kUsage[] =
    "usage: gen_flowlogs [--records N] [--flows F] [--out PATH] [--plain] [--files K] "
    "[--level L]\n"
    "  K = 1: writes PATH (default flowlogs.log.gz, or flowlogs.log with --plain)\n"
    "  K > 1: writes PATH.0.log.gz ... PATH.<K-1>.log.gz (.log with --plain)\n";

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--plain") {
      options.plain = true;
      continue;
    }
    if (i + 1 >= argc) return {};
    const std::string_view value = argv[++i];
    std::optional<int64_t> n;
    if (arg == "--out" && !value.empty()) {
      options.out = value;
    } else if (arg == "--records" && (n = ParseInt(value, 1, int64_t{1} << 40))) {
      options.records = *n;
    } else if (arg == "--flows" && (n = ParseInt(value, 1, 5000000))) {
      options.flows = *n;
    } else if (arg == "--files" && (n = ParseInt(value, 1, 10000))) {
      options.files = static_cast<int>(*n);
    } else if (arg == "--level" && (n = ParseInt(value, 0, 9))) {
      options.level = static_cast<int>(*n);
    } else {
      return {};
    }
  }
  if (options.out.empty() && options.files > 1) options.out = "flowlogs";
  if (options.out.empty()) options.out = options.plain ? "flowlogs.log" : "flowlogs.log.gz";
  return options;
}

std::string FilePath(const Options& options, int k) {
  if (options.files == 1) return options.out;
  return options.out + "." + std::to_string(k) + (options.plain ? ".log" : ".log.gz");
}

int Run(int argc, char** argv) {
  const std::optional<Options> options = ParseArgs(argc, argv);
  if (!options) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Rng rng(kSeed);
  const World world = MakeWorld(*options, rng);
  RecordWriter writer(*options, world, rng);
  for (int k = 0; k < options->files; ++k) {
    const int64_t begin = options->records * k / options->files;
    const int64_t end = options->records * (k + 1) / options->files;
    if (!writer.WriteFile(FilePath(*options, k), begin, end)) return 1;
  }
  const Counts& counts = writer.counts();
  std::fprintf(stderr,
               "gen_flowlogs: wrote %lld records (%lld OK, %lld NODATA) in %lld lines to %d "
               "file(s); %zu flows defined, %lld used\n",
               static_cast<long long>(counts.data + counts.nodata), static_cast<long long>(counts.data),
               static_cast<long long>(counts.nodata), static_cast<long long>(counts.lines), options->files,
               world.flows.size(),
               static_cast<long long>(std::count(counts.flow_used.begin(), counts.flow_used.end(), true)));
  return 0;
}

}  // namespace
}  // namespace moat::bench

int main(int argc, char** argv) { return moat::bench::Run(argc, argv); }
