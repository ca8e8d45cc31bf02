#include "flowlog/reader.h"

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"
#include "flowlog/fast_parse.h"
#include "flowlog/gzip_stream.h"
#include "flowlog/header.h"
#include "flowlog/record_parser.h"

namespace moat::flowlog {
namespace {

constexpr size_t kSniffBytes = 4096;  // looked at for gzip magic and binary content

// Replays the sniffed head, then continues with the inner stream.
class PrefixedStream : public ByteStream {
 public:
  PrefixedStream(std::unique_ptr<ByteStream> inner, std::string head)
      : inner_(std::move(inner)), head_(std::move(head)) {}
  Result<size_t> Read(std::span<char> out) override {
    if (pos_ < head_.size()) {
      const size_t n = std::min(out.size(), head_.size() - pos_);
      std::memcpy(out.data(), head_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return inner_->Read(out);
  }

 private:
  std::unique_ptr<ByteStream> inner_;
  std::string head_;
  size_t pos_ = 0;
};

// Line-by-line state of one object: its current header and parser, counters, and messages.
class FileReader {
 public:
  FileReader(std::string_view name, RecordSink& sink, Stats& stats) : name_(name), sink_(sink), stats_(stats) {}

  // Handles one complete line (no newline). Returns false when the rest of the file is to be
  // abandoned (no header, missing fields, binary content).
  bool Line(std::string_view line) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(' ') == std::string_view::npos) return true;
    if (!parser_) return FirstLine(line);
    if (line[0] >= 'a' && line[0] <= 'z' && IsHeaderAgain(line)) return SetHeader(line);
    ++stats_.lines;
    switch (parser_->ParsePadded(line, &batch_[batched_])) {
      case LineKind::kRecord:
        ++stats_.records;
        if (++batched_ == kBatch) Flush();
        break;
      case LineKind::kNoData:
        ++stats_.nodata;
        break;
      case LineKind::kSkipData:
        ++stats_.skipdata;
        break;
      case LineKind::kSkipped: {
        const SkipReason r = parser_->reason();
        if (stats_.skipped[static_cast<size_t>(r)] == 0) {
          stats_.Skip(r, Where(), parser_->Message());
        } else {
          ++stats_.skipped[static_cast<size_t>(r)];
        }
        break;
      }
    }
    return true;
  }

  void LineTooLong() {
    ++line_no_;
    if (parser_) ++stats_.lines;
    stats_.Skip(SkipReason::kLineTooLong, Where(), "line longer than " + std::to_string(kMaxLineLength) + " bytes");
  }

  void FileError(SkipReason r, const std::string& why) {
    std::string msg = why;
    if (line_no_ > 0) msg += " (after line " + std::to_string(line_no_) + ")";
    stats_.Skip(r, name_, msg);
  }

  // At the end of input: a file that never showed a header (empty, or blank lines only).
  void End() {
    if (!parser_ && !abandoned_) stats_.Skip(SkipReason::kNoHeader, name_, "empty file, no header line");
  }

  // Hands the parsed records to the sink. Called when the batch is full and at the end.
  void Flush() {
    sink_.AddBatch(std::span<const Record>(batch_.data(), batched_));
    batched_ = 0;
  }

  std::string Where() const { return std::string(name_) + ":" + std::to_string(line_no_); }

 private:
  bool FirstLine(std::string_view line) {
    if (!LooksLikeHeader(line)) {
      abandoned_ = true;
      stats_.Skip(SkipReason::kNoHeader, Where(), "no header line: first line " + Quote(line) + " names no fields");
      return false;
    }
    return SetHeader(line);
  }

  bool IsHeaderAgain(std::string_view line) const {
    const std::string_view first = line.substr(0, line.find(' '));
    for (auto name : KnownFieldNames()) {
      if (name == first) return LooksLikeHeader(line);
    }
    return false;
  }

