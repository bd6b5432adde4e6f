#include "source_builder.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

namespace relais::ingress {

namespace {

ElementRef make(const char* factory, BuildError* error) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (!e && error) {
    error->domain = GST_CORE_ERROR;
    error->code = GST_CORE_ERROR_MISSING_PLUGIN;
    error->message = std::string("The GStreamer element '") + factory +
                     "' is not installed; install the plugin package that provides it.";
  }
  return ElementRef::adopt(e);
}

bool factory_exists(const char* name, BuildError* error) {
  GstElementFactory* f = gst_element_factory_find(name);
  if (!f) {
    make(name, error);
    return false;
  }
  gst_object_unref(f);
  return true;
}

bool valid_test_pattern(const std::string& nick, BuildError* error) {
  ElementRef probe = make("videotestsrc", error);
  if (!probe) return false;
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(probe.get()), "pattern");
  auto* enum_class = G_PARAM_SPEC_ENUM(spec)->enum_class;
  if (g_enum_get_value_by_nick(enum_class, nick.c_str())) return true;
  std::string known;
  for (guint i = 0; i < enum_class->n_values; ++i) {
    if (!known.empty()) known += ", ";
    known += enum_class->values[i].value_nick;
  }
  error->domain = GST_RESOURCE_ERROR;
  error->code = GST_RESOURCE_ERROR_SETTINGS;
  error->message = "Unknown test:// pattern '" + nick + "'. Known patterns: " + known + ".";
  return false;
}

void set_error(BuildError* error, GQuark domain, gint code, std::string message) {
  error->domain = domain;
  error->code = code;
  error->message = std::move(message);
}

bool check_local_path(const std::string& path, const char* what, BuildError* error) {
  if (!g_file_test(path.c_str(), G_FILE_TEST_EXISTS)) {
    set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
              std::string("The ") + what + " '" + path + "' does not exist.");
    return false;
  }
  if (g_access(path.c_str(), R_OK) != 0) {
    set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
              std::string("The ") + what + " '" + path + "' is not readable by this user.");
    return false;
  }
  return true;
}

// The certificate authorities in a PEM file, as a TLS database.
GstRef<GTlsDatabase> load_tls_database(const std::string& path, BuildError* error) {
  GError* raw = nullptr;
  GTlsDatabase* db = g_tls_file_database_new(path.c_str(), &raw);
  if (!db) {
    GErrorPtr err(raw);
    if (error) {
      set_error(error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                "Cannot use tls-ca-file '" + path + "': " + err->message);
    }
    return {};
  }
  return GstRef<GTlsDatabase>::adopt(db);
}

void set_tls_database(GstElement* element, const SourceOptions& options) {
  if (options.tls_ca_file.empty()) return;
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(element), "tls-database")) return;
  GstRef<GTlsDatabase> db = load_tls_database(options.tls_ca_file, nullptr);
  if (db) g_object_set(element, "tls-database", db.get(), nullptr);
}

const char* rtsp_protocols(RtspTransport transport) {
  switch (transport) {
    case RtspTransport::kTcp:
      return "tcp";
    case RtspTransport::kUdp:
      return "udp+udp-mcast";
    case RtspTransport::kAuto:
      break;
  }
  return "tcp+udp+udp-mcast";
}

bool make_rtsp(const SourceDescription& desc, const SourceOptions& options, SourcePart* out,
               BuildError* error) {
  ElementRef src = make("rtspsrc", error);
  if (!src) return false;
  g_object_set(src.get(), "location", desc.location.c_str(), "latency", options.latency_ms,
               nullptr);
  if (!desc.user.empty()) g_object_set(src.get(), "user-id", desc.user.c_str(), nullptr);
  if (!desc.password.empty()) g_object_set(src.get(), "user-pw", desc.password.c_str(), nullptr);
  gst_util_set_object_arg(G_OBJECT(src.get()), "protocols", rtsp_protocols(options.transport));
  if (options.timeout_ms > 0) {
    const guint64 us = static_cast<guint64>(options.timeout_ms) * 1000;
    g_object_set(src.get(), "tcp-timeout", us, "timeout", us, nullptr);
  }
  set_tls_database(src.get(), options);
  out->dynamic = src.get();
  out->needs_autoplug = true;
  out->elements.push_back(std::move(src));
  return true;
}

