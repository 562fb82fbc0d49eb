// Topic administration at service start: make sure the topics mozaiek reads
// and writes exist before any client subscribes or produces to them.
#pragma once

#include <string>
#include <vector>

#include "connectors/kafka/kafka_settings.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

// Creates the topics of `topics` that do not exist yet, with
// settings.partitions and settings.replication_factor, and log compaction
// for those also named in `compacted` (existing topics are
// left as they are; a topic created concurrently by someone else counts as
// success). Returns within about `timeout`: an unreachable broker list gives
// an error naming it instead of a hang.
// Not for the embedded cluster, whose mock broker has no CreateTopics API:
// use EmbeddedCluster::create_topic() there.
[[nodiscard]] Status ensure_topics(const KafkaSettings& settings,
                                   const std::vector<std::string>& topics, Millis timeout,
                                   const std::vector<std::string>& compacted = {});

}  // namespace mozaiek
