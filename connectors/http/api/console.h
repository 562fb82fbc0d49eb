// The analysts' web console: the static files of connectors/http/api/console/
// (index.html, console.js, console.css, favicon.svg), embedded into the
// binary at build time (CMake generates console_files.h from them), served
// at `/` (index.html) and `/console/<name>` by the routes
// add_console_routes() adds to an HttpServer.
//
// Every answer carries a strict Content-Security-Policy (scripts, styles and
// connections from the service's own origin only, no inline script), a
// content type by file extension, `Cache-Control: no-cache` and an ETag, so
// browsers revalidate and a new binary's console is picked up at once.
// Stateless and thread-safe.
#pragma once

#include <string_view>

#include "connectors/http/http_server.h"

namespace mozaiek {

inline constexpr std::string_view kConsoleCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// The content type of an asset by its extension ("application/octet-stream"
// for anything else).
std::string_view console_content_type(std::string_view name);

// Answers GET of asset `name` ("index.html" for `/`): 200 with the file,
// 304 when `if_none_match` is its ETag, 404 for unknown names.
HttpResponse serve_console_file(std::string_view name, std::string_view if_none_match);

// Adds GET `/` and GET `/console/<name>` to `server`.
void add_console_routes(HttpServer& server);

}  // namespace mozaiek
