#include "connectors/kafka/kafka_sink.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/kafka/kafka_client.h"

namespace mozaiek {
namespace {

// Lets the topic cache be searched with a string_view (no allocation per record).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

int clamp_ms(Millis timeout) {
  return static_cast<int>(
      std::clamp<std::int64_t>(timeout.count(), 0, std::int64_t{24} * 3600 * 1000));
}

// Serve delivery reports every this many records so they never pile up.
constexpr std::uint64_t kPollEvery = 1024;

}  // namespace

class KafkaSink::Impl {
 public:
  Impl(std::string brokers, Millis max_block)
      : brokers_(std::move(brokers)), max_block_(max_block) {}

  ~Impl() {
    if (!rk_) return;
    // Serve reports that are already in, then drop the rest.
    rd_kafka_poll(rk_.get(), 0);
    if (int left = rd_kafka_outq_len(rk_.get()); left > 0) {
      kafka::logger()->warn("kafka producer closed with {} record(s) not flushed; dropped", left);
      (void)rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_poll(rk_.get(), 0);
    }
    topics_.clear();
    rk_.reset();
  }

  Status open(const KafkaSettings& settings) {
    const kafka::Properties defaults = {
        // Throughput: let librdkafka build large batches; 5 ms linger keeps
        // latency well under a task loop's cycle.
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"batch.size", "1000000"},
        // Also with the embedded cluster, where it only costs CPU: its mock
        // partitions keep a bounded log, and uncompressed batches were seen to
        // age out ("offset out of range") before a busy consumer read them.
        {"compression.type", "lz4"},
        {"queue.buffering.max.messages", "200000"},
        // Same key -> same partition as Java producers (Kafka's default).
        {"partitioner", "murmur2_random"},
        // A broker outage longer than this fails the records; the owner then
        // restarts from committed offsets.
        {"message.timeout.ms", "120000"},
    };
    const kafka::Properties enforced = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
    };
    kafka::ConfPtr conf;
    if (auto st = kafka::build_conf(settings, defaults, enforced, conf); !st) return st;
    rd_kafka_conf_set_opaque(conf.get(), this);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
    rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
    return kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf), "producer", rk_);
  }

  Status produce(std::string_view topic, std::int32_t partition, std::string_view key,
                 const char* value, std::size_t value_size) {
    if (!fatal_.empty()) return Status::error(fatal_);
    rd_kafka_topic_t* rkt = topic_handle(topic);
    std::chrono::steady_clock::time_point blocked_since{};
    while (true) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(rk_.get(), RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value), value_size), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (++counters_.produced % kPollEvery == 0) rd_kafka_poll(rk_.get(), 0);
        return Status::ok();
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (err == RD_KAFKA_RESP_ERR__FATAL) return Status::error(note_fatal());
        return Status::error("kafka produce to " + std::string(topic) +
                             " failed: " + kafka::describe(err));
      }
      // Back-pressure: wait for deliveries to make room.
      const auto now = std::chrono::steady_clock::now();
      if (blocked_since == std::chrono::steady_clock::time_point{}) {
        blocked_since = now;
        ++counters_.queue_full_waits;
      } else if (now - blocked_since > max_block_) {
        return Status::error("kafka producer queue stayed full for " +
                             std::to_string(max_block_.count()) + " ms: brokers '" + brokers_ +
                             "' unreachable or too slow");
      }
      rd_kafka_poll(rk_.get(), 10);
      if (!fatal_.empty()) return Status::error(fatal_);
    }
  }

  void track_offsets(std::string_view topic) { tracked_.try_emplace(topic_handle(topic)); }

  std::optional<Offset> delivered_end(std::string_view topic, Partition p) const {
    auto it = topics_.find(topic);
    if (it == topics_.end()) return std::nullopt;
    auto t = tracked_.find(it->second.get());
    if (t == tracked_.end() || raw(p) < 0 || static_cast<std::size_t>(raw(p)) >= t->second.size() ||
        t->second[raw(p)] < 0) {
      return std::nullopt;
    }
    return Offset{t->second[raw(p)]};
  }

  Status flush(Millis timeout) {
    rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), clamp_ms(timeout));
    if (!fatal_.empty()) return Status::error(fatal_);
    if (counters_.delivery_failures > 0) {
      return Status::error(std::to_string(counters_.delivery_failures) +
                           " kafka record(s) failed delivery; first: " + first_failure_);
    }
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      return Status::error(std::to_string(rd_kafka_outq_len(rk_.get())) +
                           " kafka record(s) still undelivered after " +
                           std::to_string(timeout.count()) + " ms (brokers '" + brokers_ + "')");
    }
    return Status::ok();
  }

  std::size_t in_flight() const { return static_cast<std::size_t>(rd_kafka_outq_len(rk_.get())); }
  const KafkaSinkCounters& counters() const { return counters_; }

 private:
  rd_kafka_topic_t* topic_handle(std::string_view topic) {
    if (auto it = topics_.find(topic); it != topics_.end()) return it->second.get();
    std::string name(topic);
    kafka::TopicPtr rkt(rd_kafka_topic_new(rk_.get(), name.c_str(), nullptr));
    rd_kafka_topic_t* raw_rkt = rkt.get();
    topics_.emplace(std::move(name), std::move(rkt));
    return raw_rkt;
  }

  std::string note_fatal() {
    if (fatal_.empty()) {
      fatal_ = "kafka producer fatal error: " + kafka::fatal_reason(rk_.get());
      kafka::logger()->error("{}", fatal_);
    }
    return fatal_;
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->counters_.delivered;
      if (!self->tracked_.empty() && m->partition >= 0) {
        if (auto t = self->tracked_.find(m->rkt); t != self->tracked_.end()) {
          auto& ends = t->second;
          const auto p = static_cast<std::size_t>(m->partition);
          if (ends.size() <= p) ends.resize(p + 1, -1);
          ends[p] = std::max(ends[p], m->offset + 1);
        }
      }
      return;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      ++self->counters_.delivery_failures;  // dropped by our destructor; already logged
      return;
    }
    if (self->counters_.delivery_failures++ == 0) {
      // Topic and partition only: keys and values may be personal data.
      self->first_failure_ = std::string(rd_kafka_topic_name(m->rkt)) + " [" +
                             std::to_string(m->partition) + "]: " + kafka::describe(m->err);
      kafka::logger()->error("kafka delivery failed: {}", self->first_failure_);
    }
  }

  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      (void)self->note_fatal();
      return;
    }
    if (code != self->last_error_) {
      kafka::logger()->warn("kafka producer: {} ({})", kafka::describe(code), reason);
      self->last_error_ = code;
    }
  }

  std::string brokers_;
  Millis max_block_;
  kafka::HandlePtr rk_;
  std::unordered_map<std::string, kafka::TopicPtr, StringHash, std::equal_to<>> topics_;
  // Per tracked topic: by partition, the offset after the last delivered
  // record (-1: none yet).
  std::unordered_map<const rd_kafka_topic_t*, std::vector<std::int64_t>> tracked_;
  KafkaSinkCounters counters_;
  std::string first_failure_;
  std::string fatal_;
  rd_kafka_resp_err_t last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
};

