#include "api/auth.h"

#include <gtest/gtest.h>

#include "common/signature.h"

namespace cmq::api {
namespace {

// The spec's §4.2 vector.
FormParams VectorParams(const char* method) {
  return {
      {"Action", "SendMessage"},   {"Nonce", "12345"},          {"RequestClient", "SDK_Python_1.3"},
      {"SecretId", "AKIDexample"}, {"SignatureMethod", method}, {"Timestamp", "1700000000"},
      {"delaySeconds", "0"},       {"msgBody", "hello world"},  {"queueName", "q1"}};
}

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() { config_.accounts = {{"AKIDexample", "secretkey"}, {"AKIDother", "otherkey"}}; }

  std::optional<ApiError> Verify(const FormParams& form, std::string method = "POST",
                                 std::string host = "127.0.0.1:18080") {
    Authenticator auth(config_, clock_);
    HttpRequest r;
    r.method = std::move(method);
    r.target = "/v2/index.php";
    r.host = std::move(host);
    return auth.Verify(r, RequestParams(form));
  }

  // Signs form as a client would: over sign_host, optionally dropping '@' values.
  static FormParams Signed(FormParams form, std::string_view key, std::string_view method,
                           std::string_view sign_host, bool drop_at = false) {
    const std::string* sm = nullptr;
    for (const auto& p : form) {
      if (p.first == "SignatureMethod") sm = &p.second;
    }
    std::string text = StringToSign(method, sign_host, "/v2/index.php", form, drop_at);
    std::string sig = Sign(text, key, SignatureAlgorithmFor(sm ? *sm : ""));
    form.emplace_back("Signature", sig);
    return form;
  }

  ServerConfig config_;
  ManualClock clock_{1'700'000'000'000};
};

TEST_F(AuthTest, NoAccountsChecksNothing) {
  config_.accounts.clear();
  EXPECT_FALSE(Verify({{"Action", "ListQueue"}}).has_value());
}

TEST_F(AuthTest, AcceptsTheSpecVectorsSha1AndSha256) {
  FormParams sha1 = VectorParams("HmacSHA1");
  sha1.emplace_back("Signature", "JBIHGClYdGChNQy2R5gImuYWTSo=");
  EXPECT_FALSE(Verify(sha1).has_value());
  FormParams sha256 = VectorParams("HmacSHA256");
  sha256.emplace_back("Signature", "91sedjFWuu5+sR6WEqVPgmUbAP8rt1fFQrbx5y3P+NI=");
  EXPECT_FALSE(Verify(sha256).has_value());
}

TEST_F(AuthTest, RejectsAWrongKeyOrTamperedParameter) {
  auto wrong = Verify(Signed(VectorParams("HmacSHA1"), "notthekey", "POST", "127.0.0.1:18080"));
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->code, 4100);
  EXPECT_EQ(wrong->Message(), "(10030)authentication failed");
  FormParams tampered = Signed(VectorParams("HmacSHA256"), "secretkey", "POST", "127.0.0.1:18080");
  tampered[7].second = "hello World";
  EXPECT_TRUE(Verify(tampered).has_value());
  // The method is part of the string to sign.
  EXPECT_TRUE(
      Verify(Signed(VectorParams("HmacSHA1"), "secretkey", "GET", "127.0.0.1:18080")).has_value());
}

TEST_F(AuthTest, UnknownSecretIdIs10270) {
  FormParams form = VectorParams("HmacSHA1");
  form[3].second = "AKIDnobody";
  auto e = Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 4100);
  EXPECT_EQ(e->module_code, 10270);
}

