// WHEP request routing and ICE server configuration, without sockets.
#include "whep_routes.h"

#include <gtest/gtest.h>

#include "ice_servers.h"

namespace relais::webrtc {
namespace {

HttpRequest request(const std::string& method, const std::string& path,
                    const std::string& content_type = "", const std::string& body = "") {
  HttpRequest r;
  r.method = method;
  r.path = path;
  if (!content_type.empty()) r.headers["content-type"] = content_type;
  r.body = body;
  return r;
}

std::string header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

TEST(WhepRoutes, PostOfferToAStream) {
  RouteResult r =
      route_whep_request(request("POST", "/whep/lobby", "application/sdp", "v=0\r\n"), {});
  EXPECT_EQ(r.action, WhepAction::kOffer);
  EXPECT_EQ(r.stream, "lobby");
  r = route_whep_request(
      request("POST", "/whep/lobby", "Application/SDP; charset=utf-8", "v=0\r\n"), {});
  EXPECT_EQ(r.action, WhepAction::kOffer);
}

TEST(WhepRoutes, PatchAndDeleteGoToASession) {
  RouteResult r =
      route_whep_request(request("PATCH", "/whep/lobby/abc123", "application/trickle-ice-sdpfrag",
                                 "a=end-of-candidates\r\n"),
                         {});
  EXPECT_EQ(r.action, WhepAction::kTrickle);
  EXPECT_EQ(r.stream, "lobby");
  EXPECT_EQ(r.session, "abc123");
  r = route_whep_request(request("DELETE", "/whep/lobby/abc123"), {});
  EXPECT_EQ(r.action, WhepAction::kDelete);
  EXPECT_EQ(r.session, "abc123");
}

TEST(WhepRoutes, OptionsAnswersCorsAndAcceptPost) {
  RouteConfig config;
  std::string error;
  ASSERT_TRUE(parse_ice_servers("stun:stun.example.net:3478", &config.ice_servers, &error));
  RouteResult r = route_whep_request(request("OPTIONS", "/whep/lobby"), config);
  ASSERT_EQ(r.action, WhepAction::kRespond);
  EXPECT_EQ(r.response.status, 204);
  EXPECT_EQ(header(r.response, "Accept-Post"), "application/sdp");
  EXPECT_EQ(header(r.response, "Access-Control-Allow-Origin"), "*");
  EXPECT_NE(header(r.response, "Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_NE(header(r.response, "Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  EXPECT_EQ(header(r.response, "Link"), "<stun:stun.example.net:3478>; rel=\"ice-server\"");
  r = route_whep_request(request("OPTIONS", "/whep/lobby/abc"), config);
  EXPECT_EQ(r.response.status, 204);
  EXPECT_EQ(header(r.response, "Accept-Patch"), "application/trickle-ice-sdpfrag");
}

TEST(WhepRoutes, WrongContentTypeIs415) {
  for (const char* type :
       {"", "text/plain", "application/json", "application/sdpx", "application/sdp-x"}) {
    RouteResult r = route_whep_request(request("POST", "/whep/lobby", type, "v=0\r\n"), {});
    EXPECT_EQ(r.response.status, 415) << type;
    EXPECT_NE(r.response.body.find("application/sdp"), std::string::npos);
  }
  RouteResult r =
      route_whep_request(request("PATCH", "/whep/lobby/abc", "application/sdp", "x"), {});
  EXPECT_EQ(r.response.status, 415);
}

TEST(WhepRoutes, OversizeBodyIs413) {
  RouteConfig config;
  config.max_body_bytes = 1000;
  RouteResult r = route_whep_request(
      request("POST", "/whep/lobby", "application/sdp", "v=0\r\n" + std::string(2000, 'a')),
      config);
  EXPECT_EQ(r.response.status, 413);
  r = route_whep_request(
      request("PATCH", "/whep/lobby/x", "application/trickle-ice-sdpfrag", std::string(1001, 'a')),
      config);
  EXPECT_EQ(r.response.status, 413);
}

TEST(WhepRoutes, EmptyOfferIs400) {
  RouteResult r = route_whep_request(request("POST", "/whep/lobby", "application/sdp", ""), {});
  EXPECT_EQ(r.response.status, 400);
}

TEST(WhepRoutes, BadStreamNamesAndPaths) {
  struct Case {
    std::string path;
    int status;
  };
  const Case cases[] = {
      {"/whep/", 404},
      {"/whep//", 404},
      {"/whep/a/b/c", 404},
      {"/whep/../etc", 400},
      {"/whep/..", 400},
      {"/whep/Lobby", 400},
      {"/whep/lob by", 400},
      {"/whep/lobby%2F", 400},
      {std::string("/whep/lo\x01") + "bby", 400},
      {"/whep/lobby\n", 400},
      {"/whep/" + std::string(65, 'a'), 400},
      {"/other/lobby", 404},
  };
  for (const Case& c : cases) {
    RouteResult r = route_whep_request(request("POST", c.path, "application/sdp", "v=0\r\n"), {});
    EXPECT_EQ(r.action, WhepAction::kRespond) << c.path;
    EXPECT_EQ(r.response.status, c.status) << c.path;
    EXPECT_EQ(r.response.content_type, "application/json");
    EXPECT_NE(r.response.body.find("\"message\""), std::string::npos);
    EXPECT_EQ(r.response.body.find('\x01'), std::string::npos);
  }
}

TEST(WhepRoutes, MethodsThatDoNotFitAre405) {
  EXPECT_EQ(route_whep_request(request("GET", "/whep/lobby"), {}).response.status, 405);
  EXPECT_EQ(
      route_whep_request(request("PATCH", "/whep/lobby", "application/trickle-ice-sdpfrag"), {})
          .response.status,
      405);
  EXPECT_EQ(route_whep_request(request("DELETE", "/whep/lobby"), {}).response.status, 405);
  RouteResult r =
      route_whep_request(request("POST", "/whep/lobby/abc", "application/sdp", "v=0"), {});
  EXPECT_EQ(r.response.status, 405);
  EXPECT_EQ(header(r.response, "Allow"), "PATCH, DELETE, OPTIONS");
}

TEST(WhepRoutes, ViewerTokenIsABearerToken) {
  RouteConfig config;
  config.viewer_token = "s3cret";
  HttpRequest req = request("POST", "/whep/lobby", "application/sdp", "v=0\r\n");
  RouteResult r = route_whep_request(req, config);
  EXPECT_EQ(r.response.status, 401);
  EXPECT_EQ(header(r.response, "WWW-Authenticate"), "Bearer realm=\"relais\"");
  req.headers["authorization"] = "Bearer wrong!";
  EXPECT_EQ(route_whep_request(req, config).response.status, 401);
  req.headers["authorization"] = "Bearer s3cre";
  EXPECT_EQ(route_whep_request(req, config).response.status, 401);
  req.headers["authorization"] = "Basic s3cret";
  EXPECT_EQ(route_whep_request(req, config).response.status, 401);
  req.headers["authorization"] = "Bearer s3cret";
  EXPECT_EQ(route_whep_request(req, config).action, WhepAction::kOffer);
  // DELETE needs it too; the CORS preflight does not.
  EXPECT_EQ(route_whep_request(request("DELETE", "/whep/lobby/x"), config).response.status, 401);
  EXPECT_EQ(route_whep_request(request("OPTIONS", "/whep/lobby"), config).response.status, 204);
}

TEST(WhepRoutes, CreatedResponseCarriesLocationEtagAndIceServers) {
  std::vector<IceServer> servers;
  std::string error;
  ASSERT_TRUE(parse_ice_servers(
      "stun:stun.example.net, turn:alice:pa\"ss@turn.example.net:3478?transport=udp", &servers,
      &error))
      << error;
  HttpResponse r = created_response("v=0\r\n", session_location("lobby", "abc"), "\"e1\"", servers);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.content_type, "application/sdp");
  EXPECT_EQ(header(r, "Location"), "/whep/lobby/abc");
  EXPECT_EQ(header(r, "ETag"), "\"e1\"");
  std::vector<std::string> links;
  for (const auto& [k, v] : r.headers)
    if (k == "Link") links.push_back(v);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], "<stun:stun.example.net>; rel=\"ice-server\"");
  EXPECT_EQ(links[1],
            "<turn:turn.example.net:3478?transport=udp>; rel=\"ice-server\"; username=\"alice\"; "
            "credential=\"pa\\\"ss\"; credential-type=\"password\"");
}

TEST(IceServers, ParsesStunAndTurnForWebrtcbin) {
  std::vector<IceServer> servers;
  std::string error;
  ASSERT_TRUE(parse_ice_servers(
      " stun:stun.l.example.com:19302 ,turn:u:p@10.0.0.1:3478,turns://u2:p%@t.example:5349",
      &servers, &error))
      << error;
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0].webrtcbin_uri(), "stun://stun.l.example.com:19302");
  EXPECT_EQ(servers[1].webrtcbin_uri(), "turn://u:p@10.0.0.1:3478");
  EXPECT_EQ(servers[2].webrtcbin_uri(), "turns://u2:p%25@t.example:5349");
  EXPECT_TRUE(parse_ice_servers("", &servers, &error));
  EXPECT_TRUE(servers.empty());
}

TEST(IceServers, BadEntriesAreRejectedWithAReason) {
  std::vector<IceServer> servers;
  std::string error;
  EXPECT_FALSE(parse_ice_servers("stun.example.net", &servers, &error));
  EXPECT_NE(error.find("scheme"), std::string::npos);
  EXPECT_FALSE(parse_ice_servers("http://x", &servers, &error));
  EXPECT_FALSE(parse_ice_servers("turn:host:3478", &servers, &error));
  EXPECT_NE(error.find("credentials"), std::string::npos);
  EXPECT_FALSE(parse_ice_servers("stun:", &servers, &error));
  EXPECT_FALSE(parse_ice_servers("stun:<evil>", &servers, &error));
}

TEST(WhepRoutes, JsonErrorsEscapeWhatTheyQuote) {
  HttpResponse r = json_error(400, "bad \"name\"\\\x02");
  EXPECT_EQ(r.body, "{\"message\": \"bad \\\"name\\\"\\\\\\u0002\"}\n");
}

}  // namespace
}  // namespace relais::webrtc
