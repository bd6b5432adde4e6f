// The libsoup adapter on its own: routing by longest prefix, the request as
// handlers see it, answers given later from the main context, and answers
// for clients that already left.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "raw_http.h"
#include "soup_http_server.h"

using namespace relais::server;
using namespace relais::test;

namespace {

// Sends one request from another thread while this one runs the main context.
RawResponse send_request(int port, const std::string& request) {
  RawResponse result;
  std::atomic<bool> done{false};
  std::thread client([&] {
    result = raw_exchange(port, request);
    done = true;
  });
  while (!done) g_main_context_iteration(nullptr, FALSE), g_usleep(500);
  client.join();
  return result;
}

HttpResponse text(const std::string& body) {
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = body;
  return r;
}

class AdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(server.listen("127.0.0.1", 0, &error)) << error;
    port = server.port();
    ASSERT_GT(port, 0);
  }
  SoupHttpServer server{1024};
  int port = 0;
};

}  // namespace

TEST_F(AdapterTest, LongestPrefixWinsAndUnclaimedPathsAre404) {
  server.add_prefix("/a/", [](const HttpRequest&, Responder r) { r(text("a")); });
  server.add_prefix("/a/b/", [](const HttpRequest&, Responder r) { r(text("ab")); });
  EXPECT_EQ(send_request(port, "GET /a/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").body,
            "a");
  EXPECT_EQ(send_request(port, "GET /a/b/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").body,
            "ab");
  auto none = send_request(port, "GET /zzz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.headers["content-type"], "application/json");
  EXPECT_NE(none.body.find("\"message\""), std::string::npos);
}

TEST_F(AdapterTest, HandlersSeeTheRequest) {
  HttpRequest seen;
  server.add_prefix("/", [&](const HttpRequest& req, Responder r) {
    seen = req;
    HttpResponse resp;
    resp.status = 201;
    resp.headers.emplace_back("Location", "/x/1");
    resp.body = "{}";
    r(resp);
  });
  auto r = send_request(port,
                        "POST /x/a%20b?k=v HTTP/1.1\r\nHost: h\r\nX-Custom: Yes\r\n"
                        "Content-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers["location"], "/x/1");
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/x/a b");
  EXPECT_EQ(seen.query, "k=v");
  EXPECT_EQ(seen.header("x-custom"), "Yes");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_TRUE(seen.from_loopback);
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
}

TEST_F(AdapterTest, AnswersCanComeLater) {
  server.add_prefix("/later", [](const HttpRequest&, Responder r) {
    auto* held = new Responder(std::move(r));
    g_timeout_add(
        50,
        +[](gpointer data) -> gboolean {
          auto* responder = static_cast<Responder*>(data);
          (*responder)(text("late answer"));
          delete responder;
          return G_SOURCE_REMOVE;
        },
        held);
  });
  auto r = send_request(port, "GET /later HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "late answer");
}

TEST_F(AdapterTest, AnAnswerForAClientThatLeftIsDropped) {
  Responder kept;
  bool called = false;
  server.add_prefix("/", [&](const HttpRequest&, Responder r) {
    kept = std::move(r);
    called = true;
  });
  // The client sends and hangs up at once.
  std::thread client([&] {
    GSocketClient* c = g_socket_client_new();
    GSocketConnection* conn = g_socket_client_connect_to_host(
        c, "127.0.0.1", static_cast<guint16>(port), nullptr, nullptr);
    const char req[] = "GET /gone HTTP/1.1\r\nHost: h\r\n\r\n";
    g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), req,
                              sizeof(req) - 1, nullptr, nullptr, nullptr);
    g_usleep(100000);
    g_io_stream_close(G_IO_STREAM(conn), nullptr, nullptr);
    g_object_unref(conn);
    g_object_unref(c);
  });
  gint64 end = g_get_monotonic_time() + 500000;
  while (g_get_monotonic_time() < end) g_main_context_iteration(nullptr, FALSE), g_usleep(500);
  client.join();
  ASSERT_TRUE(called);
  kept(text("nobody listens"));  // must not crash or write to a dead connection
  kept(text("twice"));           // a second answer is ignored
  // The server still serves.
  server.add_prefix("/ok", [](const HttpRequest&, Responder r) { r(text("ok")); });
  EXPECT_EQ(send_request(port, "GET /ok HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").body,
            "ok");
}

TEST_F(AdapterTest, OversizeBodiesAre413) {
  bool reached = false;
  server.add_prefix("/", [&](const HttpRequest&, Responder r) {
    reached = true;
    r(text("no"));
  });
  auto r = send_request(
      port, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("1024"), std::string::npos) << r.body;
  EXPECT_FALSE(reached);
}

TEST(Adapter, ListenRefusesHostNames) {
  SoupHttpServer server(1024);
  std::string error;
  EXPECT_FALSE(server.listen("localhost", 0, &error));
  EXPECT_NE(error.find("IP address"), std::string::npos) << error;
}
