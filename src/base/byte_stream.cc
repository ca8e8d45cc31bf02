#include "base/byte_stream.h"

#include <algorithm>
#include <cstring>

namespace moat {

Result<size_t> StringStream::Read(std::span<char> out) {
  const size_t n = std::min(out.size(), data_.size() - pos_);
  std::memcpy(out.data(), data_.data() + pos_, n);
  pos_ += n;
  return n;
}

}  // namespace moat
