// libFuzzer target for the flow-log reader: the input is one whole object (plain or gzip). The
// first line picks the header, the rest are records; every byte sequence must be classified —
// parsed, counted or skipped — without crashing, hanging or reading out of bounds. The sink keeps
// interfaces, as the flow history's reading does, so that interface-id is read too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "flowlog/reader.h"

namespace {

class CountingSink : public moat::flowlog::RecordSink {
 public:
  void AddBatch(std::span<const moat::flowlog::Record> records) override {
    count += records.size();
    for (const moat::flowlog::Record& r : records) {
      if (r.interface >= names.names().size()) __builtin_trap();  // every number names an interface
    }
  }
  moat::flowlog::InterfaceNames* interfaces() override { return &names; }
  size_t count = 0;
  moat::flowlog::InterfaceNames names;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  CountingSink sink;
  moat::flowlog::Stats stats;
  moat::flowlog::ReadFlowLog(std::make_unique<moat::StringStream>(std::move(bytes)), "fuzz.log", sink, stats);
  if (sink.count != stats.records) __builtin_trap();  // every parsed record reaches the sink
  return 0;
}
