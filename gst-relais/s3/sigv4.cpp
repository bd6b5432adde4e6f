#include "sigv4.h"

#include <glib.h>
#include <gnutls/crypto.h>

#include <algorithm>
#include <map>

namespace relais::s3::sigv4 {

namespace {

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

constexpr size_t kSha256Size = 32;

// GnuTLS (through nettle) uses the CPU's SHA instructions where there are
// some: several times faster than GLib's portable SHA-256 on large payloads.
// GLib computes the same digests should GnuTLS return an error.
std::vector<uint8_t> hmac(const std::vector<uint8_t>& key, std::string_view data) {
  std::vector<uint8_t> out(kSha256Size);
  if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key.data(), key.size(), data.data(), data.size(),
                       out.data()) == 0)
    return out;
  GHmac* h = g_hmac_new(G_CHECKSUM_SHA256, key.data(), key.size());
  g_hmac_update(h, reinterpret_cast<const guchar*>(data.data()), data.size());
  gsize len = out.size();
  g_hmac_get_digest(h, out.data(), &len);
  g_hmac_unref(h);
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = g_ascii_tolower(c);
  return out;
}

// Trims both ends and folds runs of spaces into one, as SigV4 requires.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool in_space = false;
  for (char c : v) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::map<std::string, std::string> header_map(const Pairs& headers) {
  std::map<std::string, std::string> m;
  for (const auto& [name, value] : headers) {
    std::string key = to_lower(name);
    auto it = m.find(key);
    if (it == m.end())
      m.emplace(key, canonical_value(value));
    else
      it->second += "," + canonical_value(value);
  }
  return m;
}

}  // namespace

std::string Scope::to_string() const {
  return date + "/" + region + "/" + service + "/aws4_request";
}

std::string hex(const uint8_t* data, size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

std::string sha256_hex(const void* data, size_t size) {
  uint8_t digest[kSha256Size];
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, size > 0 ? data : "", size, digest) == 0)
    return hex(digest, sizeof(digest));
  GChecksum* c = g_checksum_new(G_CHECKSUM_SHA256);
  if (size > 0) g_checksum_update(c, static_cast<const guchar*>(data), size);
  std::string out = g_checksum_get_string(c);
  g_checksum_free(c);
  return out;
}

std::string uri_encode(std::string_view in, bool encode_slash) {
  static const char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xf]);
    }
  }
  return out;
}

std::string canonical_query(const Pairs& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [name, value] : query)
    enc.emplace_back(uri_encode(name, true), uri_encode(value, true));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [name, value] : enc) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

std::string signed_headers(const Pairs& headers) {
  std::string out;
  for (const auto& entry : header_map(headers)) {
    if (!out.empty()) out.push_back(';');
    out += entry.first;
  }
  return out;
}

std::string canonical_request(const Request& request) {
  std::string out = request.method + "\n";
  out += uri_encode(request.path.empty() ? "/" : request.path, false) + "\n";
  out += canonical_query(request.query) + "\n";
  for (const auto& [name, value] : header_map(request.headers)) out += name + ":" + value + "\n";
  out += "\n";
  out += signed_headers(request.headers) + "\n";
  out += request.payload_hash;
  return out;
}

std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request) {
  std::string out = kAlgorithm;
  out += "\n";
  out += amz_date;
  out += "\n" + scope.to_string() + "\n";
  out += sha256_hex(canonical_request);
  return out;
}

std::vector<uint8_t> signing_key(std::string_view secret, const Scope& scope) {
  std::string k = "AWS4";
  k += secret;
  std::vector<uint8_t> key(k.begin(), k.end());
  key = hmac(key, scope.date);
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  return hmac(key, "aws4_request");
}

std::string signature(const std::vector<uint8_t>& key, std::string_view string_to_sign) {
  std::vector<uint8_t> sig = hmac(key, string_to_sign);
  return hex(sig.data(), sig.size());
}

std::string authorization(std::string_view access_key, std::string_view secret,
                          std::string_view amz_date, const Scope& scope, const Request& request) {
  std::string sts = string_to_sign(amz_date, scope, canonical_request(request));
  std::string out = kAlgorithm;
  out += " Credential=";
  out += access_key;
  out += "/" + scope.to_string();
  out += ", SignedHeaders=" + signed_headers(request.headers);
  out += ", Signature=" + signature(signing_key(secret, scope), sts);
  return out;
}

}  // namespace relais::s3::sigv4
