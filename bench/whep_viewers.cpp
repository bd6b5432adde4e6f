// Concurrent WebRTC viewers of one 720p30 H.264 stream (constrained baseline,
// about 2 Mb/s): how many this machine holds while every viewer still
// receives at least 95% of the frames, and the server's CPU time per
// viewer-second on the way, for Relais's shared egress (the stream read,
// parsed and payloaded once, a tee branch per viewer) and, as the anchor, one
// pipeline per viewer (reader, parser, payloader and webrtcbin for each
// viewer, as one gst-launch pipeline per viewer would be).
//
// The viewers are webrtcbin peers in a child process talking WHEP over HTTP
// on loopback; they grow in steps (1, 2, 4, 8, 12, 16, 24, 32, ...), each
// step measured for a few seconds once all are connected. The stream is
// encoded once before anything is measured and replayed into the memory://
// store in real time by a thread of this process; that thread's (small) cost
// is measured with no viewers and subtracted from the server's figure.
//
// Usage: relais-bench-whep-viewers [--max-viewers N] [--step-seconds S]
//                                  [--viewers N] [--seconds S]
//   --max-viewers N   the last step (default 64: the whole run then takes
//                     60-90 s on a 2-core machine; 80 takes up to ~110 s)
//   --step-seconds S  seconds measured per step (default 2)
//   --viewers N       measure one step of N viewers only (the old fixed count)
//   --seconds S       same as --step-seconds
//        relais-bench-whep-viewers --client WHEP_URL     (the viewers; internal)
#include <gio/gio.h>
#include <gst/gst.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "registry.h"
#include "whep_viewers_client.h"
#include "whep_viewers_server.h"
#include "whep_viewers_writer.h"

namespace {

using relais::bench::ClipWriter;
using relais::bench::WhepBenchServer;

constexpr const char* kStream = "bench";
constexpr double kHeldFraction = 0.95;

// Runs the main context (the WHEP services, the HTTP server) for a while,
// sleeping in between, so the harness itself costs next to no CPU.
void iterate_for(double seconds) {
  bool done = false;
  g_timeout_add(
      guint(seconds * 1000),
      [](gpointer flag) {
        *static_cast<bool*>(flag) = true;
        return G_SOURCE_REMOVE;
      },
      &done);
  while (!done) g_main_context_iteration(nullptr, TRUE);
}

bool iterate_until(const std::function<bool()>& done, double seconds) {
  gint64 end = g_get_monotonic_time() + gint64(seconds * 1e6);
  while (!done()) {
    if (g_get_monotonic_time() > end) return false;
    iterate_for(0.02);
  }
  return true;
}

double now_seconds() {
  return g_get_monotonic_time() / 1e6;
}

double self_cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU time (user + system) of another process, from /proc.
double process_cpu_seconds(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; i++)  // utime is field 14, stime 15
    if (i >= 14) ticks += std::atof(field.c_str());
  return ticks / sysconf(_SC_CLK_TCK);
}

// The writer's bitrate as the store measures it (bit/s).
double stream_bitrate() {
  std::shared_ptr<relais::store::Store> store;
  std::vector<relais::store::StreamInfo> streams;
  if (relais::store::open_store("memory://", &store).is_ok()) store->list_streams(&streams);
  for (const auto& s : streams)
    if (s.name == kStream) return s.bitrate;
  return 0;
}

// The viewers' process and the line protocol of whep_viewers_client.h.
class Viewers {
 public:
  bool start(const std::string& self_exe, const std::string& whep_url) {
    GError* err = nullptr;
    proc_ = g_subprocess_new(static_cast<GSubprocessFlags>(G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                           G_SUBPROCESS_FLAGS_STDOUT_PIPE),
                             &err, self_exe.c_str(), "--client", whep_url.c_str(), nullptr);
    if (!proc_) {
      std::fprintf(stderr, "viewers: %s\n", err ? err->message : "?");
      if (err) g_error_free(err);
      return false;
    }
    out_ = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc_));
    g_subprocess_wait_async(
        proc_, nullptr,
        [](GObject*, GAsyncResult*, gpointer data) {
          std::unique_ptr<std::shared_ptr<bool>> exited(static_cast<std::shared_ptr<bool>*>(data));
          **exited = true;
        },
        new std::shared_ptr<bool>(exited_));
    pid_ = g_subprocess_get_identifier(proc_);
    std::fprintf(stderr, "viewers' process: pid %s (server: pid %d)\n", pid_.c_str(),
                 int(getpid()));
    return true;
  }
  ~Viewers() {
    if (out_) g_object_unref(out_);
    if (proc_) {
      g_subprocess_force_exit(proc_);
      g_subprocess_wait(proc_, nullptr, nullptr);
      g_object_unref(proc_);
    }
  }
  bool add(int n) { return command("add " + std::to_string(n)); }
  // Each viewer's complete frames so far; empty if the process is gone.
  std::vector<double> frames() {
    std::vector<double> counts;
    if (!command("report")) return counts;
    gchar* line = g_data_input_stream_read_line(out_, nullptr, nullptr, nullptr);
    if (!line) return counts;
    std::istringstream in(line);
    g_free(line);
    std::string word;
    in >> word;
    double n = 0;
    while (in >> n) counts.push_back(n);
    return counts;
  }
  double cpu_seconds() const { return process_cpu_seconds(pid_); }
  bool exited() const { return *exited_; }

 private:
  bool command(const std::string& text) {
    std::string line = text + "\n";
    return g_output_stream_write_all(g_subprocess_get_stdin_pipe(proc_), line.data(), line.size(),
                                     nullptr, nullptr, nullptr);
  }
  GSubprocess* proc_ = nullptr;
  GDataInputStream* out_ = nullptr;
  std::string pid_;
  // Set on the main context when the process ends; shared with the callback,
  // which may run after this object is gone.
  std::shared_ptr<bool> exited_ = std::make_shared<bool>(false);
};

