#include "connectors/http/auth/auth_config_api.h"

#include <string>

namespace mozaiek::auth {
namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

HttpResponse auth_config_response(const AuthSettings& settings) {
  std::string body = "{\"oidc\":";
  if (settings.oidc_enabled()) {
    body += "{\"issuer\":";
    append_json_string(body, settings.oidc.issuer);
    body += ",\"client_id\":";
    append_json_string(body, settings.oidc.console_client_id);
    body += ",\"audience\":";
    append_json_string(body, settings.oidc.audience);
    body += ",\"scopes\":[";
    for (std::size_t i = 0; i < settings.oidc.console_scopes.size(); ++i) {
      if (i) body += ',';
      append_json_string(body, settings.oidc.console_scopes[i]);
    }
    body += "]}";
  } else {
    body += "null";
  }
  body += ",\"mtls\":";
  body += settings.mtls_principals.empty() ? "false" : "true";
  body += '}';
  HttpResponse r;
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

HttpHandler auth_config_route(const AuthSettings& settings) {
  return [settings](const HttpRequest&) { return auth_config_response(settings); };
}

}  // namespace mozaiek::auth
