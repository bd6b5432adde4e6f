// The short-lived token a full node puts in a WHEP redirect's Location, so a
// viewer that must present RELAIS_VIEWER_TOKEN can still be let in by the
// target node: browsers drop Authorization on a cross-origin redirect. It is
// "EXPIRES.HMAC" (expiry in Unix seconds, HMAC-SHA256 in hex, keyed with the
// viewer token every node shares, over the stream name and the expiry), so it
// admits one stream for a minute and reveals nothing of the key.
#pragma once

#include <cstdint>
#include <string>

namespace relais::webrtc {

inline constexpr char kRedirectTokenParam[] = "relais_token";
inline constexpr int64_t kRedirectTokenSeconds = 60;

std::string make_redirect_token(const std::string& key, const std::string& stream,
                                int64_t expires_unix_s);
// Whether `token` was made with `key` for `stream` and has not expired at now.
bool check_redirect_token(const std::string& key, const std::string& stream,
                          const std::string& token, int64_t now_unix_s);
// The value of relais_token in a raw query string ("" when absent).
std::string redirect_token_in_query(const std::string& query);

}  // namespace relais::webrtc
