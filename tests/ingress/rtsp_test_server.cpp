#include "rtsp_test_server.h"

#include "temp_dir.h"

namespace relais::test {

namespace {

constexpr const char* kVideo =
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1";
constexpr const char* kAudio =
    "audiotestsrc is-live=true ! audio/x-raw,rate=48000 ! opusenc ! rtpopuspay name=pay1 pt=97";

GstRTSPFilterResult remove_client(GstRTSPServer*, GstRTSPClient*, gpointer) {
  return GST_RTSP_FILTER_REMOVE;
}

GstRTSPFilterResult remove_session(GstRTSPSessionPool*, GstRTSPSession*, gpointer) {
  return GST_RTSP_FILTER_REMOVE;
}

}  // namespace

bool RtspTestServer::start(int port) {
  stop();
  port_ = port ? port : free_loopback_port();
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  server_ = gst_rtsp_server_new();
  // No client threads: every client is served on this server's thread, where
  // stop() also drops them.
  GstRTSPThreadPool* threads = gst_rtsp_server_get_thread_pool(server_);
  gst_rtsp_thread_pool_set_max_threads(threads, 0);
  g_object_unref(threads);
  gst_rtsp_server_set_address(server_, "127.0.0.1");
  std::string service = std::to_string(port_);
  gst_rtsp_server_set_service(server_, service.c_str());
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  std::string launch =
      std::string("( ") + (with_audio_ ? std::string(kAudio) + " " : "") + kVideo + " )";
  gst_rtsp_media_factory_set_launch(factory, launch.c_str());
  if (!cert_file_.empty()) {
    GError* error = nullptr;
    GTlsCertificate* cert =
        g_tls_certificate_new_from_files(cert_file_.c_str(), key_file_.c_str(), &error);
    if (!cert) {
      g_printerr("cannot load %s: %s\n", cert_file_.c_str(), error->message);
      g_error_free(error);
      g_object_unref(factory);
      stop();
      return false;
    }
    GstRTSPAuth* auth = gst_rtsp_auth_new();
    gst_rtsp_auth_set_tls_certificate(auth, cert);
    g_object_unref(cert);
    // Anyone may watch; TLS is what is being tested.
    GstRTSPToken* token =
        gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, "anonymous", nullptr);
    gst_rtsp_auth_set_default_token(auth, token);
    gst_rtsp_token_unref(token);
    gst_rtsp_media_factory_add_role(factory, "anonymous", GST_RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                    G_TYPE_BOOLEAN, TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                    G_TYPE_BOOLEAN, TRUE, nullptr);
    gst_rtsp_server_set_auth(server_, auth);
    g_object_unref(auth);
  }
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server_);
  gst_rtsp_mount_points_add_factory(mounts, "/test", factory);
  g_object_unref(mounts);
  source_id_ = gst_rtsp_server_attach(server_, context_);
  if (source_id_ == 0) {
    stop();
    return false;
  }
  thread_ = std::thread([loop = loop_, context = context_] {
    g_main_context_push_thread_default(context);
    g_main_loop_run(loop);
    g_main_context_pop_thread_default(context);
  });
  return wait_for_port(port_, 5000);
}

void RtspTestServer::stop() {
  if (!server_) return;
  // Clients live on the server's own thread (no client threads, see start()),
  // so they are dropped there: closing a client from another thread while its
  // connection's watch dispatches crashes inside gst-rtsp-server.
  auto drop_everything = [](gpointer data) -> gboolean {
    auto* self = static_cast<RtspTestServer*>(data);
    if (self->source_id_) {
      GSource* source = g_main_context_find_source_by_id(self->context_, self->source_id_);
      if (source) g_source_destroy(source);
      self->source_id_ = 0;
    }
    gst_rtsp_server_client_filter(self->server_, remove_client, nullptr);
    GstRTSPSessionPool* pool = gst_rtsp_server_get_session_pool(self->server_);
    g_list_free_full(gst_rtsp_session_pool_filter(pool, remove_session, nullptr), g_object_unref);
    g_object_unref(pool);
    if (self->loop_) g_main_loop_quit(self->loop_);
    return G_SOURCE_REMOVE;
  };
  if (thread_.joinable()) {
    GSource* idle = g_idle_source_new();
    g_source_set_callback(idle, drop_everything, this, nullptr);
    g_source_attach(idle, context_);
    g_source_unref(idle);
    thread_.join();
  } else {
    drop_everything(this);
  }
  g_object_unref(server_);
  server_ = nullptr;
  g_main_loop_unref(loop_);
  loop_ = nullptr;
  g_main_context_unref(context_);
  context_ = nullptr;
}

}  // namespace relais::test
