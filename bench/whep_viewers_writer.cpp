#include "whep_viewers_writer.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <chrono>

namespace relais::bench {

namespace {

std::string error_text(GError* err) {
  std::string text = err ? err->message : "unknown error";
  if (err) g_error_free(err);
  return text;
}

}  // namespace

ClipWriter::~ClipWriter() {
  stop();
}

bool ClipWriter::encode(int seconds, std::string* error) {
  // Snow keeps the encoder at its full bitrate: every frame costs its share of
  // the 2 Mb/s, as in a busy real scene.
  std::string launch =
      "videotestsrc pattern=snow num-buffers=" + std::to_string(seconds * kFps) +
      " ! video/x-raw,format=I420,width=" + std::to_string(kWidth) +
      ",height=" + std::to_string(kHeight) + ",framerate=" + std::to_string(kFps) +
      "/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=" + std::to_string(kFps) +
      " bitrate=" + std::to_string(kKbps) +
      " ! video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1"
      " ! appsink name=out sync=false";
  GError* err = nullptr;
  ElementRef pipeline = ElementRef::adopt(gst_parse_launch(launch.c_str(), &err));
  if (!pipeline) {
    *error = "encoding the clip: " + error_text(err);
    return false;
  }
  if (err) g_error_free(err);
  ElementRef sink = ElementRef::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  frames_.clear();
  clip_bytes_ = 0;
  while (GstSample* s = gst_app_sink_pull_sample(GST_APP_SINK(sink.get()))) {
    SamplePtr sample(s);
    if (!caps_) caps_.reset(gst_caps_copy(gst_sample_get_caps(s)));
    GstBuffer* buffer = gst_sample_get_buffer(s);
    clip_bytes_ += gst_buffer_get_size(buffer);
    frames_.emplace_back(gst_buffer_ref(buffer));
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  if (frames_.empty() || !caps_ ||
      GST_BUFFER_FLAG_IS_SET(frames_.front().get(), GST_BUFFER_FLAG_DELTA_UNIT)) {
    *error = "encoding the clip produced no frames starting with a keyframe";
    return false;
  }
  return true;
}

double ClipWriter::clip_bitrate() const {
  return frames_.empty() ? 0 : clip_bytes_ * 8.0 * kFps / frames_.size();
}

bool ClipWriter::start(const std::string& store_uri, const std::string& stream,
                       std::string* error) {
  std::string launch =
      "appsrc name=src is-live=true format=time ! relaisstoresink sync=false store=" + store_uri +
      " stream=" + stream;
  GError* err = nullptr;
  pipeline_ = ElementRef::adopt(gst_parse_launch(launch.c_str(), &err));
  if (!pipeline_) {
    *error = "the writer: " + error_text(err);
    return false;
  }
  if (err) g_error_free(err);
  ElementRef src = ElementRef::adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "src"));
  appsrc_ = src.get();
  gst_app_src_set_caps(GST_APP_SRC(appsrc_), caps_.get());
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "the writer pipeline did not start";
    return false;
  }
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return true;
}

// One frame every 1/kFps s on a fixed schedule (a late frame is written at
// once, so the rate holds on average), timestamps continuing across loops.
void ClipWriter::run() {
  using namespace std::chrono;
  const auto start = steady_clock::now();
  const GstClockTime frame = GST_SECOND / kFps;
  for (uint64_t i = 0; !stopping_; i++) {
    std::this_thread::sleep_until(start + microseconds(i * 1000000 / kFps));
    GstBuffer* buffer = gst_buffer_copy(frames_[i % frames_.size()].get());
    GST_BUFFER_PTS(buffer) = GST_BUFFER_DTS(buffer) = i * frame;
    GST_BUFFER_DURATION(buffer) = frame;
    if (i > 0) GST_BUFFER_FLAG_UNSET(buffer, GST_BUFFER_FLAG_DISCONT);
    if (gst_app_src_push_buffer(GST_APP_SRC(appsrc_), buffer) != GST_FLOW_OK) break;
    written_++;
  }
}

void ClipWriter::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_ = ElementRef();
  appsrc_ = nullptr;
}

}  // namespace relais::bench
