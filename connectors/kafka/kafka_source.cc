#include "connectors/kafka/kafka_source.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>

#include "connectors/kafka/kafka_client.h"

namespace mozaiek {
namespace {

using TopicPartitionKey = std::pair<std::string, std::int32_t>;

// What the source knows about one assigned partition.
struct PartitionState {
  std::int64_t next = -1;       // offset after the last record handed out
  std::int64_t committed = -1;  // last offset committed (by us or found at the broker)
  bool committed_known = false;
};

using SteadyTime = std::chrono::steady_clock::time_point;

// An assigned partition of an aligned source: its own queue and the records
// fetched from it but not handed out yet, with their event times.
struct Lane {
  kafka::QueuePtr queue;
  std::deque<std::pair<rd_kafka_message_t*, std::int64_t>> fetched;
  std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
  bool at_end = false;     // the fetcher reached the end and nothing came since
  bool timed_out = false;  // empty for max_wait: no longer holds the others back
  std::optional<SteadyTime> empty_since;
};

// Fetched records pulled from a partition queue per call.
constexpr std::size_t kLaneRefill = 512;

TopicPartitions to_pairs(const rd_kafka_topic_partition_list_t* list) {
  TopicPartitions out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i)
    out.emplace_back(list->elems[i].topic, list->elems[i].partition);
  return out;
}

// Commit failures that only mean "try again later" or "the partition moved":
// either way the records are redelivered, never lost.
bool commit_error_is_transient(rd_kafka_resp_err_t err) {
  return kafka::classify(err) == kafka::ErrorClass::kRecoverable;
}

}  // namespace

class KafkaSource::Impl {
 public:
  Impl(std::string group_id, std::vector<std::string> topics,
       std::optional<SourceAlignment> alignment)
      : group_id_(std::move(group_id)),
        topics_(std::move(topics)),
        alignment_(std::move(alignment)) {}

  ~Impl() { close(); }

