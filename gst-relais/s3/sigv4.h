// AWS Signature Version 4, without transport: the canonical request, the
// string to sign, the signing key and the Authorization header, from plain
// strings. Pure functions (GnuTLS for SHA-256/HMAC), so the published AWS
// test vectors check them directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relais::s3::sigv4 {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// What is signed. `path` is the raw (not yet encoded) absolute path; each byte
// outside A-Z a-z 0-9 - . _ ~ and '/' is percent-encoded once, as S3 expects.
// `query` holds raw names and values. `headers` are exactly the headers to
// sign (names in any case; a repeated name is joined with commas in order).
struct Request {
  std::string method;
  std::string path = "/";
  Pairs query;
  Pairs headers;
  std::string payload_hash;  // lowercase hex SHA-256 of the body, or UNSIGNED-PAYLOAD
};

// Credential scope: date is YYYYMMDD, service e.g. "s3".
struct Scope {
  std::string date;
  std::string region;
  std::string service;
  std::string to_string() const;  // date/region/service/aws4_request
};

// RFC 3986 percent-encoding with uppercase hex; '/' kept unless encode_slash.
std::string uri_encode(std::string_view in, bool encode_slash);
// Query string in canonical form: names and values encoded, sorted by name
// then value, joined with '&'. Also the form Relais puts on the wire.
std::string canonical_query(const Pairs& query);
// "host;x-amz-date"...: lowercased, sorted, unique names.
std::string signed_headers(const Pairs& headers);
std::string canonical_request(const Request& request);
std::string string_to_sign(std::string_view amz_date, const Scope& scope,
                           std::string_view canonical_request);
// HMAC chain: "AWS4"+secret -> date -> region -> service -> "aws4_request".
std::vector<uint8_t> signing_key(std::string_view secret, const Scope& scope);
std::string signature(const std::vector<uint8_t>& key, std::string_view string_to_sign);
// The whole Authorization header value for `request` signed at `amz_date`
// (YYYYMMDDTHHMMSSZ); the scope's date must be the first 8 characters of it.
std::string authorization(std::string_view access_key, std::string_view secret,
                          std::string_view amz_date, const Scope& scope, const Request& request);

std::string sha256_hex(const void* data, size_t size);
inline std::string sha256_hex(std::string_view s) {
  return sha256_hex(s.data(), s.size());
}
std::string hex(const uint8_t* data, size_t size);

}  // namespace relais::s3::sigv4
