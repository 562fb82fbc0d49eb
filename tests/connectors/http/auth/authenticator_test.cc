#include "connectors/http/auth/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/http/auth/auth_config_api.h"
#include "connectors/http/http_server.h"

namespace mozaiek::auth {
namespace {

using ::testing::HasSubstr;

Authenticator certificates_only() {
  return Authenticator(nullptr, SubjectMap({{"/CN=scraper", "scraper", {"metrics"}},
                                            {"/CN=ops", "ops", {"operator", "metrics"}}}));
}

HttpRequest with_subject(std::string subject) {
  HttpRequest r;
  r.client_subject = std::move(subject);
  return r;
}

TEST(AuthenticatorTest, PublicRoutesNeedNoIdentity) {
  EXPECT_EQ(certificates_only().check(HttpRequest{}, Roles::anyone()).status, 200);
}

TEST(AuthenticatorTest, NoIdentityIs401AndAMissingRoleIs403NamingIt) {
  const Authenticator gate = certificates_only();
  AccessDecision d = gate.check(HttpRequest{}, Roles{"metrics"});
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, "authentication required");

  d = gate.check(with_subject("/CN=scraper"), Roles{"privacy_officer"});
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.reason, "needs role privacy_officer");
  EXPECT_EQ(d.principal.name, "scraper");

  d = gate.check(with_subject("/CN=ops"), Roles{"analyst", "operator"});
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.principal.via, "mtls");
}

TEST(AuthenticatorTest, BearerTokensWithoutOidcAreRefused) {
  HttpRequest r = with_subject("/CN=scraper");
  r.headers.emplace_back("authorization", "bearer abc.def.ghi");
  const AccessDecision d = certificates_only().check(r, Roles{"metrics"});
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, "bearer tokens are not accepted here");
}

TEST(AuthenticatorTest, MakeAuthenticatorRefusesWhenNobodyCouldAuthenticate) {
  std::unique_ptr<Authenticator> gate;
  Status s = make_authenticator(AuthSettings{}, "", gate);
  EXPECT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("service.auth.oidc.issuer"));

  AuthSettings plain_http;
  plain_http.oidc.issuer = "http://login.example.nl/realms/tmm";
  s = make_authenticator(plain_http, "", gate);
  EXPECT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("service.auth.oidc.issuer"));
  EXPECT_THAT(s.message(), HasSubstr("https"));

  AuthSettings missing_ca;
  missing_ca.oidc.issuer = "https://login.example.nl/realms/tmm";
  missing_ca.oidc.ca_file = "absent-ca.pem";
  s = make_authenticator(missing_ca, "/nonexistent", gate);
  EXPECT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("service.auth.oidc.ca_file"));

  AuthSettings ok;
  ok.oidc.issuer = "https://login.example.nl/realms/tmm";
  ASSERT_TRUE(make_authenticator(ok, "", gate));
  ASSERT_NE(gate->oidc(), nullptr);
  EXPECT_EQ(gate->oidc()->options().issuer, "https://login.example.nl/realms/tmm");
}

TEST(AuthConfigApiTest, TellsTheConsoleTheIssuerClientAudienceAndScopes) {
  AuthSettings s;
  s.oidc.issuer = "https://login.example.nl/realms/tmm";
  s.oidc.console_client_id = "console\"x";
  const HttpResponse r = auth_config_response(s);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"oidc":{"issuer":"https://login.example.nl/realms/tmm","client_id":"console\"x",)"
            R"("audience":"mozaiek","scopes":["openid","profile","mozaiek"]},"mtls":false})");
  EXPECT_EQ(auth_config_response(AuthSettings{}).body, R"({"oidc":null,"mtls":false})");
}

}  // namespace
}  // namespace mozaiek::auth
