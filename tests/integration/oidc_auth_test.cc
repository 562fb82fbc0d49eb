// OpenID Connect and client-certificate authentication against a real
// provider (npm's oidc-provider, tests/support/oidc_provider.h): tokens
// fetched from its token endpoint, keys from its discovery document and
// JWKS, rotation by the provider itself.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>
#include <vector>

#include "connectors/http/auth/authenticator.h"
#include "connectors/http/auth/jws.h"
#include "connectors/http/auth/oidc_verifier.h"
#include "connectors/http/http_server.h"
#include "tests/support/command.h"
#include "tests/support/oidc_provider.h"
#include "tests/support/ports.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using auth::Authenticator;
using auth::HttpKeyFetcher;
using auth::OidcOptions;
using auth::OidcVerifier;
using auth::TokenCheck;
using test::OidcProvider;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

OidcOptions options_for(const OidcProvider& p) {
  OidcOptions o;
  o.issuer = p.issuer();
  o.audience = p.audience();
  o.clock_skew = std::chrono::seconds(0);
  return o;
}

std::unique_ptr<OidcVerifier> verifier_for(const OidcProvider& p, OidcOptions o) {
  return std::make_unique<OidcVerifier>(std::move(o),
                                        std::make_unique<HttpKeyFetcher>(p.issuer(), ""));
}

HttpRequest bearer(const std::string& token) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/api/alerts";
  r.headers.emplace_back("Authorization", "Bearer " + token);
  return r;
}

// The three base64url parts of a compact JWS, decoded where asked.
struct Parts {
  std::string header, payload, signature;  // still encoded
};
Parts parts_of(const std::string& token) {
  const auto a = token.find('.');
  const auto b = token.find('.', a + 1);
  return {token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1)};
}
std::string decoded(const std::string& part) {
  std::string out;
  EXPECT_TRUE(auth::base64url_decode(part, out)) << part;
  return out;
}
std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from << " not in " << s;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// One provider for the suite; tests that change it (rotation) start their own.
class OidcAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { provider_ = std::make_unique<OidcProvider>(); }
  static void TearDownTestSuite() { provider_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(provider().running()) << "OIDC provider unavailable:\n" << provider().error();
  }
  static OidcProvider& provider() { return *provider_; }

  std::string token(std::string_view role) {
    std::string t = provider().token(role);
    EXPECT_FALSE(t.empty()) << provider().last_error() << "\n" << provider().log();
    return t;
  }

  static std::unique_ptr<OidcProvider> provider_;
};
std::unique_ptr<OidcProvider> OidcAuthTest::provider_;

TEST_F(OidcAuthTest, TokenOfEachRoleIsAcceptedWithItsPrincipalAndRole) {
  Authenticator gate(verifier_for(provider(), options_for(provider())), auth::SubjectMap());
  for (const std::string& role : auth::known_roles()) {
    SCOPED_TRACE(role);
    const HttpRequest req = bearer(token(role));
    const AccessDecision d = gate.check(req, Roles{role});
    EXPECT_EQ(d.status, 200) << d.reason;
    EXPECT_EQ(d.principal.name, "mozaiek-" + role);
    EXPECT_THAT(d.principal.roles, ElementsAre(role));
    EXPECT_EQ(d.principal.via, "oidc");
    // Any other role's route: 403 naming the role it needs.
    const std::string other = role == "analyst" ? "operator" : "analyst";
    const AccessDecision refused = gate.check(req, Roles{other});
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.reason, "needs role " + other);
    EXPECT_EQ(refused.principal.name, "mozaiek-" + role);
  }
}

// The console's way in: users log in on the provider's page (code flow with
// PKCE) and their tokens carry the roles of the provider's user table.
TEST_F(OidcAuthTest, UsersLoggedInThroughTheProviderGetTheirRoles) {
  Authenticator gate(verifier_for(provider(), options_for(provider())), auth::SubjectMap());
  const std::vector<std::pair<std::string, std::string>> users{{"ana", "analyst"},
                                                               {"cora", "care"},
                                                               {"otto", "operator"},
                                                               {"paula", "privacy_officer"},
                                                               {"olga", "oversight"}};
  for (const auto& [user, role] : users) {
    SCOPED_TRACE(user);
    const std::string t = provider().user_token(user);
    ASSERT_FALSE(t.empty()) << provider().last_error() << "\n" << provider().log();
    const AccessDecision d = gate.check(bearer(t), Roles{role});
    EXPECT_EQ(d.status, 200) << d.reason;
    EXPECT_EQ(d.principal.name, user);
    EXPECT_THAT(d.principal.roles, ElementsAre(role));
  }
  const std::string stranger = provider().user_token("mallory");
  ASSERT_FALSE(stranger.empty()) << provider().last_error();
  EXPECT_EQ(gate.check(bearer(stranger), Roles{"analyst"}).status, 403);
}