TEST_F(AuthTest, MissingSignatureOrSecretIdIs4100) {
  auto no_sig = Verify(VectorParams("HmacSHA1"));
  ASSERT_TRUE(no_sig.has_value());
  EXPECT_EQ(no_sig->code, 4100);
  FormParams no_id = VectorParams("HmacSHA1");
  no_id.erase(no_id.begin() + 3);
  auto e = Verify(Signed(no_id, "secretkey", "POST", "127.0.0.1:18080"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 4100);
}

TEST_F(AuthTest, AtValuesMayBeDroppedForPostOnly) {
  FormParams form = VectorParams("HmacSHA1");
  form[7].second = "@payload";
  // Python/PHP: dropped; Java/C++/Go: kept. Both are accepted for POST.
  EXPECT_FALSE(Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080", true)).has_value());
  EXPECT_FALSE(Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080", false)).has_value());
  // Nobody drops them for GET.
  EXPECT_TRUE(Verify(Signed(form, "secretkey", "GET", "127.0.0.1:18080", true), "GET").has_value());
  EXPECT_FALSE(
      Verify(Signed(form, "secretkey", "GET", "127.0.0.1:18080", false), "GET").has_value());
}

TEST_F(AuthTest, HostVariantsWithAndWithoutDefaultPort) {
  FormParams form = VectorParams("HmacSHA256");
  // Signed without the port, Host header with the default port.
  EXPECT_FALSE(Verify(Signed(form, "secretkey", "POST", "cmq.example"), "POST", "cmq.example:80")
                   .has_value());
  // Signed with :443, the Host header without a port.
  EXPECT_FALSE(Verify(Signed(form, "secretkey", "POST", "cmq.example:443"), "POST", "cmq.example")
                   .has_value());
  // A non-default port must match exactly.
  EXPECT_TRUE(Verify(Signed(form, "secretkey", "POST", "cmq.example:8080"), "POST", "cmq.example")
                  .has_value());
  // Java keeps a trailing '/' of the endpoint in the host.
  EXPECT_FALSE(Verify(Signed(form, "secretkey", "POST", "cmq.example:9/"), "POST", "cmq.example:9")
                   .has_value());
}

TEST_F(AuthTest, TimestampWindow) {
  FormParams form = VectorParams("HmacSHA1");
  form[5].second = "1699999600";  // 400 s ago
  auto e = Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 4100);
  EXPECT_EQ(e->module_code, 10030);
  form[5].second = "1700000299";
  EXPECT_FALSE(Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080")).has_value());
  form[5].second = "soon";
  EXPECT_TRUE(Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080")).has_value());
  config_.timestamp_window_seconds = 0;  // no check
  form[5].second = "1";
  EXPECT_FALSE(Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080")).has_value());
}

TEST_F(AuthTest, SecondAccountWorks) {
  FormParams form = VectorParams("HmacSHA1");
  form[3].second = "AKIDother";
  EXPECT_FALSE(Verify(Signed(form, "otherkey", "POST", "127.0.0.1:18080")).has_value());
  EXPECT_TRUE(Verify(Signed(form, "secretkey", "POST", "127.0.0.1:18080")).has_value());
}

// The CMQ TCP protocol's connection proof (spec/cmq-tcp-protocol.md §3):
// base64(HMAC_method(secret key, client_id + secret_id)), no timestamp. The vectors were
// computed with Python's hmac module.
class AuthTcpTest : public AuthTest {
 protected:
  std::optional<ApiError> VerifyTcp(std::string_view secret_id, std::string_view signature,
                                    std::string_view method,
                                    std::string_view client_id = "192.0.2.2@DEFAULT") {
    Authenticator auth(config_, clock_);
    return auth.VerifyTcp(secret_id, signature, client_id, method);
  }
  static constexpr const char* kSha1 = "5vnAylwSzsoEWL2ztTlBkjvikoo=";
  static constexpr const char* kSha256 = "RvlD/NKQvNXDTZWCnMPOCXIRmvE+kAMtp73+0mn8a2c=";
};

TEST_F(AuthTcpTest, AcceptsSha1AndSha256Proofs) {
  EXPECT_FALSE(VerifyTcp("AKIDexample", kSha1, "HmacSHA1").has_value());
  EXPECT_FALSE(VerifyTcp("AKIDexample", kSha256, "HmacSHA256").has_value());
  // The same as the library signs it.
  std::string other =
      Sign("10.1.2.3@appAKIDother", "otherkey", SignatureAlgorithmFor("HmacSHA256"));
  EXPECT_FALSE(VerifyTcp("AKIDother", other, "HmacSHA256", "10.1.2.3@app").has_value());
  // No timestamp: the proof does not expire.
  clock_.Advance(int64_t{365} * 24 * 3600 * 1000);
  EXPECT_FALSE(VerifyTcp("AKIDexample", kSha1, "HmacSHA1").has_value());
}

TEST_F(AuthTcpTest, RejectsWrongProofs) {
  auto expect_failed = [](const std::optional<ApiError>& e, const char* what) {
    ASSERT_TRUE(e.has_value()) << what;
    EXPECT_EQ(e->code, 4100) << what;
    EXPECT_EQ(e->module_code, 10030) << what;
  };
  // The other method's proof, or the right one under the other method's name.
  expect_failed(VerifyTcp("AKIDexample", kSha1, "HmacSHA256"), "sha1 as sha256");
  expect_failed(VerifyTcp("AKIDexample", kSha256, "HmacSHA1"), "sha256 as sha1");
  // Another client id, another account's key, a tampered or empty signature.
  expect_failed(VerifyTcp("AKIDexample", kSha1, "HmacSHA1", "192.0.2.3@DEFAULT"), "client id");
  expect_failed(VerifyTcp("AKIDother", kSha1, "HmacSHA1"), "account");
  std::string tampered = kSha1;
  tampered[0] = 'X';
  expect_failed(VerifyTcp("AKIDexample", tampered, "HmacSHA1"), "tampered");
  expect_failed(VerifyTcp("AKIDexample", "", "HmacSHA1"), "empty");
  auto e = VerifyTcp("AKIDexample", "bogus", "HmacSHA1");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->Message(), "(10030)authentication failed");
}

TEST_F(AuthTcpTest, BadMethodIsRefused) {
  for (const char* method : {"", "HmacMD5", "hmacsha1", "HmacSHA512"}) {
    auto e = VerifyTcp("AKIDexample", kSha1, method);
    ASSERT_TRUE(e.has_value()) << method;
    EXPECT_EQ(e->code, 4100) << method;
    EXPECT_NE(e->Message().find("signature_method"), std::string::npos) << e->Message();
  }
}

TEST_F(AuthTcpTest, UnknownSecretIdIs10270) {
  auto e = VerifyTcp("AKIDnobody", kSha1, "HmacSHA1");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 4100);
  EXPECT_EQ(e->module_code, 10270);
  EXPECT_TRUE(VerifyTcp("", kSha1, "HmacSHA1").has_value());
}

TEST_F(AuthTcpTest, NoAccountsAcceptsAnything) {
  config_.accounts.clear();
  EXPECT_FALSE(VerifyTcp("", "", "").has_value());
  EXPECT_FALSE(VerifyTcp("AKIDnobody", "bogus", "HmacMD5").has_value());
}

}  // namespace
}  // namespace cmq::api
