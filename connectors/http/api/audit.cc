#include "connectors/http/api/audit.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "connectors/http/api/record_reader.h"
#include "operators/intake/pseudonymiser.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

constexpr std::string_view kPersonRoute = "/api/entities/person/";
// Bound on a principal read back from the audit topic.
constexpr std::size_t kMaxPrincipalBytes = 1024;

std::string_view key_of(const AuditRecord& r) {
  return r.principal.empty() ? kUnauthenticated : std::string_view(r.principal);
}

}  // namespace

void write_audit_json(const AuditRecord& r, std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema").string(kAuditSchema);
  w.key("at").timestamp(to_ms(r.at));
  w.key("principal").string(r.principal);
  w.key("via").string(r.via);
  w.key("role").string(r.role);
  w.key("action").string(r.action);
  w.key("method").string(r.method);
  w.key("route").string(r.route);
  w.key("status").integer(r.status);
  if (!r.reason.empty()) w.key("reason").string(r.reason);
  if (r.subject) {
    w.key("subject").begin_object();
    w.key("type").string(to_string(r.subject->type));
    w.key("key").string(r.subject->key);
    w.end_object();
  }
  if (!r.about_principal.empty()) w.key("about_principal").string(r.about_principal);
  if (!r.query.empty()) {
    w.key("query").begin_object();
    for (const auto& [k, v] : r.query) w.key(k).string(v);
    w.end_object();
  }
  if (r.count) w.key("count").integer(static_cast<std::int64_t>(*r.count));
  if (!r.alert_id.empty()) w.key("alert_id").string(r.alert_id);
  if (!r.alert_action.empty()) w.key("alert_action").string(r.alert_action);
  if (r.found) w.key("found").boolean(*r.found);
  w.end_object();
}

bool read_audit_keys(std::string_view json, AuditKeys& out, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!open_record(parser, json, kAuditSchema, doc, error) ||
      !read_text(doc, "principal", kMaxPrincipalBytes, true, out.principal, error)) {
    return false;
  }
  out.subject.reset();
  simdjson::dom::element subject;
  if (!doc["subject"].get(subject)) {
    std::string_view type, key;
    std::optional<SubjectType> t;
    if (subject["type"].get(type) || !(t = subject_type_from(type))) {
      error = "subject.type";
      return false;
    }
    if (subject["key"].get(key)) {
      error = "subject.key";
      return false;
    }
    out.subject = AuditSubject{*t, std::string(key)};
  }
  return true;
}

std::string acting_role(const Principal& principal,
                        std::initializer_list<std::string_view> route_roles) {
  for (auto r : route_roles) {
    if (principal.has_role(r)) return std::string(r);
  }
  return {};
}

std::string audited_path(const HttpRequest& request) {
  const std::string& path = request.path;
  if (path.compare(0, kPersonRoute.size(), kPersonRoute) == 0 &&
      !is_pseudonym(std::string_view(path).substr(kPersonRoute.size()))) {
    return std::string(kPersonRoute) + "(not a pseudonym)";
  }
  return path;
}

AuditRecord audit_record(const HttpRequest& request, std::string_view action,
                         std::initializer_list<std::string_view> route_roles, ProcTime at) {
  AuditRecord r;
  r.principal = request.principal.name;
  r.via = request.principal.via;
  r.role = acting_role(request.principal, route_roles);
  r.action = std::string(action);
  r.method = request.method;
  r.route = audited_path(request);
  r.at = at;
  return r;
}

Status write_audit(RecordSink& sink, const std::string& audit_topic, const AuditRecord& record,
                   std::string& scratch) {
  scratch.clear();
  write_audit_json(record, scratch);
  return sink.produce(audit_topic, key_of(record), scratch);
}

AuditLog::AuditLog(std::string topic, RequestProducer::SinkFactory make_sink, Millis flush_timeout)
    : topic_(std::move(topic)), producer_(std::move(make_sink)), flush_timeout_(flush_timeout) {}

Status AuditLog::write(const AuditRecord& record) {
  std::string json;
  write_audit_json(record, json);
  Status s = producer_.write([&](RecordSink& sink) {
    Status p = sink.produce(topic_, key_of(record), json);
    return p ? sink.flush(flush_timeout_) : p;
  });
  if (!s) spdlog::error("audit: {} record not written: {}", record.action, s.message());
  return s;
}

HttpResponse refuse_unauthenticated(AuditLog& log, const HttpRequest& request, const Clock& clock) {
  AuditRecord r = audit_record(request, audit_action::kDenied, {}, clock.now());
  r.status = 401;
  r.reason = "no authenticated principal";
  (void)log.write(r);  // a refusal carries no data; a failed write is logged
  return json_error(401, "authentication required");
}

DenialObserver audit_denials(AuditLog& log, const Clock& clock) {
  return [&log, &clock](const HttpRequest& request, const Roles&, const AccessDecision& decision) {
    AuditRecord r;
    if (decision.status != 401) {
      r.principal = decision.principal.name;
      r.via = decision.principal.via;
    }
    r.action = std::string(audit_action::kDenied);
    r.method = request.method;
    r.route = audited_path(request);
    r.status = decision.status;
    r.at = clock.now();
    r.reason = decision.reason;
    (void)log.write(r);
  };
}

}  // namespace mozaiek