TEST_F(OidcAuthTest, ValidTokenWithoutRolesIsForbiddenNotUnauthenticated) {
  Authenticator gate(verifier_for(provider(), options_for(provider())), auth::SubjectMap());
  const AccessDecision d = gate.check(bearer(token("nobody")), Roles{"analyst", "care"});
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.reason, "needs one of the roles analyst, care");
  EXPECT_THAT(d.principal.roles, IsEmpty());
}

TEST_F(OidcAuthTest, RolesComeFromGroupsOrANestedClaimThroughTheRoleMap) {
  OidcOptions groups = options_for(provider());
  groups.roles.claim = "groups";
  groups.roles.role_map = {{"mozaiek-operator", {"operator", "metrics"}}};
  const std::string operator_token = token("operator");
  EXPECT_THAT(verifier_for(provider(), groups)->verify(operator_token).roles,
              ElementsAre("metrics", "operator"));
  // Unmapped group values give no role.
  EXPECT_THAT(verifier_for(provider(), groups)->verify(token("analyst")).roles, IsEmpty());

  OidcOptions keycloak = options_for(provider());
  keycloak.roles.claim = "realm_access.roles";
  EXPECT_THAT(verifier_for(provider(), keycloak)->verify(token("privacy_officer")).roles,
              ElementsAre("privacy_officer"));
}

TEST_F(OidcAuthTest, Es256TokensAreVerifiedToo) {
  auto v = verifier_for(provider(), options_for(provider()));
  const std::string t = provider().client_token("mozaiek-es256");
  ASSERT_FALSE(t.empty()) << provider().last_error();
  ASSERT_THAT(decoded(parts_of(t).header), HasSubstr("\"ES256\""));
  const TokenCheck ok = v->verify(t);
  EXPECT_TRUE(ok.valid) << ok.reason;
  EXPECT_EQ(ok.subject, "mozaiek-es256");
  const Parts p = parts_of(t);
  std::string sig = decoded(p.signature);
  sig[3] = static_cast<char>(sig[3] ^ 0x40);
  EXPECT_EQ(v->verify(p.header + "." + p.payload + "." + auth::base64url_encode(sig)).reason,
            "token signature invalid");
}

TEST_F(OidcAuthTest, WrongAudienceIsRefused) {
  OidcOptions o = options_for(provider());
  o.audience = "another-service";
  const TokenCheck t = verifier_for(provider(), o)->verify(token("analyst"));
  EXPECT_FALSE(t.valid);
  EXPECT_EQ(t.reason, "token audience not accepted");
}

TEST_F(OidcAuthTest, WrongIssuerIsRefusedEvenWithTheRightKeys) {
  // Keys from the real provider, but mozaiek expects another issuer.
  OidcOptions o = options_for(provider());
  o.issuer = "https://login.example.nl/realms/other";
  OidcVerifier v(o, std::make_unique<HttpKeyFetcher>(provider().issuer(), ""));
  const TokenCheck t = v.verify(token("analyst"));
  EXPECT_FALSE(t.valid);
  EXPECT_EQ(t.reason, "token issuer not accepted");

  // And a provider whose discovery document names another issuer is not used.
  HttpKeyFetcher wrong_name(replace_once(provider().issuer(), "127.0.0.1", "localhost"), "");
  auth::JwkSet keys;
  Status s = wrong_name.fetch(keys);
  EXPECT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("names another issuer"));
}

TEST_F(OidcAuthTest, ExpiredTokenIsRefused) {
  // mozaiek-shortlived's tokens live two seconds; no clock skew allowed.
  auto v = verifier_for(provider(), options_for(provider()));
  const std::string t = provider().client_token("mozaiek-shortlived");
  ASSERT_FALSE(t.empty()) << provider().last_error();
  const TokenCheck fresh = v->verify(t);
  ASSERT_TRUE(fresh.valid) << fresh.reason;
  TokenCheck later;
  EXPECT_TRUE(test::wait_until([&] { return !(later = v->verify(t)).valid; }, seconds(10)));
  EXPECT_EQ(later.reason, "token expired");

  // The same token within a generous clock skew is still accepted.
  OidcOptions lenient = options_for(provider());
  lenient.clock_skew = std::chrono::seconds(120);
  EXPECT_TRUE(verifier_for(provider(), lenient)->verify(t).valid);
}

