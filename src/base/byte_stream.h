// ByteStream and ObjectStore: where input bytes come from. A flow-log file, stdin and an S3
// object are all ByteStreams; a directory tree and an S3 prefix are ObjectStores. The readers
// downstream (gzip, lines, records) never know which. Implementations live with the I/O
// (app: local files; aws: S3); tests use in-memory ones. Not thread-safe: one reader each.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace moat {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to out.size() bytes into `out`. Returns the count; 0 means end of stream.
  // An error is unreadable input (I/O failure); the stream is then unusable.
  virtual Result<size_t> Read(std::span<char> out) = 0;
};

struct ObjectInfo {
  std::string name;  // what messages show: a path, or s3://bucket/key
  uint64_t size = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Every object under `prefix` that passes the store's flow-log filter, in name order.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  virtual Result<std::unique_ptr<ByteStream>> Open(const std::string& name) = 0;
};

// A stream over bytes it owns (tests, small inputs).
class StringStream : public ByteStream {
 public:
  explicit StringStream(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(std::span<char> out) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

}  // namespace moat
