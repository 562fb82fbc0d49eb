#include "operators/records/alert_withdrawal.h"

#include <simdjson.h>

#include "stream/json_writer.h"

namespace mozaiek {

void write_withdrawal_json(const AlertWithdrawal& w, std::string& out) {
  JsonWriter j(out);
  j.begin_object();
  j.key("schema").string(kAlertWithdrawalSchema);
  j.key("subject").begin_object();
  j.key("type").string(to_string(w.subject_type));
  j.key("key").string(w.subject_key);
  j.end_object();
  j.key("reason").string(w.reason);
  j.key("at").string(format_rfc3339(w.at));
  j.end_object();
}

bool read_withdrawal_json(std::string_view json, AlertWithdrawal& out) {
  // Cheap refusal of the common case, an alert, before parsing.
  if (json.find(kAlertWithdrawalSchema) == std::string_view::npos) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::object doc;
  std::string_view schema, type, key, reason, at;
  if (parser.parse(padded).get(doc) || doc["schema"].get(schema) ||
      schema != kAlertWithdrawalSchema || doc["subject"]["type"].get(type) ||
      doc["subject"]["key"].get(key) || key.empty() || doc["reason"].get(reason)) {
    return false;
  }
  auto t = subject_type_from(type);
  if (!t) return false;
  out.subject_type = *t;
  out.subject_key.assign(key);
  out.reason.assign(reason);
  out.at = ProcTime{};
  if (doc["at"].get(at) == simdjson::SUCCESS) {
    if (auto parsed = parse_rfc3339(at)) out.at = ProcTime{Millis{to_ms(*parsed)}};
  }
  return true;
}

}  // namespace mozaiek
