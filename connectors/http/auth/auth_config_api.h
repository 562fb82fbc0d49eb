// GET /api/auth/config: what the web console needs to log in (issuer,
// client id, audience, scopes). Public by design: it holds no secret, and
// the console reads it before anyone is logged in. The server engineer
// registers it with Roles::anyone().
#pragma once

#include "connectors/http/auth/auth_settings.h"
#include "connectors/http/http_server.h"

namespace mozaiek::auth {

inline constexpr const char* kAuthConfigPath = "/api/auth/config";

// {"oidc": {"issuer", "client_id", "audience", "scopes": [...]} or null,
//  "mtls": true|false}
HttpResponse auth_config_response(const AuthSettings& settings);

// A handler answering auth_config_response() for a copy of `settings`.
HttpHandler auth_config_route(const AuthSettings& settings);

}  // namespace mozaiek::auth
