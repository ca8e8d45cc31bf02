#include "store/history.h"

#include <fmt/format.h>
#include <zlib.h>

namespace moat::store {
namespace {

class GzipWriter {
 public:
  GzipWriter() { ok_ = deflateInit2(&z_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK; }
  ~GzipWriter() { deflateEnd(&z_); }
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  bool ok() const { return ok_; }
  void Write(const std::string& text, bool finish) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z_.avail_in = static_cast<uInt>(text.size());
    char buf[1 << 16];
    int rc = Z_OK;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      rc = deflate(&z_, finish ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) {
        ok_ = false;
        return;
      }
      out_.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_out == 0 || (finish && rc != Z_STREAM_END));
  }
  std::string Take() { return std::move(out_); }

 private:
  z_stream z_{};
  bool ok_ = false;
  std::string out_;
};

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<std::string> FlowHistory(const traffic::FlowsReport& report, const std::string& source) {
  GzipWriter gz;
  if (!gz.ok()) return Fail(Internal("flow history: zlib could not start"));
  const flowlog::Stats& s = report.stats;
  std::string chunk = fmt::format(
      "{{\"source\": {}, \"totals\": {{\"files\": {}, \"lines\": {}, \"records\": {}, \"nodata\": {}, "
      "\"skipdata\": {}, \"skipped\": {}, \"flows\": {}}}}}\n",
      Quoted(source), s.files, s.lines, s.records, s.nodata, s.skipdata, s.TotalSkipped(), report.flows.size());
  for (const traffic::Flow& f : report.flows) {
    traffic::AppendFlowJson(chunk, f);
    chunk += '\n';
    if (chunk.size() >= (1 << 16)) {
      gz.Write(chunk, false);
      chunk.clear();
    }
  }
  gz.Write(chunk, true);
  if (!gz.ok()) return Fail(Internal("flow history: compression failed"));
  return gz.Take();
}

}  // namespace moat::store
