#include "redact.h"

#include <glib.h>

#include <array>

#include "glib_handles.h"

namespace relais {
namespace {

constexpr std::string_view kMask = "***";

bool is_scheme_char(char c) {
  return g_ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
}

bool ends_uri(char c) {
  return g_ascii_isspace(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`';
}

bool is_credential_key(std::string_view raw) {
  std::string key(raw);
  GCharPtr decoded(g_uri_unescape_string(key.c_str(), nullptr));
  if (decoded) key = decoded.get();
  GCharPtr lower(g_ascii_strdown(key.c_str(), -1));
  const std::string_view k = lower.get();
  if (k == "pw" || k == "p" || k == "u") return true;
  static constexpr std::array<std::string_view, 11> kParts = {
      "pass", "pwd",  "user", "login",   "token",     "secret",
      "key",  "auth", "sig",  "session", "credential"};
  for (std::string_view part : kParts) {
    if (k.find(part) != std::string_view::npos) return true;
  }
  return false;
}

// "k=v&k=v;k=v" with credential values masked.
std::string redact_query(std::string_view query) {
  std::string out;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find_first_of("&;", pos);
    if (end == std::string_view::npos) end = query.size();
    std::string_view param = query.substr(pos, end - pos);
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && is_credential_key(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1)).append(kMask);
    } else {
      out.append(param);
    }
    if (end < query.size()) out.push_back(query[end]);
    pos = end + 1;
  }
  return out;
}

// What follows "scheme://", up to where the URI ends.
std::string redact_uri_body(std::string_view body) {
  std::string out;
  const size_t query_at = body.find_first_of("?#");
  const std::string_view before_query = body.substr(0, query_at);
  // The last '@' before the query ends the user info, so a password that holds
  // '/' or '@' unescaped is masked whole.
  const size_t at = before_query.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = before_query.substr(0, at);
    const size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out.append(userinfo.substr(0, colon + 1)).append(kMask);
    } else {
      out.append(userinfo);
    }
    out.append(before_query.substr(at));
  } else {
    out.append(before_query);
  }
  if (query_at == std::string_view::npos) return out;
  std::string_view rest = body.substr(query_at);
  if (rest.front() == '?') {
    const size_t fragment_at = rest.find('#');
    out.push_back('?');
    out.append(redact_query(rest.substr(
        1, fragment_at == std::string_view::npos ? std::string_view::npos : fragment_at - 1)));
    if (fragment_at != std::string_view::npos) out.append(rest.substr(fragment_at));
  } else {
    out.append(rest);
  }
  return out;
}

}  // namespace

std::string redact_credentials(std::string_view text) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t sep = text.find("://", pos);
    if (sep == std::string_view::npos) break;
    size_t start = sep;
    while (start > pos && is_scheme_char(text[start - 1])) --start;
    const size_t body = sep + 3;
    out.append(text.substr(pos, body - pos));
    pos = body;
    if (start == sep) continue;  // no scheme: not a URI
    size_t end = body;
    while (end < text.size() && !ends_uri(text[end])) ++end;
    out.append(redact_uri_body(text.substr(body, end - body)));
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace relais