  Status open(const KafkaSettings& settings) {
    const kafka::Properties defaults = {
        {"auto.offset.reset", "earliest"},
        // Lower than the 500 ms default: an idle partition should not delay
        // a batch that is otherwise ready.
        {"fetch.wait.max.ms", "100"},
        // New signals.<source> topics are picked up by the regex subscription
        // within this interval.
        {"topic.metadata.refresh.interval.ms", "30000"},
    };
    kafka::Properties aligned_defaults = defaults;
    if (alignment_) {
      // Per partition once each has its own queue: bounded memory for many
      // partitions, and a partition far ahead stops fetching sooner.
      aligned_defaults.emplace_back("queued.max.messages.kbytes", "4096");
      aligned_defaults.emplace_back("queued.min.messages", "10000");
    }
    // End-of-partition events tell an aligned source that an empty
    // partition holds nothing back; the others ignore them.
    const kafka::Properties enforced = {
        {"group.id", group_id_},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", alignment_ ? "true" : "false"},
    };
    kafka::ConfPtr conf;
    if (auto st = kafka::build_conf(settings, aligned_defaults, enforced, conf); !st) return st;
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
    if (auto st = kafka::make_handle(RD_KAFKA_CONSUMER, std::move(conf),
                                     "consumer for group " + group_id_, rk_);
        !st) {
      return st;
    }
    // One queue for messages, rebalances and errors, served by poll().
    rd_kafka_poll_set_consumer(rk_.get());
    queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));

    kafka::PartitionListPtr subscription(
        rd_kafka_topic_partition_list_new(static_cast<int>(topics_.size())));
    for (const auto& t : topics_) {
      rd_kafka_topic_partition_list_add(subscription.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), subscription.get())) {
      return Status::error("kafka consumer group " + group_id_ +
                           ": subscribe failed: " + kafka::describe(err));
    }
    kafka::logger()->info("kafka consumer group {} subscribed to {} topic pattern(s)", group_id_,
                          topics_.size());
    return Status::ok();
  }

  Status poll(RecordBatch& batch, std::size_t max_records, Millis timeout) {
    release_held();
    batch.records.clear();
    batch.end_of_input = false;
    if (!fatal_.empty()) return Status::error(fatal_);
    // 0 would return without serving rebalances: a silent stall, so refuse it.
    if (max_records == 0) return Status::error("KafkaSource::poll: max_records must be positive");
    if (alignment_) return poll_aligned(batch, max_records, timeout);

    buffer_.resize(max_records);
    ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), 0, buffer_.data(), max_records);
    if (n <= 0) {
      // Nothing ready: wait for the first message only (consume_batch_queue
      // would wait the full timeout for a full batch), then top up.
      rd_kafka_message_t* first = rd_kafka_consumer_poll(rk_.get(), clamp_ms(timeout));
      n = 0;
      if (first != nullptr) {
        buffer_[0] = first;
        ssize_t more = max_records > 1
                           ? rd_kafka_consume_batch_queue(queue_.get(), 0, buffer_.data() + 1,
                                                          max_records - 1)
                           : 0;
        n = 1 + std::max<ssize_t>(more, 0);
      }
    }

    batch.records.reserve(static_cast<std::size_t>(n));
    held_.reserve(static_cast<std::size_t>(n));
    PartitionState* state = nullptr;
    const rd_kafka_topic_t* state_topic = nullptr;
    std::int32_t state_partition = -1;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = buffer_[static_cast<std::size_t>(i)];
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        note_consumer_error(m);
        rd_kafka_message_destroy(m);
        continue;
      }
      // Messages of one partition arrive in runs; look the state up per run.
      if (m->rkt != state_topic || m->partition != state_partition) {
        state_topic = m->rkt;
        state_partition = m->partition;
        auto it = assigned_.find({rd_kafka_topic_name(m->rkt), m->partition});
        state = it == assigned_.end() ? nullptr : &it->second;
      }
      if (state == nullptr) {
        // Fetched before a revocation we have already acted on: the new
        // owner will deliver it.
        rd_kafka_message_destroy(m);
        continue;
      }
      rd_kafka_timestamp_type_t ts_type;
      const std::int64_t ts = rd_kafka_message_timestamp(m, &ts_type);
      batch.records.push_back(RecordView{
          .topic = rd_kafka_topic_name(m->rkt),
          .partition = Partition{m->partition},
          .offset = Offset{m->offset},
          .key = std::string_view(static_cast<const char*>(m->key), m->key_len),
          .value = std::string_view(static_cast<const char*>(m->payload), m->len),
          .timestamp = ts >= 0 ? ProcTime{Millis{ts}} : ProcTime{},
      });
      state->next = m->offset + 1;
      held_.push_back(m);
    }
    counters_.records += batch.records.size();
    if (!fatal_.empty()) {
      release_held();
      batch.records.clear();
      return Status::error(fatal_);
    }
    return Status::ok();
  }

  Status commit() {
    if (!fatal_.empty()) return Status::error(fatal_);
    kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(8));
    for (const auto& [tp, st] : assigned_) {
      if (st.next >= 0 && (!st.committed_known || st.next > st.committed)) {
        rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset =
            st.next;
      }
    }
    if (list->cnt == 0) return Status::ok();
    if (metadata_) {
      const std::string metadata = metadata_();
      for (int i = 0; i < list->cnt && !metadata.empty(); ++i) {
        // The list frees it with librdkafka's allocator, which is malloc's.
        void* copy = std::malloc(metadata.size());
        if (copy == nullptr) break;
        std::memcpy(copy, metadata.data(), metadata.size());
        list->elems[i].metadata = copy;
        list->elems[i].metadata_size = metadata.size();
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), list.get(), /*async=*/0);
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return Status::ok();
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && !commit_error_is_transient(err)) {
      return Status::error("kafka consumer group " + group_id_ +
                           ": offset commit failed: " + kafka::describe(err));
    }
    bool partial = err != RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < list->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = list->elems[i];
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR || p.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR && !commit_error_is_transient(p.err)) {
          return Status::error("kafka consumer group " + group_id_ + ": offset commit for " +
                               p.topic + " [" + std::to_string(p.partition) +
                               "] failed: " + kafka::describe(p.err));
        }
        partial = true;
        continue;
      }
      auto it = assigned_.find({p.topic, p.partition});
      if (it != assigned_.end()) {
        it->second.committed = p.offset;
        it->second.committed_known = true;
      }
    }
    if (partial) {
      ++counters_.commit_failures;
      kafka::logger()->warn(
          "kafka consumer group {}: offset commit incomplete ({}); will retry", group_id_,
          kafka::describe(err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : RD_KAFKA_RESP_ERR__PARTIAL));
    } else {
      ++counters_.commits;
    }
    return Status::ok();
  }

  std::vector<PartitionLag> lag() {
    std::vector<PartitionLag> out;
    if (assigned_.empty()) return out;

    kafka::PartitionListPtr unknown(rd_kafka_topic_partition_list_new(8));
    kafka::PartitionListPtr all(
        rd_kafka_topic_partition_list_new(static_cast<int>(assigned_.size())));
    for (const auto& [tp, st] : assigned_) {
      rd_kafka_topic_partition_list_add(all.get(), tp.first.c_str(), tp.second);
      if (!st.committed_known) {
        rd_kafka_topic_partition_list_add(unknown.get(), tp.first.c_str(), tp.second);
      }
    }
    // One OffsetFetch round trip, only for partitions assigned since last time.
    if (unknown->cnt > 0 &&
        rd_kafka_committed(rk_.get(), unknown.get(), kCommittedQueryTimeoutMs) ==
            RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < unknown->cnt; ++i) {
        const auto& p = unknown->elems[i];
        auto it = assigned_.find({p.topic, p.partition});
        if (it == assigned_.end() || p.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        it->second.committed_known = true;
        it->second.committed = p.offset >= 0 ? p.offset : -1;
      }
    }
    (void)rd_kafka_position(rk_.get(), all.get());  // local: no broker round trip

    out.reserve(assigned_.size());
    for (int i = 0; i < all->cnt; ++i) {
      const auto& p = all->elems[i];
      const PartitionState& st = assigned_.at({p.topic, p.partition});
      PartitionLag l;
      l.topic = p.topic;
      l.partition = Partition{p.partition};
      if (st.committed_known && st.committed >= 0) l.committed = Offset{st.committed};
      if (st.next >= 0) {
        l.position = Offset{st.next};
      } else if (p.err == RD_KAFKA_RESP_ERR_NO_ERROR && p.offset >= 0) {
        l.position = Offset{p.offset};
      }
      std::int64_t low = RD_KAFKA_OFFSET_INVALID;
      std::int64_t high = RD_KAFKA_OFFSET_INVALID;
      if (rd_kafka_get_watermark_offsets(rk_.get(), p.topic, p.partition, &low, &high) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        l.high_watermark = Offset{high};
        std::optional<Offset> base = l.committed ? l.committed : l.position;
        if (base) l.lag = std::max<std::int64_t>(0, high - raw(*base));
      }
      out.push_back(std::move(l));
    }
    return out;
  }

  TopicPartitions assignment() const {
    TopicPartitions out;
    out.reserve(assigned_.size());
    for (const auto& [tp, st] : assigned_) out.emplace_back(tp.first, tp.second);
    return out;
  }

  void set_listener(RebalanceListener listener) { listener_ = std::move(listener); }
  void set_metadata(std::function<std::string()> metadata) { metadata_ = std::move(metadata); }
  std::vector<std::string> assigned_metadata() const {
    std::vector<std::string> out;
    for (const auto& [tp, m] : assigned_metadata_) {
      if (assigned_.count(tp) != 0 && !m.empty()) out.push_back(m);
    }
    return out;
  }
  const KafkaSourceCounters& counters() const { return counters_; }

 private:
  static constexpr int kCommittedQueryTimeoutMs = 2000;

  static int clamp_ms(Millis timeout) {
    return static_cast<int>(
        std::clamp<std::int64_t>(timeout.count(), 0, std::int64_t{24} * 3600 * 1000));
  }

  void close() {
    if (!rk_) return;
    release_held();
    lanes_.clear_all();
    listener_ = nullptr;  // the owner may be half destroyed: don't call it
    closing_ = true;
    if (rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_.get())) {
      kafka::logger()->warn("kafka consumer group {}: close: {}", group_id_, kafka::describe(err));
    }
    queue_.reset();
    rk_.reset();
  }

  // Aligned poll: every partition's queue topped up, then records handed
  // out by smallest event time until the batch is full or a partition that
  // is not at its end has nothing fetched; waits in short steps, serving
  // rebalances and errors, until something is handed out or timeout.
  Status poll_aligned(RecordBatch& batch, std::size_t max_records, Millis timeout) {
    const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
    bool held = false;
    for (;;) {
      serve_consumer_queue(Millis{0});
      if (!fatal_.empty()) break;
      for (auto& [tp, lane] : lanes_.map) refill(lane);
      const SteadyTime now = std::chrono::steady_clock::now();
      held = merge(batch, max_records, now);
      if (!batch.records.empty() || now >= deadline) break;
      const auto left = std::chrono::duration_cast<Millis>(deadline - now);
      serve_consumer_queue(std::min(left, Millis{10}));
    }
    if (held && batch.records.empty()) ++counters_.alignment_holds;
    counters_.records += batch.records.size();
    if (!fatal_.empty()) {
      release_held();
      batch.records.clear();
      return Status::error(fatal_);
    }
    return Status::ok();
  }

  // Rebalances and errors (and, in case, records of a partition whose queue
  // was not split off yet) from the consumer queue.
  void serve_consumer_queue(Millis wait) {
    for (int i = 0; i < 1000; ++i) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), i == 0 ? clamp_ms(wait) : 0);
      if (m == nullptr) return;
      auto it = m->err == RD_KAFKA_RESP_ERR_NO_ERROR
                    ? lanes_.map.find({rd_kafka_topic_name(m->rkt), m->partition})
                    : lanes_.map.end();
      if (it == lanes_.map.end()) {
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) note_consumer_error(m);
        rd_kafka_message_destroy(m);
        continue;
      }
      take(it->second, m);
    }
  }

  void refill(Lane& lane) {
    scratch_.resize(kLaneRefill);
    const ssize_t n = rd_kafka_consume_batch_queue(lane.queue.get(), 0, scratch_.data(),
                                                   kLaneRefill);
    for (ssize_t i = 0; i < n; ++i) take(lane, scratch_[static_cast<std::size_t>(i)]);
  }

  void take(Lane& lane, rd_kafka_message_t* m) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) lane.at_end = true;
      note_consumer_error(m);
      rd_kafka_message_destroy(m);
      return;
    }
    lane.at_end = false;
    lane.timed_out = false;
    lane.empty_since.reset();
    const std::optional<std::int64_t> t = alignment_->event_time(view_of(m));
    // No readable time: keep its place behind the partition's previous record.
    if (t) lane.last_time = *t;
    lane.fetched.emplace_back(m, lane.last_time);
  }

  // Hands out records by smallest event time; true when it stopped because
  // a partition not at its end had nothing fetched.
  bool merge(RecordBatch& batch, std::size_t max_records, SteadyTime now) {
    const Millis max_wait = alignment_->max_wait;
    while (batch.records.size() < max_records) {
      Lane* best = nullptr;
      for (auto& [tp, lane] : lanes_.map) {
        if (lane.fetched.empty()) {
          if (lane.at_end || lane.timed_out) continue;
          refill(lane);  // ran dry during this poll
        }
        if (lane.fetched.empty()) {
          if (lane.at_end) continue;
          if (!lane.empty_since) lane.empty_since = now;
          if (now - *lane.empty_since < max_wait) return true;
          lane.timed_out = true;
          ++counters_.alignment_timeouts;
          kafka::logger()->warn(
              "kafka consumer group {}: {} [{}] had nothing fetched for {} ms and is not at its "
              "end; no longer waiting for it (its records may come out of event-time order)",
              group_id_, tp.first, tp.second, max_wait.count());
          continue;
        }
        if (best == nullptr || lane.fetched.front().second < best->fetched.front().second) {
          best = &lane;
        }
      }
      if (best == nullptr) return false;
      rd_kafka_message_t* m = best->fetched.front().first;
      best->fetched.pop_front();
      auto it = assigned_.find({rd_kafka_topic_name(m->rkt), m->partition});
      if (it == assigned_.end()) {
        rd_kafka_message_destroy(m);
        continue;
      }
      batch.records.push_back(view_of(m));
      it->second.next = m->offset + 1;
      held_.push_back(m);
    }
    return false;
  }

  static RecordView view_of(const rd_kafka_message_t* m) {
    rd_kafka_timestamp_type_t ts_type;
    const std::int64_t ts = rd_kafka_message_timestamp(m, &ts_type);
    return RecordView{
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = Partition{m->partition},
        .offset = Offset{m->offset},
        .key = std::string_view(static_cast<const char*>(m->key), m->key_len),
        .value = std::string_view(static_cast<const char*>(m->payload), m->len),
        .timestamp = ts >= 0 ? ProcTime{Millis{ts}} : ProcTime{},
    };
  }

  // Called with a rebalance's partitions before they are assigned: split off
  // each partition's queue, so its records wait there for the merge.
  void open_lanes(rd_kafka_t* rk, const TopicPartitions& assigned) {
    for (const auto& [topic, partition] : assigned) {
      Lane& lane = lanes_.map[{topic, partition}];
      if (lane.queue) continue;
      rd_kafka_queue_t* q = rd_kafka_queue_get_partition(rk, topic.c_str(), partition);
      if (q == nullptr) continue;
      rd_kafka_queue_forward(q, nullptr);
      lane.queue.reset(q);
    }
  }

  // Committed offsets and metadata of newly assigned partitions (one
  // OffsetFetch round trip), when the owner stores metadata.
  void fetch_committed(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* partitions) {
    kafka::PartitionListPtr copy(rd_kafka_topic_partition_list_copy(partitions));
    if (rd_kafka_resp_err_t err = rd_kafka_committed(rk, copy.get(), kCommittedQueryTimeoutMs)) {
      note_error(err, "committed offsets at assignment");
      return;
    }
    for (int i = 0; i < copy->cnt; ++i) {
      const auto& p = copy->elems[i];
      if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      auto it = assigned_.find({p.topic, p.partition});
      if (it != assigned_.end()) {
        it->second.committed_known = true;
        it->second.committed = p.offset >= 0 ? p.offset : -1;
      }
      assigned_metadata_[{p.topic, p.partition}] =
          p.metadata != nullptr ? std::string(static_cast<const char*>(p.metadata), p.metadata_size)
                                : std::string();
    }
  }

  void release_held() {
    for (rd_kafka_message_t* m : held_) rd_kafka_message_destroy(m);
    held_.clear();
  }

  void note_consumer_error(const rd_kafka_message_t* m) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    note_error(m->err, m->err == RD_KAFKA_RESP_ERR__FATAL ? kafka::fatal_reason(rk_.get())
                                                          : rd_kafka_message_errstr(m));
  }

  void note_error(rd_kafka_resp_err_t err, const std::string& reason) {
    if (kafka::classify(err) == kafka::ErrorClass::kFatal) {
      if (fatal_.empty()) {
        fatal_ = "kafka consumer group " + group_id_ + ": fatal error: " + kafka::describe(err) +
                 (reason.empty() ? "" : " (" + reason + ")");
        kafka::logger()->error("{}", fatal_);
      }
      return;
    }
    ++counters_.consumer_errors;
    // Transport errors repeat while a broker is down; log the first of a run.
    if (err != last_error_) {
      kafka::logger()->warn("kafka consumer group {}: {} ({})", group_id_, kafka::describe(err),
                            reason);
      last_error_ = err;
    }
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    auto code = static_cast<rd_kafka_resp_err_t>(err);
    self->note_error(code, code == RD_KAFKA_RESP_ERR__FATAL ? kafka::fatal_reason(rk) : reason);
  }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<Impl*>(opaque)->rebalance(rk, err, partitions);
  }

  void rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions) {
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    ++counters_.rebalances;
    last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      const TopicPartitions assigned = to_pairs(partitions);
      for (const auto& [topic, partition] : assigned) assigned_.try_emplace({topic, partition});
      if (alignment_) open_lanes(rk, assigned);
      if (metadata_) fetch_committed(rk, partitions);
      rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions)) {
          aerr = rd_kafka_error_code(e);
          rd_kafka_error_destroy(e);
        }
      } else {
        aerr = rd_kafka_assign(rk, partitions);
      }
      if (aerr) note_error(aerr, "assign");
      kafka::logger()->info("kafka consumer group {}: assigned {} partition(s)", group_id_,
                            assigned.size());
      if (listener_) listener_(assigned, {});
      return;
    }
    // Revocation (or a rebalance error): stop fetching and forget what was
    // handed out but not committed; it will be redelivered to the new owner.
    TopicPartitions revoked;
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      revoked = to_pairs(partitions);
    } else {
      revoked = assignment();
      note_error(err, "rebalance");
    }
    for (const auto& [topic, partition] : revoked) {
      assigned_.erase({topic, partition});
      lanes_.drop({topic, partition});
      assigned_metadata_.erase({topic, partition});
    }
    if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) {
        rd_kafka_error_destroy(e);
      }
    } else {
      (void)rd_kafka_assign(rk, nullptr);
      assigned_.clear();
      lanes_.clear_all();
      assigned_metadata_.clear();
    }
    if (!closing_) {
      kafka::logger()->info("kafka consumer group {}: revoked {} partition(s){}", group_id_,
                            revoked.size(), rd_kafka_assignment_lost(rk) ? " (lost)" : "");
    }
    if (listener_) listener_({}, revoked);
  }

  // The lanes of an aligned source; their fetched records are destroyed
  // with them (before the consumer, which waits for every message).
  struct Lanes {
    std::map<TopicPartitionKey, Lane> map;
    ~Lanes() { clear_all(); }
    void drop(const TopicPartitionKey& tp) {
      auto it = map.find(tp);
      if (it == map.end()) return;
      for (auto& f : it->second.fetched) rd_kafka_message_destroy(f.first);
      map.erase(it);
    }
    void clear_all() {
      for (auto& [tp, lane] : map) {
        for (auto& f : lane.fetched) rd_kafka_message_destroy(f.first);
      }
      map.clear();
    }
  };

  std::string group_id_;
  std::vector<std::string> topics_;
  std::optional<SourceAlignment> alignment_;
  kafka::HandlePtr rk_;
  kafka::QueuePtr queue_;
  std::map<TopicPartitionKey, PartitionState> assigned_;
  std::vector<rd_kafka_message_t*> buffer_;   // scratch for consume_batch_queue
  std::vector<rd_kafka_message_t*> held_;     // backing the views of the last batch
  std::vector<rd_kafka_message_t*> scratch_;  // for refills of a lane
  Lanes lanes_;
  std::function<std::string()> metadata_;
  std::map<TopicPartitionKey, std::string> assigned_metadata_;
  RebalanceListener listener_;
  KafkaSourceCounters counters_;
  std::string fatal_;
  rd_kafka_resp_err_t last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  bool closing_ = false;
};

