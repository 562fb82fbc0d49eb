// The audit trail of what analysts look at and change, shared by the entity
// view, erasure and alert actions APIs.
//
// Who: every such request names its user in the X-Mozaiek-User header
// (request_user()). What: entity lookups and erasure requests each leave
// one mozaiek.audit/v1 record on the audit topic, keyed by the user
// (write_audit()); the caller flushes it with what it audits. Stateless and
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "connectors/http/http_server.h"
#include "operators/erasure/erasure_request.h"
#include "operators/model/model.h"
#include "stream/io.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kAuditSchema = "mozaiek.audit/v1";
inline constexpr std::string_view kUserHeader = "X-Mozaiek-User";
// The user `req` names in its X-Mozaiek-User header, 1 to 128 characters
// as the audit record allows; nullopt when it names none or the name is
// too long (each API answers 400 in its own words).
std::optional<std::string> request_user(const HttpRequest& req);

// One mozaiek.audit/v1 record: who did what to which entity, when, why;
// `found` only for lookups.
struct AuditEntry {
  std::string_view user;
  std::string_view action;  // "entity_view", "erasure"
  SubjectType type = SubjectType::person;
  std::string_view key;  // persons by pseudonym only
  ProcTime at{};
  std::string_view reason;
  std::optional<bool> found;
};
void write_audit_json(const AuditEntry& entry, std::string& out);

// Renders `entry` into `scratch` and produces it to `audit_topic` keyed by
// its user. Not flushed: the caller flushes before it answers.
[[nodiscard]] Status write_audit(RecordSink& sink, const std::string& audit_topic,
                                 const AuditEntry& entry, std::string& scratch);

}  // namespace mozaiek
