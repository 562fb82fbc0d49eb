// HTTPS and mutual TLS with certificates the test makes: a test CA signs
// the server certificate and a good client certificate; another CA signs a
// client certificate the server must refuse.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include "connectors/http/http_server.h"
#include "tests/support/fake_gate.h"
#include "tests/support/test_pki.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = pki_.make_ca("ca", "mozaiek test CA");
    server_cert_ = pki_.make_leaf("server", ca_, "mozaiek", "mozaiek.test",
                                  {"DNS:mozaiek.test", "DNS:localhost", "IP:127.0.0.1"});
    client_cert_ = pki_.make_leaf("client", ca_, "Politie", "prometheus");
    other_ca_ = pki_.make_ca("other-ca", "someone else's CA");
    stranger_ = pki_.make_leaf("stranger", other_ca_, "Politie", "prometheus");
  }

  // A server whose only route echoes the verified client subject.
  void start(bool client_ca, bool require) {
    HttpServerOptions o;
    o.tls.certificate = server_cert_.certificate;
    o.tls.key = server_cert_.key;
    if (client_ca) o.tls.client_ca = ca_.certificate;
    o.tls.require_client_certificate = require;
    server_ = std::make_unique<HttpServer>("127.0.0.1:0", registry_, o);
    server_->set_access_gate(test::FakeGate::granting_all_roles());
    server_->route("GET", "/api/subject", Roles{role::kMetrics}, [](const HttpRequest& r) {
      return HttpResponse{200, "text/plain", "[" + r.client_subject + "]", {}};
    });
    ASSERT_TRUE(server_->start().is_ok());
  }

  httplib::Result get(const test::PemFiles* client, const std::string& host = "127.0.0.1") {
    auto c = client ? std::make_unique<httplib::SSLClient>(host, server_->port(),
                                                           client->certificate, client->key)
                    : std::make_unique<httplib::SSLClient>(host, server_->port());
    c->set_ca_cert_path(ca_.certificate.c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(std::chrono::seconds(5));
    c->set_read_timeout(std::chrono::seconds(10));
    return c->Get("/api/subject");
  }

  test::TestPki pki_;
  test::PemFiles ca_, server_cert_, client_cert_, other_ca_, stranger_;
  prometheus::Registry registry_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpTlsTest, ServesHttpsWithACertificateTheClientVerifies) {
  start(false, false);
  EXPECT_TRUE(server_->tls());
  auto res = get(nullptr);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "[]");  // no client CA: no subject
  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", server_->port());
  plain.set_read_timeout(std::chrono::seconds(5));
  auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);
}

TEST_F(HttpTlsTest, VerifiedClientCertificateSubjectReachesTheRequest) {
  start(true, false);
  auto res = get(&client_cert_);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "[/O=Politie/CN=prometheus]");
  // Optional: without a certificate the connection works, with no subject.
  auto anonymous = get(nullptr);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->body, "[]");
}

TEST_F(HttpTlsTest, ClientCertificateFromAnotherCaIsRefused) {
  start(true, false);
  EXPECT_FALSE(get(&stranger_));
  ASSERT_TRUE(get(&client_cert_));  // the server still serves good clients
}

TEST_F(HttpTlsTest, RequiredClientCertificateRefusesAClientWithout) {
  start(true, true);
  EXPECT_FALSE(get(nullptr));
  auto res = get(&client_cert_);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(HttpTlsTest, CertificateNamesAreAllowedHosts) {
  start(false, false);
  httplib::SSLClient c("127.0.0.1", server_->port());
  c.set_ca_cert_path(ca_.certificate.c_str());
  c.enable_server_certificate_verification(false);  // the Host header is what is tested
  EXPECT_EQ(c.Get("/healthz", {{"Host", "mozaiek.test"}})->status, 200);
  EXPECT_EQ(c.Get("/healthz", {{"Host", "evil.example"}})->status, 400);
}

TEST_F(HttpTlsTest, UnreadableCertificateFailsStartNamingTheKey) {
  HttpServerOptions o;
  o.tls.certificate = pki_.dir() + "/missing.crt";
  o.tls.key = server_cert_.key;
  HttpServer s("127.0.0.1:0", registry_, o);
  EXPECT_THAT(s.start().message(), HasSubstr("service.tls.certificate"));
  o.tls.certificate = server_cert_.certificate;
  o.tls.key = client_cert_.key;  // not this certificate's key
  HttpServer t("127.0.0.1:0", registry_, o);
  EXPECT_THAT(t.start().message(), HasSubstr("service.tls.key"));
}

}  // namespace
}  // namespace mozaiek
