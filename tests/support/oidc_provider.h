// A real OpenID Connect provider for tests: npm's certified `oidc-provider`
// started by tests/integration/oidc/oidc-provider.sh on a free loopback
// port (configured by provider.mjs beside it: a machine client per role, the
// console's public client, the test users), stopped when the object goes.
// Tokens come from the provider's token endpoint; nothing here signs one.
//
// If the provider cannot start, running() is false and error() holds the
// script's output with the end of the provider's log: tests fail with it,
// there is no skip.
#pragma once

#include <string>
#include <string_view>

namespace mozaiek::test {

class OidcProvider {
 public:
  struct Options {
    // Lifetime of the tokens of client "mozaiek-shortlived", in seconds.
    int short_ttl_seconds = 2;
    std::string audience = "mozaiek";
  };

  OidcProvider();  // the default Options
  explicit OidcProvider(Options options);
  ~OidcProvider();
  OidcProvider(const OidcProvider&) = delete;
  OidcProvider& operator=(const OidcProvider&) = delete;

  bool running() const { return !issuer_.empty(); }
  const std::string& error() const { return error_; }
  // "http://127.0.0.1:<port>", exactly as in the tokens' `iss`.
  const std::string& issuer() const { return issuer_; }
  const std::string& audience() const { return options_.audience; }

  // An access token (a signed JWT) of machine client `client_id` from the
  // token endpoint (client-credentials grant); empty on failure, with the
  // reason in last_error(). Clients: mozaiek-<role> for each of the six
  // roles, mozaiek-nobody (no roles), mozaiek-shortlived (analyst, short TTL),
  // mozaiek-es256 (analyst, signed with ES256).
  std::string client_token(std::string_view client_id);
  // The token of client mozaiek-<role>.
  std::string token(std::string_view role) { return client_token("mozaiek-" + std::string(role)); }
  const std::string& last_error() const { return last_error_; }

  // Logs `user` in as the console would, through the provider's own login
  // page (authorisation code + PKCE, client mozaiek-console, any password),
  // following the pages as a browser without JavaScript would, and returns
  // the access token; empty on failure (last_error()). Users: ana
  // (analyst), cora (care), otto (operator), paula (privacy_officer), olga
  // (oversight); any other name logs in without roles.
  std::string user_token(std::string_view user,
                         const std::string& redirect_uri = "http://127.0.0.1:1/console/callback");

  // Makes the provider sign with a new key from now on while publishing
  // the old one too; returns the new kid (empty on failure).
  std::string rotate_keys();

  // The provider's log so far (for failure messages).
  std::string log() const;
  void stop();

 private:
  void start();

  Options options_;
  std::string workdir_;
  std::string issuer_;
  std::string error_;
  std::string last_error_;
  bool owned_ = false;
};

}  // namespace mozaiek::test
