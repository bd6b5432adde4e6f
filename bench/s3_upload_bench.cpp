// Upload throughput of relaiss3sink against a local S3 server (s3rver),
// side by side with `curl -T` of the same file to the same server, in one run.
//
//   relais-bench-s3 [--size-mib N] [--runs N] [--plugin-dir DIR] [--s3rver PATH]
//
// Prints: BENCH s3_upload_<N>MiB MB_per_s <relais> curl_T <curl> 1
// (median of --runs alternating runs; MB = 10^6 bytes).
#include <gio/gio.h>
#include <gst/gst.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

bool wait_port(int port) {
  for (int i = 0; i < 750; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return true;
    g_usleep(20000);
  }
  return false;
}

// Seconds for relaiss3sink to upload `file` (PLAYING to EOS), or < 0.
double run_relais(const std::string& file, const std::string& endpoint, const std::string& key,
                  const std::string& extra) {
  std::string desc =
      "filesrc location=" + file + " blocksize=1048576 ! relaiss3sink uri=s3://bench/" + key +
      " endpoint-uri=" + endpoint + " access-key=S3RVER secret-access-key=S3RVER " + extra;
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(desc.c_str(), &err);
  if (!p) {
    fprintf(stderr, "bench: %s\n", err->message);
    g_error_free(err);
    return -1;
  }
  gint64 t0 = g_get_monotonic_time();
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* m = gst_bus_timed_pop_filtered(
      bus, 60 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  double secs = (g_get_monotonic_time() - t0) / 1e6;
  if (!m || GST_MESSAGE_TYPE(m) != GST_MESSAGE_EOS) {
    if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      gst_message_parse_error(m, &err, nullptr);
      fprintf(stderr, "bench: relaiss3sink failed: %s\n", err->message);
      g_error_free(err);
    }
    secs = -1;
  }
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return secs;
}

// Seconds for `curl -T file` to the same server, or < 0.
double run_curl(const std::string& file, const std::string& endpoint, const std::string& key) {
  std::string url = endpoint + "/bench/" + key;
  const gchar* argv[] = {"curl", "-sS",        "-f",        "-o",   "/dev/null",
                         "-T",   file.c_str(), url.c_str(), nullptr};
  gint64 t0 = g_get_monotonic_time();
  gint status = 0;
  GError* err = nullptr;
  if (!g_spawn_sync(nullptr, const_cast<gchar**>(argv), nullptr, G_SPAWN_SEARCH_PATH, nullptr,
                    nullptr, nullptr, nullptr, &status, &err)) {
    fprintf(stderr, "bench: curl: %s\n", err->message);
    g_error_free(err);
    return -1;
  }
  double secs = (g_get_monotonic_time() - t0) / 1e6;
  return g_spawn_check_wait_status(status, nullptr) ? secs : -1;
}

