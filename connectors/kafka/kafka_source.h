// RecordSource over a Kafka consumer group (librdkafka high-level consumer).
//
// At-least-once: offsets are committed only by commit(), never automatically,
// and commit() covers exactly the records poll() has handed out. The owner
// calls commit() after everything those records produced has been flushed.
//
// Thread ownership: one task loop owns the source and calls poll(), commit(),
// lag() and the destructor. The rebalance listener runs inside poll() on that
// same thread. librdkafka's own threads never call back into owner code.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/kafka_settings.h"
#include "stream/io.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

using TopicPartitions = std::vector<std::pair<std::string, int>>;

// Called inside poll() when the group moves partitions. On revocation the
// source has already forgotten the uncommitted positions of those partitions:
// their records will be redelivered to the new owner, so the listener drops
// any per-partition work in progress.
using RebalanceListener =
    std::function<void(const TopicPartitions& assigned, const TopicPartitions& revoked)>;

struct PartitionLag {
  std::string topic;
  Partition partition{0};
  std::optional<Offset> committed;       // group's committed offset, if known
  std::optional<Offset> position;        // after the last record handed out
  std::optional<Offset> high_watermark;  // end of the partition, as last fetched
  std::optional<std::int64_t> lag;       // high_watermark - committed (or position)
};

// Plain counters for the owner's probe; read on the owner's thread.
struct KafkaSourceCounters {
  std::uint64_t records = 0;
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;  // recoverable; retried by the next commit()
  std::uint64_t rebalances = 0;
  std::uint64_t consumer_errors = 0;  // recoverable errors librdkafka reported
};

class KafkaSource final : public RecordSource {
 public:
  // Subscribes `group_id` to `topics_or_regex`; entries starting with '^'
  // are regular expressions ("^signals\\..*"), matched again as topics appear
  // (every topic.metadata.refresh.interval.ms). Starts from the earliest
  // offset where the group has no committed offset.
  static std::unique_ptr<KafkaSource> create(const KafkaSettings& settings, std::string group_id,
                                             std::vector<std::string> topics_or_regex,
                                             Status& status);

  ~KafkaSource() override;
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  // Fills `batch` with up to max_records records: returns as soon as at least
  // one is available, or after `timeout` with an empty batch. The previous
  // batch's views become invalid. Errors only when the consumer is fatally
  // broken; transient broker trouble is logged, counted and retried.
  Status poll(RecordBatch& batch, std::size_t max_records, Millis timeout) override;

  // Synchronously commits, per partition, the offset after the last record
  // handed out. Errors only when fatal; a commit that failed transiently
  // (rebalance, coordinator move) is counted and retried by the next call
  // (at worst records are redelivered, never lost).
  Status commit() override;

  void set_rebalance_listener(RebalanceListener listener);

  // Current assignment.
  TopicPartitions assignment() const;

  // Lag per assigned partition. Uses offsets librdkafka has cached from
  // fetches; asks the broker only for the committed offset of a newly
  // assigned partition (once), so it is cheap to call every few seconds.
  std::vector<PartitionLag> lag();

  const KafkaSourceCounters& counters() const;

 private:
  class Impl;
  explicit KafkaSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mozaiek
