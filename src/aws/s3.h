// S3 as an ObjectStore: `s3://bucket/prefix` lists the flow-log objects under a prefix
// (ListObjectsV2, paginated; the same filter as a directory, flowlog/object_name.h: .log and
// .log.gz, nothing under the bucket's moat/), and an object opens as a ByteStream that reads it in
// ranged GETs, so memory stays bounded whatever the object's size. Path-style URLs, SigV4 with the
// payload hash S3 wants; every request goes through a SignedClient (aws/signed_client.h), so
// SlowDown, 5xx and connection failures are retried and expired credentials renewed. Borrows the
// transport and the clock, shares the credentials provider; not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/signed_client.h"
#include "base/byte_stream.h"
#include "base/clock.h"
#include "http/transport.h"

namespace moat::aws {

struct S3Config {
  std::string endpoint;  // "https://s3.us-east-1.amazonaws.com" or a test server
  std::string region;
  size_t range_bytes = 8 << 20;  // bytes per ranged GET
};

class S3Store : public ObjectStore {
 public:
  S3Store(S3Config config, std::shared_ptr<CredentialsProvider> credentials, http::Transport& transport, Clock& clock,
          RetryPolicy retry = {});

  // `prefix` is "s3://bucket/key-prefix"; names returned are "s3://bucket/key".
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::unique_ptr<ByteStream>> Open(const std::string& name) override;

  // One signed request to the bucket: `key` without the leading '/', `query` raw. The answer
  // (any status but one retried to the end), or an error naming the request.
  Result<http::Response> Request(const std::string& method, const std::string& bucket, const std::string& key,
                                 const std::string& query, const http::Headers& extra = {},
                                 const std::string& body = "");

  // A whole small object ("s3://bucket/key"), or nullopt when there is none.
  Result<std::optional<std::string>> Get(const std::string& name);
  // Writes a whole object (PutObject: S3 replaces objects atomically).
  Status Put(const std::string& name, const std::string& bytes, const std::string& content_type);
  // DeleteObject; an object already gone is not an error.
  Status Delete(const std::string& name);

 private:
  S3Config config_;
  SignedClient client_;
};

// Splits "s3://bucket/key" into (bucket, key); false when it is not one.
bool ParseS3Url(std::string_view url, std::string* bucket, std::string* key);

}  // namespace moat::aws
