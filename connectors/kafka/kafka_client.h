// Shared plumbing for the librdkafka clients (source, sink, admin, embedded
// cluster): owning handles, configuration building and the one place where
// librdkafka errors are sorted into recoverable and fatal.
// Internal to connectors/: includes librdkafka, so public headers don't.
#pragma once

#include <librdkafka/rdkafka.h>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/kafka_settings.h"
#include "stream/status.h"

namespace mozaiek::kafka {

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};

using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

using Properties = std::vector<std::pair<std::string, std::string>>;

// Builds a librdkafka configuration in three layers: the component's
// `defaults` (tuning the user may override), then settings.properties, then
// `enforced` (the component's invariants, e.g. manual commits). Errors name
// the property, never its value (values may be secrets). Also routes
// librdkafka's own log lines to the "kafka" logger.
[[nodiscard]] Status build_conf(const KafkaSettings& settings, const Properties& defaults,
                                const Properties& enforced, ConfPtr& out);

// Creates a client handle from `conf` (takes ownership of it).
[[nodiscard]] Status make_handle(rd_kafka_type_t type, ConfPtr conf, const std::string& what,
                                 HandlePtr& out);

enum class ErrorClass { kRecoverable, kFatal };

// Fatal: the client cannot make progress without operator action or a new
// client instance (fatal idempotence error, authentication/authorisation,
// invalid configuration). Everything else (transport, timeouts, leader
// changes, rebalances) librdkafka retries by itself.
ErrorClass classify(rd_kafka_resp_err_t err);

// Human-readable "<NAME>: <description>" for an error code.
std::string describe(rd_kafka_resp_err_t err);

// The reason of a raised fatal error (rd_kafka_fatal_error), or "".
std::string fatal_reason(rd_kafka_t* rk);

// The low and high offsets of a partition, retrying what is recoverable (a
// topic created a moment ago may have no leader yet) until `deadline`.
// Errors read "reading its end offset: <error>".
[[nodiscard]] Status query_watermarks(rd_kafka_t* rk, const std::string& topic, int partition,
                                      std::chrono::steady_clock::time_point deadline,
                                      std::int64_t& low, std::int64_t& high);

// Logger for everything Kafka; one name so `debug=kafka` style switches work.
std::shared_ptr<spdlog::logger> logger();

}  // namespace mozaiek::kafka
