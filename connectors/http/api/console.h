// The analysts' web console: the static files of connectors/http/api/console/
// (index.html, console.js, console.css, favicon.svg), embedded into the
// binary at build time (CMake generates console_files.h from them), served
// at `/` (index.html) and `/console/<name>` by the routes
// add_console_routes() adds to an HttpServer.
//
// Every answer carries a strict Content-Security-Policy (scripts, styles and
// connections from the service's own origin only, no inline script; with an
// OpenID Connect provider, connections to the issuer's origin too, for the
// login's discovery and token requests), a
// content type by file extension, `Cache-Control: no-cache` and an ETag, so
// browsers revalidate and a new binary's console is picked up at once.
// Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "connectors/http/http_server.h"

namespace mozaiek {

inline constexpr std::string_view kConsoleCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// The policy with `connect-src` widened to `connect_origin` (the OpenID
// Connect issuer's scheme://host[:port]); kConsoleCsp when it is empty.
std::string console_csp(std::string_view connect_origin);

// The origin (scheme://host[:port]) of an http(s) URL, or "" when `url` is
// not one or holds a character that has no place in a policy.
std::string url_origin(std::string_view url);

// The content type of an asset by its extension ("application/octet-stream"
// for anything else).
std::string_view console_content_type(std::string_view name);

// Answers GET of asset `name` ("index.html" for `/`): 200 with the file,
// 304 when `if_none_match` is its ETag, 404 for unknown names.
// `csp` is the policy to send (kConsoleCsp unless the console logs in).
HttpResponse serve_console_file(std::string_view name, std::string_view if_none_match,
                                std::string_view csp = kConsoleCsp);

// Adds GET `/` and GET `/console/<name>` to `server`; `issuer` is the
// OpenID Connect provider the console logs in with ("" for none).
void add_console_routes(HttpServer& server, std::string_view issuer = {});

}  // namespace mozaiek
