#include "flowlog/gzip_stream.h"

#include <gtest/gtest.h>

#include <functional>

#include "testing/gzip.h"

namespace moat::flowlog {
namespace {

using moat::testing::Gzip;
using Factory = std::function<std::unique_ptr<ByteStream>(std::unique_ptr<ByteStream>, std::string)>;

// Reads everything, in small pieces so that output boundaries fall everywhere.
Result<std::string> Inflate(const Factory& make, const std::string& compressed, size_t piece = 4093) {
  // Sniff the way the reader does: the first two bytes are handed over as the head.
  auto stream = make(std::make_unique<StringStream>(compressed.substr(2)), compressed.substr(0, 2));
  std::string out, buf(piece, '\0');
  for (;;) {
    auto n = stream->Read(std::span<char>(buf.data(), buf.size()));
    if (!n) return Fail(std::move(n).error());
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

std::string SampleText(size_t lines) {
  std::string s;
  for (size_t i = 0; i < lines; ++i)
    s += "2 123456789012 eni-1 10.0.0." + std::to_string(i % 250) + " 10.0.2.45 1 2 6\n";
  return s;
}

class GzipStreamTest : public ::testing::TestWithParam<const char*> {
 protected:
  Factory make() const {
    return std::string(GetParam()) == "zlib" ? Factory(NewZlibGzipStream) : Factory(NewGzipStream);
  }
};

TEST_P(GzipStreamTest, InflatesSingleMember) {
  const std::string text = SampleText(20000);
  auto out = Inflate(make(), Gzip(text));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, text);
}

TEST_P(GzipStreamTest, InflatesEveryMemberOfAConcatenation) {
  const std::string a = SampleText(3000), b = "second member\n", c = SampleText(10);
  auto out = Inflate(make(), Gzip(a) + Gzip(b, 1) + Gzip(c, 9));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, a + b + c);
}

TEST_P(GzipStreamTest, ToleratesTrailingZeroPadding) {
  auto out = Inflate(make(), Gzip("x\n") + std::string(100, '\0'));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "x\n");
}

TEST_P(GzipStreamTest, TruncatedStreamIsAnError) {
  const std::string gz = Gzip(SampleText(5000));
  auto out = Inflate(make(), gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(out.error().message, "truncated gzip stream");
  auto no_trailer = Inflate(make(), gz.substr(0, gz.size() - 4));
  ASSERT_FALSE(no_trailer);
}

TEST_P(GzipStreamTest, TextBeforeACutComesBeforeTheError) {
  const std::string text = SampleText(2000);
  const std::string gz = Gzip(text);
  auto stream = make()(std::make_unique<StringStream>(gz.substr(2, gz.size() / 2)), gz.substr(0, 2));
  std::string out(1 << 20, '\0');
  auto n = stream->Read(std::span<char>(out.data(), out.size()));  // room for everything
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_GT(*n, 0u);
  EXPECT_EQ(out.substr(0, *n), text.substr(0, *n));
  auto next = stream->Read(std::span<char>(out.data(), out.size()));
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().message, "truncated gzip stream");
}

TEST_P(GzipStreamTest, CorruptDataIsAnError) {
  std::string gz = Gzip(SampleText(5000));
  for (size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  auto out = Inflate(make(), gz);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidInput);
  EXPECT_TRUE(out.error().message.starts_with("corrupt gzip data") || out.error().message == "truncated gzip stream")
      << out.error().message;
}

TEST_P(GzipStreamTest, BadChecksumIsAnError) {
  std::string gz = Gzip(SampleText(100));
  gz[gz.size() - 6] = static_cast<char>(gz[gz.size() - 6] ^ 1);  // inside the CRC-32
  auto out = Inflate(make(), gz);
  ASSERT_FALSE(out);
  EXPECT_TRUE(out.error().message.starts_with("corrupt gzip data")) << out.error().message;
}

TEST_P(GzipStreamTest, GarbageAfterTheStreamIsAnError) {
  auto out = Inflate(make(), Gzip("x\n") + "garbage");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "data after the end of the gzip stream");
}

INSTANTIATE_TEST_SUITE_P(Decoders, GzipStreamTest, ::testing::Values("default", "zlib"));

TEST(GzipStreamTest, RecognisesMagic) {
  EXPECT_TRUE(IsGzip("\x1f\x8b\x08"));
  EXPECT_FALSE(IsGzip("\x1f"));
  EXPECT_FALSE(IsGzip("version"));
}

}  // namespace
}  // namespace moat::flowlog
