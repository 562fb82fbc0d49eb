#include "connectors/app/audit_topic_reader.h"

#include <spdlog/spdlog.h>

namespace mozaiek {

std::unique_ptr<AuditTopicReader> AuditTopicReader::start(const KafkaSettings& settings,
                                                          std::string topic, AuditIndex& index,
                                                          std::size_t tail, OnFatal on_fatal,
                                                          Status& status) {
  std::unique_ptr<AuditTopicReader> reader(new AuditTopicReader(index));
  AuditTopicReader* r = reader.get();
  std::vector<TopicTailReader::Topic> read = {
      {topic, tail, [r](const RecordView& rec) { r->on_record(rec); }},
  };
  reader->reader_ = TopicTailReader::start(settings, "audit topic reader", topic + ".reader",
                                           std::move(read), std::move(on_fatal), status);
  if (!reader->reader_) return nullptr;
  return reader;
}

AuditTopicReader::~AuditTopicReader() { stop(); }

void AuditTopicReader::on_record(const RecordView& record) {
  std::string error;
  if (!index_.add(record.value, error)) {
    ++unreadable_;
    spdlog::warn("{} [{}] offset {}: not an audit record v2 (field {}); not indexed", record.topic,
                 raw(record.partition), raw(record.offset), error);
    return;
  }
  ++read_;
}

}  // namespace mozaiek
