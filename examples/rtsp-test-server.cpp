// A small RTSP server for trying relaissrc: serves a live H.264 test pattern
// at rtsp://<address>:<port>/<path>. With --shared every client receives the
// same stream, encoded once (what the ingest benchmark uses).
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <glib-unix.h>

#include <cstdio>
#include <string>

#include <memory>

#include "glib_handles.h"
#include "gst_handles.h"

namespace {

struct Options {
  gint port = 8554;
  gchar* address = nullptr;
  gchar* path = nullptr;
  gchar* pattern = nullptr;
  gint width = 320;
  gint height = 240;
  gint framerate = 30;
  gint bitrate = 1000;
  gint horizontal_speed = 0;
  gboolean shared = FALSE;
};

gboolean on_signal(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop*>(loop));
  return G_SOURCE_REMOVE;
}

std::string launch_line(const Options& o) {
  const char* pattern = o.pattern ? o.pattern : "ball";
  relais::GCharPtr line(g_strdup_printf(
      "( videotestsrc is-live=true pattern=%s horizontal-speed=%d ! "
      "video/x-raw,width=%d,height=%d,framerate=%d/1 ! "
      "x264enc tune=zerolatency speed-preset=ultrafast bitrate=%d key-int-max=%d ! "
      "video/x-h264,profile=constrained-baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 )",
      pattern, o.horizontal_speed, o.width, o.height, o.framerate, o.bitrate, o.framerate));
  return line.get();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  GOptionEntry entries[] = {
      {"port", 'p', 0, G_OPTION_ARG_INT, &o.port, "TCP port (default 8554)", "PORT"},
      {"address", 'a', 0, G_OPTION_ARG_STRING, &o.address,
       "Address to listen on (default 127.0.0.1)", "ADDR"},
      {"path", 0, 0, G_OPTION_ARG_STRING, &o.path, "Mount path (default /test)", "PATH"},
      {"pattern", 0, 0, G_OPTION_ARG_STRING, &o.pattern, "videotestsrc pattern (default ball)",
       "NAME"},
      {"width", 0, 0, G_OPTION_ARG_INT, &o.width, "Width (default 320)", "PIXELS"},
      {"height", 0, 0, G_OPTION_ARG_INT, &o.height, "Height (default 240)", "PIXELS"},
      {"framerate", 0, 0, G_OPTION_ARG_INT, &o.framerate, "Frames per second (default 30)", "FPS"},
      {"bitrate", 0, 0, G_OPTION_ARG_INT, &o.bitrate, "H.264 bitrate in kbit/s (default 1000)",
       "KBPS"},
      {"horizontal-speed", 0, 0, G_OPTION_ARG_INT, &o.horizontal_speed,
       "Scroll the pattern by this many pixels per frame (motion raises the bitrate)", "PIXELS"},
      {"shared", 0, 0, G_OPTION_ARG_NONE, &o.shared, "All clients share one stream, encoded once",
       nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  std::unique_ptr<GOptionContext, decltype(&g_option_context_free)> ctx(
      g_option_context_new("- serve an H.264 test pattern over RTSP"), g_option_context_free);
  g_option_context_add_main_entries(ctx.get(), entries, nullptr);
  g_option_context_add_group(ctx.get(), gst_init_get_option_group());
  GError* raw_error = nullptr;
  if (!g_option_context_parse(ctx.get(), &argc, &argv, &raw_error)) {
    relais::GErrorPtr error(raw_error);
    std::fprintf(stderr, "%s\n", error->message);
    return 2;
  }
  relais::GCharPtr address_arg(o.address), path_arg(o.path), pattern_arg(o.pattern);
  if (o.port <= 0 || o.port > 65535 || o.width <= 0 || o.height <= 0 || o.framerate <= 0 ||
      o.bitrate <= 0) {
    std::fprintf(stderr, "port, width, height, framerate and bitrate must be positive\n");
    return 2;
  }
  const std::string address = o.address ? o.address : "127.0.0.1";
  const std::string path = o.path ? o.path : "/test";
  if (path.empty() || path[0] != '/') {
    std::fprintf(stderr, "--path must start with '/'\n");
    return 2;
  }

  auto server = relais::GstRef<GstRTSPServer>::adopt(gst_rtsp_server_new());
  gst_rtsp_server_set_address(server.get(), address.c_str());
  std::string port = std::to_string(o.port);
  gst_rtsp_server_set_service(server.get(), port.c_str());
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(factory, launch_line(o).c_str());
  gst_rtsp_media_factory_set_shared(factory, o.shared);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server.get());
  gst_rtsp_mount_points_add_factory(mounts, path.c_str(), factory);  // takes the factory
  g_object_unref(mounts);

  relais::GMainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
  guint source_id = gst_rtsp_server_attach(server.get(), nullptr);
  if (source_id == 0) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", address.c_str(), o.port);
    return 1;
  }
  g_unix_signal_add(SIGINT, on_signal, loop.get());
  g_unix_signal_add(SIGTERM, on_signal, loop.get());
  std::printf("serving rtsp://%s:%d%s (%dx%d@%d H.264%s)\n", address.c_str(), o.port, path.c_str(),
              o.width, o.height, o.framerate, o.shared ? ", shared" : "");
  std::fflush(stdout);
  g_main_loop_run(loop.get());
  g_source_remove(source_id);
  return 0;
}
