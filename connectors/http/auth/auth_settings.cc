#include "connectors/http/auth/auth_settings.h"

#include "connectors/http/auth/oidc_verifier.h"

namespace mozaiek::auth {
namespace {

std::string check_role(const std::string& r) {
  if (is_known_role(r)) return "";
  return "'" + r + "' is not a mozaiek role" + config::did_you_mean(r, known_roles());
}

std::string check_roles_claim(const std::string& c) {
  if (c.empty() || c.front() == '.' || c.back() == '.' || c.find("..") != std::string::npos)
    return "must be a claim name or a dotted path such as realm_access.roles";
  return "";
}

void parse_role_map(const YAML::Node& v, const std::string& path, OidcSettings& out,
                    std::vector<std::string>& errors) {
  if (v.IsNull()) return;
  if (!v.IsMap()) {
    config::add_error(errors, path, "must be a map from claim values to lists of roles", v);
    return;
  }
  std::map<std::string, std::vector<std::string>, std::less<>> map;
  for (const auto& kv : v) {
    const std::string value = kv.first.Scalar();
    const std::string key_path = path + "[\"" + value + "\"]";
    std::vector<std::string> roles;
    if (kv.second.IsScalar()) {
      roles.push_back(kv.second.Scalar());
    } else if (kv.second.IsSequence()) {
      for (const auto& r : kv.second) {
        if (!r.IsScalar()) {
          config::add_error(errors, key_path, "roles must be strings", r);
          return;
        }
        roles.push_back(r.Scalar());
      }
    } else {
      config::add_error(errors, key_path, "must be a role or a list of roles", kv.second);
      continue;
    }
    for (const auto& r : roles) {
      if (std::string msg = check_role(r); !msg.empty())
        config::add_error(errors, key_path, msg, kv.second);
    }
    map[value] = std::move(roles);
  }
  out.role_map = std::move(map);
}

config::Section<OidcSettings> oidc_section() {
  config::Section<OidcSettings> s(
      "service.auth.oidc",
      "OpenID Connect: bearer tokens (JWTs) of one issuer, verified against its published keys.");
  s.text("issuer", &OidcSettings::issuer,
         "The provider's issuer URL, exactly as in its tokens' `iss`; its keys are found "
         "through <issuer>/.well-known/openid-configuration. https, or http to a loopback "
         "provider only. Empty: no bearer tokens.",
         [](const std::string& v) -> std::string {
           if (v.empty()) return "";
           Status s = check_provider_url("issuer", v);
           return s ? "" : s.message().substr(std::string("issuer: ").size());
         });
  s.text("audience", &OidcSettings::audience,
         "The value mozaiek requires in the tokens' `aud` (a string or an array).",
         config::check_not_empty, "non-empty");
  s.text("roles_claim", &OidcSettings::roles_claim,
         "The claim holding the caller's roles or groups; a dotted path reaches into objects "
         "(realm_access.roles, resource_access.mozaiek.roles).",
         check_roles_claim);
  s.custom({"role_map", "map", "", "{}", "values: roles of the role table",
            "Claim value -> mozaiek role(s), e.g. \"/politie/tfmm\": [analyst]. Empty: claim "
            "values that are mozaiek role names are taken as they are. Non-empty: only mapped "
            "values count."},
           parse_role_map);
  s.integer("clock_skew_seconds", &OidcSettings::clock_skew_seconds, config::between(0, 600),
            "Leeway for `exp` and `nbf` against this machine's clock.", "seconds");
  s.text("console_client_id", &OidcSettings::console_client_id,
         "The public client the web console logs in with (authorisation code + PKCE).",
         config::check_not_empty, "non-empty");
  s.list("console_scopes", &OidcSettings::console_scopes,
         "Scopes the console asks for when it logs in.");
  s.text("ca_file", &OidcSettings::ca_file,
         "PEM file of the CA(s) that sign the provider's https certificate, relative to this "
         "config file. Empty: the system's CAs.");
  return s;
}

void parse_principals(const YAML::Node& v, const std::string& path, AuthSettings& out,
                      std::vector<std::string>& errors) {
  if (v.IsNull()) return;
  if (!v.IsSequence()) {
    config::add_error(errors, path, "must be a list of {subject, name, roles}", v);
    return;
  }
  std::vector<MtlsPrincipal> principals;
  std::size_t i = 0;
  for (const auto& item : v) {
    const std::string item_path = config::index_path(path, i++);
    config::Section<MtlsPrincipal> s("service.auth.mtls.principals[]", "");
    s.text("subject", &MtlsPrincipal::subject, "", config::check_not_empty).required();
    s.text("name", &MtlsPrincipal::name, "", config::check_not_empty).required();
    s.list("roles", &MtlsPrincipal::roles, "", check_role).required();
    MtlsPrincipal p;
    if (!s.parse(item, item_path, p, errors)) continue;
    for (const auto& seen : principals) {
      if (seen.subject == p.subject)
        config::add_error(errors, item_path + ".subject", "'" + p.subject + "' is listed twice",
                          item);
    }
    principals.push_back(std::move(p));
  }
  out.mtls_principals = std::move(principals);
}

config::Section<AuthSettings> mtls_section() {
  config::Section<AuthSettings> s(
      "service.auth.mtls",
      "Mutual TLS: machine clients known by their verified client certificate's subject "
      "(needs service.tls with a client CA).");
  s.custom({"principals", "list of maps", "", "[]", "",
            "Each {subject, name, roles}: the certificate subject in OpenSSL's one-line form "
            "(\"/O=Politie/CN=prometheus\"), the principal name for audit records and its "
            "roles."},
           parse_principals);
  return s;
}

config::Section<AuthSettings> auth_section() {
  config::Section<AuthSettings> s(
      "service.auth", "Who may call the HTTP API. `mozaiek run` refuses to start when neither "
                      "oidc.issuer nor mtls.principals is set.");
  s.custom({"oidc", "map", "", "", "", "OpenID Connect bearer tokens; see `service.auth.oidc`."},
           [](const YAML::Node& v, const std::string& path, AuthSettings& out,
              std::vector<std::string>& errors) {
             oidc_section().parse(v, path, out.oidc, errors);
           });
  s.custom({"mtls", "map", "", "", "", "Client certificates; see `service.auth.mtls`."},
           [](const YAML::Node& v, const std::string& path, AuthSettings& out,
              std::vector<std::string>& errors) { mtls_section().parse(v, path, out, errors); });
  return s;
}

}  // namespace

void parse_auth_settings(const YAML::Node& node, const std::string& path, AuthSettings& out,
                         std::vector<std::string>& errors) {
  auth_section().parse(node, path, out, errors);
}

std::vector<config::SectionDoc> auth_settings_docs() {
  return {auth_section().doc(), oidc_section().doc(), mtls_section().doc()};
}

}  // namespace mozaiek::auth
