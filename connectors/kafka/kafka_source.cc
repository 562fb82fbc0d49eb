#include "connectors/kafka/kafka_source.h"

#include <algorithm>
#include <cstring>
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
  Impl(std::string group_id, std::vector<std::string> topics)
      : group_id_(std::move(group_id)), topics_(std::move(topics)) {}

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
        {"enable.partition.eof", "false"},
    };
    const kafka::Properties enforced = {
        {"group.id", group_id_},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
    };
    kafka::ConfPtr conf;
    if (auto st = kafka::build_conf(settings, defaults, enforced, conf); !st) return st;
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
    listener_ = nullptr;  // the owner may be half destroyed: don't call it
    closing_ = true;
    if (rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_.get())) {
      kafka::logger()->warn("kafka consumer group {}: close: {}", group_id_, kafka::describe(err));
    }
    queue_.reset();
    rk_.reset();
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
    for (const auto& [topic, partition] : revoked) assigned_.erase({topic, partition});
    if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) {
        rd_kafka_error_destroy(e);
      }
    } else {
      (void)rd_kafka_assign(rk, nullptr);
      assigned_.clear();
    }
    if (!closing_) {
      kafka::logger()->info("kafka consumer group {}: revoked {} partition(s){}", group_id_,
                            revoked.size(), rd_kafka_assignment_lost(rk) ? " (lost)" : "");
    }
    if (listener_) listener_({}, revoked);
  }

  std::string group_id_;
  std::vector<std::string> topics_;
  kafka::HandlePtr rk_;
  kafka::QueuePtr queue_;
  std::map<TopicPartitionKey, PartitionState> assigned_;
  std::vector<rd_kafka_message_t*> buffer_;  // scratch for consume_batch_queue
  std::vector<rd_kafka_message_t*> held_;    // backing the views of the last batch
  RebalanceListener listener_;
  KafkaSourceCounters counters_;
  std::string fatal_;
  rd_kafka_resp_err_t last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  bool closing_ = false;
};

std::unique_ptr<KafkaSource> KafkaSource::create(const KafkaSettings& settings,
                                                 std::string group_id,
                                                 std::vector<std::string> topics_or_regex,
                                                 Status& status) {
  if (group_id.empty()) {
    status = Status::error("kafka consumer: group id is empty");
    return nullptr;
  }
  if (topics_or_regex.empty()) {
    status = Status::error("kafka consumer group " + group_id + ": no topics to subscribe to");
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(std::move(group_id), std::move(topics_or_regex));
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

}  // namespace mozaiek