struct Step {
  int viewers = 0;
  bool held = false;
  double server_ms_per_viewer_second = 0;
  double peers_ms_per_viewer_second = 0;
  double fps_per_viewer = 0;
  double worst_percent = 0;
  double kbps_per_viewer = 0;
  double frames_written = 0;
  bool writer_kept_up = false;
};

struct Curve {
  std::vector<Step> steps;
  int max_held = 0;
  const Step* at(int viewers) const {
    for (const auto& s : steps)
      if (s.viewers == viewers && s.held) return &s;
    return nullptr;
  }
};

struct Sides {
  const char* label;
  WhepBenchServer* server;
  Viewers* viewers;
  const ClipWriter* writer;
  double idle_cores;
};

// Measures `n` connected viewers for `seconds`; false (with a line printed)
// if the viewers' process stopped answering.
bool measure_window(const Sides& s, int n, double seconds, Step* step) {
  std::vector<double> f0 = s.viewers->frames();
  double w0 = double(s.writer->frames_written()), c0 = self_cpu_seconds();
  double p0 = s.viewers->cpu_seconds(), b0 = s.server->bytes_sent(), t0 = now_seconds();
  iterate_for(seconds);
  std::vector<double> f1 = s.viewers->frames();
  double written = s.writer->frames_written() - w0, cpu = self_cpu_seconds() - c0;
  double peers_cpu = s.viewers->cpu_seconds() - p0, bytes = s.server->bytes_sent() - b0;
  double dt = now_seconds() - t0;
  if (f0.size() != size_t(n) || f1.size() != size_t(n) || written <= 0) {
    std::printf("# %-24s %3d viewers: the viewers' process stopped answering\n", s.label, n);
    return false;
  }
  double worst = 1e9, total = 0;
  for (int i = 0; i < n; i++) {
    worst = std::min(worst, f1[i] - f0[i]);
    total += f1[i] - f0[i];
  }
  step->viewers = n;
  step->server_ms_per_viewer_second = std::max(0.0, cpu - s.idle_cores * dt) * 1000 / (n * dt);
  step->peers_ms_per_viewer_second = peers_cpu * 1000 / (n * dt);
  step->fps_per_viewer = total / n / dt;
  step->worst_percent = 100 * worst / written;
  step->kbps_per_viewer = bytes * 8 / 1000 / dt / n;
  step->frames_written = written;
  // The stream itself must keep its rate too (the writer shares the cores).
  step->writer_kept_up = written >= kHeldFraction * ClipWriter::kFps * dt;
  step->held = worst >= kHeldFraction * written && step->writer_kept_up;
  return true;
}

void print_step(const char* label, const Step& step, double connect_seconds, const char* note) {
  std::printf(
      "# %-24s %3d viewers: server %6.2f ms CPU/viewer-s, %5.1f frames/s per viewer, worst "
      "viewer %5.1f%% of %.0f frames, %5.0f kbit/s each; peers' process %6.2f ms CPU/viewer-s "
      "(same cores); connect %.1f s%s%s\n",
      label, step.viewers, step.server_ms_per_viewer_second, step.fps_per_viewer,
      step.worst_percent, step.frames_written, step.kbps_per_viewer,
      step.peers_ms_per_viewer_second, connect_seconds,
      step.writer_kept_up ? "" : "; the writer fell behind", note);
  std::fflush(stdout);
}

