// The alert feed over HTTP, for the console and other readers:
//
//   GET /api/alerts?limit=N  recent alerts, newest first, with status and actions
//   GET /api/alerts/stream   Server-Sent Events: `alert` for each new or re-raised
//                            alert, `action` (the action record) for each action
//
// Handlers run on the server's pool threads and only read the feed, which
// is thread-safe.
#pragma once

#include "connectors/http/api/alert_feed.h"
#include "connectors/http/http_server.h"

namespace mozaiek {

// Adds both routes to `server`; `feed` is borrowed and must outlive it.
void add_alert_feed_routes(HttpServer& server, AlertFeed& feed);

}  // namespace mozaiek
