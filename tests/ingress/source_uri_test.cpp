// relaissrc's URI parsing, without pipelines.
#include <gtest/gtest.h>

#include "source_uri.h"

namespace relais::ingress {
namespace {

SourceDescription parse_ok(const std::string& uri) {
  SourceDescription d;
  std::string error;
  EXPECT_TRUE(parse_source_uri(uri, &d, &error)) << uri << ": " << error;
  return d;
}

std::string parse_error(const std::string& uri) {
  SourceDescription d;
  std::string error;
  EXPECT_FALSE(parse_source_uri(uri, &d, &error)) << uri << " was accepted";
  EXPECT_FALSE(error.empty()) << uri;
  return error;
}

TEST(SourceUri, RtspKeepsHostPortPathAndQuery) {
  SourceDescription d = parse_ok("rtsp://camera.example:8554/stream1?channel=2");
  EXPECT_EQ(d.kind, SourceKind::kRtsp);
  EXPECT_EQ(d.location, "rtsp://camera.example:8554/stream1?channel=2");
  EXPECT_TRUE(d.user.empty());
  EXPECT_TRUE(d.is_live());
  EXPECT_TRUE(d.is_live_network());
}

TEST(SourceUri, RtspCredentialsAreTakenOutOfTheLocationAndDecoded) {
  SourceDescription d = parse_ok("rtsps://admin:p%40ss%3Aword@10.0.0.5/live");
  EXPECT_EQ(d.kind, SourceKind::kRtsp);
  EXPECT_EQ(d.location, "rtsps://10.0.0.5/live");
  EXPECT_EQ(d.user, "admin");
  EXPECT_EQ(d.password, "p@ss:word");
  EXPECT_EQ(d.display_uri.find("p%40ss"), std::string::npos) << d.display_uri;
  EXPECT_EQ(d.display_uri, "rtsps://admin:***@10.0.0.5/live");
}

TEST(SourceUri, RtspIpv6Host) {
  SourceDescription d = parse_ok("rtsp://[::1]:554/x");
  EXPECT_EQ(d.location, "rtsp://[::1]:554/x");
}

TEST(SourceUri, SchemeIsCaseInsensitive) {
  EXPECT_EQ(parse_ok("RTSP://host/x").kind, SourceKind::kRtsp);
}

TEST(SourceUri, FileGivesDecodedAbsolutePath) {
  SourceDescription d = parse_ok("file:///tmp/my%20clip.mp4");
  EXPECT_EQ(d.kind, SourceKind::kFile);
  EXPECT_EQ(d.location, "/tmp/my clip.mp4");
  EXPECT_FALSE(d.is_live());
  EXPECT_EQ(parse_ok("file://localhost/a.mkv").location, "/a.mkv");
}

TEST(SourceUri, Http) {
  SourceDescription d = parse_ok("https://user:pw@media.example/clip.mp4");
  EXPECT_EQ(d.kind, SourceKind::kHttp);
  EXPECT_EQ(d.location, "https://media.example/clip.mp4");
  EXPECT_EQ(d.user, "user");
  EXPECT_EQ(d.password, "pw");
  EXPECT_FALSE(d.is_live_network());
}

TEST(SourceUri, V4l2Device) {
  SourceDescription d = parse_ok("v4l2:///dev/video2");
  EXPECT_EQ(d.kind, SourceKind::kV4l2);
  EXPECT_EQ(d.location, "/dev/video2");
  EXPECT_TRUE(d.is_live());
}

TEST(SourceUri, TestPatternDefaults) {
  SourceDescription d = parse_ok("test://");
  EXPECT_EQ(d.kind, SourceKind::kTest);
  EXPECT_EQ(d.test.pattern, "smpte");
  EXPECT_EQ(d.test.width, 320);
  EXPECT_EQ(d.test.height, 240);
  EXPECT_EQ(d.test.fps_n, 30);
  EXPECT_EQ(d.test.fps_d, 1);
}

TEST(SourceUri, TestPatternQuery) {
  SourceDescription d = parse_ok("test://?pattern=ball&width=1280&height=720&framerate=30000/1001");
  EXPECT_EQ(d.test.pattern, "ball");
  EXPECT_EQ(d.test.width, 1280);
  EXPECT_EQ(d.test.height, 720);
  EXPECT_EQ(d.test.fps_n, 30000);
  EXPECT_EQ(d.test.fps_d, 1001);
}

TEST(SourceUri, TestFramerateWithoutDenominator) {
  SourceDescription d = parse_ok("test:///?framerate=15");
  EXPECT_EQ(d.test.fps_n, 15);
  EXPECT_EQ(d.test.fps_d, 1);
}

TEST(SourceUri, RejectsEmptyAndMalformed) {
  EXPECT_NE(parse_error("").find("No uri"), std::string::npos);
  EXPECT_NE(parse_error("not a uri").find("Malformed URI"), std::string::npos);
  EXPECT_NE(parse_error("rtsp://[::1/x").find("Malformed URI"), std::string::npos);
  EXPECT_NE(parse_error("rtsp://host:99999/x").find("Malformed URI"), std::string::npos);
  EXPECT_NE(parse_error("rtsp://host/%zz").find("Malformed URI"), std::string::npos);
}

TEST(SourceUri, RejectsUnknownScheme) {
  std::string e = parse_error("ftp://host/file.mp4");
  EXPECT_NE(e.find("Unsupported URI scheme 'ftp'"), std::string::npos) << e;
  EXPECT_NE(e.find("rtsp, rtsps, file, http, https, v4l2 or test"), std::string::npos) << e;
}

TEST(SourceUri, RejectsNetworkUriWithoutHost) {
  EXPECT_NE(parse_error("rtsp:///stream").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("http:///clip.mp4").find("no host"), std::string::npos);
}

TEST(SourceUri, RejectsBadFileUris) {
  EXPECT_NE(parse_error("file://server/share/a.mp4").find("local file"), std::string::npos);
  EXPECT_NE(parse_error("file:relative.mp4").find("absolute path"), std::string::npos);
}

TEST(SourceUri, RejectsBadV4l2Uris) {
  EXPECT_NE(parse_error("v4l2:///tmp/video0").find("/dev/videoN"), std::string::npos);
  EXPECT_NE(parse_error("v4l2://camera/dev/video0").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("v4l2:///dev/video0?fps=3").find("no query"), std::string::npos);
}

TEST(SourceUri, RejectsBadTestQueries) {
  EXPECT_NE(parse_error("test://?fps=30").find("Unknown key 'fps'"), std::string::npos);
  EXPECT_NE(parse_error("test://?width=abc").find("width must be a whole number"),
            std::string::npos);
  EXPECT_NE(parse_error("test://?width=0").find("width"), std::string::npos);
  EXPECT_NE(parse_error("test://?height=100000").find("height"), std::string::npos);
  EXPECT_NE(parse_error("test://?framerate=30/0").find("framerate"), std::string::npos);
  EXPECT_NE(parse_error("test://?framerate=-5").find("framerate"), std::string::npos);
  EXPECT_NE(parse_error("test://?framerate=1/2/3").find("framerate"), std::string::npos);
  EXPECT_NE(parse_error("test://?pattern=").find("pattern"), std::string::npos);
  EXPECT_NE(parse_error("test://?pattern=Ball!").find("pattern"), std::string::npos);
  EXPECT_NE(parse_error("test://?width=320&width=640").find("more than once"), std::string::npos);
  EXPECT_NE(parse_error("test://?width=3%").find("Malformed"), std::string::npos);
  EXPECT_NE(parse_error("test://host?width=320").find("no host"), std::string::npos);
  EXPECT_NE(parse_error("test:///ball").find("only a query"), std::string::npos);
}

// No credential reaches what people see: the password in the user info and
// credential-like query values are masked in display_uri and in every error,
// for URIs that parse and URIs that do not.
constexpr const char* kSecret = "s3cr3t";

TEST(SourceUriCredentials, MalformedUriErrorsDoNotRepeatThePassword) {
  for (const char* uri :
       {"rtsp://admin:s3cr3t@host:99999/", "rtsp://admin:s3cr3t@[::1/x",
        "rtsp://admin:s3cr3t@host/%zz", "rtsps://admin:s3cr3t@host:port/live",
        "rtsp://admin:pa/s3cr3t@host/live", "rtsp://cam:99999/live?password=s3cr3t"}) {
    std::string e = parse_error(uri);
    EXPECT_NE(e.find("Malformed URI"), std::string::npos) << e;
    EXPECT_EQ(e.find(kSecret), std::string::npos) << e;
  }
}

TEST(SourceUriCredentials, OtherErrorsDoNotRepeatCredentials) {
  for (const char* uri :
       {"gopher://admin:s3cr3t@host/x?token=s3cr3t", "rtsp://admin:s3cr3t@/x",
        "v4l2:///tmp/video0?password=s3cr3t", "file://admin:s3cr3t@server/a.mp4",
        "test://?token=s3cr3t", "rtsp://admin:s3cr3t%zz@host/live", "http://u:s3cr3t@:80/x"}) {
    std::string e = parse_error(uri);
    EXPECT_EQ(e.find(kSecret), std::string::npos) << uri << ": " << e;
  }
}

TEST(SourceUriCredentials, QueryCredentialsAreMaskedInTheDisplayUri) {
  for (const char* query :
       {"password=s3cr3t", "pass=s3cr3t", "passwd=s3cr3t", "pwd=s3cr3t", "user=admin&pwd=s3cr3t",
        "token=s3cr3t", "access_token=s3cr3t", "key=s3cr3t", "apikey=s3cr3t", "auth=s3cr3t",
        "secret=s3cr3t", "signature=s3cr3t", "channel=1&PassWord=s3cr3t&subtype=0",
        "X-Amz-Signature=s3cr3t", "pass%77ord=s3cr3t"}) {
    SourceDescription d = parse_ok(std::string("rtsp://admin:s3cr3t@cam.example/live?") + query);
    EXPECT_EQ(d.display_uri.find(kSecret), std::string::npos) << d.display_uri;
    EXPECT_NE(d.display_uri.find("cam.example/live?"), std::string::npos) << d.display_uri;
    // The camera still gets the credential in its query.
    EXPECT_NE(d.location.find("?"), std::string::npos) << d.location;
    EXPECT_NE(d.location.find(kSecret), std::string::npos) << d.location;
  }
  SourceDescription d = parse_ok("rtsp://cam.example/live?channel=1&subtype=0");
  EXPECT_EQ(d.display_uri, "rtsp://cam.example/live?channel=1&subtype=0");
}

}  // namespace
}  // namespace relais::ingress
