// OidcVerifier: checks OpenID Connect access tokens (signed JWTs) of one
// issuer. The issuer's signing keys are found through
// <issuer>/.well-known/openid-configuration -> jwks_uri, cached, and fetched
// again when a token names a key the cache does not hold (the provider
// rotated its keys), at most once per `min_refresh_interval`, so a flood of
// made-up kids cannot hammer the provider. Checks the signature (RS256/384/
// 512, PS256/384/512, ES256, ES384; never "none" or HMAC), `iss`, `aud`
// (string or array), `exp` (required) and `nbf` with a clock skew, and maps
// the roles claim (RoleMapping).
//
// Thread-safety: verify() is called by the HTTP pool threads concurrently.
// A verification with a cached key takes one short lock to read the key set.
// Only one fetch runs at a time; requests that need the new keys wait for
// it (bounded by the fetcher's timeouts), the others go on with the cached
// set meanwhile.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/http/auth/jwk_set.h"
#include "connectors/http/auth/role_mapping.h"
#include "stream/status.h"

namespace mozaiek::auth {

// Where the keys come from: discovery + JWKS over HTTP in the service, a
// canned set in unit tests. Called by one thread at a time.
class KeyFetcher {
 public:
  virtual ~KeyFetcher() = default;
  [[nodiscard]] virtual Status fetch(JwkSet& out) = 0;
};

// Fails unless `url` is https, or http to a loopback host (127.0.0.0/8,
// localhost, [::1]); the message names `key`.
[[nodiscard]] Status check_provider_url(std::string_view key, std::string_view url);

// Fetches <issuer>/.well-known/openid-configuration (whose "issuer" must
// equal the configured one) and then its jwks_uri, with cpp-httplib.
// https verifies the server against `ca_file`, or the system's CAs when
// empty. Redirects are not followed.
class HttpKeyFetcher : public KeyFetcher {
 public:
  HttpKeyFetcher(std::string issuer, std::string ca_file,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5));
  Status fetch(JwkSet& out) override;

 private:
  Status get(const std::string& url, std::string& body) const;

  std::string issuer_;
  std::string ca_file_;
  std::chrono::milliseconds timeout_;
};

struct OidcOptions {
  std::string issuer;    // exactly as the tokens' "iss"
  std::string audience;  // must be in the tokens' "aud"
  RoleMapping roles;
  std::chrono::seconds clock_skew{60};
  // Fetches for unknown kids are at most this often (and, separately,
  // routine fetches of an empty or stale set).
  std::chrono::milliseconds min_refresh_interval{std::chrono::seconds(10)};
  // A key set older than this is fetched again by the next request that
  // finds no fetch running; the others keep using it meanwhile.
  std::chrono::milliseconds max_key_age{std::chrono::hours(1)};
  // Wall clock for exp/nbf; the system clock when empty.
  std::function<std::chrono::system_clock::time_point()> now;
};

// The outcome of one token. `reason` is short, safe to send to the client
// and to audit: it never holds the token, a claim value or a key.
struct TokenCheck {
  bool valid = false;
  std::string subject;             // "sub"
  std::vector<std::string> roles;  // after the role mapping
  std::string reason;              // why it was refused
};

class OidcVerifier {
 public:
  OidcVerifier(OidcOptions options, std::unique_ptr<KeyFetcher> fetcher);
  OidcVerifier(const OidcVerifier&) = delete;
  OidcVerifier& operator=(const OidcVerifier&) = delete;

  TokenCheck verify(std::string_view token) const;

  // Fetches the keys now, regardless of the rate limit (at startup, so the
  // first request does not wait; a failure there is not fatal: requests
  // fetch again).
  [[nodiscard]] Status refresh();

  const OidcOptions& options() const { return options_; }
  // Fetches started so far (for tests of the rate limit and rotation).
  std::uint64_t fetches() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Snapshot {
    std::shared_ptr<const JwkSet> keys;
    Clock::time_point fetched_at;
    std::uint64_t generation = 0;
  };
  enum class Wait { kForResult, kNoWait };
  enum class Why { kRoutine, kUnknownKid };

  Snapshot snapshot() const;
  // Fetches unless one is running or the last one for the same reason
  // started less than min_refresh_interval ago. kForResult waits for a
  // running fetch to finish. Returns the snapshot afterwards.
  Snapshot fetch_keys(Why why, Wait wait) const;
  std::chrono::system_clock::time_point now() const;
  Status fetch_logged(JwkSet& set) const;

  const OidcOptions options_;
  const std::unique_ptr<KeyFetcher> fetcher_;

  mutable std::mutex mu_;
  mutable std::condition_variable fetched_;
  // Shared: a request keeps the set it read while a fetch replaces it.
  mutable std::shared_ptr<const JwkSet> keys_;
  mutable Clock::time_point fetched_at_{};
  mutable std::uint64_t generation_ = 0;
  mutable bool fetching_ = false;
  mutable Clock::time_point last_fetch_start_{};
  mutable Clock::time_point last_unknown_kid_fetch_{};
  mutable std::uint64_t fetches_ = 0;
};

}  // namespace mozaiek::auth