TEST_F(OidcAuthTest, UnsignedAndSymmetricallySignedTokensAreRefused) {
  auto v = verifier_for(provider(), options_for(provider()));
  const std::string real = token("analyst");
  ASSERT_TRUE(v->verify(real).valid);
  const Parts p = parts_of(real);
  const std::string kid_header = decoded(p.header);

  const std::string none_header = auth::base64url_encode(
      replace_once(kid_header, "\"RS256\"", "\"none\""));
  const TokenCheck no_signature = v->verify(none_header + "." + p.payload + ".");
  EXPECT_FALSE(no_signature.valid);
  const TokenCheck none_with_signature = v->verify(none_header + "." + p.payload + "." +
                                                   p.signature);
  EXPECT_FALSE(none_with_signature.valid);
  EXPECT_EQ(none_with_signature.reason, "token algorithm not accepted");

  // HS256 with the provider's public JWKS as the "secret": the classic
  // key-confusion forgery.
  const std::string hs_header = auth::base64url_encode(
      replace_once(kid_header, "\"RS256\"", "\"HS256\""));
  const std::string input = hs_header + "." + p.payload;
  unsigned char mac[32];
  unsigned int mac_len = 0;
  const std::string secret = p.signature;  // any bytes the attacker knows
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  const TokenCheck hs = v->verify(
      input + "." + auth::base64url_encode(std::string(reinterpret_cast<char*>(mac), mac_len)));
  EXPECT_FALSE(hs.valid);
  EXPECT_EQ(hs.reason, "token algorithm not accepted");
}

TEST_F(OidcAuthTest, TamperedPayloadOrSignatureIsRefused) {
  auto v = verifier_for(provider(), options_for(provider()));
  const std::string real = token("analyst");
  ASSERT_TRUE(v->verify(real).valid);
  const Parts p = parts_of(real);

  const std::string promoted = auth::base64url_encode(
      replace_once(decoded(p.payload), "[\"analyst\"]", "[\"operator\"]"));
  const TokenCheck payload = v->verify(p.header + "." + promoted + "." + p.signature);
  EXPECT_FALSE(payload.valid);
  EXPECT_EQ(payload.reason, "token signature invalid");

  std::string sig = decoded(p.signature);
  sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
  const TokenCheck signature = v->verify(p.header + "." + p.payload + "." +
                                         auth::base64url_encode(sig));
  EXPECT_FALSE(signature.valid);
  EXPECT_EQ(signature.reason, "token signature invalid");

  EXPECT_FALSE(v->verify(real.substr(0, real.size() - 4)).valid);  // truncated
  EXPECT_FALSE(v->verify("not-a-token").valid);
}

TEST_F(OidcAuthTest, UnknownKeyIsRefusedAndAFloodOfUnknownKidsFetchesAtMostOnce) {
  OidcOptions o = options_for(provider());
  o.min_refresh_interval = std::chrono::minutes(5);
  auto v = verifier_for(provider(), o);
  const std::string real = token("analyst");
  ASSERT_TRUE(v->verify(real).valid);
  const auto fetches_before = v->fetches();
  const Parts p = parts_of(real);
  const std::string kid = auth::base64url_encode(
      replace_once(decoded(p.header), "\"kid\":\"", "\"kid\":\"unknown-"));
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const TokenCheck c = v->verify(kid + "." + p.payload + "." + p.signature);
        if (!c.valid && c.reason == "token signed by an unknown key") ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(refused.load(), 100);
  EXPECT_LE(v->fetches() - fetches_before, 1u);
  EXPECT_TRUE(v->verify(real).valid);  // known keys keep working meanwhile
}

TEST(OidcKeyRotationTest, RotatedKeyIsAcceptedWithoutRestartingTheVerifier) {
  OidcProvider provider;
  ASSERT_TRUE(provider.running()) << provider.error();
  auto v = verifier_for(provider, options_for(provider));
  const std::string old_token = provider.token("analyst");
  ASSERT_TRUE(v->verify(old_token).valid) << provider.last_error();
  const auto fetches = v->fetches();

  const std::string new_kid = provider.rotate_keys();
  ASSERT_FALSE(new_kid.empty()) << provider.last_error() << provider.log();
  const std::string new_token = provider.token("analyst");
  ASSERT_THAT(decoded(parts_of(new_token).header), HasSubstr(new_kid));

  const TokenCheck rotated = v->verify(new_token);
  EXPECT_TRUE(rotated.valid) << rotated.reason;
  EXPECT_EQ(v->fetches(), fetches + 1);     // one fetch picked the new key up
  EXPECT_TRUE(v->verify(old_token).valid);  // the old key is still published
}

