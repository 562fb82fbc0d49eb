#include "connectors/http/auth/oidc_verifier.h"

#include <httplib.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "connectors/http/auth/jws.h"

namespace mozaiek::auth {
namespace {

// "scheme://host[:port]" and the path (with query) of an absolute URL.
bool split_url(std::string_view url, std::string& scheme, std::string& host, std::string& origin,
               std::string& path) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  scheme = std::string(url.substr(0, sep));
  const auto rest = url.substr(sep + 3);
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(authority.substr(0, close + 1));
  } else {
    host = std::string(authority.substr(0, authority.find(':')));
  }
  origin = std::string(url.substr(0, sep + 3 + authority.size()));
  path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  return true;
}

bool loopback_host(std::string_view host) {
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool audience_matches(simdjson::dom::element aud, std::string_view want) {
  std::string_view one;
  if (aud.get(one) == simdjson::SUCCESS) return one == want;
  simdjson::dom::array many;
  if (aud.get(many) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element e : many) {
    if (e.get(one) == simdjson::SUCCESS && one == want) return true;
  }
  return false;
}

// A NumericDate claim (seconds since the epoch, maybe fractional).
bool numeric_date(simdjson::dom::object claims, const char* name, double& out) {
  simdjson::dom::element e;
  if (claims[name].get(e) != simdjson::SUCCESS) return false;
  return e.get_double().get(out) == simdjson::SUCCESS && std::isfinite(out);
}

TokenCheck refused(std::string reason) {
  TokenCheck t;
  t.reason = std::move(reason);
  return t;
}

}  // namespace

Status check_provider_url(std::string_view key, std::string_view url) {
  std::string scheme, host, origin, path;
  if (!split_url(url, scheme, host, origin, path))
    return Status::error(std::string(key) + ": '" + std::string(url) + "' is not an absolute URL");
  if (scheme == "https") return Status::ok();
  if (scheme == "http" && loopback_host(host)) return Status::ok();
  return Status::error(std::string(key) + ": '" + std::string(url) +
                       "' must use https (plain http only for a loopback provider)");
}

HttpKeyFetcher::HttpKeyFetcher(std::string issuer, std::string ca_file,
                               std::chrono::milliseconds timeout)
    : issuer_(std::move(issuer)), ca_file_(std::move(ca_file)), timeout_(timeout) {}

Status HttpKeyFetcher::get(const std::string& url, std::string& body) const {
  if (Status s = check_provider_url("url", url); !s) return s;
  std::string scheme, host, origin, path;
  (void)split_url(url, scheme, host, origin, path);
  httplib::Client client(origin);
  if (!client.is_valid()) return Status::error("cannot make a client for " + origin);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout_);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout_ - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  client.set_follow_location(false);
  if (!ca_file_.empty()) client.set_ca_cert_path(ca_file_.c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get(path);
  if (!res) return Status::error(url + ": " + httplib::to_string(res.error()));
  if (res->status != 200) return Status::error(url + ": HTTP " + std::to_string(res->status));
  body = std::move(res->body);
  return Status::ok();
}

Status HttpKeyFetcher::fetch(JwkSet& out) {
  const std::string issuer = trim_slash(issuer_);
  std::string body;
  if (Status s = get(issuer + "/.well-known/openid-configuration", body); !s) return s;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view said_issuer, jwks_uri;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS)
    return Status::error("the provider's openid-configuration is not JSON");
  if (doc["issuer"].get(said_issuer) != simdjson::SUCCESS || said_issuer != issuer_)
    return Status::error("the provider's openid-configuration names another issuer");
  if (doc["jwks_uri"].get(jwks_uri) != simdjson::SUCCESS)
    return Status::error("the provider's openid-configuration has no jwks_uri");
  const std::string jwks_url(jwks_uri);
  std::string jwks;
  if (Status s = get(jwks_url, jwks); !s) return s;
  return JwkSet::parse(jwks, out);
}

OidcVerifier::OidcVerifier(OidcOptions options, std::unique_ptr<KeyFetcher> fetcher)
    : options_(std::move(options)),
      fetcher_(std::move(fetcher)),
      keys_(std::make_shared<const JwkSet>()) {}

std::chrono::system_clock::time_point OidcVerifier::now() const {
  return options_.now ? options_.now() : std::chrono::system_clock::now();
}

OidcVerifier::Snapshot OidcVerifier::snapshot() const {
  std::lock_guard lock(mu_);
  return Snapshot{keys_, fetched_at_, generation_};
}

std::uint64_t OidcVerifier::fetches() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

// Logs the issuer and the number of keys, never a key.
Status OidcVerifier::fetch_logged(JwkSet& set) const {
  Status s = fetcher_->fetch(set);
  if (s) {
    spdlog::info("oidc: fetched {} signing key(s) of {}", set.size(), options_.issuer);
  } else {
    spdlog::warn("oidc: cannot fetch the signing keys of {}: {}", options_.issuer, s.message());
  }
  return s;
}

