#include "source_uri.h"

#include <glib.h>

#include <memory>
#include <set>

#include "glib_handles.h"
#include "redact.h"

namespace relais::ingress {

namespace {

struct GUriDeleter {
  void operator()(GUri* u) const { g_uri_unref(u); }
};
using GUriPtr = std::unique_ptr<GUri, GUriDeleter>;

constexpr int kMaxDimension = 16384;
constexpr int kMaxFramerate = 1000;
constexpr int kMaxFractionTerm = 1000000;

std::string or_empty(const char* s) {
  return s ? s : "";
}

bool unescape(const char* encoded, const char* what, std::string* out, std::string* error) {
  if (!encoded) {
    out->clear();
    return true;
  }
  GCharPtr decoded(g_uri_unescape_string(encoded, nullptr));
  if (!decoded) {
    *error = std::string("The ") + what + " in the URI has an invalid %-escape.";
    return false;
  }
  *out = decoded.get();
  return true;
}

bool parse_int(const std::string& key, const std::string& value, int min, int max, int* out,
               std::string* error) {
  gint64 v = 0;
  if (!g_ascii_string_to_signed(value.c_str(), 10, min, max, &v, nullptr)) {
    *error = "test:// " + key + " must be a whole number from " + std::to_string(min) + " to " +
             std::to_string(max) + ", not '" + value + "'.";
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

bool parse_framerate(const std::string& value, TestPattern* test, std::string* error) {
  std::string num = value, den = "1";
  if (auto slash = value.find('/'); slash != std::string::npos) {
    num = value.substr(0, slash);
    den = value.substr(slash + 1);
  }
  gint64 n = 0, d = 0;
  if (!g_ascii_string_to_signed(num.c_str(), 10, 1, kMaxFractionTerm, &n, nullptr) ||
      !g_ascii_string_to_signed(den.c_str(), 10, 1, kMaxFractionTerm, &d, nullptr) ||
      n > d * kMaxFramerate) {
    *error = "test:// framerate must be N/D or N frames per second, above 0 and at most " +
             std::to_string(kMaxFramerate) + " (e.g. 30/1 or 30000/1001), not '" + value + "'.";
    return false;
  }
  test->fps_n = static_cast<int>(n);
  test->fps_d = static_cast<int>(d);
  return true;
}

bool valid_pattern_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!g_ascii_islower(c) && !g_ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

bool parse_test_query(const char* query, TestPattern* test, std::string* error) {
  if (!query || !*query) return true;
  GUriParamsIter iter;
  g_uri_params_iter_init(&iter, query, -1, "&", G_URI_PARAMS_NONE);
  std::set<std::string> seen;
  for (;;) {
    gchar* raw_key = nullptr;
    gchar* raw_value = nullptr;
    GError* raw_error = nullptr;
    if (!g_uri_params_iter_next(&iter, &raw_key, &raw_value, &raw_error)) {
      if (raw_error) {
        GErrorPtr err(raw_error);
        *error = std::string("Malformed test:// query: ") + err->message;
        return false;
      }
      return true;
    }
    GCharPtr key_holder(raw_key), value_holder(raw_value);
    std::string key = or_empty(raw_key), value = or_empty(raw_value);
    if (!seen.insert(key).second) {
      *error = "test:// key '" + key + "' is given more than once.";
      return false;
    }
    if (key == "pattern") {
      if (!valid_pattern_name(value)) {
        *error =
            "test:// pattern must be a videotestsrc pattern name such as ball or smpte, not '" +
            value + "'.";
        return false;
      }
      test->pattern = value;
    } else if (key == "width") {
      if (!parse_int(key, value, 1, kMaxDimension, &test->width, error)) return false;
    } else if (key == "height") {
      if (!parse_int(key, value, 1, kMaxDimension, &test->height, error)) return false;
    } else if (key == "framerate") {
      if (!parse_framerate(value, test, error)) return false;
    } else {
      *error = "Unknown key '" + key +
               "' in test:// URI; the keys are pattern, width, height and framerate.";
      return false;
    }
  }
}

bool no_host_or_query(GUri* uri, const std::string& scheme, std::string* error) {
  const char* host = g_uri_get_host(uri);
  if (host && *host) {
    *error = scheme + ":// URIs take no host ('" + host + "'): write " + scheme + ":///...";
    return false;
  }
  return true;
}

// Rebuilds the URI without user info, keeping the encoded parts as they were.
std::string without_credentials(GUri* uri) {
  GCharPtr joined(g_uri_join(G_URI_FLAGS_ENCODED, g_uri_get_scheme(uri), nullptr,
                             g_uri_get_host(uri), g_uri_get_port(uri), g_uri_get_path(uri),
                             g_uri_get_query(uri), g_uri_get_fragment(uri)));
  return joined.get();
}

bool parse_network(GUri* uri, const std::string& scheme, SourceDescription* out,
                   std::string* error) {
  const char* host = g_uri_get_host(uri);
  if (!host || !*host) {
    *error = scheme + ":// URI has no host: write " + scheme + "://host[:port]/path.";
    return false;
  }
  if (!unescape(g_uri_get_user(uri), "user name", &out->user, error) ||
      !unescape(g_uri_get_password(uri), "password", &out->password, error)) {
    return false;
  }
  out->location = without_credentials(uri);
  return true;
}

}  // namespace

const char* source_kind_name(SourceKind kind) {
  switch (kind) {
    case SourceKind::kRtsp:
      return "rtsp";
    case SourceKind::kFile:
      return "file";
    case SourceKind::kHttp:
      return "http";
    case SourceKind::kV4l2:
      return "v4l2";
    case SourceKind::kTest:
      return "test";
  }
  return "unknown";
}

bool parse_source_uri(const std::string& text, SourceDescription* out, std::string* error) {
  if (text.empty()) {
    *error =
        "No uri is set. Set uri to rtsp://, rtsps://, file://, http(s)://, v4l2:///dev/videoN "
        "or test://.";
    return false;
  }
  GError* raw_error = nullptr;
  GUriPtr uri(g_uri_parse(text.c_str(),
                          static_cast<GUriFlags>(G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED),
                          &raw_error));
  if (!uri) {
    GErrorPtr err(raw_error);
    *error = redact_credentials("Malformed URI '" + text + "': " + err->message);
    return false;
  }
  SourceDescription d;
  d.display_uri = redact_credentials(text);
  GCharPtr lower(g_ascii_strdown(g_uri_get_scheme(uri.get()), -1));
  const std::string scheme = lower.get();

  if (scheme == "rtsp" || scheme == "rtsps" || scheme == "rtspt" || scheme == "rtsph") {
    d.kind = SourceKind::kRtsp;
    if (!parse_network(uri.get(), scheme, &d, error)) return false;
  } else if (scheme == "http" || scheme == "https") {
    d.kind = SourceKind::kHttp;
    if (!parse_network(uri.get(), scheme, &d, error)) return false;
  } else if (scheme == "file") {
    d.kind = SourceKind::kFile;
    const char* host = g_uri_get_host(uri.get());
    if (host && *host && g_ascii_strcasecmp(host, "localhost") != 0) {
      *error = "file:// URIs name a local file: write file:///absolute/path, not a host ('" +
               std::string(host) + "').";
      return false;
    }
    std::string path;
    if (!unescape(g_uri_get_path(uri.get()), "path", &path, error)) return false;
    if (path.empty() || path[0] != '/') {
      *error = "file:// URI needs an absolute path: file:///absolute/path.";
      return false;
    }
    d.location = path;
  } else if (scheme == "v4l2") {
    d.kind = SourceKind::kV4l2;
    if (!no_host_or_query(uri.get(), scheme, error)) return false;
    std::string path;
    if (!unescape(g_uri_get_path(uri.get()), "path", &path, error)) return false;
    if (path.rfind("/dev/", 0) != 0 || path.size() <= 5) {
      *error = "v4l2:// URI must name a device: v4l2:///dev/videoN, not '" + d.display_uri + "'.";
      return false;
    }
    if (g_uri_get_query(uri.get())) {
      *error = "v4l2:// URIs take no query: v4l2:///dev/videoN.";
      return false;
    }
    d.location = path;
  } else if (scheme == "test") {
    d.kind = SourceKind::kTest;
    if (!no_host_or_query(uri.get(), scheme, error)) return false;
    const std::string path = or_empty(g_uri_get_path(uri.get()));
    if (!path.empty() && path != "/") {
      *error =
          "test:// URIs take only a query, e.g. "
          "test://?pattern=ball&width=1280&height=720&framerate=30/1, not a path ('" +
          path + "').";
      return false;
    }
    if (!parse_test_query(g_uri_get_query(uri.get()), &d.test, error)) return false;
  } else {
    *error = "Unsupported URI scheme '" + scheme + "' in '" + d.display_uri +
             "'. Use rtsp, rtsps, file, http, https, v4l2 or test.";
    return false;
  }
  *out = std::move(d);
  return true;
}

}  // namespace relais::ingress
