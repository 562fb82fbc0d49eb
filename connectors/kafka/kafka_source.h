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

// Event time of a record in milliseconds, or nullopt when it has none
// readable (the record then keeps its place behind its partition's previous
// record). Called once per fetched record on the owner's thread.
using EventTimeOf = std::function<std::optional<std::int64_t>(const RecordView&)>;

// Event-time alignment (KafkaSource::create()): what to order by, and how
// long a partition that has nothing fetched yet, but is not at its end, may
// hold the others back.
struct SourceAlignment {
  EventTimeOf event_time;
  Millis max_wait{10000};
};

// Plain counters for the owner's probe; read on the owner's thread.
struct KafkaSourceCounters {
  std::uint64_t records = 0;
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;  // recoverable; retried by the next commit()
  std::uint64_t rebalances = 0;
  std::uint64_t consumer_errors = 0;  // recoverable errors librdkafka reported
  // Aligned sources: polls that handed out nothing because a partition that
  // is not at its end had nothing fetched yet, and waits given up after
  // max_wait (that partition's records may then come out of order).
  std::uint64_t alignment_holds = 0;
  std::uint64_t alignment_timeouts = 0;
};

class KafkaSource final : public RecordSource {
 public:
  // Subscribes `group_id` to `topics_or_regex`; entries starting with '^'
  // are regular expressions ("^signals\\..*"), matched again as topics appear
  // (every topic.metadata.refresh.interval.ms). Starts from the earliest
  // offset where the group has no committed offset.
  //
  // With `alignment`, poll() hands out the records of all assigned
  // partitions merged by event time (ties: topic, then partition) instead
  // of in fetch order: a record is handed out only when every assigned
  // partition has a fetched record or is at its end (or has had nothing
  // for max_wait). Each partition is fetched into a queue of its own
  // (queued.max.messages.kbytes then applies per partition), so one far
  // ahead stops fetching when its queue is full. A drain of a backlog sees
  // the records in the same order whatever the fetch timing, and a restart
  // from the committed offsets continues that order.
  static std::unique_ptr<KafkaSource> create(const KafkaSettings& settings, std::string group_id,
                                             std::vector<std::string> topics_or_regex,
                                             Status& status,
                                             std::optional<SourceAlignment> alignment = {});

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

  // commit() stores metadata() with every partition's offset (at most a few
  // hundred bytes), so state of the owner that belongs to exactly the
  // committed records can be restored. Call before the first poll().
  void set_commit_metadata(std::function<std::string()> metadata);
  // The metadata committed with the assigned partitions' offsets, as found
  // at the broker when they were assigned (empty ones left out; fetched
  // only once set_commit_metadata() was called); read it in the rebalance
  // listener.
  std::vector<std::string> assigned_metadata() const;

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
