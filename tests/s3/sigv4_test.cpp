// The SigV4 signer against AWS's published vectors: the SigV4 test suite
// (service "service", 20150830T123600Z) and the worked examples of the S3 API
// reference (examplebucket, 20130524T000000Z). Expected values are AWS's.
#include <gtest/gtest.h>

#include "s3/sigv4.h"

namespace sigv4 = relais::s3::sigv4;

namespace {

constexpr char kEmptyHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The test suite's credentials and scope.
constexpr char kSuiteKey[] = "AKIDEXAMPLE";
constexpr char kSuiteSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kSuiteDate[] = "20150830T123600Z";
const sigv4::Scope kSuiteScope{"20150830", "us-east-1", "service"};

sigv4::Request suite_get(const std::string& path, sigv4::Pairs query = {}) {
  sigv4::Request r;
  r.method = "GET";
  r.path = path;
  r.query = std::move(query);
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}};
  r.payload_hash = kEmptyHash;
  return r;
}

std::string suite_authz(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
         "SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

std::string suite_sign(const sigv4::Request& r) {
  return sigv4::authorization(kSuiteKey, kSuiteSecret, kSuiteDate, kSuiteScope, r);
}

// The S3 API reference examples.
constexpr char kS3Key[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kS3Secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kS3Date[] = "20130524T000000Z";
const sigv4::Scope kS3Scope{"20130524", "us-east-1", "s3"};

std::string signature_of(const std::string& authz) {
  auto pos = authz.find("Signature=");
  return pos == std::string::npos ? "" : authz.substr(pos + 10);
}

}  // namespace

TEST(SigV4Suite, GetVanilla) {
  sigv4::Request r = suite_get("/");
  std::string creq = sigv4::canonical_request(r);
  EXPECT_EQ(creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" +
                std::string(kEmptyHash));
  EXPECT_EQ(sigv4::sha256_hex(creq),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date",
                        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
}

TEST(SigV4Suite, GetVanillaQueryOrderKeyCase) {
  sigv4::Request r = suite_get("/", {{"Param2", "value2"}, {"Param1", "value1"}});
  EXPECT_EQ(sigv4::canonical_query(r.query), "Param1=value1&Param2=value2");
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date",
                        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"));
}

TEST(SigV4Suite, GetVanillaQueryOrderKeySortsByValueToo) {
  sigv4::Request r = suite_get("/", {{"Param1", "value2"}, {"Param1", "Value1"}});
  std::string creq = sigv4::canonical_request(r);
  EXPECT_EQ(creq,
            "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(kEmptyHash));
  EXPECT_EQ(sigv4::string_to_sign(kSuiteDate, kSuiteScope, creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89");
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date",
                        "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"));
}

TEST(SigV4Suite, PostXWwwFormUrlencoded) {
  sigv4::Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
               {"Host", "example.amazonaws.com"},
               {"X-Amz-Date", kSuiteDate}};
  r.payload_hash = sigv4::sha256_hex("Param1=value1");
  std::string creq = sigv4::canonical_request(r);
  EXPECT_EQ(creq,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(sigv4::string_to_sign(kSuiteDate, kSuiteScope, creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  EXPECT_EQ(suite_sign(r),
            suite_authz("content-type;host;x-amz-date",
                        "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST(SigV4Suite, GetUtf8Path) {
  sigv4::Request r = suite_get("/\xE1\x88\xB4");
  EXPECT_NE(sigv4::canonical_request(r).find("\n/%E1%88%B4\n"), std::string::npos);
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date",
                        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"));
}

TEST(SigV4Suite, GetSpace) {
  sigv4::Request r = suite_get("/example space/");
  EXPECT_NE(sigv4::canonical_request(r).find("\n/example%20space/\n"), std::string::npos);
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date",
                        "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"));
}

TEST(SigV4Suite, GetUnreserved) {
  sigv4::Request r =
      suite_get("/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date",
                        "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"));
}

TEST(SigV4Suite, GetVanillaUtf8Query) {
  sigv4::Request r = suite_get("/", {{"\xE1\x88\xB4", "bar"}});
  EXPECT_EQ(sigv4::canonical_query(r.query), "%E1%88%B4=bar");
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date",
                        "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"));
}

TEST(SigV4Suite, GetHeaderValueTrim) {
  sigv4::Request r = suite_get("/");
  r.headers = {{"Host", "example.amazonaws.com"},
               {"My-Header1", " value1"},
               {"My-Header2", " \"a   b   c\""},
               {"X-Amz-Date", kSuiteDate}};
  EXPECT_NE(sigv4::canonical_request(r).find("my-header1:value1\nmy-header2:\"a b c\"\n"),
            std::string::npos);
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;my-header1;my-header2;x-amz-date",
                        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"));
}

TEST(SigV4Suite, GetHeaderKeyDuplicate) {
  sigv4::Request r = suite_get("/");
  r.headers = {{"Host", "example.amazonaws.com"},
               {"My-Header1", "value2"},
               {"My-Header1", "value2"},
               {"My-Header1", "value1"},
               {"X-Amz-Date", kSuiteDate}};
  EXPECT_NE(sigv4::canonical_request(r).find("my-header1:value2,value2,value1\n"),
            std::string::npos);
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;my-header1;x-amz-date",
                        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"));
}

TEST(SigV4Suite, PostStsHeaderBefore) {
  sigv4::Request r;
  r.method = "POST";
  r.path = "/";
  r.headers = {
      {"Host", "example.amazonaws.com"},
      {"X-Amz-Date", kSuiteDate},
      {"X-Amz-Security-Token",
       "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMi"
       "cRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZam"
       "pKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7Z"
       "D0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oL"
       "xBA=="}};
  r.payload_hash = kEmptyHash;
  EXPECT_EQ(suite_sign(r),
            suite_authz("host;x-amz-date;x-amz-security-token",
                        "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));
}

TEST(SigV4, DerivesTheDocumentedSigningKey) {
  std::vector<uint8_t> key = sigv4::signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                                {"20120215", "us-east-1", "iam"});
  EXPECT_EQ(sigv4::hex(key.data(), key.size()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4S3Examples, GetObject) {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptyHash},
               {"x-amz-date", kS3Date}};
  r.payload_hash = kEmptyHash;
  std::string authz = sigv4::authorization(kS3Key, kS3Secret, kS3Date, kS3Scope, r);
  EXPECT_EQ(authz,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4S3Examples, PutObjectWithPayloadHashAndEncodedKey) {
  const std::string body = "Welcome to Amazon S3.";
  std::string hash = sigv4::sha256_hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  sigv4::Request r;
  r.method = "PUT";
  r.path = "/test$file.text";
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"x-amz-date", kS3Date},
               {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"x-amz-content-sha256", hash}};
  r.payload_hash = hash;
  std::string creq = sigv4::canonical_request(r);
  EXPECT_EQ(
      creq,
      "PUT\n/test%24file.text\n\n"
      "date:Fri, 24 May 2013 00:00:00 GMT\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
      "x-amz-date:20130524T000000Z\n"
      "x-amz-storage-class:REDUCED_REDUNDANCY\n\n"
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sigv4::string_to_sign(kS3Date, kS3Scope, creq),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(signature_of(sigv4::authorization(kS3Key, kS3Secret, kS3Date, kS3Scope, r)),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Examples, GetBucketLifecycleEmptyQueryValue) {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"lifecycle", ""}};
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", kEmptyHash},
               {"x-amz-date", kS3Date}};
  r.payload_hash = kEmptyHash;
  std::string creq = sigv4::canonical_request(r);
  EXPECT_EQ(sigv4::sha256_hex(creq),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(signature_of(sigv4::authorization(kS3Key, kS3Secret, kS3Date, kS3Scope, r)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, ListObjectsSortsQuery) {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  r.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
               {"x-amz-content-sha256", kEmptyHash},
               {"x-amz-date", kS3Date}};
  r.payload_hash = kEmptyHash;
  EXPECT_EQ(signature_of(sigv4::authorization(kS3Key, kS3Secret, kS3Date, kS3Scope, r)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, UriEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(sigv4::uri_encode("a b+c/d~e", false), "a%20b%2Bc/d~e");
  EXPECT_EQ(sigv4::uri_encode("a/b", true), "a%2Fb");
  EXPECT_EQ(sigv4::uri_encode("=&?#%", true), "%3D%26%3F%23%25");
  EXPECT_EQ(sigv4::uri_encode("\xC3\xBC", true), "%C3%BC");
}
