// Topic administration at service start: make sure the topics mozaiek reads
// and writes exist before any client subscribes or produces to them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_settings.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

// A topic to create if missing: retention.ms when given, log compaction
// instead of deletion when compacted.
struct TopicSpec {
  std::string name;
  std::optional<Millis> retention;
  bool compacted = false;
};

// Creates the topics of `topics` that do not exist yet, with their
// retention or compaction and settings.partitions and
// settings.replication_factor (existing topics are left as they are; a topic
// created concurrently by someone else counts as success). Returns within
// about `timeout`: an unreachable broker list gives an error naming it.
// Not for the embedded cluster (no CreateTopics API there).
[[nodiscard]] Status ensure_topic_specs(const KafkaSettings& settings,
                                        const std::vector<TopicSpec>& topics, Millis timeout);

// The configuration the broker reports for `topic` (name -> value, every
// entry DescribeConfigs returns), e.g. to check retention.ms.
[[nodiscard]] Status describe_topic_config(const KafkaSettings& settings, const std::string& topic,
                                           Millis timeout, std::map<std::string, std::string>& out);

// The same by name: the broker's default retention, log compaction for those
// also named in `compacted`.
[[nodiscard]] Status ensure_topics(const KafkaSettings& settings,
                                   const std::vector<std::string>& topics, Millis timeout,
                                   const std::vector<std::string>& compacted = {});

}  // namespace mozaiek
