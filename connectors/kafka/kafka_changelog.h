// The changelog of operator state on a compacted Kafka topic
// (`kafka.topics.changelog`, partitioned like the internal subjects topic):
// appends through an idempotent producer to an explicit partition, and
// replays a partition with a short-lived consumer that assigns it directly
// (no group membership, no commits). See stream/changelog.h for the protocol.
//
// Thread: owned by the convergence task loop, like the stores it serves.
#pragma once

#include <memory>
#include <string>

#include "connectors/kafka/kafka_settings.h"
#include "connectors/kafka/kafka_sink.h"
#include "stream/changelog.h"

namespace mozaiek {

class KafkaChangelog final : public ChangelogTransport {
 public:
  // A replay that does not reach the partition's end within this long fails
  // (brokers unreachable): the store then refuses to flush.
  static constexpr Millis kReplayTimeout = seconds(300);

  static std::unique_ptr<KafkaChangelog> create(const KafkaSettings& settings, std::string topic,
                                                Status& status);

  Status append(Partition p, std::string_view key, std::optional<std::string_view> value) override;
  Status sync() override;
  std::optional<Offset> synced_end(Partition p) const override;
  Status replay(Partition p, Offset from, const Apply& apply, Offset& end) override;

 private:
  KafkaChangelog(KafkaSettings settings, std::string topic, std::unique_ptr<KafkaSink> sink);

  KafkaSettings settings_;
  std::string topic_;
  std::unique_ptr<KafkaSink> sink_;
};

}  // namespace mozaiek
