// AWS Signature V4 against the published examples: AWS's SigV4 test suite ("get-vanilla",
// "get-vanilla-empty-query-key") and the S3 developer guide's GET-object example.
#include <gtest/gtest.h>

#include "storage/s3/sigv4.h"

namespace lakelog::s3 {
namespace {

const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

std::string SignatureOf(const std::string& authorization) {
  return authorization.substr(authorization.find("Signature=") + 10);
}

TEST(SigV4Test, TheTestSuitesVanillaRequests) {
  SignableRequest get{"GET",
                      "/",
                      {},
                      {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}},
                      Sha256Hex("")};
  const std::string auth = Authorization(get, kSuite, "us-east-1", "service", "20150830T123600Z");
  EXPECT_EQ(auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  get.query = {{"Param1", "value1"}};
  EXPECT_EQ(SignatureOf(Authorization(get, kSuite, "us-east-1", "service", "20150830T123600Z")),
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb");
}

TEST(SigV4Test, TheS3GuidesGetObjectExample) {
  const Credentials s3{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  SignableRequest get{"GET",
                      "/test.txt",
                      {},
                      {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"Range", "bytes=0-9"},
                       {"x-amz-content-sha256", Sha256Hex("")},
                       {"x-amz-date", "20130524T000000Z"}},
                      Sha256Hex("")};
  EXPECT_EQ(Authorization(get, s3, "us-east-1", "s3", "20130524T000000Z"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, EncodingAndDates) {
  EXPECT_EQ(UriEncode("a b/c~d=e%", true), "a%20b/c~d%3De%25");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("pipeline=caf\xc3\xa9", true), "pipeline%3Dcaf%C3%A9");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z");
}

}  // namespace
}  // namespace lakelog::s3
