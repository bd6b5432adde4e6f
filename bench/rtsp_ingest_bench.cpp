// RTSP ingest benchmark: how many 720p30 H.264 RTSP streams one process
// ingests in real time (>= 95% of the frames of every stream arrive over the
// window), with relaissrc ! relaisstoresink (memory store) and, as the anchor,
// rtspsrc ! rtph264depay ! h264parse ! fakesink. The RTSP server runs in
// another process (relais-rtsp-test-server --shared: one encode for all
// clients), so what is measured is the ingest side.
#include <gio/gio.h>
#include <gst/gst.h>

#include <sys/resource.h>

#include <atomic>
#include <map>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "glib_handles.h"
#include "gst_handles.h"

namespace {

using namespace std::chrono_literals;

constexpr int kFps = 30;
constexpr double kWindowSeconds = 5.0;
constexpr double kRealTime = 0.95;
constexpr int kMaxStreams = 32;
constexpr int kStep = 8;

enum class Mode { kRelais, kAnchor };

// CPU time this process used so far (all threads), in seconds.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Per mode: streams -> percent of one core per stream over the window.
std::map<int, double> g_cpu[2];

int free_port() {
  relais::GstRef<GSocket> sock = relais::GstRef<GSocket>::adopt(
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr));
  relais::GstRef<GInetAddress> lo =
      relais::GstRef<GInetAddress>::adopt(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  relais::GstRef<GSocketAddress> addr =
      relais::GstRef<GSocketAddress>::adopt(g_inet_socket_address_new(lo.get(), 0));
  if (!g_socket_bind(sock.get(), addr.get(), TRUE, nullptr)) return -1;
  relais::GstRef<GSocketAddress> bound =
      relais::GstRef<GSocketAddress>::adopt(g_socket_get_local_address(sock.get(), nullptr));
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound.get()));
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    relais::GstRef<GSocketClient> client =
        relais::GstRef<GSocketClient>::adopt(g_socket_client_new());
    GSocketConnection* conn =
        g_socket_client_connect_to_host(client.get(), "127.0.0.1", port, nullptr, nullptr);
    if (conn) {
      g_object_unref(conn);
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

struct Counter {
  std::atomic<guint64> frames{0};
};

GstPadProbeReturn count_buffer(GstPad*, GstPadProbeInfo*, gpointer data) {
  static_cast<Counter*>(data)->frames.fetch_add(1);
  return GST_PAD_PROBE_OK;
}

guint64 store_frames(GstElement* sink) {
  GstStructure* stats = nullptr;
  g_object_get(sink, "stats", &stats, nullptr);
  relais::StructurePtr owned(stats);
  guint64 frames = 0;
  if (stats) gst_structure_get_uint64(stats, "frames", &frames);
  return frames;
}

// Runs `streams` ingests in one pipeline; true when each kept real time.
bool run_once(Mode mode, int streams, const std::string& uri) {
  std::string launch;
  for (int i = 0; i < streams; ++i) {
    std::string n = std::to_string(i);
    if (mode == Mode::kRelais) {
      launch += "relaissrc uri=" + uri +
                " rtsp-transport=tcp latency=200 ! relaisstoresink name=s" + n +
                " store=memory:// stream=bench-cam" + n + " ";
    } else {
      launch += "rtspsrc location=" + uri +
                " protocols=tcp latency=200 ! rtph264depay ! h264parse ! fakesink name=s" + n + " ";
    }
  }
  GError* error = nullptr;
  relais::ElementRef pipeline = relais::ElementRef::adopt(gst_parse_launch(launch.c_str(), &error));
  if (error) {
    std::fprintf(stderr, "bench: %s\n", error->message);
    g_error_free(error);
    return false;
  }
  std::vector<relais::ElementRef> sinks;
  std::vector<std::unique_ptr<Counter>> counters;
  for (int i = 0; i < streams; ++i) {
    std::string name = "s" + std::to_string(i);
    sinks.push_back(
        relais::ElementRef::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), name.c_str())));
    counters.push_back(std::make_unique<Counter>());
    if (mode == Mode::kAnchor) {
      relais::PadRef pad =
          relais::PadRef::adopt(gst_element_get_static_pad(sinks.back().get(), "sink"));
      gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, count_buffer, counters.back().get(),
                        nullptr);
    }
  }
  auto frames = [&](int i) -> guint64 {
    return mode == Mode::kRelais ? store_frames(sinks[i].get()) : counters[i]->frames.load();
  };
  relais::BusRef bus = relais::BusRef::adopt(gst_element_get_bus(pipeline.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);

  auto failed = [&]() {
    relais::MessagePtr msg(gst_bus_pop_filtered(
        bus.get(), static_cast<GstMessageType>(GST_MESSAGE_ERROR | GST_MESSAGE_EOS)));
    if (!msg) return false;
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
      GError* err = nullptr;
      gst_message_parse_error(msg.get(), &err, nullptr);
      std::fprintf(stderr, "bench: error: %s\n", err->message);
      g_error_free(err);
    }
    return true;
  };
  // Warm up: every stream delivering, then one more second.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  bool all_started = false;
  while (!all_started && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    all_started = true;
    for (int i = 0; i < streams; ++i) all_started = all_started && frames(i) > 0;
    if (failed()) break;
  }
  bool ok = all_started;
  guint64 worst = 0;
  if (ok) {
    std::this_thread::sleep_for(1s);
    std::vector<guint64> start(streams);
    for (int i = 0; i < streams; ++i) start[i] = frames(i);
    const double cpu_start = cpu_seconds();
    const auto wall_start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(kWindowSeconds));
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    g_cpu[static_cast<int>(mode)][streams] = (cpu_seconds() - cpu_start) / wall / streams * 100.0;
    worst = G_MAXUINT64;
    for (int i = 0; i < streams; ++i) worst = std::min(worst, frames(i) - start[i]);
    ok = !failed() && worst >= kRealTime * kFps * kWindowSeconds;
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  std::fprintf(stderr, "bench: %-6s %2d streams: %s (slowest %.1f fps, %.1f%% of a core each)\n",
               mode == Mode::kRelais ? "relais" : "anchor", streams, ok ? "real time" : "behind",
               static_cast<double>(worst) / kWindowSeconds, g_cpu[static_cast<int>(mode)][streams]);
  return ok;
}

