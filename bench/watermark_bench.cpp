// Time per frame of relaiswatermark and of gdkpixbufoverlay (its upstream
// anchor), side by side in one run: the same 256x128 RGBA logo at the same
// place on the same 1920x1080 frames, I420 and BGRA.
//
// Fairness: both are in-place filters, and making a buffer writable copies
// the whole frame when someone else holds a reference. Each element therefore
// gets, for every frame, a fresh buffer that only it holds (a deep copy made
// outside the timed region), so neither pays for a copy. The timed region is
// gst_harness_push() alone: the element's chain function up to handing the
// buffer downstream. Output buffers are pulled and freed outside it. Frames
// alternate between the two elements, and the median is reported, as CPU
// time of the pushing thread (robust on a shared machine; wall time is
// printed alongside). The two outputs of one frame are compared at the end
// to show both drew the same logo at the same place.
//
// Usage: watermark-bench [frames]   (default 200; prints BENCH lines, see COMMON.md)
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace {

constexpr int kWidth = 1920, kHeight = 1080;
constexpr int kLogoW = 256, kLogoH = 128;
constexpr int kX = 64, kY = 48;  // logo's top-left corner in both elements
// Two cache conditions, the same for both elements:
// - warm: each frame is copied right before its push, as if an upstream
//   element had just written it (the usual case in a pipeline); reported.
// - cold: kColdBatch frames are copied, then pushed, so by its push each
//   frame has been pushed out of the caches by the later copies (1080p BGRA
//   batch = 66 MB > L3); printed for reference.
constexpr int kColdBatch = 8;

// A logo with every kind of alpha: an opaque disc, a soft gradient, holes.
bool write_logo(const std::string& path) {
  std::vector<guint8> px(kLogoW * kLogoH * 4);
  for (int y = 0; y < kLogoH; ++y)
    for (int x = 0; x < kLogoW; ++x) {
      guint8* p = &px[(y * kLogoW + x) * 4];
      const double dx = x - kLogoH / 2.0, dy = y - kLogoH / 2.0;
      const bool disc = dx * dx + dy * dy < 50.0 * 50.0;
      p[0] = static_cast<guint8>(x);
      p[1] = static_cast<guint8>(y * 2);
      p[2] = disc ? 255 : 40;
      p[3] = disc ? 255 : ((x / 16 + y / 16) % 2 ? static_cast<guint8>(x) : 0);
    }
  GdkPixbuf* pb = gdk_pixbuf_new_from_data(px.data(), GDK_COLORSPACE_RGB, TRUE, 8, kLogoW, kLogoH,
                                           kLogoW * 4, nullptr, nullptr);
  const gboolean ok = gdk_pixbuf_save(pb, path.c_str(), "png", nullptr, nullptr);
  g_object_unref(pb);
  return ok;
}

GstBuffer* make_frame(const GstVideoInfo& info) {
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_WRITE);
  guint32 s = 1;
  for (gsize i = 0; i < map.size; ++i) {
    s = s * 1664525u + 1013904223u;
    map.data[i] = static_cast<guint8>(((i / 7) & 0xff) ^ ((s >> 24) & 0x0f));
  }
  if (GST_VIDEO_INFO_HAS_ALPHA(&info))  // opaque video, as cameras deliver it
    for (gsize i = 3; i < map.size; i += 4) map.data[i] = 255;
  gst_buffer_unmap(buf, &map);
  return buf;
}

struct Timings {
  std::vector<double> cpu_ms, wall_ms;  // per frame, one entry per round
};

struct Contender {
  std::string label;
  GstHarness* h = nullptr;
  Timings warm, cold;
};

Contender make_contender(const std::string& label, const std::string& description,
                         const std::string& caps) {
  Contender c;
  c.label = label;
  GstElement* element = gst_parse_launch(description.c_str(), nullptr);
  if (!element) {
    std::fprintf(stderr, "watermark-bench: cannot create '%s'\n", description.c_str());
    std::exit(1);
  }
  c.h = gst_harness_new_with_element(element, "sink", "src");
  gst_object_unref(element);
  gst_harness_set_src_caps_str(c.h, caps.c_str());
  return c;
}

// CPU time of the calling thread: the harness pushes synchronously, so this
// is the element's own cost, and it does not count time the thread spent
// preempted on a busy machine (wall time is reported alongside).
double thread_cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Pushes `batch` fresh frames; records the CPU and wall time of the pushes, per frame.
void timed_batch(Contender* c, GstBuffer* proto, int batch, Timings* record) {
  std::vector<GstBuffer*> fresh(batch);
  for (auto& b : fresh) b = gst_buffer_copy_deep(proto);  // only this element will hold it
  const double cpu0 = thread_cpu_ms();
  const auto t0 = std::chrono::steady_clock::now();
  for (GstBuffer* b : fresh)
    if (gst_harness_push(c->h, b) != GST_FLOW_OK) {
      std::fprintf(stderr, "watermark-bench: %s refused a buffer\n", c->label.c_str());
      std::exit(1);
    }
  const auto t1 = std::chrono::steady_clock::now();
  const double cpu1 = thread_cpu_ms();
  for (int i = 0; i < batch; ++i) gst_buffer_unref(gst_harness_pull(c->h));
  if (!record) return;
  record->cpu_ms.push_back((cpu1 - cpu0) / batch);
  record->wall_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / batch);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Mean absolute difference of the two outputs over the logo area (plane 0),
