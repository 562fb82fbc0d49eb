#include "connectors/http/auth/authenticator.h"

#include <filesystem>

#include "connectors/http/http_server.h"

namespace mozaiek::auth {
namespace {

AccessDecision unauthenticated(std::string reason) {
  AccessDecision d;
  d.status = 401;
  d.reason = std::move(reason);
  return d;
}

// "Bearer <token>" (scheme case-insensitive, RFC 6750); false for any other
// scheme or an empty token.
bool bearer_token(const std::string& header, std::string_view& token) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return false;
  }
  token = std::string_view(header).substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return !token.empty();
}

}  // namespace

Authenticator::Authenticator(std::unique_ptr<OidcVerifier> oidc, SubjectMap mtls)
    : oidc_(std::move(oidc)), mtls_(std::move(mtls)) {}

Status Authenticator::fetch_keys() { return oidc_ ? oidc_->refresh() : Status::ok(); }

AccessDecision Authenticator::identify(const HttpRequest& request) const {
  const std::string authorization = request.header("Authorization");
  if (!authorization.empty()) {
    std::string_view token;
    if (!bearer_token(authorization, token))
      return unauthenticated("only Bearer tokens are accepted");
    if (!oidc_) return unauthenticated("bearer tokens are not accepted here");
    TokenCheck t = oidc_->verify(token);
    if (!t.valid) return unauthenticated("invalid bearer token: " + t.reason);
    AccessDecision d;
    d.status = 200;
    d.principal.name = std::move(t.subject);
    d.principal.roles = std::move(t.roles);
    d.principal.via = "oidc";
    return d;
  }
  if (!request.client_subject.empty()) {
    const MtlsPrincipal* p = mtls_.find(request.client_subject);
    if (p == nullptr) return unauthenticated("client certificate not accepted");
    AccessDecision d;
    d.status = 200;
    d.principal.name = p->name;
    d.principal.roles = p->roles;
    d.principal.via = "mtls";
    return d;
  }
  return unauthenticated("authentication required");
}

AccessDecision Authenticator::check(const HttpRequest& request, const Roles& roles) const {
  if (roles.is_public()) {
    AccessDecision d;
    d.status = 200;
    return d;
  }
  AccessDecision d = identify(request);
  if (d.status != 200) return d;
  if (roles.any_of().empty()) return d;  // any authenticated principal
  for (const auto& r : roles.any_of()) {
    if (d.principal.has_role(r)) return d;
  }
  d.status = 403;
  if (roles.any_of().size() == 1) {
    d.reason = "needs role " + roles.any_of().front();
  } else {
    d.reason = "needs one of the roles";
    for (std::size_t i = 0; i < roles.any_of().size(); ++i)
      d.reason += (i ? ", " : " ") + roles.any_of()[i];
  }
  return d;
}

Status make_authenticator(const AuthSettings& settings, const std::string& config_dir,
                          std::unique_ptr<Authenticator>& out) {
  if (!settings.any_identity()) {
    return Status::error(
        "service.auth.oidc.issuer: not set, and service.auth.mtls.principals is empty: nobody "
        "could use the API. Configure an OpenID Connect provider (service.auth.oidc.issuer, "
        ".audience) or client certificates (service.auth.mtls.principals); see the README's "
        "\"Access control\"");
  }
  std::unique_ptr<OidcVerifier> verifier;
  if (settings.oidc_enabled()) {
    if (Status s = check_provider_url("service.auth.oidc.issuer", settings.oidc.issuer); !s)
      return s;
    std::string ca_file = settings.oidc.ca_file;
    if (!ca_file.empty()) {
      std::filesystem::path p(ca_file);
      if (p.is_relative() && !config_dir.empty()) p = std::filesystem::path(config_dir) / p;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(p, ec))
        return Status::error("service.auth.oidc.ca_file: cannot read '" + p.string() + "'");
      ca_file = p.string();
    }
    OidcOptions o;
    o.issuer = settings.oidc.issuer;
    o.audience = settings.oidc.audience;
    o.roles.claim = settings.oidc.roles_claim;
    o.roles.role_map = settings.oidc.role_map;
    o.clock_skew = std::chrono::seconds(settings.oidc.clock_skew_seconds);
    verifier = std::make_unique<OidcVerifier>(
        std::move(o), std::make_unique<HttpKeyFetcher>(settings.oidc.issuer, ca_file));
  }
  out = std::make_unique<Authenticator>(std::move(verifier), SubjectMap(settings.mtls_principals));
  return Status::ok();
}

}  // namespace mozaiek::auth