bool make_uri_source(const SourceDescription& desc, const SourceOptions& options, SourcePart* out,
                     BuildError* error) {
  GstElement* e = nullptr;
  if (desc.kind == SourceKind::kFile) {
    e = gst_element_factory_make("filesrc", nullptr);
    if (e) g_object_set(e, "location", desc.location.c_str(), nullptr);
  } else {
    e = gst_element_make_from_uri(GST_URI_SRC, desc.location.c_str(), nullptr, nullptr);
  }
  ElementRef src = ElementRef::adopt(e);
  if (!src) {
    set_error(error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
              "No GStreamer source element handles '" + desc.display_uri +
                  "'; install the plugin that provides it (souphttpsrc for http/https).");
    return false;
  }
  if (desc.kind == SourceKind::kHttp) {
    GObjectClass* klass = G_OBJECT_GET_CLASS(src.get());
    if (!desc.user.empty() && g_object_class_find_property(klass, "user-id"))
      g_object_set(src.get(), "user-id", desc.user.c_str(), nullptr);
    if (!desc.password.empty() && g_object_class_find_property(klass, "user-pw"))
      g_object_set(src.get(), "user-pw", desc.password.c_str(), nullptr);
    set_tls_database(src.get(), options);
  }
  out->src_pad = PadRef::adopt(gst_element_get_static_pad(src.get(), "src"));
  out->needs_autoplug = true;
  out->elements.push_back(std::move(src));
  return true;
}

bool make_v4l2(const SourceDescription& desc, SourcePart* out, BuildError* error) {
  ElementRef src = make("v4l2src", error);
  if (!src) return false;
  g_object_set(src.get(), "device", desc.location.c_str(), nullptr);
  out->src_pad = PadRef::adopt(gst_element_get_static_pad(src.get(), "src"));
  out->needs_autoplug = true;  // a camera may give raw video, MJPEG or H.264
  out->elements.push_back(std::move(src));
  return true;
}

bool make_test(const SourceDescription& desc, SourcePart* out, BuildError* error) {
  ElementRef src = make("videotestsrc", error);
  ElementRef filter = make("capsfilter", error);
  if (!src || !filter) return false;
  g_object_set(src.get(), "is-live", TRUE, nullptr);
  gst_util_set_object_arg(G_OBJECT(src.get()), "pattern", desc.test.pattern.c_str());
  // I420 unless downstream wants another format (videotestsrc's first choice
  // would be 64-bit RGBA, which an "any caps" sink such as the store accepts).
  CapsPtr caps(gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "width",
                                   G_TYPE_INT, desc.test.width, "height", G_TYPE_INT,
                                   desc.test.height, "framerate", GST_TYPE_FRACTION,
                                   desc.test.fps_n, desc.test.fps_d, nullptr));
  gst_caps_append(caps.get(),
                  gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, desc.test.width, "height",
                                      G_TYPE_INT, desc.test.height, "framerate", GST_TYPE_FRACTION,
                                      desc.test.fps_n, desc.test.fps_d, nullptr));
  g_object_set(filter.get(), "caps", caps.get(), nullptr);
  out->src_pad = PadRef::adopt(gst_element_get_static_pad(filter.get(), "src"));
  out->needs_autoplug = false;
  out->elements.push_back(std::move(src));
  out->elements.push_back(std::move(filter));
  return true;
}

}  // namespace

bool check_source(const SourceDescription& desc, const SourceOptions& options, BuildError* error) {
  if (!options.tls_ca_file.empty() && !load_tls_database(options.tls_ca_file, error)) return false;
  switch (desc.kind) {
    case SourceKind::kRtsp:
      return factory_exists("rtspsrc", error) && factory_exists("parsebin", error);
    case SourceKind::kFile:
      return check_local_path(desc.location, "file", error) && factory_exists("parsebin", error);
    case SourceKind::kHttp:
      return factory_exists("parsebin", error);
    case SourceKind::kV4l2:
      return check_local_path(desc.location, "video device", error) &&
             factory_exists("v4l2src", error);
    case SourceKind::kTest:
      return valid_test_pattern(desc.test.pattern, error);
  }
  return true;
}

bool make_source(const SourceDescription& desc, const SourceOptions& options, SourcePart* out,
                 BuildError* error) {
  *out = SourcePart{};
  switch (desc.kind) {
    case SourceKind::kRtsp:
      return make_rtsp(desc, options, out, error);
    case SourceKind::kFile:
    case SourceKind::kHttp:
      return make_uri_source(desc, options, out, error);
    case SourceKind::kV4l2:
      return make_v4l2(desc, out, error);
    case SourceKind::kTest:
      return make_test(desc, out, error);
  }
  return false;
}