std::unique_ptr<KafkaSink> KafkaSink::create(const KafkaSettings& settings, Status& status,
                                             Millis max_block) {
  auto impl = std::make_unique<Impl>(settings.brokers, max_block);
  status = impl->open(settings);
  if (!status) return nullptr;
  return std::unique_ptr<KafkaSink>(new KafkaSink(std::move(impl)));
}

KafkaSink::KafkaSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaSink::~KafkaSink() = default;

Status KafkaSink::produce(std::string_view topic, std::string_view key, std::string_view value) {
  return impl_->produce(topic, RD_KAFKA_PARTITION_UA, key, value.empty() ? nullptr : value.data(),
                        value.size());
}
Status KafkaSink::produce_to(std::string_view topic, Partition partition, std::string_view key,
                             std::optional<std::string_view> value) {
  if (raw(partition) < 0) return Status::error("kafka produce: negative partition");
  return impl_->produce(topic, raw(partition), key, value ? value->data() : nullptr,
                        value ? value->size() : 0);
}
void KafkaSink::track_offsets(std::string_view topic) { impl_->track_offsets(topic); }
std::optional<Offset> KafkaSink::delivered_end(std::string_view topic, Partition p) const {
  return impl_->delivered_end(topic, p);
}
Status KafkaSink::flush(Millis timeout) { return impl_->flush(timeout); }
std::size_t KafkaSink::in_flight() const { return impl_->in_flight(); }
const KafkaSinkCounters& KafkaSink::counters() const { return impl_->counters(); }

}  // namespace mozaiek