// to show both elements really drew the same logo at the same place.
double outputs_differ(Contender* a, Contender* b, GstBuffer* proto, const GstVideoInfo& info) {
  gst_harness_push(a->h, gst_buffer_copy_deep(proto));
  gst_harness_push(b->h, gst_buffer_copy_deep(proto));
  GstBuffer* oa = gst_harness_pull(a->h);
  GstBuffer* ob = gst_harness_pull(b->h);
  GstVideoFrame fa, fb;
  gst_video_frame_map(&fa, const_cast<GstVideoInfo*>(&info), oa, GST_MAP_READ);
  gst_video_frame_map(&fb, const_cast<GstVideoInfo*>(&info), ob, GST_MAP_READ);
  const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, 0);
  double sum = 0;
  long n = 0;
  for (int y = kY; y < kY + kLogoH; ++y) {
    const auto* ra = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fa, 0)) +
                     y * GST_VIDEO_FRAME_PLANE_STRIDE(&fa, 0);
    const auto* rb = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fb, 0)) +
                     y * GST_VIDEO_FRAME_PLANE_STRIDE(&fb, 0);
    for (int i = kX * ps; i < (kX + kLogoW) * ps; ++i, ++n) sum += std::abs(ra[i] - rb[i]);
  }
  gst_video_frame_unmap(&fb);
  gst_video_frame_unmap(&fa);
  gst_buffer_unref(oa);
  gst_buffer_unref(ob);
  return sum / n;
}

void run(const char* format, const char* metric, const std::string& logo, int rounds) {
  const std::string caps = std::string("video/x-raw,format=") + format +
                           ",width=" + std::to_string(kWidth) +
                           ",height=" + std::to_string(kHeight) + ",framerate=30/1";
  GstVideoInfo info;
  GstCaps* c = gst_caps_from_string(caps.c_str());
  gst_video_info_from_caps(&info, c);
  gst_caps_unref(c);
  GstBuffer* proto = make_frame(info);

  const std::string at = " x=" + std::to_string(kX) + " y=" + std::to_string(kY);
  Contender relais = make_contender(
      "relaiswatermark", "relaiswatermark position=top-left location=" + logo + at, caps);
  Contender anchor =
      make_contender("gdkpixbufoverlay",
                     "gdkpixbufoverlay location=" + logo + " offset-x=" + std::to_string(kX) +
                         " offset-y=" + std::to_string(kY),
                     caps);

  for (int i = 0; i < 4; ++i) {  // warm-up: loading, caches, converted overlays
    timed_batch(&relais, proto, 1, nullptr);
    timed_batch(&anchor, proto, 1, nullptr);
  }
  for (int r = 0; r < rounds; ++r) {  // alternate who goes first
    Contender* first = (r % 2) ? &anchor : &relais;
    Contender* second = (r % 2) ? &relais : &anchor;
    timed_batch(first, proto, 1, &first->warm);
    timed_batch(second, proto, 1, &second->warm);
  }
  for (int r = 0; r < rounds / kColdBatch + 2; ++r) {
    Contender* first = (r % 2) ? &anchor : &relais;
    Contender* second = (r % 2) ? &relais : &anchor;
    timed_batch(first, proto, kColdBatch, &first->cold);
    timed_batch(second, proto, kColdBatch, &second->cold);
  }
  const double diff = outputs_differ(&relais, &anchor, proto, info);
  const double rv = median(relais.warm.cpu_ms), av = median(anchor.warm.cpu_ms);
  const double rw = median(relais.warm.wall_ms), aw = median(anchor.warm.wall_ms);
  const double rc = median(relais.cold.cpu_ms), ac = median(anchor.cold.cpu_ms);
  std::printf(
      "# %s %dx%d, %dx%d RGBA logo at %d,%d, median of %d frames each, CPU time per frame: "
      "relaiswatermark %.4f ms, gdkpixbufoverlay %.4f ms (%.1fx faster); wall %.4f vs %.4f ms; "
      "cache-cold frames %.4f vs %.4f ms (%.1fx); mean |difference| of the two outputs over "
      "the logo: %.2f levels\n",
      format, kWidth, kHeight, kLogoW, kLogoH, kX, kY, rounds, rv, av, av / rv, rw, aw, rc, ac,
      ac / rc, diff);
  std::printf("BENCH %s ms_per_frame %.4f gdkpixbufoverlay %.4f 0\n", metric, rv, av);
  std::fflush(stdout);
  gst_harness_teardown(relais.h);
  gst_harness_teardown(anchor.h);
  gst_buffer_unref(proto);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  gst_registry_scan_path(gst_registry_get(), RELAIS_PLUGIN_DIR);
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;

  gchar* dir = g_dir_make_tmp("relais-watermark-bench-XXXXXX", nullptr);
  const std::string logo = std::string(dir) + "/logo.png";
  if (!write_logo(logo)) {
    std::fprintf(stderr, "watermark-bench: cannot write %s\n", logo.c_str());
    return 1;
  }
  run("I420", "watermark_i420_1080p", logo, rounds);
  run("BGRA", "watermark_bgra_1080p", logo, rounds);
  g_remove(logo.c_str());
  g_rmdir(dir);
  g_free(dir);
  return 0;
}
