// AuditTopicReader: feeds the AuditIndex (connectors/http/api/audit_index.h)
// from the audit topic, so the privacy officer's read-back (GET /api/audit)
// shows what every instance audited.
//
// A TopicTailReader (connectors/kafka/topic_tail_reader.h) on its own
// thread: the newest `tail` records of each partition of the audit topic,
// then the topic live. A record that is not audit v2 (a v1 record from
// before, anything else) is counted and skipped; logs name its partition
// and offset, never its content.
//
// Lifecycle: start() returns once the partitions are assigned; stop() (also
// the destructor) ends the thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "connectors/http/api/audit_index.h"
#include "connectors/kafka/kafka_settings.h"
#include "connectors/kafka/topic_tail_reader.h"
#include "stream/status.h"

namespace mozaiek {

class AuditTopicReader {
 public:
  using OnFatal = std::function<void(Status)>;

  static std::unique_ptr<AuditTopicReader> start(const KafkaSettings& settings, std::string topic,
                                                 AuditIndex& index, std::size_t tail,
                                                 OnFatal on_fatal, Status& status);
  ~AuditTopicReader();
  AuditTopicReader(const AuditTopicReader&) = delete;
  AuditTopicReader& operator=(const AuditTopicReader&) = delete;

  void stop() {
    if (reader_) reader_->stop();
  }

  std::uint64_t records_read() const { return read_; }
  std::uint64_t unreadable() const { return unreadable_; }

 private:
  explicit AuditTopicReader(AuditIndex& index) : index_(index) {}
  void on_record(const RecordView& record);

  AuditIndex& index_;
  std::atomic<std::uint64_t> read_{0}, unreadable_{0};
  std::unique_ptr<TopicTailReader> reader_;  // last: stopped before the above go
};

}  // namespace mozaiek
