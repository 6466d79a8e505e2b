// With accounts configured, cmqd serves only correctly signed requests (spec §4).

#include <gtest/gtest.h>

#include <fstream>

#include "cmqd_process.h"
#include "http_client.h"

namespace cmq::testing {
namespace {

using json = nlohmann::json;

class SignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string dir = MakeTempDir("cmq-sig");
    std::ofstream(dir + "/cmqd.json")
        << R"({"accounts": [{"secret_id": "AKIDtest", "secret_key": "s3cret"}]})";
    server_ = new CmqdProcess(dir, {"--config", dir + "/cmqd.json"});
    server_->Start();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static CmqdProcess* server_;
};

CmqdProcess* SignatureTest::server_ = nullptr;

TEST_F(SignatureTest, SignedRequestsAreServed) {
  HttpClient client(server_->port());
  client.SetCredentials("AKIDtest", "s3cret");
  json r = client.Call("CreateQueue", {{"queueName", "signed"}});
  EXPECT_EQ(r["code"], 0) << r.dump();
  r = client.Call("SendMessage", {{"queueName", "signed"}, {"msgBody", "a b+c&d=e"}});
  EXPECT_EQ(r["code"], 0) << r.dump();
}

TEST_F(SignatureTest, UnsignedRequestIsRefused) {
  HttpClient client(server_->port());
  json r = client.Call("ListQueue", {});
  EXPECT_EQ(r["code"], 4100) << r.dump();
  EXPECT_TRUE(r["requestId"].is_string());
}

TEST_F(SignatureTest, WrongKeyIsRefused) {
  HttpClient client(server_->port());
  client.SetCredentials("AKIDtest", "wrong");
  json r = client.Call("ListQueue", {});
  EXPECT_EQ(r["code"], 4100) << r.dump();
  EXPECT_EQ(r["message"], "(10030)authentication failed");
}

TEST_F(SignatureTest, UnknownSecretIdIsRefused) {
  HttpClient client(server_->port());
  client.SetCredentials("AKIDnobody", "s3cret");
  json r = client.Call("ListQueue", {});
  EXPECT_EQ(r["code"], 4100) << r.dump();
  EXPECT_EQ(r["message"].get<std::string>().rfind("(10270)", 0), 0u) << r.dump();
}

TEST_F(SignatureTest, TamperedParameterIsRefused) {
  HttpClient client(server_->port());
  // Sign one body, send another: recompute by hand.
  FormParams params = {{"Action", "ListQueue"},
                       {"SecretId", "AKIDtest"},
                       {"Timestamp", std::to_string(time(nullptr))},
                       {"Nonce", "1"},
                       {"SignatureMethod", "HmacSHA1"},
                       {"limit", "5"}};
  std::string sts = StringToSign("POST", client.host(), "/v2/index.php", params);
  params.emplace_back("Signature", Sign(sts, "s3cret", SignatureAlgorithm::kHmacSha1));
  RawResponse ok = client.Request(http::verb::post, "/v2/index.php", EncodeForm(params));
  EXPECT_EQ(json::parse(ok.body)["code"], 0) << ok.body;
  params[5].second = "6";
  RawResponse bad = client.Request(http::verb::post, "/v2/index.php", EncodeForm(params));
  EXPECT_EQ(json::parse(bad.body)["code"], 4100) << bad.body;
}

}  // namespace
}  // namespace cmq::testing
