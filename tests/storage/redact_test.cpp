// relais::redact_credentials: credentials masked in any text that quotes URIs.
#include "redact.h"

#include <gtest/gtest.h>

#include "config.h"
#if RELAIS_HAVE_REDIS
#include "redis_uri.h"
#endif

namespace relais {
namespace {

TEST(Redact, MasksThePasswordOfTheUserInfo) {
  EXPECT_EQ(redact_credentials("rtsp://admin:s3cr3t@cam/live"), "rtsp://admin:***@cam/live");
  EXPECT_EQ(redact_credentials("redis://:s3cr3t@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0");
  EXPECT_EQ(redact_credentials("rtsp://admin@cam/live"), "rtsp://admin@cam/live");
  // Unescaped '/' or '@' in a password: masked up to the last '@' before the query.
  EXPECT_EQ(redact_credentials("rtsp://admin:pa/ss@w@cam/live"), "rtsp://admin:***@cam/live");
}

TEST(Redact, MasksCredentialQueryValues) {
  EXPECT_EQ(redact_credentials("rtsp://cam/live?channel=1&user=admin&pwd=x;Token=y#f"),
            "rtsp://cam/live?channel=1&user=***&pwd=***;Token=***#f");
  EXPECT_EQ(redact_credentials("https://b.s3.example/k?X-Amz-Signature=abc&X-Amz-Credential=AK"),
            "https://b.s3.example/k?X-Amz-Signature=***&X-Amz-Credential=***");
  EXPECT_EQ(redact_credentials("http://h/x?pass%77ord=1&apikey=2&p=3&u=4&page=5"),
            "http://h/x?pass%77ord=***&apikey=***&p=***&u=***&page=5");
  EXPECT_EQ(redact_credentials("rtsp://cam/live?channel=1&subtype=0&flag"),
            "rtsp://cam/live?channel=1&subtype=0&flag");
}

TEST(Redact, MasksEveryUriInAText) {
  EXPECT_EQ(redact_credentials("relaissrc uri=rtsp://a:b@cam/x?token=t ! relaisstoresink "
                               "store=\"redis://:pw@r:6379\" stream=x"),
            "relaissrc uri=rtsp://a:***@cam/x?token=*** ! relaisstoresink "
            "store=\"redis://:***@r:6379\" stream=x");
  EXPECT_EQ(redact_credentials("Malformed URI 'rtsp://admin:s3cr3t@host:99999/': bad port"),
            "Malformed URI 'rtsp://admin:***@host:99999/': bad port");
}

TEST(Redact, LeavesOtherTextAlone) {
  EXPECT_EQ(redact_credentials(""), "");
  EXPECT_EQ(redact_credentials("no uri: a:b@c ?password=x"), "no uri: a:b@c ?password=x");
  EXPECT_EQ(redact_credentials("://a:b@c"), "://a:b@c");
  EXPECT_EQ(redact_credentials("file:///tmp/a%20b.mp4"), "file:///tmp/a%20b.mp4");
  EXPECT_EQ(redact_credentials("test://?pattern=ball&width=320"), "test://?pattern=ball&width=320");
}

#if RELAIS_HAVE_REDIS
TEST(Redact, RedisUriErrorsDoNotRepeatThePassword) {
  for (const char* uri :
       {"redis://:s3cr3t@host:99999", "redis://:s3cr3t@/", "redis://u:s3cr3t@host:6379/99",
        "redis://:s3cr3t@host:6379?x=1", "rediss://:s3cr3t@host"}) {
    store::RedisEndpoint endpoint;
    store::Status st = store::parse_redis_uri(uri, &endpoint);
    EXPECT_FALSE(st.is_ok()) << uri;
    EXPECT_EQ(st.message().find("s3cr3t"), std::string::npos) << st.message();
  }
}
#endif

}  // namespace
}  // namespace relais
