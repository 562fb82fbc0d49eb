#include "connectors/kafka/kafka_changelog.h"

#include <algorithm>
#include <chrono>

#include "connectors/kafka/kafka_client.h"

namespace mozaiek {
namespace {

// Applies the assigned partition's records from `next` until offset `high`
// (or its end, as compaction may leave the last offsets empty); `next`
// ends after the last record applied. Fails on a fatal error or at
// `deadline`.
Status read_to(rd_kafka_t* rk, const std::string& where, std::int64_t high,
               std::chrono::steady_clock::time_point deadline,
               const ChangelogTransport::Apply& apply, std::int64_t& next) {
  while (next < high) {
    if (std::chrono::steady_clock::now() > deadline) {
      const auto limit_s = KafkaChangelog::kReplayTimeout.count() / 1000;
      return Status::error("changelog " + where + ": replay did not reach offset " +
                           std::to_string(high) + " within " + std::to_string(limit_s) + " s (at " +
                           std::to_string(next) + ")");
    }
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk, 200));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      next = std::max(next, m->offset);
      break;  // compaction may leave the last offsets empty
    }
    if (m->err) {
      if (kafka::classify(m->err) == kafka::ErrorClass::kFatal) {
        return Status::error("changelog " + where + ": " + kafka::describe(m->err));
      }
      continue;  // transient; librdkafka retries
    }
    const std::string_view key(static_cast<const char*>(m->key), m->key_len);
    if (m->payload == nullptr) {
      apply(key, std::nullopt);
    } else {
      apply(key, std::string_view(static_cast<const char*>(m->payload), m->len));
    }
    next = m->offset + 1;
  }
  return Status::ok();
}

}  // namespace

std::unique_ptr<KafkaChangelog> KafkaChangelog::create(const KafkaSettings& settings,
                                                       std::string topic, Status& status) {
  auto sink = KafkaSink::create(settings, status);
  if (!sink) return nullptr;
  sink->track_offsets(topic);
  return std::unique_ptr<KafkaChangelog>(
      new KafkaChangelog(settings, std::move(topic), std::move(sink)));
}

KafkaChangelog::KafkaChangelog(KafkaSettings settings, std::string topic,
                               std::unique_ptr<KafkaSink> sink)
    : settings_(std::move(settings)), topic_(std::move(topic)), sink_(std::move(sink)) {}

Status KafkaChangelog::append(Partition p, std::string_view key,
                              std::optional<std::string_view> value) {
  return sink_->produce_to(topic_, p, key, value);
}

Status KafkaChangelog::sync() { return sink_->flush(seconds(60)); }

std::optional<Offset> KafkaChangelog::synced_end(Partition p) const {
  return sink_->delivered_end(topic_, p);
}

Status KafkaChangelog::replay(Partition p, Offset from, const Apply& apply, Offset& end) {
  end = from;
  const std::string where = topic_ + " [" + std::to_string(raw(p)) + "]";
  const kafka::Properties defaults = {{"fetch.wait.max.ms", "50"}};
  // The partition is assigned directly and nothing is committed; the group
  // id is required by the client but never joins a group.
  const kafka::Properties enforced = {
      {"group.id", topic_ + ".restore"},     {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"}, {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
  };
  kafka::ConfPtr conf;
  if (Status s = kafka::build_conf(settings_, defaults, enforced, conf); !s) return s;
  kafka::HandlePtr rk;
  if (Status s = kafka::make_handle(RD_KAFKA_CONSUMER, std::move(conf),
                                    "changelog reader for " + where, rk);
      !s) {
    return s;
  }
  std::int64_t low = 0;
  std::int64_t high = 0;
  const auto deadline = std::chrono::steady_clock::now() + kReplayTimeout;
  if (Status s = kafka::query_watermarks(rk.get(), topic_, raw(p), deadline, low, high); !s) {
    return Status::error("changelog " + where + ": " + s.message());
  }
  std::int64_t start = std::max(raw(from), low);
  if (raw(from) > high) {
    // The checkpoint is past the end: the topic was recreated. Read it all.
    kafka::logger()->warn("changelog {}: checkpoint {} is past the end {}; replaying from {}",
                          where, raw(from), high, low);
    start = low;
  }
  if (start >= high) {
    end = Offset{high};
    return Status::ok();
  }
  kafka::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic_.c_str(), raw(p))->offset = start;
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), assignment.get())) {
    return Status::error("changelog " + where + ": assign failed: " + kafka::describe(err));
  }
  std::int64_t next = start;
  Status result = read_to(rk.get(), where, high, deadline, apply, next);
  (void)rd_kafka_assign(rk.get(), nullptr);
  (void)rd_kafka_consumer_close(rk.get());
  if (!result) return result;
  end = Offset{std::max(next, high)};
  return Status::ok();
}

}  // namespace mozaiek