Status OidcVerifier::refresh() {
  {
    std::unique_lock lock(mu_);
    fetched_.wait(lock, [&] { return !fetching_; });
    fetching_ = true;
    last_fetch_start_ = Clock::now();
    ++fetches_;
  }
  JwkSet set;
  Status s = fetch_logged(set);
  std::lock_guard lock(mu_);
  fetching_ = false;
  if (s) {
    keys_ = std::make_shared<const JwkSet>(std::move(set));
    fetched_at_ = Clock::now();
    ++generation_;
  }
  fetched_.notify_all();
  return s;
}

OidcVerifier::Snapshot OidcVerifier::fetch_keys(Why why, Wait wait) const {
  std::unique_lock lock(mu_);
  if (fetching_) {
    if (wait == Wait::kForResult) fetched_.wait(lock, [&] { return !fetching_; });
    return Snapshot{keys_, fetched_at_, generation_};
  }
  // Unknown kids are limited on their own, so a rotation soon after a
  // routine fetch is still picked up at once; routine fetches (empty or
  // stale set) are limited too, so a provider that is down is not asked on
  // every request.
  const auto start = Clock::now();
  auto& last = why == Why::kUnknownKid ? last_unknown_kid_fetch_ : last_fetch_start_;
  if (last != Clock::time_point{} && start - last < options_.min_refresh_interval)
    return Snapshot{keys_, fetched_at_, generation_};
  fetching_ = true;
  last = start;
  last_fetch_start_ = start;
  ++fetches_;
  lock.unlock();

  JwkSet set;
  Status s = fetch_logged(set);

  lock.lock();
  fetching_ = false;
  if (s) {
    keys_ = std::make_shared<const JwkSet>(std::move(set));
    fetched_at_ = Clock::now();
    ++generation_;
  }
  fetched_.notify_all();
  return Snapshot{keys_, fetched_at_, generation_};
}

TokenCheck OidcVerifier::verify(std::string_view token) const {
  CompactJws jws;
  if (!split_compact_jws(token, jws)) return refused("malformed token");

  simdjson::dom::parser parser;
  simdjson::dom::element header_doc;
  simdjson::dom::object header;
  if (parser.parse(jws.header_json).get(header_doc) != simdjson::SUCCESS ||
      header_doc.get(header) != simdjson::SUCCESS) {
    return refused("malformed token");
  }
  std::string_view alg_view, kid_view;
  if (header["alg"].get(alg_view) != simdjson::SUCCESS) return refused("malformed token");
  if (!algorithm_allowed(alg_view)) return refused("token algorithm not accepted");
  // Extensions we would have to understand to verify (RFC 7515 4.1.11).
  if (header["crit"].error() != simdjson::NO_SUCH_FIELD) return refused("token not accepted");
  const std::string alg(alg_view);
  const bool has_kid = header["kid"].get(kid_view) == simdjson::SUCCESS;
  const std::string kid(kid_view);

  auto pick = [&](const JwkSet& set) { return has_kid ? set.find(kid) : set.only_key_for(alg); };
  Snapshot snap = snapshot();
  if (Clock::now() - snap.fetched_at > options_.max_key_age || snap.keys->size() == 0) {
    // Stale set: one request fetches, the others carry on with what they have.
    snap = fetch_keys(Why::kRoutine, snap.keys->size() == 0 ? Wait::kForResult : Wait::kNoWait);
  }
  const Jwk* key = pick(*snap.keys);
  if (key == nullptr) {
    // Perhaps rotated: fetch again (rate-limited), then look once more.
    snap = fetch_keys(Why::kUnknownKid, Wait::kForResult);
    key = pick(*snap.keys);
  }
  if (key == nullptr) return refused("token signed by an unknown key");
  if (!key_fits_algorithm(*key, alg)) return refused("token algorithm not accepted");
  if (!verify_signature(alg, *key, jws.signing_input, jws.signature))
    return refused("token signature invalid");

  // The signature holds: now the claims.
  simdjson::dom::parser claims_parser;
  simdjson::dom::element claims_doc;
  simdjson::dom::object claims;
  if (claims_parser.parse(jws.payload_json).get(claims_doc) != simdjson::SUCCESS ||
      claims_doc.get(claims) != simdjson::SUCCESS) {
    return refused("malformed token");
  }
  std::string_view iss;
  if (claims["iss"].get(iss) != simdjson::SUCCESS || iss != options_.issuer)
    return refused("token issuer not accepted");
  simdjson::dom::element aud;
  if (claims["aud"].get(aud) != simdjson::SUCCESS || !audience_matches(aud, options_.audience))
    return refused("token audience not accepted");
  const double t = std::chrono::duration<double>(now().time_since_epoch()).count();
  const double skew = static_cast<double>(options_.clock_skew.count());
  double exp = 0;
  if (!numeric_date(claims, "exp", exp)) return refused("token has no expiry");
  if (t >= exp + skew) return refused("token expired");
  double nbf = 0;
  if (numeric_date(claims, "nbf", nbf) && t < nbf - skew) return refused("token not yet valid");
  std::string_view sub;
  if (claims["sub"].get(sub) != simdjson::SUCCESS || sub.empty())
    return refused("token has no subject");

  TokenCheck ok;
  ok.valid = true;
  ok.subject = std::string(sub);
  ok.roles = options_.roles.roles_from(claims_doc);
  return ok;
}

}  // namespace mozaiek::auth