// Grows the viewers step by step until a step does not hold. A step that
// misses is measured once more before it counts as failed, so one stall of
// this shared machine does not end the curve.
Curve run_curve(bool shared, const std::vector<int>& steps, double step_seconds, double idle_cores,
                const ClipWriter& writer, const std::string& self_exe) {
  const char* label = shared ? "relais_shared_egress" : "one_pipeline_per_viewer";
  Curve curve;
  WhepBenchServer server(shared, size_t(steps.back()));
  std::string error;
  if (!server.listen(&error)) {
    std::fprintf(stderr, "%s: %s\n", label, error.c_str());
    return curve;
  }
  Viewers viewers;
  if (!viewers.start(self_exe, server.url() + "/whep/" + kStream)) return curve;
  Sides sides{label, &server, &viewers, &writer, idle_cores};
  int connected = 0;
  for (int n : steps) {
    double t_connect = now_seconds();
    viewers.add(n - connected);
    connected = n;
    if (!iterate_until([&] { return server.connected() == size_t(n) || viewers.exited(); },
                       30 + n) ||
        viewers.exited()) {
      std::printf("# %-24s %3d viewers: only %zu connected after %.0f s%s, stopping\n", label, n,
                  server.connected(), now_seconds() - t_connect,
                  viewers.exited() ? " (the viewers' process failed)" : "");
      break;
    }
    t_connect = now_seconds() - t_connect;
    iterate_for(1.0);  // past the new viewers' first burst (the cached GOP)
    Step step;
    if (!measure_window(sides, n, step_seconds, &step)) break;
    if (!step.held) {
      print_step(label, step, t_connect, "; measuring again");
      if (!measure_window(sides, n, step_seconds, &step)) break;
      print_step(label, step, t_connect, step.held ? "; held" : "; missed again, stopping");
    } else {
      print_step(label, step, t_connect, "");
    }
    curve.steps.push_back(step);
    if (!step.held) break;
    curve.max_held = n;
  }
  return curve;
}

std::vector<int> default_steps(int max_viewers) {
  std::vector<int> steps;
  for (int n : {1, 2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 192, 256})
    if (n <= max_viewers) steps.push_back(n);
  if (steps.empty() || steps.back() != max_viewers) steps.push_back(max_viewers);
  return steps;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc == 3 && std::string(argv[1]) == "--client")
    return relais::bench::run_whep_viewers(argv[2]);
  int max_viewers = 64, fixed_viewers = 0;
  double step_seconds = 2;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", arg.c_str());
      return 2;
    }
    std::string value = argv[++i];
    if (arg == "--max-viewers") {
      max_viewers = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--viewers") {
      fixed_viewers = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--step-seconds" || arg == "--seconds") {
      step_seconds = std::max(1.0, std::atof(value.c_str()));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--max-viewers N] [--step-seconds S] [--viewers N] [--seconds S]\n",
                   argv[0]);
      return 2;
    }
  }
  std::vector<int> steps =
      fixed_viewers ? std::vector<int>{fixed_viewers} : default_steps(max_viewers);
  // A viewers' process that died must not take this one with it.
  std::signal(SIGPIPE, SIG_IGN);
  gchar* exe = g_file_read_link("/proc/self/exe", nullptr);
  std::string self_exe = exe ? exe : argv[0];
  g_free(exe);

  ClipWriter writer;
  std::string error;
  if (!writer.encode(4, &error) || !writer.start("memory://", kStream, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  iterate_for(1.5);
  double c0 = self_cpu_seconds(), t0 = now_seconds();
  iterate_for(2.0);
  double idle_cores = (self_cpu_seconds() - c0) / (now_seconds() - t0);
  std::printf(
      "# stream: %dx%d %d fps H.264 constrained-baseline, %.0f kbit/s (store: %.0f kbit/s); "
      "writer alone %.2f ms CPU/s (subtracted). Frames counted per viewer: RTP marker-bit "
      "packets out of webrtcbin with no sequence gap in the frame (not decoded). The viewers' "
      "process runs on the same %ld cores.\n",
      ClipWriter::kWidth, ClipWriter::kHeight, ClipWriter::kFps, writer.clip_bitrate() / 1000,
      stream_bitrate() / 1000, idle_cores * 1000, sysconf(_SC_NPROCESSORS_ONLN));
  std::fflush(stdout);

  Curve relais = run_curve(true, steps, step_seconds, idle_cores, writer, self_exe);
  Curve anchor = run_curve(false, steps, step_seconds, idle_cores, writer, self_exe);
  writer.stop();

  std::printf(
      "# maximum viewers with every viewer >= 95%% of frames: relais %d%s, one pipeline "
      "per viewer %d%s\n",
      relais.max_held, relais.max_held == steps.back() ? " (the cap: held every step)" : "",
      anchor.max_held, anchor.max_held == steps.back() ? " (the cap: held every step)" : "");
  relais::bench::print_result("whep_viewers_720p30_max", "viewers", relais.max_held,
                              "one_pipeline_per_viewer", anchor.max_held, true);
  // CPU per viewer at the largest step both held.
  int common = std::min(relais.max_held, anchor.max_held);
  const Step* r = relais.at(common);
  const Step* a = anchor.at(common);
  if (!r || !a) {
    std::fprintf(stderr, "no step held by both (relais %d, anchor %d)\n", relais.max_held,
                 anchor.max_held);
    return 1;
  }
  relais::bench::print_result("whep_cpu_ms_per_viewer_second_at_" + std::to_string(common), "ms",
                              r->server_ms_per_viewer_second, "one_pipeline_per_viewer",
                              a->server_ms_per_viewer_second, false);
  return 0;
}
