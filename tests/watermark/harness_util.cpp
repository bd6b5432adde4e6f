#include "harness_util.h"

namespace wmtest {

HarnessPtr make_harness(const std::string& properties, const std::string& caps) {
  // A one-element description parses to that element itself, so the harness
  // (and its property stress threads) act on relaiswatermark, not on a bin.
  GError* err = nullptr;
  GstElement* element = gst_parse_launch(("relaiswatermark " + properties).c_str(), &err);
  if (err) g_error_free(err);
  if (!element) return nullptr;
  HarnessPtr h(gst_harness_new_with_element(element, "sink", "src"));
  gst_object_unref(element);
  gst_harness_set_src_caps_str(h.get(), caps.c_str());
  return h;
}

std::string caps_for(GstVideoFormat format, int width, int height) {
  std::string caps = std::string("video/x-raw,format=") + gst_video_format_to_string(format) +
                     ",width=" + std::to_string(width) + ",height=" + std::to_string(height) +
                     ",framerate=30/1";
  const GstVideoFormatInfo* f = gst_video_format_get_info(format);
  if (GST_VIDEO_FORMAT_INFO_IS_YUV(f)) caps += ",colorimetry=bt601";
  return caps;
}

}  // namespace wmtest
