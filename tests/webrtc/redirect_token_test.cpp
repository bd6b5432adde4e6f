// The redirect token a full node gives a viewer for the target node.
#include "redirect_token.h"

#include <glib.h>
#include <gtest/gtest.h>

#include "whep_routes.h"

namespace relais::webrtc {
namespace {

TEST(RedirectToken, AdmitsItsStreamUntilItExpires) {
  const std::string t = make_redirect_token("viewer-secret", "lobby", 1000);
  EXPECT_TRUE(check_redirect_token("viewer-secret", "lobby", t, 999));
  EXPECT_TRUE(check_redirect_token("viewer-secret", "lobby", t, 1000));
  EXPECT_FALSE(check_redirect_token("viewer-secret", "lobby", t, 1001));  // expired
  EXPECT_FALSE(check_redirect_token("viewer-secret", "other", t, 999));   // another stream
  EXPECT_FALSE(check_redirect_token("another-key", "lobby", t, 999));
  EXPECT_FALSE(check_redirect_token("", "lobby", t, 999));
  EXPECT_EQ(t.find("viewer-secret"), std::string::npos);
}

TEST(RedirectToken, RejectsForgedOrMangledTokens) {
  const std::string t = make_redirect_token("k", "lobby", 1000);
  EXPECT_FALSE(check_redirect_token("k", "lobby", "2000" + t.substr(t.find('.')), 999));
  EXPECT_FALSE(check_redirect_token("k", "lobby", t.substr(0, t.size() - 1), 999));
  for (const char* bad : {"", ".", "1000", "x.y", "1000.", "-5.00"})
    EXPECT_FALSE(check_redirect_token("k", "lobby", bad, 0)) << bad;
}

TEST(RedirectToken, FoundInTheQuery) {
  EXPECT_EQ(redirect_token_in_query("relais_token=1.ab"), "1.ab");
  EXPECT_EQ(redirect_token_in_query("a=1&relais_token=2.cd&b=3"), "2.cd");
  EXPECT_EQ(redirect_token_in_query("xrelais_token=1"), "");
  EXPECT_EQ(redirect_token_in_query(""), "");
}

TEST(RedirectToken, RoutesAcceptItForAPostInsteadOfTheBearer) {
  RouteConfig config;
  config.viewer_token = "viewer-secret";
  HttpRequest r;
  r.method = "POST";
  r.path = "/whep/lobby";
  r.headers["content-type"] = "application/sdp";
  r.body = "v=0\r\n";
  EXPECT_EQ(route_whep_request(r, config).response.status, 401);
  const int64_t later = g_get_real_time() / G_USEC_PER_SEC + 60;
  r.query = std::string("relais_token=") + make_redirect_token("viewer-secret", "lobby", later);
  EXPECT_EQ(route_whep_request(r, config).action, WhepAction::kOffer);
  r.path = "/whep/other";
  EXPECT_EQ(route_whep_request(r, config).response.status, 401);
}

}  // namespace
}  // namespace relais::webrtc