  bool SetHeader(std::string_view line) {
    Header h = ParseHeader(line);
    if (!h.missing.empty()) {
      std::string names;
      for (const auto& m : h.missing) names += (names.empty() ? "'" : ", '") + m + "'";
      abandoned_ = true;
      stats_.Skip(SkipReason::kMissingFields, Where(), "header lacks " + names);
      return false;
    }
    if (h.size() > kMaxFields) {
      abandoned_ = true;
      stats_.Skip(SkipReason::kBadFieldCount, Where(),
                  "header has " + std::to_string(h.size()) + " fields, more than " + std::to_string(kMaxFields));
      return false;
    }
    if (!h.unknown.empty() && !warned_unknown_) {  // once per file, even when the header repeats
      warned_unknown_ = true;
      std::string names;
      for (const auto& u : h.unknown) names += (names.empty() ? "'" : ", '") + u + "'";
      stats_.warnings.push_back(Where() + ": unknown field " + names + " ignored");
    }
    if (!parser_) ++stats_.files_read;
    header_ = std::make_unique<Header>(std::move(h));
    parser_ = std::make_unique<RecordParser>(*header_, sink_.interfaces());
    return true;
  }

  std::string_view name_;
  RecordSink& sink_;
  Stats& stats_;
  std::unique_ptr<Header> header_;
  std::unique_ptr<RecordParser> parser_;
  uint64_t line_no_ = 0;
  bool abandoned_ = false;
  bool warned_unknown_ = false;
  static constexpr size_t kBatch = 64;
  std::array<Record, kBatch> batch_;
  size_t batched_ = 0;
};

bool IsBinary(std::string_view head) { return head.find('\0') != std::string_view::npos; }

// Splits the decompressed text into lines for `file`, until its end or an unrecoverable error.
void ReadLines(ByteStream& text, bool gzip, std::string_view name, FileReader& file, Stats& stats) {
  std::vector<char> buf(kBufferSize + kPadding);  // lines and fields are parsed in place
  size_t len = 0;
  bool discarding = false;  // inside a line already counted as too long
  bool first_chunk = true;
  for (;;) {
    auto n = text.Read(std::span<char>(buf.data() + len, kBufferSize - len));
    if (!n) {
      const bool corrupt = gzip && n.error().code == ErrorCode::kInvalidInput;
      file.FileError(corrupt ? SkipReason::kCorruptGzip : SkipReason::kUnreadable, n.error().message);
      return;
    }
    if (first_chunk && *n > 0) {
      first_chunk = false;
      if (IsBinary(std::string_view(buf.data(), std::min(*n, kSniffBytes)))) {
        stats.Skip(SkipReason::kNotText, name, "binary content, not flow-log text");
        return;
      }
    }
    const bool eof = *n == 0;
    len += *n;
    size_t pos = 0;
    while (pos < len) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + pos, '\n', len - pos));
      if (nl == nullptr) break;
      const size_t end = static_cast<size_t>(nl - buf.data());
      if (discarding) {
        discarding = false;
      } else if (end - pos > kMaxLineLength) {
        file.LineTooLong();
      } else if (!file.Line(std::string_view(buf.data() + pos, end - pos))) {
        return;
      }
      pos = end + 1;
    }
    const size_t rest = len - pos;
    if (eof) {
      if (rest > 0 && !discarding && !file.Line(std::string_view(buf.data() + pos, rest))) return;
      break;
    }
    if (discarding) {
      len = 0;  // still inside the long line
    } else if (rest > kMaxLineLength) {
      file.LineTooLong();
      discarding = true;
      len = 0;
    } else {
      std::memmove(buf.data(), buf.data() + pos, rest);
      len = rest;
    }
  }
  file.End();
}

}  // namespace

void ReadFlowLog(std::unique_ptr<ByteStream> input, std::string_view name, RecordSink& sink, Stats& stats) {
  ++stats.files;
  // Sniff the format from the first bytes.
  std::string head(kSniffBytes, '\0');
  size_t got = 0;
  while (got < 2) {
    auto n = input->Read(std::span<char>(head.data() + got, head.size() - got));
    if (!n) {
      stats.Skip(SkipReason::kUnreadable, name, n.error().message);
      return;
    }
    if (*n == 0) break;
    got += *n;
  }
  head.resize(got);
  const bool gzip = IsGzip(head);
  std::unique_ptr<ByteStream> text = gzip ? NewGzipStream(std::move(input), std::move(head))
                                          : std::make_unique<PrefixedStream>(std::move(input), std::move(head));

  FileReader file(name, sink, stats);
  ReadLines(*text, gzip, name, file, stats);
  file.Flush();
}

}  // namespace moat::flowlog