// The most streams (in steps of kStep up to kMaxStreams, or 1, 2, 4 below
// that) that keep real time.
int max_streams(Mode mode, const std::string& uri) {
  int best = 0;
  for (int n = kStep; n <= kMaxStreams; n += kStep) {
    if (!run_once(mode, n, uri)) break;
    best = n;
  }
  if (best == 0) {
    for (int n : {1, 2, 4}) {
      if (!run_once(mode, n, uri)) break;
      best = n;
    }
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  gst_registry_scan_path(gst_registry_get(), RELAIS_PLUGIN_DIR);
  const char* server_path = argc > 1 ? argv[1] : RELAIS_RTSP_TEST_SERVER;
  relais::GstRef<GstElementFactory> factory =
      relais::GstRef<GstElementFactory>::adopt(gst_element_factory_find("relaissrc"));
  if (!factory) {
    std::fprintf(stderr, "bench: the relais plugin is not in %s\n", RELAIS_PLUGIN_DIR);
    return 1;
  }
  const int port = free_port();
  const std::string port_arg = std::to_string(port);
  GError* error = nullptr;
  relais::GstRef<GSubprocess> server = relais::GstRef<GSubprocess>::adopt(g_subprocess_new(
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, server_path, "--port", port_arg.c_str(), "--width",
      "1280", "--height", "720", "--framerate", "30", "--bitrate", "3000", "--pattern", "smpte",
      "--horizontal-speed", "8", "--shared", nullptr));
  if (!server) {
    std::fprintf(stderr, "bench: cannot start %s: %s\n", server_path, error->message);
    g_error_free(error);
    return 1;
  }
  if (!wait_for_port(port, 5s)) {
    std::fprintf(stderr, "bench: the RTSP server did not start\n");
    g_subprocess_force_exit(server.get());
    return 1;
  }
  const std::string uri = "rtsp://127.0.0.1:" + port_arg + "/test";
  const int relais = max_streams(Mode::kRelais, uri);
  const int anchor = max_streams(Mode::kAnchor, uri);
  g_subprocess_send_signal(server.get(), SIGTERM);
  g_subprocess_wait(server.get(), nullptr, nullptr);
  std::printf("BENCH rtsp_ingest_720p30_streams streams %d rtspsrc_fakesink %d 1\n", relais,
              anchor);
  // CPU per stream where both kept real time with the same number of streams.
  const int common = std::min(relais, anchor);
  if (common > 0) {
    std::printf(
        "BENCH rtsp_ingest_720p30_cpu_per_stream_at_%d percent_of_core %.2f "
        "rtspsrc_fakesink %.2f 0\n",
        common, g_cpu[0][common], g_cpu[1][common]);
  }
  return 0;
}
