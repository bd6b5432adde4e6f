// The relais-server executable over real HTTP: every route, success and
// failure, the token rules, loopback-only administration without a token,
// bad input, and a clean shutdown.
#include <gio/gio.h>
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <csignal>
#include <fstream>

#include "child_guard.h"
#include "json_message.h"
#include "process.h"
#include "redis_server.h"
#include "raw_http.h"
#include "temp_dir.h"

using namespace relais::test;

namespace {

std::string server_binary() {
  return std::string(g_getenv("RELAIS_BUILD_DIR")) + "/relais-server/relais-server";
}

std::string message_of(const RawResponse& r) {
  return relais::test::json_message(r.body);
}

constexpr const char* kToken = "test-token-123";
constexpr const char* kLiveDef =
    R"({"name": "api-cam", "launch": "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! relaisstoresink stream=api-cam"})";

// A relais-server on a free port with a definitions file: one live pipeline
// writing stream "file-cam", one that does not parse.
class Server {
 public:
  explicit Server(const std::vector<std::string>& extra = {}) {
    std::ofstream(dir_.file("pipelines.json")) << R"({"pipelines": [
      {"name": "file-cam", "launch": "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! relaisstoresink stream=file-cam"},
      {"name": "broken", "launch": "nosuchelement ! fakesink", "restart": "never"}]})";
    port_ = free_loopback_port();
    std::vector<std::string> argv = {server_binary(),
                                     "--host",
                                     "0.0.0.0",
                                     "--port",
                                     std::to_string(port_),
                                     "--pipelines",
                                     dir_.file("pipelines.json"),
                                     "--max-body-bytes",
                                     "4096"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::string err;
    started_ = process_.start(argv, dir_.file("server.log"), &err) && wait_for_port(port_, 10000);
    error_ = err;
  }
  bool ok() const { return started_; }
  int port() const { return port_; }
  std::string log() const {
    gchar* text = nullptr;
    g_file_get_contents(dir_.file("server.log").c_str(), &text, nullptr, nullptr);
    std::string s = text ? text : "";
    g_free(text);
    return s;
  }
  RawResponse get(const std::string& path) { return http_request(port_, "GET", path); }

 private:
  TempDir dir_;
  Process process_;
  int port_ = 0;
  bool started_ = false;
  std::string error_;
};

bool eventually(const std::function<bool()>& f, int timeout_ms = 10000) {
  gint64 end = g_get_monotonic_time() + gint64{timeout_ms} * 1000;
  while (g_get_monotonic_time() < end) {
    if (f()) return true;
    g_usleep(50000);
  }
  return f();
}

}  // namespace

TEST(ServerProcess, HelpAndVersion) {
  gchar* out = nullptr;
  gint status = 0;
  std::string cmd = server_binary() + " --version";
  ASSERT_TRUE(g_spawn_command_line_sync(cmd.c_str(), &out, nullptr, &status, nullptr));
  EXPECT_EQ(std::string(out).rfind("relais-server ", 0), 0u) << out;
  g_free(out);
  cmd = server_binary() + " --help";
  ASSERT_TRUE(g_spawn_command_line_sync(cmd.c_str(), &out, nullptr, &status, nullptr));
  EXPECT_NE(std::string(out).find("--pipelines"), std::string::npos);
  EXPECT_EQ(status, 0);
  g_free(out);
  gchar* err = nullptr;
  cmd = server_binary() + " --port nope";
  ASSERT_TRUE(g_spawn_command_line_sync(cmd.c_str(), nullptr, &err, &status, nullptr));
  EXPECT_NE(status, 0);
  EXPECT_NE(std::string(err).find("--port"), std::string::npos) << err;
  g_free(err);
}

// Bad ICE settings stop the server at start with a message naming the setting.
TEST(ServerProcess, BadIceSettingsAreStartErrors) {
  const char* cases[][2] = {
      {"--ice-port-range 40100-40000", "RELAIS_ICE_PORT_RANGE"},
      {"--ice-interfaces nosuchif0", "RELAIS_ICE_INTERFACES: 'nosuchif0'"},
      {"--ice-public-ips example.org", "RELAIS_ICE_PUBLIC_IPS: 'example.org'"},
      {"--ice-tcp maybe", "RELAIS_ICE_TCP: 'maybe'"},
  };
  for (const auto& [flags, message] : cases) {
    std::string cmd = server_binary() + " --host 127.0.0.1 --port " +
                      std::to_string(free_loopback_port()) + " " + flags;
    gchar* err = nullptr;
    gint status = 0;
    ASSERT_TRUE(g_spawn_command_line_sync(cmd.c_str(), nullptr, &err, &status, nullptr));
    EXPECT_NE(status, 0) << flags;
    EXPECT_NE(std::string(err).find(message), std::string::npos) << flags << ": " << err;
    g_free(err);
  }
}

