// The privacy officer's read-back of the audit trail:
//
//   GET /api/audit?type=<person|vehicle|location>&key=<key>[&limit=N]
//   GET /api/audit?principal=<name>[&limit=N]
//
// answers {"subject"|"principal", "records": [audit v2 records, newest
// first], "more": bool} from the AuditIndex (the newest records of the
// audit topic). Persons by pseudonym only. Needs the privacy_officer role
// (the server checks it; the handler refuses without it too, since this
// route shows what everyone did). The read-back is itself audited
// (action audit_read) before the answer; no audit record, no trail (503).
// Runs on HTTP pool threads.
#pragma once

#include <optional>
#include <string>

#include "connectors/http/api/audit.h"
#include "connectors/http/api/audit_index.h"
#include "connectors/http/http_server.h"

namespace mozaiek {

inline constexpr std::initializer_list<std::string_view> kAuditReaderRoles = {
    role::kPrivacyOfficer};
inline constexpr std::size_t kMaxAuditReadLimit = 1000;

// A subject as the read-back names it: persons only by pseudonym. Returns
// the error message, or nullopt with `out` filled.
std::optional<std::string> parse_audit_subject(std::string_view type, std::string_view key,
                                               AuditSubject& out);

// The query of a read-back request; the 400 answer when it is not one.
std::optional<HttpResponse> parse_audit_query(const HttpRequest& req, AuditQuery& out);

// GET /api/audit.
HttpResponse read_audit_trail(const AuditIndex& index, AuditLog& log, const Clock& clock,
                              const HttpRequest& req);

// The answer's body for `query` and what was found.
std::string audit_trail_json(const AuditQuery& query, const AuditIndex::Found& found);

}  // namespace mozaiek