// Size of an object as the server reports it, or -1.
gint64 object_size(const std::string& endpoint, const std::string& key) {
  std::string url = endpoint + "/bench/" + key;
  const gchar* argv[] = {"curl",      "-sS",  "-f", "-o", "/dev/null", "-w", "%{size_download}",
                         url.c_str(), nullptr};
  gchar* out = nullptr;
  gint status = 0;
  if (!g_spawn_sync(nullptr, const_cast<gchar**>(argv), nullptr, G_SPAWN_SEARCH_PATH, nullptr,
                    nullptr, &out, nullptr, &status, nullptr))
    return -1;
  gint64 size = g_spawn_check_wait_status(status, nullptr) ? g_ascii_strtoll(out, nullptr, 10) : -1;
  g_free(out);
  return size;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  gint size_mib = 64;
  gint runs = 3;
  gchar* plugin_dir = nullptr;
  gchar* s3rver = nullptr;
  GOptionEntry entries[] = {
      {"size-mib", 0, 0, G_OPTION_ARG_INT, &size_mib, "Object size in MiB", "N"},
      {"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs of each (median is printed)", "N"},
      {"plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugin_dir, "Directory of the relais plugin",
       "DIR"},
      {"s3rver", 0, 0, G_OPTION_ARG_FILENAME, &s3rver, "Path of the s3rver executable", "PATH"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  GOptionContext* ctx = g_option_context_new("- relaiss3sink upload throughput vs curl -T");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  GError* err = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
    fprintf(stderr, "bench: %s\n", err->message);
    return 2;
  }
  g_option_context_free(ctx);
  g_setenv("GST_PLUGIN_PATH_1_0", plugin_dir ? plugin_dir : RELAIS_BENCH_PLUGIN_DIR, TRUE);
  gst_init(&argc, &argv);
  std::string s3rver_bin = s3rver ? s3rver : RELAIS_BENCH_S3RVER;
  if (!gst_element_factory_find("relaiss3sink")) {
    fprintf(stderr, "bench: relaiss3sink not found (plugin dir?)\n");
    return 1;
  }

  gchar* tmp = g_dir_make_tmp("relais-bench-s3-XXXXXX", nullptr);
  std::string dir = tmp;
  g_free(tmp);
  std::string file = dir + "/payload.bin";
  {
    std::string data(static_cast<size_t>(size_mib) * 1024 * 1024, '\0');
    std::mt19937 rng(7);
    for (size_t i = 0; i < data.size(); i += 4) {
      uint32_t v = rng();
      memcpy(&data[i], &v, std::min<size_t>(4, data.size() - i));
    }
    g_file_set_contents(file.c_str(), data.data(), static_cast<gssize>(data.size()), nullptr);
  }

  int port = free_port();
  std::string port_s = std::to_string(port);
  std::string data_dir = dir + "/s3";
  const gchar* sargv[] = {s3rver_bin.c_str(),
                          "-s",
                          "-d",
                          data_dir.c_str(),
                          "-a",
                          "127.0.0.1",
                          "-p",
                          port_s.c_str(),
                          "--configure-bucket",
                          "bench",
                          nullptr};
  GSubprocess* server =
      g_subprocess_newv(sargv,
                        static_cast<GSubprocessFlags>(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                      G_SUBPROCESS_FLAGS_STDERR_SILENCE),
                        &err);
  int rc = 1;
  if (!server) {
    fprintf(stderr, "bench: cannot start %s: %s (run make deps)\n", s3rver_bin.c_str(),
            err->message);
  } else if (!wait_port(port)) {
    fprintf(stderr, "bench: s3rver did not start\n");
  } else {
    std::string endpoint = "http://127.0.0.1:" + port_s;
    const double mb = size_mib * 1024.0 * 1024.0 / 1e6;
    // Default part size (multipart, 5 MiB parts) and, to show what the
    // multipart protocol costs on this server, a part larger than the file:
    // the object is smaller than one part, so it goes up in a single PUT,
    // like curl -T (a part exactly as large as the file is still multipart).
    std::string single = "part-size=" + std::to_string(std::max<gint64>(
                                            5 * 1024 * 1024, gint64(size_mib + 1) * 1024 * 1024));
    std::vector<double> relais, relais_put, curl;
    bool ok = true;
    gint64 want = static_cast<gint64>(size_mib) * 1024 * 1024;
    for (int i = 0; i < runs && ok; ++i) {
      std::string k = "run" + std::to_string(i);
      double r = run_relais(file, endpoint, k + "-relais.bin", "");
      double c = run_curl(file, endpoint, k + "-curl.bin");
      double p = run_relais(file, endpoint, k + "-relais-put.bin", single);
      ok = r > 0 && c > 0 && p > 0 && object_size(endpoint, k + "-relais.bin") == want &&
           object_size(endpoint, k + "-curl.bin") == want &&
           object_size(endpoint, k + "-relais-put.bin") == want;
      relais.push_back(mb / r);
      curl.push_back(mb / c);
      relais_put.push_back(mb / p);
    }
    if (ok) {
      printf("BENCH s3_upload_%dMiB MB_per_s %.1f curl_T %.1f 1\n", size_mib, median(relais),
             median(curl));
      printf("BENCH s3_upload_%dMiB_single_put MB_per_s %.1f curl_T %.1f 1\n", size_mib,
             median(relais_put), median(curl));
      rc = 0;
    } else {
      fprintf(stderr, "bench: an upload failed or the object has the wrong size\n");
    }
    g_subprocess_send_signal(server, SIGTERM);
    g_subprocess_wait(server, nullptr, nullptr);
  }
  if (server) g_object_unref(server);
  const gchar* rm[] = {"rm", "-rf", dir.c_str(), nullptr};
  g_spawn_sync(nullptr, const_cast<gchar**>(rm), nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr,
               nullptr, nullptr, nullptr, nullptr);
  g_clear_error(&err);
  return rc;
}
