#include "connectors/http/api/audit.h"

#include "stream/json_writer.h"

namespace mozaiek {

std::optional<std::string> request_user(const HttpRequest& req) {
  std::string user = req.header(kUserHeader);
  if (user.empty() || user.size() > kMaxAuditUserChars) return std::nullopt;
  return user;
}

void write_audit_json(const AuditEntry& entry, std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema").string(kAuditSchema);
  w.key("user").string(entry.user);
  w.key("action").string(entry.action);
  w.key("entity").begin_object();
  w.key("type").string(to_string(entry.type));
  w.key("key").string(entry.key);
  w.end_object();
  w.key("at").timestamp(to_ms(entry.at));
  w.key("reason").string(entry.reason);
  if (entry.found) w.key("found").boolean(*entry.found);
  w.end_object();
}

Status write_audit(RecordSink& sink, const std::string& audit_topic, const AuditEntry& entry,
                   std::string& scratch) {
  scratch.clear();
  write_audit_json(entry, scratch);
  return sink.produce(audit_topic, entry.user, scratch);
}

}  // namespace mozaiek
