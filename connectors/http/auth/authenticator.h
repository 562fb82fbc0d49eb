// Authenticator: the AccessGate (connectors/http/access.h) of `mozaiek run`.
//
//   Authorization: Bearer <JWT>   -> OidcVerifier (when service.auth.oidc is set)
//   else a verified client certificate subject -> SubjectMap (service.auth.mtls)
//   else 401.
// Then 403 when the principal has none of the route's roles, naming them.
//
// A bearer token that fails is a 401 even when a client certificate is also
// present: the caller said who it is, and it did not hold. Reasons sent to
// the client name the kind of failure only, never the token, a claim value
// or whether an entity exists; nothing here logs a token.
//
// Made once at startup, then const; check() runs on the pool threads
// concurrently.
#pragma once

#include <memory>
#include <string>

#include "connectors/http/access.h"
#include "connectors/http/auth/auth_settings.h"
#include "connectors/http/auth/oidc_verifier.h"
#include "connectors/http/auth/role_mapping.h"
#include "stream/status.h"

namespace mozaiek::auth {

class Authenticator : public AccessGate {
 public:
  // `oidc` may be null (no bearer tokens accepted).
  Authenticator(std::unique_ptr<OidcVerifier> oidc, SubjectMap mtls);

  AccessDecision check(const HttpRequest& request, const Roles& roles) const override;

  // The identity of `request` alone (status 200 or 401), before any role.
  AccessDecision identify(const HttpRequest& request) const;

  const OidcVerifier* oidc() const { return oidc_.get(); }
  // Fetches the provider's keys now (OidcVerifier::refresh()); ok without OIDC.
  [[nodiscard]] Status fetch_keys();

 private:
  std::unique_ptr<OidcVerifier> oidc_;
  SubjectMap mtls_;
};

// Builds the Authenticator of `settings` (ca_file relative to
// `config_dir`): an HttpKeyFetcher for the issuer, the role mapping, the
// subject map. Fails naming service.auth.oidc.issuer when no identity is
// configured at all. Does not contact the provider (see
// OidcVerifier::refresh()).
[[nodiscard]] Status make_authenticator(const AuthSettings& settings, const std::string& config_dir,
                                        std::unique_ptr<Authenticator>& out);

}  // namespace mozaiek::auth
