// RecordSink over an idempotent Kafka producer (librdkafka).
//
// produce() copies the record into librdkafka's queue and returns; batching
// (linger.ms) and compression happen in librdkafka's threads. When the queue
// is full, produce() waits for deliveries to drain it (back-pressure) rather
// than failing. flush() waits for every delivery report.
//
// A failed delivery is sticky: once a record could not be delivered, every
// later flush() reports it, so the owner never commits input offsets past a
// lost output. Recover by recreating the sink (and resuming from the last
// committed input offsets).
//
// Thread ownership: one task loop owns the sink and calls produce(), flush()
// and the destructor; delivery reports are handled inside those calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "connectors/kafka/kafka_settings.h"
#include "stream/io.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

// Plain counters for the owner's probe; read on the owner's thread.
struct KafkaSinkCounters {
  std::uint64_t produced = 0;           // accepted by produce()
  std::uint64_t delivered = 0;          // acknowledged by the broker
  std::uint64_t delivery_failures = 0;  // reported failed by librdkafka
  std::uint64_t queue_full_waits = 0;   // times produce() waited for room
};

class KafkaSink final : public RecordSink {
 public:
  // produce() gives up with an error when the queue stays full this long
  // (brokers unreachable or far too slow).
  static constexpr Millis kDefaultMaxBlock = seconds(60);

  static std::unique_ptr<KafkaSink> create(const KafkaSettings& settings, Status& status,
                                           Millis max_block = kDefaultMaxBlock);

  // Records not flushed are dropped; their inputs were not committed.
  ~KafkaSink() override;
  KafkaSink(const KafkaSink&) = delete;
  KafkaSink& operator=(const KafkaSink&) = delete;

  // Key empty -> null key (spread over partitions); keyed records land on
  // the partition of murmur2(key), as with Java clients.
  Status produce(std::string_view topic, std::string_view key, std::string_view value) override;

  // To an explicit partition; nullopt value = tombstone (compacted topics).
  Status produce_to(std::string_view topic, Partition partition, std::string_view key,
                    std::optional<std::string_view> value);

  // Remember, per partition of `topic`, the offset after the last delivered
  // record (delivered_end). Call before producing to it.
  void track_offsets(std::string_view topic);
  std::optional<Offset> delivered_end(std::string_view topic, Partition p) const;

  // Waits up to `timeout` for every produced record's delivery report.
  // Errors: the first failed delivery (sticky, with the count of failures),
  // records still undelivered at the timeout, or a fatal producer error.
  Status flush(Millis timeout) override;

  // Records produced but not yet acknowledged or failed.
  std::size_t in_flight() const;

  const KafkaSinkCounters& counters() const;

 private:
  class Impl;
  explicit KafkaSink(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mozaiek
