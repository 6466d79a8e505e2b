#include "common/signature.h"

#include <gtest/gtest.h>

namespace cmq {
namespace {

FormParams SpecParams(std::string method) {
  return {
      {"Action", "SendMessage"},   {"Nonce", "12345"},          {"RequestClient", "SDK_Python_1.3"},
      {"SecretId", "AKIDexample"}, {"SignatureMethod", method}, {"Timestamp", "1700000000"},
      {"delaySeconds", "0"},       {"msgBody", "hello world"},  {"queueName", "q1"}};
}

// The test vector of spec §4.2, computed with the official Python SDK.
TEST(SignatureTest, MatchesSpecVectorSha1) {
  FormParams params = SpecParams("HmacSHA1");
  std::string s = StringToSign("POST", "127.0.0.1:18080", "/v2/index.php", params);
  EXPECT_EQ(s,
            "POST127.0.0.1:18080/v2/index.php?Action=SendMessage&Nonce=12345&RequestClient="
            "SDK_Python_1.3&SecretId=AKIDexample&SignatureMethod=HmacSHA1&Timestamp=1700000000&"
            "delaySeconds=0&msgBody=hello world&queueName=q1");
  EXPECT_EQ(Sign(s, "secretkey", SignatureAlgorithmFor("HmacSHA1")),
            "JBIHGClYdGChNQy2R5gImuYWTSo=");
}

TEST(SignatureTest, MatchesSpecVectorSha256) {
  FormParams params = SpecParams("HmacSHA256");
  std::string s = StringToSign("POST", "127.0.0.1:18080", "/v2/index.php", params);
  EXPECT_EQ(Sign(s, "secretkey", SignatureAlgorithmFor("HmacSHA256")),
            "91sedjFWuu5+sR6WEqVPgmUbAP8rt1fFQrbx5y3P+NI=");
}

TEST(SignatureTest, SignatureParamIsExcludedAndUnderscoresBecomeDots) {
  FormParams params = {{"b_x", "2"}, {"Signature", "zzz"}, {"a", "1"}};
  EXPECT_EQ(StringToSign("GET", "h", "/", params), "GETh/?a=1&b.x=2");
}

TEST(SignatureTest, DropsAtValuesOnlyWhenAsked) {
  FormParams params = {{"a", "@file"}, {"b", "1"}};
  EXPECT_EQ(StringToSign("POST", "h", "/", params, true), "POSTh/?b=1");
  EXPECT_EQ(StringToSign("POST", "h", "/", params, false), "POSTh/?a=@file&b=1");
}

TEST(SignatureTest, UnknownMethodMeansSha1) {
  EXPECT_EQ(SignatureAlgorithmFor(""), SignatureAlgorithm::kHmacSha1);
  EXPECT_EQ(SignatureAlgorithmFor("hmacsha256"), SignatureAlgorithm::kHmacSha1);
}

TEST(SignatureTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace cmq
