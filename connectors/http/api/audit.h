// The audit trail of every read and write of personal data through the
// API: alert list reads, live-stream subscriptions (open and close), entity
// views, alert actions, erasures, rule reads, audit read-backs and every
// refusal (401/403).
//
// Who: the authenticated principal of the request (HttpRequest::principal,
// set by the server from the access gate), never a header the caller
// writes; with the role it acted under (acting_role()). What: one
// mozaiek.audit/v2 record per request (AuditRecord, keyed by the principal
// on the audit topic), written and flushed before the answer leaves; a
// request whose record cannot be written is answered 503 without its data.
//
// AuditLog is the writer the HTTP threads share (its own producer, one
// flush per request); the entity view writes through the convergence
// task's sink instead (write_audit()). Stateless helpers are thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/http/access.h"
#include "connectors/http/api/request_producer.h"
#include "connectors/http/http_server.h"
#include "operators/model/model.h"
#include "stream/io.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kAuditSchema = "mozaiek.audit/v2";

// What an audit record is about (AuditRecord::action).
namespace audit_action {
inline constexpr std::string_view kAlertList = "alert_list";
inline constexpr std::string_view kStreamOpen = "alert_stream_open";
inline constexpr std::string_view kStreamClose = "alert_stream_close";
inline constexpr std::string_view kEntityView = "entity_view";
inline constexpr std::string_view kAlertAction = "alert_action";
inline constexpr std::string_view kErasure = "erasure";
inline constexpr std::string_view kRulesRead = "rules_read";
inline constexpr std::string_view kRulesReload = "rules_reload";  // POST /api/rules, SIGHUP
inline constexpr std::string_view kAuditRead = "audit_read";
inline constexpr std::string_view kDenied = "denied";
}  // namespace audit_action

// The audit topic key of a refusal without identity (401).
inline constexpr std::string_view kUnauthenticated = "(unauthenticated)";

struct AuditSubject {
  SubjectType type = SubjectType::person;
  std::string key;  // persons by pseudonym only
};

// One mozaiek.audit/v2 record (config/schemas/audit.v2.schema.json).
struct AuditRecord {
  std::string principal;  // empty only for a 401
  std::string via;        // "oidc", "mtls", "demo", "cli"; empty for a 401
  std::string role;       // the role it acted under; empty when it held none of the route's
  std::string action;     // audit_action::*
  std::string method;     // "GET", "POST", or "CLI"
  std::string route;      // the request path (no query)
  int status = 200;       // the answer given
  ProcTime at{};
  std::string reason;  // purpose / reason where the route asks for one; a refusal's reason
  std::optional<AuditSubject> subject;                     // entity views, erasures, read-backs
  std::string about_principal;                             // read-back by principal
  std::vector<std::pair<std::string, std::string>> query;  // alert list filter
  std::optional<std::uint64_t> count;  // alerts returned, events streamed, records read back
  std::string alert_id;                // alert actions
  std::string alert_action;            // ack, dismiss, escalate
  std::optional<bool> found;           // entity views
};

void write_audit_json(const AuditRecord& record, std::string& out);

// The fields the read-back indexes, from a v2 record; false (with the bad
// field in `error`) for anything else.
struct AuditKeys {
  std::string principal;
  std::optional<AuditSubject> subject;
};
bool read_audit_keys(std::string_view json, AuditKeys& out, std::string& error);

// The first of `route_roles` the principal holds; empty when none.
std::string acting_role(const Principal& principal,
                        std::initializer_list<std::string_view> route_roles);

// A record of `request` by its principal: principal, via, role, method,
// route (path only) and time filled; the caller adds the rest.
AuditRecord audit_record(const HttpRequest& request, std::string_view action,
                         std::initializer_list<std::string_view> route_roles, ProcTime at);

// Renders `record` into `scratch` and produces it to `audit_topic` keyed by
// its principal. Not flushed: the caller flushes before it answers.
[[nodiscard]] Status write_audit(RecordSink& sink, const std::string& audit_topic,
                                 const AuditRecord& record, std::string& scratch);

// The audit writer of the HTTP threads: produces each request's records
// and flushes once before write() returns. Thread-safe (writes serialised
// on one producer, made anew after a failure).
class AuditLog {
 public:
  AuditLog(std::string topic, RequestProducer::SinkFactory make_sink,
           Millis flush_timeout = seconds(5));
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // ok only once every record is acknowledged.
  [[nodiscard]] Status write(const AuditRecord& record);
  const std::string& topic() const { return topic_; }

 private:
  const std::string topic_;
  RequestProducer producer_;
  const Millis flush_timeout_;
};

// The answer to a request without an authenticated principal (the server
// refuses those before a protected handler runs; this is the handler's own
// guard). The refusal is audited like the server's.
HttpResponse refuse_unauthenticated(AuditLog& log, const HttpRequest& request, const Clock& clock);

// For the server to install: audits every 401 and 403 it answers (the
// principal of a 403, the route, the status and the gate's reason). A
// refusal carries no data, so a failed write is logged, not answered.
DenialObserver audit_denials(AuditLog& log, const Clock& clock);

// The request path as it may be audited: a person key that is not a
// pseudonym (a raw identifier typed into a URL) is replaced, so no raw
// identifier reaches the audit topic through a refused request.
std::string audited_path(const HttpRequest& request);

}  // namespace mozaiek
