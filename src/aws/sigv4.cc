#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <vector>

namespace moat::aws {
namespace {

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

int FromHex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UriDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && FromHex(s[i + 1]) >= 0 && FromHex(s[i + 2]) >= 0) {
      out += static_cast<char>(FromHex(s[i + 1]) * 16 + FromHex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 3986 remove_dot_segments, and repeated slashes collapsed.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    const std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!seg.empty() && seg != ".") {
      out.push_back(seg);
    }
    i = j + 1;
  }
  std::string result;
  for (auto seg : out) result += "/" + std::string(seg);
  const bool trailing = !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  if (result.empty() || trailing) result += "/";
  return result;
}

std::string CanonicalPath(const std::string& path, bool normalize) {
  return UriEncode(normalize ? NormalizePath(path) : path, /*keep_slash=*/true);
}

// Sorted by encoded name, then encoded value.
std::string CanonicalQuery(std::string_view query, const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = 0;
  while (i < query.size()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    const std::string_view kv = query.substr(i, j - i);
    if (!kv.empty()) {
      const size_t eq = kv.find('=');
      const std::string k = UriDecode(kv.substr(0, eq));
      const std::string v = eq == std::string_view::npos ? "" : UriDecode(kv.substr(eq + 1));
      params.emplace_back(UriEncode(k), UriEncode(v));
    }
    i = j + 1;
  }
  for (const auto& [k, v] : extra) params.emplace_back(UriEncode(k), UriEncode(v));
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

std::string TrimCollapse(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

struct CanonicalHeaders {
  std::string text;     // "name:value\n" lines
  std::string signed_;  // "a;b;c"
};

CanonicalHeaders Canonicalize(const http::Headers& headers) {
  std::map<std::string, std::string> by_name;  // lower-case name -> values joined with ','
  for (const auto& [k, v] : headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    auto [it, fresh] = by_name.emplace(name, TrimCollapse(v));
    if (!fresh) it->second += "," + TrimCollapse(v);
  }
  CanonicalHeaders out;
  for (const auto& [k, v] : by_name) {
    out.text += k + ":" + v + "\n";
    out.signed_ += (out.signed_.empty() ? "" : ";") + k;
  }
  return out;
}

std::string Scope(const SigningParams& p) {
  return AmzDate(p.unix_time).substr(0, 8) + "/" + p.region + "/" + p.service + "/aws4_request";
}

void Finish(Signature& s, const SigningParams& p) {
  s.string_to_sign =
      "AWS4-HMAC-SHA256\n" + AmzDate(p.unix_time) + "\n" + Scope(p) + "\n" + Sha256Hex(s.canonical_request);
  std::string key = Hmac("AWS4" + p.credentials.secret_access_key, AmzDate(p.unix_time).substr(0, 8));
  key = Hmac(key, p.region);
  key = Hmac(key, p.service);
  key = Hmac(key, "aws4_request");
  const std::string sig = Hmac(key, s.string_to_sign);
  s.signature = Hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
  return Hex(out, n);
}

std::string AmzDate(int64_t unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Signature SignWithHeaders(const Message& m, const SigningParams& p) {
  Signature s;
  const std::string body_hash = Sha256Hex(m.body);
  http::Headers headers = m.headers;
  s.add_headers.emplace_back("X-Amz-Date", AmzDate(p.unix_time));
  if (!p.credentials.session_token.empty() && !p.omit_session_token) {
    s.add_headers.emplace_back("X-Amz-Security-Token", p.credentials.session_token);
  }
  if (p.sign_body) s.add_headers.emplace_back("X-Amz-Content-Sha256", body_hash);
  headers.insert(headers.end(), s.add_headers.begin(), s.add_headers.end());
  const CanonicalHeaders ch = Canonicalize(headers);
  s.canonical_request = m.method + "\n" + CanonicalPath(m.path, p.normalize_path) + "\n" + CanonicalQuery(m.query, {}) +
                        "\n" + ch.text + "\n" + ch.signed_ + "\n" + body_hash;
  Finish(s, p);
  s.add_headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + p.credentials.access_key_id + "/" +
                                                  Scope(p) + ", SignedHeaders=" + ch.signed_ +
                                                  ", Signature=" + s.signature);
  if (!p.credentials.session_token.empty() && p.omit_session_token) {
    s.add_headers.emplace_back("X-Amz-Security-Token", p.credentials.session_token);
  }
  return s;
}

Signature SignWithQuery(const Message& m, const SigningParams& p) {
  Signature s;
  const CanonicalHeaders ch = Canonicalize(m.headers);
  std::vector<std::pair<std::string, std::string>> extra = {
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential", p.credentials.access_key_id + "/" + Scope(p)},
      {"X-Amz-Date", AmzDate(p.unix_time)},
      {"X-Amz-Expires", std::to_string(p.expires_seconds)},
      {"X-Amz-SignedHeaders", ch.signed_}};
  if (!p.credentials.session_token.empty() && !p.omit_session_token) {
    extra.emplace_back("X-Amz-Security-Token", p.credentials.session_token);
  }
  const std::string query = CanonicalQuery(m.query, extra);
  s.canonical_request = m.method + "\n" + CanonicalPath(m.path, p.normalize_path) + "\n" + query + "\n" + ch.text +
                        "\n" + ch.signed_ + "\n" + Sha256Hex(m.body);
  Finish(s, p);
  s.signed_query = query + "&X-Amz-Signature=" + s.signature;
  if (!p.credentials.session_token.empty() && p.omit_session_token) {
    s.signed_query += "&X-Amz-Security-Token=" + UriEncode(p.credentials.session_token);
  }
  return s;
}

}  // namespace moat::aws
