#include "s3_xml.h"

#include <glib.h>

namespace relais::s3 {

namespace {

// Appends the UTF-8 encoding of code point `cp` (invalid ones become U+FFFD).
void append_utf8(std::string* out, gunichar cp) {
  if (!g_unichar_validate(cp)) cp = 0xFFFD;
  char buf[6];
  gint n = g_unichar_to_utf8(cp, buf);
  out->append(buf, n);
}

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t end = s.find(';', i);
    if (end == std::string_view::npos || end - i > 10) {
      out.push_back('&');
      continue;
    }
    std::string_view ent = s.substr(i + 1, end - i - 1);
    if (ent == "amp")
      out.push_back('&');
    else if (ent == "lt")
      out.push_back('<');
    else if (ent == "gt")
      out.push_back('>');
    else if (ent == "quot")
      out.push_back('"');
    else if (ent == "apos")
      out.push_back('\'');
    else if (ent.size() > 1 && ent[0] == '#') {
      std::string num(ent.substr(1));
      bool hexnum = !num.empty() && (num[0] == 'x' || num[0] == 'X');
      gchar* endp = nullptr;
      guint64 cp = g_ascii_strtoull(num.c_str() + (hexnum ? 1 : 0), &endp, hexnum ? 16 : 10);
      if (endp && *endp == '\0' && cp <= 0x10FFFF)
        append_utf8(&out, static_cast<gunichar>(cp));
      else
        out.append(s.substr(i, end - i + 1));
    } else {
      out.append(s.substr(i, end - i + 1));
    }
    i = end;
  }
  return out;
}

}  // namespace

std::optional<std::string> xml_text(std::string_view doc, std::string_view tag) {
  std::string open = "<" + std::string(tag);
  size_t pos = 0;
  while ((pos = doc.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after >= doc.size()) return std::nullopt;
    char c = doc[after];
    if (c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/') {
      size_t gt = doc.find('>', after);
      if (gt == std::string_view::npos) return std::nullopt;
      if (doc[gt - 1] == '/') return std::string();  // <tag/>
      std::string close = "</" + std::string(tag) + ">";
      size_t end = doc.find(close, gt + 1);
      if (end == std::string_view::npos) return std::nullopt;
      return decode_entities(doc.substr(gt + 1, end - gt - 1));
    }
    pos = after;
  }
  return std::nullopt;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace relais::s3
