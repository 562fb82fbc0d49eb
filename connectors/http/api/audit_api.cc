#include "connectors/http/api/audit_api.h"

#include <charconv>

#include "operators/intake/pseudonymiser.h"
#include "stream/json_writer.h"

namespace mozaiek {

std::optional<std::string> parse_audit_subject(std::string_view type, std::string_view key,
                                               AuditSubject& out) {
  const auto t = subject_type_from(type);
  if (!t) return "type must be one of: person, vehicle, location";
  if (key.empty() || key.size() > 256) return "key must be 1 to 256 characters";
  if (*t == SubjectType::person && !is_pseudonym(key)) {
    return "persons are named by pseudonym only (64 hex digits)";
  }
  out = AuditSubject{*t, std::string(key)};
  return std::nullopt;
}

std::optional<HttpResponse> parse_audit_query(const HttpRequest& req, AuditQuery& out) {
  const bool by_subject = req.params.count("type") || req.params.count("key");
  const bool by_principal = req.params.count("principal") > 0;
  if (by_subject == by_principal) {
    return json_error(400, "name either a subject (type and key) or a principal");
  }
  if (by_subject) {
    AuditSubject subject;
    if (auto bad = parse_audit_subject(req.param("type"), req.param("key"), subject)) {
      return json_error(400, *bad);
    }
    out.subject = std::move(subject);
  } else {
    out.principal = req.param("principal");
    if (out.principal.empty() || out.principal.size() > 128) {
      return json_error(400, "principal must be 1 to 128 characters");
    }
  }
  if (req.params.count("limit")) {
    const std::string limit = req.param("limit");
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), n);
    if (ec != std::errc() || end != limit.data() + limit.size() || n < 1 ||
        n > kMaxAuditReadLimit) {
      return json_error(400, "limit must be an integer from 1 to 1000");
    }
    out.limit = n;
  }
  return std::nullopt;
}

std::string audit_trail_json(const AuditQuery& query, const AuditIndex::Found& found) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  if (query.subject) {
    w.key("subject").begin_object();
    w.key("type").string(to_string(query.subject->type));
    w.key("key").string(query.subject->key);
    w.end_object();
  } else {
    w.key("principal").string(query.principal);
  }
  w.key("records").begin_array();
  w.end_array();
  out.pop_back();  // the records are JSON already: spliced in
  for (std::size_t i = 0; i < found.records.size(); ++i) {
    if (i) out += ',';
    out += found.records[i];
  }
  out += ']';
  out += ",\"more\":";
  out += found.more ? "true" : "false";
  out += '}';
  return out;
}

HttpResponse read_audit_trail(const AuditIndex& index, AuditLog& log, const Clock& clock,
                              const HttpRequest& req) {
  if (req.principal.name.empty()) return refuse_unauthenticated(log, req, clock);
  AuditRecord record = audit_record(req, audit_action::kAuditRead, kAuditReaderRoles, clock.now());
  if (record.role.empty()) {
    record.action = std::string(audit_action::kDenied);
    record.status = 403;
    record.reason = "missing role privacy_officer";
    (void)log.write(record);
    return json_error(403, "the audit trail needs the role privacy_officer");
  }
  AuditQuery query;
  if (auto bad = parse_audit_query(req, query)) return *bad;
  const AuditIndex::Found found = index.find(query);
  record.subject = query.subject;
  record.about_principal = query.principal;
  record.count = found.records.size();
  if (!log.write(record)) return json_error(503, "the audit record could not be written");
  HttpResponse r;
  r.body = audit_trail_json(query, found);
  return r;
}

}  // namespace mozaiek
