#include "flowlog/gzip_stream.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#ifdef MOAT_WITH_ISAL
#include <isa-l/igzip_lib.h>
#endif

namespace moat::flowlog {
namespace {

constexpr size_t kInputChunk = 256 * 1024;

// Input side shared by both decoders: the sniffed head first, then the inner stream.
class Input {
 public:
  Input(std::unique_ptr<ByteStream> inner, std::string head) : inner_(std::move(inner)), buf_(std::move(head)) {
    len_ = buf_.size();
  }

  // Reads more input after what is still unconsumed. Returns false at end of input.
  Result<bool> Fill() {
    if (eof_) return false;
    const size_t keep = available();
    std::memmove(buf_.data(), buf_.data() + pos_, keep);
    buf_.resize(std::max(kInputChunk, keep * 2));
    auto n = inner_->Read(std::span<char>(buf_.data() + keep, buf_.size() - keep));
    if (!n) return Fail(std::move(n).error());
    pos_ = 0;
    len_ = keep + *n;
    if (*n == 0) eof_ = true;
    return *n > 0;
  }

  uint8_t* data() { return reinterpret_cast<uint8_t*>(buf_.data()) + pos_; }
  size_t available() const { return len_ - pos_; }
  bool exhausted() const { return eof_ && available() == 0; }
  void Consume(size_t n) { pos_ += n; }
  void SetAvailable(size_t avail) { pos_ = len_ - avail; }

 private:
  std::unique_ptr<ByteStream> inner_;
  std::string buf_;
  size_t pos_ = 0;
  size_t len_ = 0;
  bool eof_ = false;
};

// After a member ends: another member follows (magic), only zero padding follows, or garbage.
enum class Next { kMember, kEnd, kGarbage };

Result<Next> AfterMember(Input& in) {
  for (;;) {
    while (in.available() > 0 && *in.data() == 0) in.Consume(1);  // zero padding is tolerated
    if (in.available() >= 2) return in.data()[0] == 0x1f && in.data()[1] == 0x8b ? Next::kMember : Next::kGarbage;
    auto more = in.Fill();
    if (!more) return Fail(std::move(more).error());
    if (!*more) return in.available() == 0 ? Next::kEnd : Next::kGarbage;
  }
}

// The text already inflated in this call is returned first; the error is reported by the next
// call, so that the lines before a corruption are not lost.
class Pending {
 public:
  Result<size_t> Stop(size_t produced, Error error) {
    if (produced == 0) return Fail(std::move(error));
    pending_ = std::move(error);
    return produced;
  }

 protected:
  std::optional<Error> pending_;
};

// Makes input available unless at its end. Errors of the inner stream pass through.
Status Refill(Input& in) {
  if (in.available() > 0) return {};
  auto more = in.Fill();
  if (!more) return Fail(std::move(more).error());
  return {};
}

class ZlibStream : public ByteStream, private Pending {
 public:
  ZlibStream(std::unique_ptr<ByteStream> inner, std::string head) : in_(std::move(inner), std::move(head)) {
    std::memset(&z_, 0, sizeof z_);
    ok_ = inflateInit2(&z_, 15 + 16) == Z_OK;
  }
  ~ZlibStream() override { inflateEnd(&z_); }

  Result<size_t> Read(std::span<char> out) override {
    if (!ok_) return Fail(Internal("zlib initialisation failed"));
    if (pending_) return Fail(*pending_);
    size_t produced = 0;
    while (produced < out.size() && !done_) {
      if (auto st = Refill(in_); !st) return Stop(produced, std::move(st).error());
      z_.next_in = in_.data();
      z_.avail_in = static_cast<uInt>(in_.available());
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
      z_.avail_out = static_cast<uInt>(out.size() - produced);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const size_t before = produced;
      produced = out.size() - z_.avail_out;
      in_.SetAvailable(z_.avail_in);
      if (rc == Z_STREAM_END) {
        auto next = AfterMember(in_);
        if (!next) return Stop(produced, std::move(next).error());
        if (*next == Next::kGarbage) return Stop(produced, InvalidInput("data after the end of the gzip stream"));
        if (*next == Next::kEnd)
          done_ = true;
        else
          inflateReset(&z_);
      } else if (rc == Z_DATA_ERROR) {
        return Stop(produced, InvalidInput(std::string("corrupt gzip data: ") + (z_.msg ? z_.msg : "invalid")));
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Stop(produced, InvalidInput("gzip decoding failed (zlib code " + std::to_string(rc) + ")"));
      } else if (in_.exhausted() && produced == before) {
        return Stop(produced, InvalidInput("truncated gzip stream"));
      }
    }
    return produced;
  }

 private:
  Input in_;
  z_stream z_;
  bool ok_ = false;
  bool done_ = false;
};

#ifdef MOAT_WITH_ISAL
std::string IsalError(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "bad checksum";
    default:
      return "decoding failed (code " + std::to_string(rc) + ")";
  }
}

class IsalStream : public ByteStream, private Pending {
 public:
  IsalStream(std::unique_ptr<ByteStream> inner, std::string head)
      : in_(std::move(inner), std::move(head)), state_(std::make_unique<inflate_state>()) {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
  }

  Result<size_t> Read(std::span<char> out) override {
    if (pending_) return Fail(*pending_);
    size_t produced = 0;
    while (produced < out.size() && !done_) {
      if (auto st = Refill(in_); !st) return Stop(produced, std::move(st).error());
      state_->next_in = in_.data();
      state_->avail_in = static_cast<uint32_t>(in_.available());
      state_->next_out = reinterpret_cast<uint8_t*>(out.data() + produced);
      state_->avail_out = static_cast<uint32_t>(out.size() - produced);
      const int rc = isal_inflate(state_.get());
      const size_t before = produced;
      produced = out.size() - state_->avail_out;
      in_.SetAvailable(state_->avail_in);
      if (rc < 0) return Stop(produced, InvalidInput("corrupt gzip data: " + IsalError(rc)));
      if (state_->block_state == ISAL_BLOCK_FINISH) {
        auto next = AfterMember(in_);
        if (!next) return Stop(produced, std::move(next).error());
        if (*next == Next::kGarbage) return Stop(produced, InvalidInput("data after the end of the gzip stream"));
        if (*next == Next::kEnd) {
          done_ = true;
        } else {
          isal_inflate_reset(state_.get());
          state_->crc_flag = ISAL_GZIP;
        }
      } else if (in_.exhausted() && produced == before) {
        return Stop(produced, InvalidInput("truncated gzip stream"));
      }
    }
    return produced;
  }

 private:
  Input in_;
  std::unique_ptr<inflate_state> state_;
  bool done_ = false;
};
#endif

}  // namespace

bool IsGzip(std::string_view prefix) {
  return prefix.size() >= 2 && static_cast<uint8_t>(prefix[0]) == 0x1f && static_cast<uint8_t>(prefix[1]) == 0x8b;
}

std::unique_ptr<ByteStream> NewZlibGzipStream(std::unique_ptr<ByteStream> inner, std::string head) {
  return std::make_unique<ZlibStream>(std::move(inner), std::move(head));
}

std::unique_ptr<ByteStream> NewGzipStream(std::unique_ptr<ByteStream> inner, std::string head) {
#ifdef MOAT_WITH_ISAL
  return std::make_unique<IsalStream>(std::move(inner), std::move(head));
#else
  return NewZlibGzipStream(std::move(inner), std::move(head));
#endif
}

}  // namespace moat::flowlog
