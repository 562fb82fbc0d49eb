#include "operators/records/alert_withdrawal.h"

#include <simdjson.h>

#include "operators/records/subject_router.h"
#include "stream/json_writer.h"

namespace mozaiek {

void write_withdrawal_json(const AlertWithdrawal& w, std::string& out) {
  JsonWriter j(out);
  j.begin_object();
  if (w.per_alert()) {
    j.key("schema").string(kAlertWithdrawalSchemaV2);
    j.key("alert_id").string(w.alert_id);
    j.key("rule").string(w.rule);
    if (!w.reissued_as.empty()) j.key("reissued_as").string(w.reissued_as);
  } else {
    j.key("schema").string(kAlertWithdrawalSchema);
    j.key("subject").begin_object();
    j.key("type").string(to_string(w.subject_type));
    j.key("key").string(w.subject_key);
    j.end_object();
  }
  j.key("reason").string(w.reason);
  j.key("at").string(format_rfc3339(w.at));
  j.end_object();
}

bool read_withdrawal_json(std::string_view json, AlertWithdrawal& out) {
  // Cheap refusal of the common case, an alert, before parsing.
  if (json.find("mozaiek.alert-withdrawal/") == std::string_view::npos) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::object doc;
  std::string_view schema, reason, at;
  if (parser.parse(padded).get(doc) || doc["schema"].get(schema) || doc["reason"].get(reason)) {
    return false;
  }
  out = AlertWithdrawal{};
  if (schema == kAlertWithdrawalSchemaV2) {
    std::string_view id, rule, reissued;
    if (doc["alert_id"].get(id) || id.empty()) return false;
    out.alert_id.assign(id);
    if (doc["rule"].get(rule) == simdjson::SUCCESS) out.rule.assign(rule);
    if (doc["reissued_as"].get(reissued) == simdjson::SUCCESS) out.reissued_as.assign(reissued);
  } else if (schema == kAlertWithdrawalSchema) {
    std::string_view type, key;
    if (doc["subject"]["type"].get(type) || doc["subject"]["key"].get(key) || key.empty()) {
      return false;
    }
    auto t = subject_type_from(type);
    if (!t) return false;
    out.subject_type = *t;
    out.subject_key.assign(key);
  } else {
    return false;
  }
  out.reason.assign(reason);
  if (doc["at"].get(at) == simdjson::SUCCESS) {
    if (auto parsed = parse_rfc3339(at)) out.at = ProcTime{Millis{to_ms(*parsed)}};
  }
  return true;
}

void withdrawal_key(const AlertWithdrawal& w, std::string& out) {
  if (w.per_alert()) {
    out = w.alert_id;
    return;
  }
  routing_key(w.subject_type, w.subject_key, out);
}

}  // namespace mozaiek
