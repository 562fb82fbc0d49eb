// AuthSettings: the `service.auth` section of the config (who may call
// mozaiek's HTTP API), its YAML parser and its reference docs. Parsed once
// at startup by load_settings() (connectors/app/settings.cc).
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "connectors/http/auth/role_mapping.h"
#include "stream/config_schema.h"

namespace mozaiek::auth {

struct OidcSettings {
  std::string issuer;  // empty: no OpenID Connect
  std::string audience = "mozaiek";
  std::string roles_claim = "roles";
  std::map<std::string, std::vector<std::string>, std::less<>> role_map;
  int clock_skew_seconds = 60;
  std::string console_client_id = "mozaiek-console";
  std::vector<std::string> console_scopes{"openid", "profile", "mozaiek"};
  std::string ca_file;  // as written; relative to the config file
};

struct AuthSettings {
  OidcSettings oidc;
  std::vector<MtlsPrincipal> mtls_principals;

  bool oidc_enabled() const { return !oidc.issuer.empty(); }
  // Whether anyone at all can authenticate.
  bool any_identity() const { return oidc_enabled() || !mtls_principals.empty(); }
};

// Parses `service.auth` (`node` may be null: the defaults, no identity).
// Errors carry the YAML path (`path` is "service.auth").
void parse_auth_settings(const YAML::Node& node, const std::string& path, AuthSettings& out,
                         std::vector<std::string>& errors);

// The reference docs of service.auth, service.auth.oidc and
// service.auth.mtls.
std::vector<config::SectionDoc> auth_settings_docs();

}  // namespace mozaiek::auth
