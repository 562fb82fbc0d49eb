// An in-process Kafka cluster: librdkafka's mock cluster, for
// `kafka.brokers: embedded`, the demo and connector unit tests.
//
// The mock speaks the Kafka protocol on localhost ports, so real clients
// (KafkaSource, KafkaSink) connect to bootstrap_servers() unchanged. It keeps
// everything in memory and does not implement the admin CreateTopics API:
// create topics with create_topic().
//
// Lifecycle: start() -> create topics -> clients connect -> destroy the
// clients -> destroy the cluster. Thread-safe: the mock runs on its own
// librdkafka thread; the methods may be called from any thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "stream/status.h"
#include "stream/time.h"

using rd_kafka_mock_cluster_t = struct rd_kafka_mock_cluster_s;

namespace mozaiek {

// Kafka protocol request types, for fault injection.
enum class KafkaApi : std::int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kInitProducerId = 22,
};

class EmbeddedCluster {
 public:
  // Starts a mock cluster with `brokers` brokers (ids 1..brokers).
  static std::unique_ptr<EmbeddedCluster> start(int brokers, Status& status);

  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // Comma-separated host:port list for bootstrap.servers.
  std::string bootstrap_servers() const;

  // Client properties to add to KafkaSettings::properties for this cluster.
  // The mock makes a consumer that joins a group right after another member
  // left wait almost a whole session timeout (45 s by default), so consumers
  // of the embedded cluster use a short one.
  static std::vector<std::pair<std::string, std::string>> client_properties();
  int broker_count() const { return brokers_; }

  // Creates a topic; an existing topic is not an error.
  [[nodiscard]] Status create_topic(const std::string& name, int partitions,
                                    int replication_factor = 1);

  // --- Fault injection (tests) ---

  // The next errors.size() requests of type `api` fail with these errors, in
  // order. RD_KAFKA_RESP_ERR__TRANSPORT makes the broker drop the connection.
  void push_request_errors(KafkaApi api, const std::vector<rd_kafka_resp_err_t>& errors);
  void clear_request_errors(KafkaApi api);
  // Disconnects a broker (-1: all) and refuses new connections until up().
  [[nodiscard]] Status broker_down(int broker_id = -1);
  [[nodiscard]] Status broker_up(int broker_id = -1);
  // Adds round-trip delay to every response of a broker (-1: all).
  [[nodiscard]] Status set_broker_rtt(int broker_id, Millis rtt);

 private:
  EmbeddedCluster(rd_kafka_t* handle, rd_kafka_mock_cluster_t* cluster, int brokers);

  rd_kafka_t* handle_;                // owned; the mock's bookkeeping client
  rd_kafka_mock_cluster_t* cluster_;  // owned
  int brokers_;
};

}  // namespace mozaiek
