#include "connectors/http/api/erasure_api.h"

#include <spdlog/spdlog.h>

#include "connectors/http/api/audit.h"
#include "operators/records/erasure_record.h"
#include "operators/records/subject_router.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

HttpResponse answer(int status, std::string_view field, std::string_view message) {
  HttpResponse r;
  r.status = status;
  JsonWriter w(r.body);
  w.begin_object();
  w.key("error").string(message);
  if (!field.empty()) w.key("field").string(field);
  w.end_object();
  return r;
}

AuditRecord erasure_audit(const ErasureRequest& request, const AuditRecord& by, ProcTime at) {
  AuditRecord r = by;
  r.action = std::string(audit_action::kErasure);
  r.subject = AuditSubject{request.type, request.key};
  r.reason = request.reason;
  r.status = 202;
  r.at = at;
  return r;
}

}  // namespace

AuditRecord cli_erasure_requester(const ErasureRequest& request) {
  AuditRecord r;
  r.principal = request.user;
  r.via = "cli";
  r.method = "CLI";
  r.route = "mozaiek erase";
  return r;
}

void write_erasure_audit_json(const ErasureRequest& request, const AuditRecord& by, ProcTime at,
                              std::string& out) {
  write_audit_json(erasure_audit(request, by, at), out);
}

Status write_erasure_request(RecordSink& sink, const ErasureTopics& topics,
                             const ErasureRequest& request, const AuditRecord& by, ProcTime now,
                             Millis flush_timeout) {
  std::string key, value;
  encode_erasure(ErasureRecord{request.type, request.key, now}, value);
  routing_key(request.type, request.key, key);
  if (Status s = sink.produce(topics.subjects, key, value); !s) return s;
  if (Status s = write_audit(sink, topics.audit, erasure_audit(request, by, now), value); !s) {
    return s;
  }
  return sink.flush(flush_timeout);
}

ErasureApi::ErasureApi(SinkFactory make_sink, ErasureTopics topics,
                       const Pseudonymiser& pseudonymiser, const Clock& clock)
    : producer_(std::move(make_sink)),
      topics_(std::move(topics)),
      pseudonymiser_(pseudonymiser),
      clock_(clock) {}

HttpResponse ErasureApi::handle(const HttpRequest& req) {
  if (req.principal.name.empty()) return answer(401, "", "authentication required");
  ErasureRequest request;
  if (auto bad = parse_erasure_json(req.body, req.principal.name, pseudonymiser_, request)) {
    return answer(400, bad->field, bad->field + " " + bad->message);
  }
  const AuditRecord by = audit_record(req, audit_action::kErasure, kErasureRoles, ProcTime{});
  const Status written = producer_.write([&](RecordSink& sink) {
    return write_erasure_request(sink, topics_, request, by, clock_.now(), seconds(10));
  });
  if (!written) {
    spdlog::error("erasure request of a {} not written: {}", to_string(request.type),
                  written.message());
    return answer(503, "", "the erasure request could not be written; nothing was erased");
  }
  spdlog::info("erasure request written for a {}", to_string(request.type));
  HttpResponse r;
  r.status = 202;
  JsonWriter w(r.body);
  w.begin_object();
  w.key("status").string("accepted");
  w.key("entity").begin_object();
  w.key("type").string(to_string(request.type));
  // Never a person's pseudonym: answered for a raw id it would make this
  // endpoint a lookup of pseudonyms. A plate or location id is what was sent.
  if (request.type != SubjectType::person) w.key("key").string(request.key);
  w.end_object();
  w.end_object();
  return r;
}

}  // namespace mozaiek
