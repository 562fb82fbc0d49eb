// Connection settings shared by every Kafka client mozaiek creates (source,
// sink, admin). Filled from the `kafka:` section of the config.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mozaiek {

struct KafkaSettings {
  // "embedded" (resolve through EmbeddedCluster::bootstrap_servers() before
  // creating clients) or a host:port list.
  std::string brokers;
  std::string client_id = "mozaiek";
  // Used when ensure_topics() creates a missing topic.
  int partitions = 4;
  int replication_factor = 1;
  // Passed to librdkafka as-is (security.protocol, sasl.*, ssl.*, debug, ...).
  // Values may be secrets: never log them.
  std::vector<std::pair<std::string, std::string>> properties;
};

}  // namespace mozaiek
