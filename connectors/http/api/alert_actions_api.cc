#include "connectors/http/api/alert_actions_api.h"

#include <openssl/rand.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "connectors/http/api/audit.h"
#include "operators/erasure/erasure_request.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

constexpr std::size_t kMaxAlertId = 256;

HttpResponse bad_field(int status, std::string_view field, std::string_view message) {
  HttpResponse r;
  r.status = status;
  JsonWriter w(r.body);
  w.begin_object();
  w.key("error").string(std::string(field) + ": " + std::string(message));
  w.key("field").string(field);
  w.end_object();
  return r;
}

}  // namespace

AlertActionProbe::AlertActionProbe(prometheus::Registry& registry) {
  auto& family = prometheus::BuildCounter()
                     .Name("mozaiek_alert_actions_total")
                     .Help("Alert actions written to the alert-actions topic through this "
                           "instance's API, by action.")
                     .Register(registry);
  for (std::size_t i = 0; i < kActionKindCount; ++i) {
    actions_[i] = &family.Add({{"action", std::string(to_string(static_cast<ActionKind>(i)))}});
  }
}

void AlertActionProbe::record_action(ActionKind kind) {
  actions_[static_cast<std::size_t>(kind)]->Increment();
}

std::string new_action_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(2 * sizeof bytes);
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xf]);
  }
  return id;
}

AlertActionsApi::AlertActionsApi(AlertFeed& feed, std::string topic, std::string audit_topic,
                                 SinkFactory make_sink, const Clock& clock, AlertActionProbe& probe,
                                 Millis flush_timeout)
    : feed_(feed),
      topic_(std::move(topic)),
      audit_topic_(std::move(audit_topic)),
      producer_(std::move(make_sink)),
      clock_(clock),
      probe_(probe),
      flush_timeout_(flush_timeout) {}

HttpResponse AlertActionsApi::handle(const HttpRequest& req) {
  if (req.principal.name.empty()) return json_error(401, "authentication required");
  if (req.matches.size() < 2) return json_error(404, "use /api/alerts/<alert_id>/actions");
  AlertAction action;
  action.alert_id = req.matches[1];
  if (action.alert_id.empty() || action.alert_id.size() > kMaxAlertId) {
    return bad_field(400, "alert_id", "1 to 256 characters");
  }
  if (req.principal.name.size() > kMaxAuditUserChars) {
    return bad_field(400, "principal", "a name of at most 128 characters");
  }
  action.user = req.principal.name;
  ActionBody body;
  if (auto bad = parse_action_body(req.body, body)) return bad_field(400, bad->field, bad->message);
  if (!feed_.contains(action.alert_id)) {
    return json_error(404, "no such alert in this service's feed");
  }
  action.action = body.action;
  action.reason = std::move(body.reason);
  action.action_id = new_action_id();
  if (action.action_id.empty()) return json_error(503, "no random action id available");
  action.at = clock_.now();

  HttpResponse r;
  r.status = 202;
  write_action_json(action, r.body);
  AuditRecord audit = audit_record(req, audit_action::kAlertAction, kAlertActorRoles, action.at);
  audit.status = r.status;
  audit.alert_id = action.alert_id;
  audit.alert_action = std::string(to_string(action.action));
  audit.reason = action.reason;
  std::string audit_json;
  write_audit_json(audit, audit_json);
  if (Status s = write(action, r.body, audit_json); !s) {
    spdlog::error("alert action {} on alert {} not written: {}", to_string(action.action),
                  action.alert_id, s.message());
    return json_error(503, "the action could not be written; try again");
  }
  probe_.record_action(action.action);
  feed_.apply(action);
  spdlog::info("alert action {} on alert {}", to_string(action.action), action.alert_id);
  return r;
}

Status AlertActionsApi::write(const AlertAction& action, const std::string& record,
                              const std::string& audit) {
  return producer_.write([&](RecordSink& sink) {
    Status s = sink.produce(topic_, action.alert_id, record);
    if (s) s = sink.produce(audit_topic_, action.user, audit);
    if (s) s = sink.flush(flush_timeout_);
    return s;
  });
}

}  // namespace mozaiek
