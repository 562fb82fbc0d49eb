#include "connectors/app/alert_topics_reader.h"

#include <spdlog/spdlog.h>

#include "operators/records/alert_withdrawal.h"

namespace mozaiek {

std::unique_ptr<AlertTopicsReader> AlertTopicsReader::start(const KafkaSettings& settings,
                                                            Topics topics, AlertFeed& feed,
                                                            std::size_t alerts_tail,
                                                            OnFatal on_fatal, Status& status) {
  std::unique_ptr<AlertTopicsReader> reader(new AlertTopicsReader(feed));
  AlertTopicsReader* r = reader.get();
  std::vector<TopicTailReader::Topic> read = {
      {topics.alerts, alerts_tail, [r](const RecordView& rec) { r->on_alert(rec); }},
      {topics.actions, std::nullopt, [r](const RecordView& rec) { r->on_action(rec); }},
  };
  reader->reader_ = TopicTailReader::start(settings, "alert topics reader",
                                           topics.actions + ".reader", std::move(read),
                                           std::move(on_fatal), status);
  if (!reader->reader_) return nullptr;
  return reader;
}

AlertTopicsReader::~AlertTopicsReader() { stop(); }

void AlertTopicsReader::on_alert(const RecordView& record) {
  AlertWithdrawal withdrawal;
  if (read_withdrawal_json(record.value, withdrawal)) {
    ++withdrawals_read_;
    if (withdrawal.per_alert()) {
      feed_.withdraw_alert(withdrawal.alert_id, withdrawal.reason);
    } else {
      feed_.withdraw(to_string(withdrawal.subject_type), withdrawal.subject_key, withdrawal.reason);
    }
    return;
  }
  ++alerts_read_;
  feed_.publish(std::string(record.value));
}

void AlertTopicsReader::on_action(const RecordView& record) {
  AlertAction action;
  std::string error;
  if (!read_action_json(record.value, action, error)) {
    ++unreadable_;
    spdlog::warn("{} [{}] offset {}: not an action record v1 (field {}); ignored", record.topic,
                 raw(record.partition), raw(record.offset), error);
    return;
  }
  ++actions_read_;
  feed_.apply(action);
}

}  // namespace mozaiek