ElementRef make_autoplugger(bool decode) {
  return ElementRef::adopt(gst_element_factory_make(decode ? "decodebin" : "parsebin", nullptr));
}

namespace {

// parser (config-interval=-1: parameter sets before every keyframe, so a
// reader that starts at any keyframe can decode) ! capsfilter byte-stream/au.
void append_h26x_output(const char* media_type, std::vector<ElementRef>* out) {
  const bool h265 = g_str_equal(media_type, "video/x-h265");
  ElementRef parse =
      ElementRef::adopt(gst_element_factory_make(h265 ? "h265parse" : "h264parse", nullptr));
  ElementRef filter = ElementRef::adopt(gst_element_factory_make("capsfilter", nullptr));
  if (!parse || !filter) return;
  g_object_set(parse.get(), "config-interval", -1, nullptr);
  CapsPtr want(gst_caps_new_simple(media_type, "stream-format", G_TYPE_STRING, "byte-stream",
                                   "alignment", G_TYPE_STRING, "au", nullptr));
  g_object_set(filter.get(), "caps", want.get(), nullptr);
  out->push_back(std::move(parse));
  out->push_back(std::move(filter));
}

const char* h26x_media_type(const GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return nullptr;
  const gchar* name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
  if (g_str_equal(name, "video/x-h264")) return "video/x-h264";
  if (g_str_equal(name, "video/x-h265")) return "video/x-h265";
  return nullptr;
}

}  // namespace

std::vector<ElementRef> make_output_normalizer(const GstCaps* caps, bool decode) {
  std::vector<ElementRef> out;
  if (decode) return out;
  if (const char* media_type = h26x_media_type(caps)) append_h26x_output(media_type, &out);
  return out;
}

bool make_rtp_video_chain(const GstCaps* rtp_caps, std::vector<ElementRef>* out,
                          BuildError* error) {
  GList* all = gst_element_factory_list_get_elements(GST_ELEMENT_FACTORY_TYPE_DEPAYLOADER,
                                                     GST_RANK_MARGINAL);
  GList* usable = gst_element_factory_list_filter(all, rtp_caps, GST_PAD_SINK, FALSE);
  usable = g_list_sort(usable, gst_plugin_feature_rank_compare_func);
  ElementRef depay;
  if (usable)
    depay =
        ElementRef::adopt(gst_element_factory_create(GST_ELEMENT_FACTORY(usable->data), nullptr));
  gst_plugin_feature_list_free(usable);
  gst_plugin_feature_list_free(all);
  const GstStructure* s = gst_caps_get_structure(rtp_caps, 0);
  const gchar* encoding = gst_structure_get_string(s, "encoding-name");
  if (!depay) {
    set_error(error, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
              std::string("No RTP depayloader for the stream's encoding '") +
                  (encoding ? encoding : "?") + "'; install the GStreamer plugin that has one.");
    return false;
  }
  out->push_back(std::move(depay));
  const char* media_type = nullptr;
  const char* packaged = nullptr;  // with codec data out of band, not in the stream
  if (encoding && g_ascii_strcasecmp(encoding, "H264") == 0) {
    media_type = "video/x-h264";
    packaged = "avc";
  } else if (encoding && g_ascii_strcasecmp(encoding, "H265") == 0) {
    media_type = "video/x-h265";
    packaged = "hvc1";
  }
  if (!media_type) return true;
  // The depayloader's own byte-stream output follows the RTP marker bits, and
  // some servers (rtph264pay with config-interval=-1 among them) mark the
  // parameter sets as a whole access unit: a keyframe then comes out in two
  // buffers. Taking avc/hvc1 (parameter sets in the caps) and letting the
  // parser write byte-stream gives whole access units.
  ElementRef packaging = ElementRef::adopt(gst_element_factory_make("capsfilter", nullptr));
  CapsPtr caps(gst_caps_new_simple(media_type, "stream-format", G_TYPE_STRING, packaged,
                                   "alignment", G_TYPE_STRING, "au", nullptr));
  g_object_set(packaging.get(), "caps", caps.get(), nullptr);
  out->push_back(std::move(packaging));
  append_h26x_output(media_type, out);
  return true;
}

bool is_video_caps(const GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return false;
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const gchar* name = gst_structure_get_name(s);
  if (g_str_has_prefix(name, "video/") || g_str_equal(name, "image/jpeg")) return true;
  if (g_str_equal(name, "application/x-rtp")) {
    const gchar* media = gst_structure_get_string(s, "media");
    return media && g_str_equal(media, "video");
  }
  return false;
}

}  // namespace relais::ingress
