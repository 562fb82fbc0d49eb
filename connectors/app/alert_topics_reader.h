// AlertTopicsReader: keeps an AlertFeed in step with the alert topics, so
// every instance, and one restarted, serves the same alerts and statuses.
//
// A TopicTailReader (connectors/kafka/topic_tail_reader.h) on its own
// thread: the alerts topic from the newest `alerts_tail` records of each
// partition (the feed holds no more), the alert-actions topic from its
// beginning, both then followed live. Alerts go to AlertFeed::publish (the
// instance's own alerts are held already and change nothing), actions to
// AlertFeed::apply. An action record that cannot be read is logged with its
// partition and offset and counted, never applied.
//
// Lifecycle: start() returns once the partitions are assigned; stop() (also
// the destructor) ends the thread. Partitions added to the topics after
// start() are not read until the next start.
//
// A withdrawal record on the alerts topic (operators/records/
// alert_withdrawal.h) goes to AlertFeed::withdraw: every instance drops an
// erased entity's alerts.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "connectors/http/api/alert_feed.h"
#include "connectors/kafka/kafka_settings.h"
#include "connectors/kafka/topic_tail_reader.h"
#include "stream/status.h"

namespace mozaiek {

class AlertTopicsReader {
 public:
  struct Topics {
    std::string alerts;
    std::string actions;
  };
  // Called on the reader's thread when the consumer fails for good.
  using OnFatal = std::function<void(Status)>;

  static std::unique_ptr<AlertTopicsReader> start(const KafkaSettings& settings, Topics topics,
                                                  AlertFeed& feed, std::size_t alerts_tail,
                                                  OnFatal on_fatal, Status& status);
  ~AlertTopicsReader();
  AlertTopicsReader(const AlertTopicsReader&) = delete;
  AlertTopicsReader& operator=(const AlertTopicsReader&) = delete;

  void stop() {
    if (reader_) reader_->stop();
  }

  // Totals since start (for tests and logs).
  std::uint64_t alerts_read() const { return alerts_read_; }
  std::uint64_t actions_read() const { return actions_read_; }
  std::uint64_t withdrawals_read() const { return withdrawals_read_; }
  std::uint64_t unreadable_actions() const { return unreadable_; }

 private:
  explicit AlertTopicsReader(AlertFeed& feed) : feed_(feed) {}
  void on_alert(const RecordView& record);
  void on_action(const RecordView& record);

  AlertFeed& feed_;
  std::atomic<std::uint64_t> alerts_read_{0}, actions_read_{0}, withdrawals_read_{0},
      unreadable_{0};
  std::unique_ptr<TopicTailReader> reader_;  // last: stopped before the above go
};

}  // namespace mozaiek