TEST_F(OidcAuthTest, ClientCertificateSubjectsMapToPrincipals) {
  auth::SubjectMap subjects({{"/O=Politie/CN=prometheus", "prometheus", {"metrics"}}});
  Authenticator gate(verifier_for(provider(), options_for(provider())), subjects);
  HttpRequest req;
  req.client_subject = "/O=Politie/CN=prometheus";
  AccessDecision d = gate.check(req, Roles{"metrics"});
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.principal.name, "prometheus");
  EXPECT_EQ(d.principal.via, "mtls");
  EXPECT_EQ(gate.check(req, Roles{"analyst"}).status, 403);

  req.client_subject = "/O=Politie/CN=someone-else";
  d = gate.check(req, Roles{"metrics"});
  EXPECT_EQ(d.status, 401);
  EXPECT_EQ(d.reason, "client certificate not accepted");

  // A bearer token that fails is not rescued by a good certificate.
  HttpRequest both = bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
  both.client_subject = "/O=Politie/CN=prometheus";
  EXPECT_EQ(gate.check(both, Roles{"metrics"}).status, 401);
}

TEST_F(OidcAuthTest, RefusalsNeverEchoTheToken) {
  Authenticator gate(verifier_for(provider(), options_for(provider())), auth::SubjectMap());
  const std::string real = token("analyst");
  const Parts p = parts_of(real);
  for (const std::string& t :
       {real.substr(0, real.size() - 2), p.header + "." + p.payload + ".", std::string("garbage"),
        p.header + ".eyJzdWIiOiJ4In0." + p.signature}) {
    const AccessDecision d = gate.check(bearer(t), Roles{"analyst"});
    EXPECT_EQ(d.status, 401);
    EXPECT_THAT(d.reason, Not(HasSubstr(p.payload.substr(0, 12))));
    EXPECT_THAT(d.reason, Not(HasSubstr("garbage")));
  }
  HttpRequest none;
  EXPECT_EQ(gate.check(none, Roles{"analyst"}).reason, "authentication required");
  HttpRequest basic;
  basic.headers.emplace_back("Authorization", "Basic YW5hOnNlY3JldA==");
  const AccessDecision d = gate.check(basic, Roles{"analyst"});
  EXPECT_EQ(d.status, 401);
  EXPECT_THAT(d.reason, Not(HasSubstr("YW5h")));
}

// Pool threads verify concurrently; prints the cost of one verification.
TEST_F(OidcAuthTest, ConcurrentVerificationsAllSucceed) {
  Authenticator gate(verifier_for(provider(), options_for(provider())), auth::SubjectMap());
  const HttpRequest req = bearer(token("analyst"));
  ASSERT_EQ(gate.check(req, Roles{"analyst"}).status, 200);
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::atomic<int> ok{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (gate.check(req, Roles{"analyst"}).status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  std::printf("[ measured ] %d RS256 verifications on %d threads: %.1f us each (wall / count)\n",
              kThreads * kEach, kThreads, us / (kThreads * kEach));
}

// `mozaiek run` with the shipped config plus this provider's issuer starts,
// fetches the provider's keys, and tells the console how to log in.
TEST_F(OidcAuthTest, RunWithAnIssuerStartsAndServesTheLoginConfig) {
  test::TempDir dir("mozaiek-oidc-run");
  std::ifstream in(std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  config = replace_once(config, "      issuer: \"\"", "      issuer: " + provider().issuer());
  std::ofstream(dir.path() + "/mozaiek.yaml") << config;
  const int port = test::free_loopback_ports();
  ASSERT_NE(port, 0);
  std::thread run([&] {
    (void)test::run_command(
        "MOZAIEK_PSEUDONYM_KEY=oidc-test-pseudonym-key-0123456789 " + std::string(MOZAIEK_BINARY) +
        " run --config " + dir.path() +
        "/mozaiek.yaml --brokers embedded --http 127.0.0.1:" + std::to_string(port) +
        " --state-dir " + dir.path() + "/state --duration 8 >" + dir.path() + "/run.log 2>&1");
  });
  httplib::Client client("127.0.0.1", port);
  std::string body;
  const bool served = test::wait_until(
      [&] {
        auto res = client.Get("/api/auth/config");
        if (res && res->status == 200) body = res->body;
        return !body.empty();
      },
      seconds(30), Millis{100});
  run.join();
  std::ifstream log_in(dir.path() + "/run.log");
  const std::string log((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(served) << log;
  EXPECT_EQ(body, R"({"oidc":{"issuer":")" + provider().issuer() +
                      R"(","client_id":"mozaiek-console","audience":"mozaiek",)"
                      R"("scopes":["openid","profile","mozaiek"]},"mtls":false})");
  EXPECT_THAT(log, HasSubstr("oidc: fetched 2 signing key(s) of " + provider().issuer()));
}

}  // namespace
}  // namespace mozaiek
