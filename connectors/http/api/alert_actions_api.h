// POST /api/alerts/<alert_id>/actions: an analyst acknowledges, dismisses
// or escalates an alert.
//
// By an authenticated principal (the action record's user), body
// {"action": "ack" | "dismiss" | "escalate", "reason": "..."}. The action
// record v1 is written to the alert-actions topic (key: the alert id) and
// its mozaiek.audit/v2 record to the audit topic (key: the principal), both
// flushed before the answer: 202 with the record; 400 naming the bad field;
// 404 for an alert the feed does not hold; 503 when the topic cannot be
// written. Once written, the action is applied to the feed at once; the
// alert-topics reader applies it again from the topic (a no-op here, the
// status on every other instance).
//
// handle() runs on HTTP pool threads; writes are serialised on one
// producer, which is recreated after a failed delivery (the failure of a
// KafkaSink is sticky). Logs name the action and the alert, never the
// reason (free text that may hold personal data).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/http/api/alert_action.h"
#include "connectors/http/api/alert_feed.h"
#include "connectors/http/api/audit.h"
#include "connectors/http/api/request_producer.h"
#include "connectors/http/http_server.h"
#include "stream/io.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace mozaiek {

// The roles an alert action acts under.
inline constexpr std::initializer_list<std::string_view> kAlertActorRoles = {role::kAnalyst};

// mozaiek_alert_actions_total{action}: actions written through this
// instance's API, by action (ack, dismiss, escalate).
class AlertActionProbe {
 public:
  explicit AlertActionProbe(prometheus::Registry& registry);
  void record_action(ActionKind kind);

 private:
  std::array<prometheus::Counter*, kActionKindCount> actions_{};
};

class AlertActionsApi {
 public:
  using SinkFactory = RequestProducer::SinkFactory;

  // `feed`, `clock` and `probe` are borrowed. `make_sink` opens the producer
  // on first use and again after a failed write.
  AlertActionsApi(AlertFeed& feed, std::string topic, std::string audit_topic,
                  SinkFactory make_sink, const Clock& clock, AlertActionProbe& probe,
                  Millis flush_timeout = seconds(10));
  AlertActionsApi(const AlertActionsApi&) = delete;
  AlertActionsApi& operator=(const AlertActionsApi&) = delete;

  // The route's handler; req.matches[1] is the alert id.
  HttpResponse handle(const HttpRequest& req);

 private:
  Status write(const AlertAction& action, const std::string& record, const std::string& audit);

  AlertFeed& feed_;
  const std::string topic_;
  const std::string audit_topic_;
  RequestProducer producer_;
  const Clock& clock_;
  AlertActionProbe& probe_;
  const Millis flush_timeout_;
};

// A random action id: 32 hex digits from the system's CSPRNG.
std::string new_action_id();

}  // namespace mozaiek
