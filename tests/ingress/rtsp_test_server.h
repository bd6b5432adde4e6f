// An RTSP server (gst-rtsp-server) running inside the test process on its own
// thread, serving a live 320x240 H.264 test pattern at /test. It can be
// stopped (all clients dropped, the port closed) and started again on the
// same port, as a camera that reboots would.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <string>
#include <thread>

namespace relais::test {

class RtspTestServer {
 public:
  RtspTestServer() = default;
  RtspTestServer(const RtspTestServer&) = delete;
  RtspTestServer& operator=(const RtspTestServer&) = delete;
  ~RtspTestServer() { stop(); }

  // Starts serving on 127.0.0.1:port (a free port is picked when port is 0).
  bool start(int port = 0);
  // Also sends an Opus audio stream next to the video, from the next start on.
  void set_with_audio(bool with_audio) { with_audio_ = with_audio; }
  // Serves rtsps:// with this certificate and key (PEM files), from the next start on.
  void set_tls(const std::string& cert_file, const std::string& key_file) {
    cert_file_ = cert_file;
    key_file_ = key_file;
  }
  // Drops every client and session and closes the port.
  void stop();
  int port() const { return port_; }
  std::string uri() const {
    return (cert_file_.empty() ? "rtsp://127.0.0.1:" : "rtsps://127.0.0.1:") +
           std::to_string(port_) + "/test";
  }

 private:
  int port_ = 0;
  bool with_audio_ = false;
  std::string cert_file_, key_file_;
  GMainContext* context_ = nullptr;
  GMainLoop* loop_ = nullptr;
  GstRTSPServer* server_ = nullptr;
  guint source_id_ = 0;
  std::thread thread_;
};

}  // namespace relais::test
