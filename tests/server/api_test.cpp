// The API handlers without sockets: routes, methods, token rules, bad input.
#include <gtest/gtest.h>
#include <json-glib/json-glib.h>

#include <map>
#include <optional>

#include "json_message.h"
#include "api.h"
#include "auth.h"

using namespace relais::server;

namespace {

HttpRequest request(const std::string& method, const std::string& path,
                    const std::string& body = "", bool loopback = true) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  r.body = body;
  r.from_loopback = loopback;
  r.remote_address = loopback ? "127.0.0.1" : "192.0.2.9";
  return r;
}

HttpRequest with_token(HttpRequest r, const std::string& token) {
  r.headers["authorization"] = "Bearer " + token;
  return r;
}

std::string message_of(const HttpResponse& r) {
  return relais::test::json_message(r.body);
}

constexpr const char* kLive =
    R"({"name": "cam", "launch": "videotestsrc is-live=true ! fakesink"})";

class ApiTest : public ::testing::Test {
 protected:
  PipelineManager manager{nullptr};
};

}  // namespace

TEST(Auth, ConstantTimeCompareIsExact) {
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "abcd"));
  EXPECT_FALSE(constant_time_equals("", "a"));
}

TEST(Auth, BearerTokenIsReadCaseInsensitively) {
  HttpRequest r;
  r.headers["authorization"] = "bearer  tok ";
  EXPECT_EQ(bearer_token(r), "tok");
  r.headers["authorization"] = "Basic dG9rOg==";
  EXPECT_EQ(bearer_token(r), "");
  r.headers["authorization"] = "Bearer";
  EXPECT_EQ(bearer_token(r), "");
}

