// Test helpers: gzip-compress bytes in memory (zlib), and a sink that keeps records.
#pragma once

#include <zlib.h>

#include <span>
#include <string>
#include <vector>

#include "flowlog/record.h"

namespace moat::testing {

// One gzip member holding `data`.
inline std::string Gzip(const std::string& data, int level = 6) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class CollectingSink : public flowlog::RecordSink {
 public:
  void AddBatch(std::span<const flowlog::Record> records) override {
    this->records.insert(this->records.end(), records.begin(), records.end());
  }
  std::vector<flowlog::Record> records;
};

}  // namespace moat::testing
