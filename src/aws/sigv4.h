// AWS Signature Version 4: the canonical request, the string to sign, the signature, and the
// headers (or query parameters) that carry it — by the published algorithm, checked against AWS's
// signing test suite (../shared/testdata/sigv4). Pure functions; the secret key is used, never
// returned or logged.
#pragma once

#include <cstdint>
#include <string>

#include "http/transport.h"

namespace moat::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  int64_t expiration = 0;     // unix seconds when they stop working; 0: they do not expire
};

struct SigningParams {
  Credentials credentials;
  std::string region;
  std::string service;
  int64_t unix_time = 0;            // the signing time
  bool normalize_path = true;       // remove "." and ".." segments and repeated slashes (all but S3)
  bool sign_body = false;           // add x-amz-content-sha256 (header signing)
  bool omit_session_token = false;  // add the token after signing, unsigned (some services want it so)
  int expires_seconds = 3600;       // query signing: how long the URL is valid
};

// The request to sign. `path` is as on the wire before encoding (it may hold UTF-8 and spaces);
// `query` is the raw query string (percent-encoded or not), without '?'.
struct Message {
  std::string method = "GET";
  std::string path = "/";
  std::string query;
  http::Headers headers;  // must include host
  std::string body;
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  http::Headers add_headers;  // header signing: X-Amz-Date, Authorization, ...
  std::string signed_query;   // query signing: the query string to send, signature included
};

Signature SignWithHeaders(const Message& m, const SigningParams& p);
Signature SignWithQuery(const Message& m, const SigningParams& p);

// Hex SHA-256 of bytes.
std::string Sha256Hex(std::string_view data);
// "20150830T123600Z".
std::string AmzDate(int64_t unix_time);
// Percent-encoding of RFC 3986: everything but A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash).
std::string UriEncode(std::string_view s, bool keep_slash = false);

}  // namespace moat::aws