TEST_F(ApiTest, HealthAndReadiness) {
  Api api(&manager, "memory://", "");
  EXPECT_EQ(api.handle(request("GET", "/healthz")).status, 200);
  EXPECT_EQ(api.handle(request("GET", "/readyz")).status, 200);
  EXPECT_EQ(api.handle(request("POST", "/healthz")).status, 405);
  Api unreachable(&manager, "nosuch://x", "");
  auto r = unreachable.handle(request("GET", "/readyz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(message_of(r).find("nosuch://x"), std::string::npos) << r.body;
}

TEST_F(ApiTest, TokenRules) {
  Api api(&manager, "memory://", "s3cret");
  auto r = api.handle(request("POST", "/api/v1/pipelines", kLive));
  EXPECT_EQ(r.status, 401);
  EXPECT_FALSE(message_of(r).empty());
  EXPECT_EQ(api.handle(with_token(request("POST", "/api/v1/pipelines", kLive), "wrong")).status,
            403);
  EXPECT_EQ(api.handle(with_token(request("DELETE", "/api/v1/pipelines/cam"), "s3cre")).status,
            403);
  // A token is needed even from loopback once one is configured.
  EXPECT_EQ(api.handle(request("DELETE", "/api/v1/pipelines/cam")).status, 401);
  // Reading needs no token.
  EXPECT_EQ(api.handle(request("GET", "/api/v1/pipelines", "", false)).status, 200);
  EXPECT_EQ(
      api.handle(with_token(request("POST", "/api/v1/pipelines", kLive, false), "s3cret")).status,
      201);
  EXPECT_EQ(api.handle(with_token(request("DELETE", "/api/v1/pipelines/cam", "", false), "s3cret"))
                .status,
            204);
}

TEST_F(ApiTest, WithoutATokenOnlyLoopbackMayChange) {
  Api api(&manager, "memory://", "");
  auto r = api.handle(request("POST", "/api/v1/pipelines", kLive, false));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(message_of(r).find("RELAIS_API_TOKEN"), std::string::npos);
  EXPECT_EQ(api.handle(request("POST", "/api/v1/pipelines", kLive, true)).status, 201);
  EXPECT_EQ(api.handle(request("DELETE", "/api/v1/pipelines/cam", "", false)).status, 403);
  EXPECT_EQ(api.handle(request("DELETE", "/api/v1/pipelines/cam", "", true)).status, 204);
}

TEST_F(ApiTest, PipelineLifecycle) {
  Api api(&manager, "memory://", "");
  auto created = api.handle(request("POST", "/api/v1/pipelines", kLive));
  ASSERT_EQ(created.status, 201) << created.body;
  bool has_location = false;
  for (const auto& [k, v] : created.headers) {
    if (k == "Location") has_location = v == "/api/v1/pipelines/cam";
  }
  EXPECT_TRUE(has_location);
  EXPECT_NE(created.body.find("\"name\":\"cam\""), std::string::npos);
  auto dup = api.handle(request("POST", "/api/v1/pipelines", kLive));
  EXPECT_EQ(dup.status, 409);
  EXPECT_NE(message_of(dup).find("already exists"), std::string::npos);
  auto one = api.handle(request("GET", "/api/v1/pipelines/cam"));
  EXPECT_EQ(one.status, 200);
  EXPECT_NE(one.body.find("\"restart\":\"always\""), std::string::npos) << one.body;
  EXPECT_NE(api.handle(request("GET", "/api/v1/pipelines")).body.find("\"cam\""),
            std::string::npos);
  EXPECT_EQ(api.handle(request("DELETE", "/api/v1/pipelines/cam")).status, 204);
  EXPECT_EQ(api.handle(request("GET", "/api/v1/pipelines/cam")).status, 404);
  EXPECT_EQ(api.handle(request("DELETE", "/api/v1/pipelines/cam")).status, 404);
}

// A launch line quoting a camera's password or token: the API never shows it.
TEST_F(ApiTest, PipelinesNeverShowCredentials) {
  Api api(&manager, "memory://", "");
  auto created = api.handle(request("POST", "/api/v1/pipelines",
                                    R"({"name": "cam", "launch": "relaissrc )"
                                    R"(uri=rtsp://admin:s3cr3t@127.0.0.1:9/x?token=s3cr3t )"
                                    R"(! fakesink"})"));
  ASSERT_EQ(created.status, 201) << created.body;
  for (const auto& r : {created, api.handle(request("GET", "/api/v1/pipelines/cam")),
                        api.handle(request("GET", "/api/v1/pipelines"))}) {
    EXPECT_EQ(r.status / 100, 2);
    EXPECT_EQ(r.body.find("s3cr3t"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("rtsp://admin:***@127.0.0.1:9/x?token=***"), std::string::npos) << r.body;
  }
}

TEST_F(ApiTest, BadInputGetsTheRightStatusAndAMessage) {
  Api api(&manager, "memory://", "");
  const std::pair<HttpRequest, int> cases[] = {
      {request("POST", "/api/v1/pipelines", "{not json"), 400},
      {request("POST", "/api/v1/pipelines", ""), 400},
      {request("POST", "/api/v1/pipelines", R"({"name": 1, "launch": "x"})"), 400},
      {request("POST", "/api/v1/pipelines", R"({"name": "a", "launch": "nosuchelement"})"), 400},
      {request("POST", "/api/v1/pipelines", R"({"name": "a/b", "launch": "fakesrc ! fakesink"})"),
       400},
      {request("GET", "/api/v1/pipelines/a/b"), 400},
      {request("GET", "/api/v1/pipelines/.."), 400},
      {request("GET", "/api/v1/pipelines/a\x01"), 400},
      {request("DELETE", "/api/v1/pipelines/" + std::string(65, 'a')), 400},
      {request("GET", "/api/v1/pipelines/"), 400},
      {request("GET", "/api/v1/nothing"), 404},
      {request("GET", "/nothing"), 404},
      {request("GET", "/healthzz"), 404},
      {request("PUT", "/api/v1/pipelines"), 405},
      {request("POST", "/api/v1/streams"), 405},
      {request("PATCH", "/api/v1/pipelines/a"), 405},
      {request("DELETE", "/metrics"), 405},
  };
  for (const auto& [req, status] : cases) {
    auto r = api.handle(req);
    EXPECT_EQ(r.status, status) << req.method << " " << req.path << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_FALSE(message_of(r).empty()) << req.path << ": " << r.body;
  }
  EXPECT_TRUE(manager.list().empty());
}

namespace {
class CapturingRoutes : public RouteTable {
 public:
  void add_prefix(const std::string& prefix, HttpHandler handler) override {
    handlers[prefix] = std::move(handler);
  }
  std::map<std::string, HttpHandler> handlers;
};
}  // namespace

TEST_F(ApiTest, StoreRoutesAnswerOnTheMainContextWithoutBlockingIt) {
  Api api(&manager, "memory://", "");
  CapturingRoutes routes;
  api.register_routes(&routes);
  for (const char* prefix : {"/", "/healthz", "/readyz", "/metrics", "/api/v1/"}) {
    EXPECT_TRUE(routes.handlers.count(prefix)) << prefix;
  }
  for (const char* path : {"/readyz", "/metrics", "/api/v1/streams", "/"}) {
    std::optional<HttpResponse> answer;
    GThread* answered_on = nullptr;
    routes.handlers["/"](request("GET", path), [&](HttpResponse r) {
      answer = std::move(r);
      answered_on = g_thread_self();
    });
    EXPECT_FALSE(answer) << path << ": answered before the main context ran";
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!answer && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, FALSE);
    ASSERT_TRUE(answer) << path;
    EXPECT_EQ(answer->status, 200) << path;
    EXPECT_EQ(answered_on, g_thread_self()) << path;
  }
  // Answers that need no store come at once.
  bool at_once = false;
  routes.handlers["/healthz"](request("GET", "/healthz"), [&](HttpResponse) { at_once = true; });
  EXPECT_TRUE(at_once);
}

TEST_F(ApiTest, MetricsIncludeProviders) {
  Api api(&manager, "memory://", "");
  api.add_metrics_provider([] { return std::string("relais_test_metric 7\n"); });
  auto r = api.handle(request("GET", "/metrics"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(r.body.find("relais_pipelines{state=\"playing\"} 0"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("relais_store_up 1"), std::string::npos);
  EXPECT_NE(r.body.find("relais_test_metric 7\n"), std::string::npos);
}