std::unique_ptr<KafkaSource> KafkaSource::create(const KafkaSettings& settings,
                                                 std::string group_id,
                                                 std::vector<std::string> topics_or_regex,
                                                 Status& status,
                                                 std::optional<SourceAlignment> alignment) {
  if (group_id.empty()) {
    status = Status::error("kafka consumer: group id is empty");
    return nullptr;
  }
  if (topics_or_regex.empty()) {
    status = Status::error("kafka consumer group " + group_id + ": no topics to subscribe to");
    return nullptr;
  }
  if (alignment && !alignment->event_time) {
    status = Status::error("kafka consumer group " + group_id + ": alignment without event time");
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(std::move(group_id), std::move(topics_or_regex),
                                     std::move(alignment));
  status = impl->open(settings);
  if (!status) return nullptr;
  return std::unique_ptr<KafkaSource>(new KafkaSource(std::move(impl)));
}

KafkaSource::KafkaSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaSource::~KafkaSource() = default;

Status KafkaSource::poll(RecordBatch& batch, std::size_t max_records, Millis timeout) {
  return impl_->poll(batch, max_records, timeout);
}
Status KafkaSource::commit() { return impl_->commit(); }
void KafkaSource::set_rebalance_listener(RebalanceListener listener) {
  impl_->set_listener(std::move(listener));
}
TopicPartitions KafkaSource::assignment() const { return impl_->assignment(); }
std::vector<PartitionLag> KafkaSource::lag() { return impl_->lag(); }
const KafkaSourceCounters& KafkaSource::counters() const { return impl_->counters(); }
void KafkaSource::set_commit_metadata(std::function<std::string()> metadata) {
  impl_->set_metadata(std::move(metadata));
}
std::vector<std::string> KafkaSource::assigned_metadata() const {
  return impl_->assigned_metadata();
}

}  // namespace mozaiek
