// The alert feed over HTTP, for the console and other readers:
//
//   GET /api/alerts?limit=N  recent alerts, newest first, with status and actions
//   GET /api/alerts/stream   Server-Sent Events: `alert` for each new or re-raised
//                            alert, `action` (the action record) for each action
//
// Both are reads of personal data: a list read leaves one audit record
// (its filter and how many alerts it returned) before the answer; a stream
// leaves one when it opens (before any event is sent) and one when it
// closes (how many events it sent). No audit record, no alerts: a list read
// whose record cannot be written is 503, a stream that cannot be audited
// is not opened.
//
// Handlers run on the server's pool threads and only read the feed, which
// is thread-safe.
#pragma once

#include <memory>
#include <stdexcept>

#include "connectors/http/api/alert_feed.h"
#include "connectors/http/api/audit.h"
#include "connectors/http/http_server.h"

namespace mozaiek {

// The roles an alert read acts under. The feed holds investigation alerts
// only; care-purpose alerts stay on mozaiek.alerts.care, for the care role.
inline constexpr std::initializer_list<std::string_view> kAlertReaderRoles = {role::kAnalyst};

// Thrown by open_alert_stream() when the opening cannot be audited: the
// server then answers with an error and opens nothing.
class AuditUnavailable : public StreamRefused {
 public:
  explicit AuditUnavailable(const std::string& message) : StreamRefused(503, message) {}
};

// GET /api/alerts, audited through `log`.
HttpResponse list_alerts(const AlertFeed& feed, AuditLog& log, const Clock& clock,
                         const HttpRequest& req);

// GET /api/alerts/stream: the stream of `req`, its opening audited (throws
// AuditUnavailable when that fails); its closing is audited when the
// stream is destroyed.
std::unique_ptr<EventStream> open_alert_stream(const AlertFeed& feed, AuditLog& log,
                                               const Clock& clock, const HttpRequest& req);

}  // namespace mozaiek
