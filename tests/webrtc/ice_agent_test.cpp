// The RELAIS_ICE_* settings as the viewers' ICE agents take them, without
// sockets: port ranges, lists, switches, interfaces, 1:1 NAT candidates.
#include "ice_agent.h"

#include <gst/gst.h>
#include <gtest/gtest.h>

namespace relais::webrtc {
namespace {

TEST(IceSettings, PortRanges) {
  unsigned lo = 0, hi = 0;
  std::string error;
  ASSERT_TRUE(parse_port_range("40000-40100", &lo, &hi, &error)) << error;
  EXPECT_EQ(lo, 40000u);
  EXPECT_EQ(hi, 40100u);
  ASSERT_TRUE(parse_port_range("5000-5000", &lo, &hi, &error));
  for (const char* bad : {"", "40000", "40100-40000", "0-10", "1-65536", "a-b", "1-2-3", "-5"}) {
    EXPECT_FALSE(parse_port_range(bad, &lo, &hi, &error)) << bad;
    EXPECT_NE(error.find("port range"), std::string::npos) << error;
  }
}

TEST(IceSettings, ListsAndSwitches) {
  EXPECT_EQ(parse_list(" lo, eth0 ,,10.0.0.1 "),
            (std::vector<std::string>{"lo", "eth0", "10.0.0.1"}));
  EXPECT_TRUE(parse_list("").empty());
  bool on = false;
  EXPECT_TRUE(parse_switch("on", &on) && on);
  EXPECT_TRUE(parse_switch("off", &on) && !on);
  EXPECT_FALSE(parse_switch("maybe", &on));
  std::string error;
  EXPECT_TRUE(valid_ip_list({"203.0.113.7", "2001:db8::1"}, &error));
  EXPECT_FALSE(valid_ip_list({"203.0.113.7", "example.org"}, &error));
  EXPECT_NE(error.find("example.org"), std::string::npos);
}

TEST(IceSettings, InterfacesResolveToTheirAddresses) {
  std::vector<std::string> addresses;
  std::string error;
  ASSERT_TRUE(resolve_interfaces({"lo", "192.0.2.1"}, &addresses, &error)) << error;
  EXPECT_NE(std::find(addresses.begin(), addresses.end(), "127.0.0.1"), addresses.end());
  EXPECT_EQ(addresses.back(), "192.0.2.1");
  addresses.clear();
  EXPECT_FALSE(resolve_interfaces({"nosuchif0"}, &addresses, &error));
  EXPECT_NE(error.find("'nosuchif0' is neither an interface"), std::string::npos) << error;
}

TEST(IceSettings, PublicAddressesCopyHostCandidatesOnly) {
  const std::string host = "candidate:1 1 UDP 2015363327 10.1.2.3 40002 typ host";
  auto copies = public_copies_of_candidate(host, {"203.0.113.7"});
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0], "candidate:1p0 1 UDP 2015363326 203.0.113.7 40002 typ host");
  EXPECT_TRUE(public_copies_of_candidate(
                  "candidate:2 1 UDP 1677721855 198.51.100.1 5000 typ srflx raddr 10.1.2.3 "
                  "rport 40002",
                  {"203.0.113.7"})
                  .empty());
  EXPECT_TRUE(public_copies_of_candidate(host, {"10.1.2.3"}).empty());  // already that address
  EXPECT_TRUE(public_copies_of_candidate("garbage", {"203.0.113.7"}).empty());
}

TEST(IceSettings, AgentTakesThemAndNeverUpnp) {
  GstElement* webrtc = gst_element_factory_make("webrtcbin", nullptr);
  ASSERT_NE(webrtc, nullptr);
  IceSettings s;
  s.min_port = 40000;
  s.max_port = 40100;
  s.tcp = false;
  s.interfaces = {"lo"};
  std::string error;
  ASSERT_TRUE(configure_ice_agent(webrtc, s, &error)) << error;
  EXPECT_FALSE(ice_agent_upnp_enabled(webrtc));
  GObject* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  guint min = 0, max = 0;
  gboolean tcp = TRUE;
  g_object_get(ice, "min-rtp-port", &min, "max-rtp-port", &max, "ice-tcp", &tcp, nullptr);
  EXPECT_EQ(min, 40000u);
  EXPECT_EQ(max, 40100u);
  EXPECT_FALSE(tcp);
  g_object_unref(ice);
  s.interfaces = {"nosuchif0"};
  EXPECT_FALSE(configure_ice_agent(webrtc, s, &error));
  gst_object_unref(webrtc);
}

}  // namespace
}  // namespace relais::webrtc
