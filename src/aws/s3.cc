#include "aws/s3.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "aws/query.h"
#include "base/strings.h"
#include "flowlog/object_name.h"

namespace moat::aws {
namespace {

std::string S3Error(const http::Response& r) {
  pugi::xml_document doc;
  if (doc.load_string(r.body.c_str())) {
    const std::string code = Text(doc, "Code");
    if (!code.empty()) return code + ": " + Text(doc, "Message");
  }
  return "HTTP " + std::to_string(r.status);
}

ErrorCode S3Code(const http::Response& r) {
  if (r.status == 404) return ErrorCode::kNotFound;
  if (r.status == 401 || r.status == 403 || IsExpiredCredentialsCode(XmlError(r).code)) return ErrorCode::kDenied;
  if (r.status == 429 || r.status >= 500) return ErrorCode::kTransient;
  return ErrorCode::kInvalidInput;
}

// Reads an object in ranged GETs of `range` bytes, one at a time, as the reader asks.
class RangeStream : public ByteStream {
 public:
  RangeStream(S3Store& store, std::string bucket, std::string key, size_t range)
      : store_(store), bucket_(std::move(bucket)), key_(std::move(key)), range_(range) {}

  Result<size_t> Read(std::span<char> out) override {
    if (pos_ == chunk_.size()) {
      if (done_) return size_t{0};
      auto r =
          store_.Request("GET", bucket_, key_, "",
                         {{"Range", "bytes=" + std::to_string(offset_) + "-" + std::to_string(offset_ + range_ - 1)}});
      if (!r) return Fail(std::move(r).error());
      if (r->status == 416) {  // asked past the end (an empty object)
        done_ = true;
        return size_t{0};
      }
      if (r->status != 206 && r->status != 200) {
        return Fail(Error{S3Code(*r), "s3://" + bucket_ + "/" + key_ + ": " + S3Error(*r)});
      }
      chunk_ = std::move(r->body);
      pos_ = 0;
      offset_ += chunk_.size();
      // 200 is the whole object; a short 206 is its last part.
      done_ = r->status == 200 || chunk_.size() < range_;
      if (chunk_.empty()) return size_t{0};
    }
    const size_t n = std::min(out.size(), chunk_.size() - pos_);
    std::memcpy(out.data(), chunk_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  S3Store& store_;
  std::string bucket_, key_;
  size_t range_;
  std::string chunk_;
  size_t pos_ = 0;
  uint64_t offset_ = 0;
  bool done_ = false;
};

}  // namespace

bool ParseS3Url(std::string_view url, std::string* bucket, std::string* key) {
  if (!url.starts_with("s3://")) return false;
  url.remove_prefix(5);
  const size_t slash = url.find('/');
  *bucket = std::string(url.substr(0, slash));
  *key = slash == std::string_view::npos ? "" : std::string(url.substr(slash + 1));
  return !bucket->empty();
}

S3Store::S3Store(S3Config config, std::shared_ptr<CredentialsProvider> credentials, http::Transport& transport,
                 Clock& clock, RetryPolicy retry)
    : config_(std::move(config)),
      client_({"s3", config_.endpoint, config_.region}, std::move(credentials), transport, clock, retry) {}

Result<http::Response> S3Store::Request(const std::string& method, const std::string& bucket, const std::string& key,
                                        const std::string& query, const http::Headers& extra, const std::string& body) {
  SignedRequest req;
  req.method = method;
  req.path = key.empty() ? "/" + bucket : "/" + bucket + "/" + key;  // bucket operations: no trailing slash
  req.query = query;
  req.headers = extra;
  req.body = body;
  req.s3 = true;
  req.timeout_ms = 120000;
  return client_.Send(req, "s3 " + method + " s3://" + bucket + (key.empty() ? "" : "/" + key), XmlError);
}

Result<std::vector<ObjectInfo>> S3Store::List(const std::string& url) {
  std::string bucket, prefix;
  if (!ParseS3Url(url, &bucket, &prefix)) return Fail(InvalidInput(url + ": not an s3://bucket/prefix URL"));
  std::vector<ObjectInfo> out;
  std::string token;
  bool any = false;
  do {
    std::string query = "list-type=2&prefix=" + UriEncode(prefix);
    if (!token.empty()) query += "&continuation-token=" + UriEncode(token);
    auto r = Request("GET", bucket, "", query);
    if (!r) return Fail(std::move(r).error());
    if (r->status != 200) return Fail(Error{S3Code(*r), url + ": " + S3Error(*r)});
    pugi::xml_document doc;
    if (!doc.load_string(r->body.c_str())) return Fail(InvalidInput(url + ": the listing is not XML"));
    const pugi::xml_node root = doc.document_element();
    for (const auto& c : Children(root, "Contents")) {
      any = true;
      const std::string key = Sub(c, "Key").text().get();
      // An explicitly named object is always read, as a named file is.
      if (key == prefix || flowlog::IsFlowLogObject(key)) {
        auto size = IntElement(c, "Size", "s3 ListObjectsV2 " + url, 0, 0, INT64_MAX);
        if (!size) return Fail(std::move(size).error());
        out.push_back({"s3://" + bucket + "/" + key, static_cast<uint64_t>(*size)});
      }
    }
    token = std::string(Sub(root, "IsTruncated").text().get()) == "true"
                ? Sub(root, "NextContinuationToken").text().get()
                : "";
  } while (!token.empty());
  if (!any) return Fail(NotFound(url + ": no objects under this prefix"));
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::unique_ptr<ByteStream>> S3Store::Open(const std::string& name) {
  std::string bucket, key;
  if (!ParseS3Url(name, &bucket, &key) || key.empty()) return Fail(InvalidInput(name + ": not an s3://bucket/key URL"));
  return std::unique_ptr<ByteStream>(std::make_unique<RangeStream>(*this, bucket, key, config_.range_bytes));
}

Result<std::optional<std::string>> S3Store::Get(const std::string& name) {
  std::string bucket, key;
  if (!ParseS3Url(name, &bucket, &key) || key.empty()) return Fail(InvalidInput(name + ": not an s3://bucket/key URL"));
  auto r = Request("GET", bucket, key, "");
  if (!r) return Fail(std::move(r).error());  // names the request already
  if (r->status == 404) return std::optional<std::string>();
  if (r->status != 200) return Fail(Error{S3Code(*r), name + ": " + S3Error(*r)});
  return std::optional<std::string>(std::move(r->body));
}

Status S3Store::Put(const std::string& name, const std::string& bytes, const std::string& content_type) {
  std::string bucket, key;
  if (!ParseS3Url(name, &bucket, &key) || key.empty()) return Fail(InvalidInput(name + ": not an s3://bucket/key URL"));
  auto r = Request("PUT", bucket, key, "", {{"Content-Type", content_type}}, bytes);
  if (!r) return Fail(std::move(r).error());  // names the request already
  if (r->status != 200) return Fail(Error{S3Code(*r), name + ": " + S3Error(*r)});
  return {};
}

Status S3Store::Delete(const std::string& name) {
  std::string bucket, key;
  if (!ParseS3Url(name, &bucket, &key) || key.empty()) return Fail(InvalidInput(name + ": not an s3://bucket/key URL"));
  auto r = Request("DELETE", bucket, key, "");
  if (!r) return Fail(std::move(r).error());
  if (r->status != 204 && r->status != 200 && r->status != 404)
    return Fail(Error{S3Code(*r), name + ": " + S3Error(*r)});
  return {};
}

}  // namespace moat::aws