TEST(ServerProcess, ReadRoutes) {
  Server s({"--api-token", kToken});
  ASSERT_TRUE(s.ok()) << s.log();
  auto health = s.get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.headers["content-type"], "application/json");
  EXPECT_EQ(s.get("/readyz").status, 200);

  ASSERT_TRUE(eventually([&] {
    return s.get("/api/v1/pipelines/file-cam").body.find("\"state\":\"playing\"") !=
           std::string::npos;
  })) << s.get("/api/v1/pipelines").body;
  auto list = s.get("/api/v1/pipelines");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"name\":\"broken\""), std::string::npos);
  EXPECT_NE(list.body.find("nosuchelement"), std::string::npos) << list.body;
  EXPECT_EQ(
      s.get("/api/v1/pipelines/broken").body.find("\"state\":\"failed\"") == std::string::npos,
      false);

  ASSERT_TRUE(eventually([&] {
    auto streams = s.get("/api/v1/streams");
    return streams.body.find("\"name\":\"file-cam\"") != std::string::npos &&
           streams.body.find("video/x-raw") != std::string::npos;
  })) << s.get("/api/v1/streams").body;
  auto streams = s.get("/api/v1/streams");
  for (const char* field : {"\"frame_rate\"", "\"bitrate\"", "\"updated\"", "\"caps\""}) {
    EXPECT_NE(streams.body.find(field), std::string::npos) << field;
  }

  ASSERT_TRUE(eventually([&] {
    return s.get("/metrics")
               .body.find("relais_store_sink_frames_total{pipeline=\"file-cam\",element=") !=
           std::string::npos;
  }));
  auto metrics = s.get("/metrics");
  EXPECT_EQ(metrics.headers["content-type"].rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(metrics.body.find("relais_pipelines{state=\"playing\"} 1"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("relais_pipelines{state=\"failed\"} 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("relais_pipeline_restarts_total{pipeline=\"file-cam\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("# TYPE relais_store_sink_bytes_total counter"), std::string::npos);
  auto index = s.get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("file-cam"), std::string::npos);
}

TEST(ServerProcess, TokenRulesForChangingEndpoints) {
  Server s({"--api-token", kToken});
  ASSERT_TRUE(s.ok()) << s.log();
  int port = s.port();
  auto none = http_request(port, "POST", "/api/v1/pipelines", kLiveDef);
  EXPECT_EQ(none.status, 401);
  EXPECT_FALSE(message_of(none).empty());
  EXPECT_NE(none.headers["www-authenticate"].find("Bearer"), std::string::npos);
  auto wrong =
      http_request(port, "POST", "/api/v1/pipelines", kLiveDef, {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_FALSE(message_of(wrong).empty());
  auto basic = http_request(port, "POST", "/api/v1/pipelines", kLiveDef,
                            {{"Authorization", std::string("Basic ") + kToken}});
  EXPECT_EQ(basic.status, 401);

  const std::map<std::string, std::string> auth = {
      {"Authorization", std::string("Bearer ") + kToken}};
  auto created = http_request(port, "POST", "/api/v1/pipelines", kLiveDef, auth);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers["location"], "/api/v1/pipelines/api-cam");
  EXPECT_EQ(s.get("/api/v1/pipelines/api-cam").status, 200);
  ASSERT_TRUE(eventually([&] {
    return s.get("/api/v1/streams").body.find("\"name\":\"api-cam\"") != std::string::npos;
  }));

  EXPECT_EQ(http_request(port, "DELETE", "/api/v1/pipelines/api-cam").status, 401);
  EXPECT_EQ(
      http_request(port, "DELETE", "/api/v1/pipelines/api-cam", "", {{"Authorization", "Bearer x"}})
          .status,
      403);
  EXPECT_EQ(http_request(port, "DELETE", "/api/v1/pipelines/api-cam", "", auth).status, 204);
  EXPECT_EQ(s.get("/api/v1/pipelines/api-cam").status, 404);
  EXPECT_EQ(http_request(port, "DELETE", "/api/v1/pipelines/api-cam", "", auth).status, 404);
  // Tokens never reach the log.
  EXPECT_EQ(s.log().find(kToken), std::string::npos);
}

TEST(ServerProcess, WithoutATokenOnlyLoopbackClientsMayChange) {
  std::string address = non_loopback_address();
  ASSERT_FALSE(address.empty()) << "this machine needs a non-loopback IPv4 address";
  Server s;
  ASSERT_TRUE(s.ok()) << s.log();
  int port = s.port();
  auto remote = http_request(port, "POST", "/api/v1/pipelines", kLiveDef, {}, address);
  EXPECT_EQ(remote.status, 403) << remote.body;
  EXPECT_NE(message_of(remote).find("loopback"), std::string::npos);
  // Reading stays open to everyone.
  EXPECT_EQ(http_request(port, "GET", "/api/v1/pipelines", "", {}, address).status, 200);
  EXPECT_EQ(http_request(port, "DELETE", "/api/v1/pipelines/file-cam", "", {}, address).status,
            403);
  EXPECT_EQ(http_request(port, "POST", "/api/v1/pipelines", kLiveDef).status, 201);
  EXPECT_EQ(http_request(port, "DELETE", "/api/v1/pipelines/api-cam").status, 204);
}

TEST(ServerProcess, BadInputIsRefusedAndTheServerKeepsServing) {
  Server s;
  ASSERT_TRUE(s.ok()) << s.log();
  int port = s.port();
  struct Case {
    std::string method, path, body;
    int status;
    std::string reason;  // part of the message
  };
  const Case cases[] = {
      {"POST", "/api/v1/pipelines", "{\"name\": ", 400, "malformed JSON"},
      {"POST", "/api/v1/pipelines", "[1,2]", 400, "object"},
      {"POST", "/api/v1/pipelines", "{\"name\": [], \"launch\": \"fakesrc ! fakesink\"}", 400,
       "string"},
      {"POST", "/api/v1/pipelines", "{\"name\": \"x\", \"launch\": 7}", 400, "string"},
      {"POST", "/api/v1/pipelines", "{\"name\": \"x\", \"launch\": \"fakesrc ! ! ! fakesink\"}",
       400, "does not parse"},
      {"POST", "/api/v1/pipelines", "{\"name\": \"x\", \"launch\": \"nosuchelement0 ! fakesink\"}",
       400, "nosuchelement0"},
      {"POST", "/api/v1/pipelines", "{\"name\": \"file-cam\", \"launch\": \"fakesrc ! fakesink\"}",
       409, "already exists"},
      {"POST", "/api/v1/pipelines", "{\"name\": \"a/b\", \"launch\": \"fakesrc ! fakesink\"}", 400,
       "a-z"},
      {"POST", "/api/v1/pipelines", "{\"name\": \"..\", \"launch\": \"fakesrc ! fakesink\"}", 400,
       "a-z"},
      {"POST", "/api/v1/pipelines", "{\"name\": \"a\\u0007b\", \"launch\": \"fakesrc ! fakesink\"}",
       400, "a-z"},
      {"GET", "/api/v1/pipelines/a%2Fb", "", 400, "a-z"},
      {"GET", "/api/v1/pipelines/a/b", "", 400, "a-z"},
      // Dot segments are resolved before routing (RFC 3986), so ".." climbs
      // to /api/v1/ and never names a pipeline.
      {"GET", "/api/v1/pipelines/%2e%2e", "", 404, "no such route"},
      {"GET", "/api/v1/pipelines/..", "", 404, "no such route"},
      {"GET", "/api/v1/pipelines/a%01b", "", 400, "a-z"},
      {"GET", "/api/v1/pipelines/a%00b", "", 400, ""},
      {"DELETE", "/api/v1/pipelines/UPPER", "", 400, "a-z"},
      {"GET", "/api/v1/pipelines/nope", "", 404, "nope"},
      {"GET", "/api/v2/pipelines", "", 404, "no such route"},
      {"GET", "/whatever", "", 404, "no such route"},
      {"PUT", "/api/v1/pipelines", "", 405, "allowed"},
      {"POST", "/healthz", "", 405, "allowed"},
      {"DELETE", "/api/v1/streams", "", 405, "allowed"},
      {"POST", "/api/v1/pipelines", std::string(5000, ' '), 413, "limit"},
  };
  for (const auto& c : cases) {
    auto r = http_request(port, c.method, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body.substr(0, 60)
                                  << ": " << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json") << c.path;
    std::string msg = message_of(r);
    EXPECT_FALSE(msg.empty()) << c.method << " " << c.path << ": " << r.body;
    EXPECT_NE(msg.find(c.reason), std::string::npos) << c.path << ": " << msg;
  }

  // An oversize chunked body (no Content-Length to refuse it early).
  std::string chunked =
      "POST /api/v1/pipelines HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "800\r\n" + std::string(0x800, 'x') + "\r\n";
  chunked += "0\r\n\r\n";
  auto big = raw_exchange(port, chunked);
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_FALSE(message_of(big).empty());

  // A huge declared body is refused without being read.
  auto declared = raw_exchange(port,
                               "POST /api/v1/pipelines HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 100000000\r\n\r\n{");
  EXPECT_EQ(declared.status, 413);
  EXPECT_FALSE(message_of(declared).empty());

  // Garbage that is not HTTP gets an error status and no crash.
  auto garbage = raw_exchange(port, "\x01\x02 nonsense\r\n\r\n");
  EXPECT_TRUE(garbage.status == 0 || garbage.status >= 400);
  auto bad_version = raw_exchange(port, "GET /healthz HTTP/9.9\r\n\r\n");
  EXPECT_TRUE(bad_version.status == 0 || bad_version.status >= 400);

  EXPECT_EQ(s.get("/healthz").status, 200);
  auto list = s.get("/api/v1/pipelines");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("\"name\":\"x\""), std::string::npos) << list.body;
}

TEST(ServerProcess, ReadinessFollowsTheRedisStore) {
  RedisServer redis;
  std::string error;
  ASSERT_TRUE(redis.start(&error)) << error;
  std::string address = "127.0.0.1:" + std::to_string(redis.port());
  Server s({"--storage-type", "redis", "--redis-url", address});
  ASSERT_TRUE(s.ok()) << s.log();
  auto ready = s.get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("redis://" + address), std::string::npos) << ready.body;
  // The file's pipeline writes through Redis, and the stream is listed from it.
  ASSERT_TRUE(eventually([&] {
    return s.get("/api/v1/streams").body.find("\"name\":\"file-cam\"") != std::string::npos;
  })) << s.get("/api/v1/streams").body
      << s.log();
  EXPECT_NE(redis.cli("ZRANGE relais:streams 0 -1").find("file-cam"), std::string::npos);

  redis.stop();
  auto down = s.get("/readyz");
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(message_of(down).find("not reachable"), std::string::npos) << down.body;
  EXPECT_EQ(s.get("/api/v1/streams").status, 503);
  EXPECT_EQ(s.get("/healthz").status, 200);  // alive, just not ready
  EXPECT_NE(s.get("/metrics").body.find("relais_store_up 0"), std::string::npos);

  ASSERT_TRUE(redis.start(&error)) << error;
  EXPECT_TRUE(eventually([&] { return s.get("/readyz").status == 200; }));
}

TEST(ServerProcess, EnvironmentConfiguresTheServer) {
  // The child inherits this environment; flags are not used here.
  g_setenv("RELAIS_API_TOKEN", kToken, TRUE);
  g_setenv("RELAIS_LOGGING_LEVEL", "warn", TRUE);
  Server quiet;
  g_unsetenv("RELAIS_API_TOKEN");
  g_unsetenv("RELAIS_LOGGING_LEVEL");
  ASSERT_TRUE(quiet.ok()) << quiet.log();
  EXPECT_EQ(http_request(quiet.port(), "POST", "/api/v1/pipelines", kLiveDef).status, 401);
  // The broken pipeline's warning shows, the info lines do not.
  ASSERT_TRUE(eventually([&] { return quiet.log().find("nosuchelement") != std::string::npos; }));
  EXPECT_EQ(quiet.log().find("listening on"), std::string::npos) << quiet.log();

  Server chatty({"--log-level", "info"});
  ASSERT_TRUE(chatty.ok());
  EXPECT_TRUE(eventually([&] { return chatty.log().find("listening on") != std::string::npos; }));
}

TEST(ServerProcess, StopsCleanlyOnSigterm) {
  TempDir dir;
  std::ofstream(dir.file("p.json"))
      << R"({"pipelines": [{"name": "live", "launch": "videotestsrc is-live=true ! relaisstoresink stream=bye"}]})";
  int port = free_loopback_port();
  for (int sig : {SIGTERM, SIGINT}) {
    std::string p = std::to_string(port);
    const gchar* argv[] = {
        server_binary().c_str(),    "--host", "127.0.0.1", "--port", p.c_str(), "--pipelines",
        dir.file("p.json").c_str(), nullptr};
    std::string bin = server_binary();
    argv[0] = bin.c_str();
    std::string file = dir.file("p.json");
    argv[6] = file.c_str();
    GError* err = nullptr;
    GSubprocessLauncher* launcher = relais::test::test_launcher(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    GSubprocess* proc = g_subprocess_launcher_spawnv(launcher, argv, &err);
    g_object_unref(launcher);
    ASSERT_NE(proc, nullptr) << err->message;
    ASSERT_TRUE(wait_for_port(port, 10000));
    ASSERT_TRUE(eventually([&] {
      return http_request(port, "GET", "/api/v1/pipelines/live").body.find("playing") !=
             std::string::npos;
    }));
    g_subprocess_send_signal(proc, sig);
    ASSERT_TRUE(g_subprocess_wait(proc, nullptr, nullptr));
    EXPECT_TRUE(g_subprocess_get_if_exited(proc)) << "signal " << sig;
    EXPECT_EQ(g_subprocess_get_exit_status(proc), 0) << "signal " << sig;
    g_object_unref(proc);
  }
}
