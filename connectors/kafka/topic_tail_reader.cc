#include "connectors/kafka/topic_tail_reader.h"

#include <algorithm>
#include <chrono>

#include "connectors/kafka/kafka_client.h"

namespace mozaiek {
namespace {

constexpr auto kSetupTimeout = std::chrono::seconds(30);
constexpr int kQueryTimeoutMs = 5000;
constexpr int kPollMs = 200;

// The partition count of `topic`, retrying while it is new and has no
// leader yet.
Status partition_count(rd_kafka_t* rk, const std::string& topic, int& count) {
  kafka::TopicPtr handle(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  const auto deadline = std::chrono::steady_clock::now() + kSetupTimeout;
  std::string last = "no metadata";
  while (std::chrono::steady_clock::now() < deadline) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle.get(), &md, kQueryTimeoutMs);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
          md->topics[0].partition_cnt > 0) {
        count = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        return Status::ok();
      }
      if (md->topic_cnt == 1) last = kafka::describe(md->topics[0].err);
      rd_kafka_metadata_destroy(md);
    } else {
      if (kafka::classify(err) == kafka::ErrorClass::kFatal) break;
      last = kafka::describe(err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::error("topic " + topic + ": no partitions found: " + last);
}

// Adds every partition of `topic` to `assignment` at its start offset.
Status assign_topic(rd_kafka_t* rk, const TopicTailReader::Topic& topic,
                    rd_kafka_topic_partition_list_t* assignment) {
  int partitions = 0;
  if (Status s = partition_count(rk, topic.name, partitions); !s) return s;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t start = RD_KAFKA_OFFSET_BEGINNING;
    if (topic.tail) {
      std::int64_t low = 0, high = 0;
      const auto deadline = std::chrono::steady_clock::now() + kSetupTimeout;
      if (Status s = kafka::query_watermarks(rk, topic.name, p, deadline, low, high); !s) {
        return Status::error("topic " + topic.name + " [" + std::to_string(p) +
                             "]: " + s.message());
      }
      start = std::max(low, high - static_cast<std::int64_t>(*topic.tail));
    }
    rd_kafka_topic_partition_list_add(assignment, topic.name.c_str(), p)->offset = start;
  }
  return Status::ok();
}

}  // namespace

struct TopicTailReader::Impl {
  kafka::HandlePtr rk;
  std::string name;
  std::vector<Topic> topics;
  OnFatal on_fatal;
};

std::unique_ptr<TopicTailReader> TopicTailReader::start(const KafkaSettings& settings,
                                                        std::string name, std::string group_id,
                                                        std::vector<Topic> topics, OnFatal on_fatal,
                                                        Status& status) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->topics = std::move(topics);
  impl->on_fatal = std::move(on_fatal);
  const kafka::Properties defaults = {{"fetch.wait.max.ms", "100"}};
  // Partitions are assigned directly and nothing is committed.
  const kafka::Properties enforced = {
      {"group.id", group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
  };
  kafka::ConfPtr conf;
  if (status = kafka::build_conf(settings, defaults, enforced, conf); !status) return nullptr;
  if (status = kafka::make_handle(RD_KAFKA_CONSUMER, std::move(conf), impl->name, impl->rk);
      !status) {
    return nullptr;
  }
  rd_kafka_t* rk = impl->rk.get();
  kafka::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(0));
  for (const Topic& topic : impl->topics) {
    if (status = assign_topic(rk, topic, assignment.get()); !status) return nullptr;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment.get())) {
    status = Status::error(impl->name + ": assign failed: " + kafka::describe(err));
    return nullptr;
  }
  status = Status::ok();
  std::unique_ptr<TopicTailReader> reader(new TopicTailReader(std::move(impl)));
  reader->thread_ = std::thread([r = reader.get()] { r->run(); });
  return reader;
}

TopicTailReader::TopicTailReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TopicTailReader::~TopicTailReader() { stop(); }

void TopicTailReader::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (impl_ && impl_->rk) {
    (void)rd_kafka_assign(impl_->rk.get(), nullptr);
    (void)rd_kafka_consumer_close(impl_->rk.get());
    impl_->rk.reset();
  }
}

void TopicTailReader::run() {
  rd_kafka_t* rk = impl_->rk.get();
  while (!stopping_) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk, kPollMs));
    if (!m) continue;
    if (m->err) {
      if (kafka::classify(m->err) == kafka::ErrorClass::kFatal) {
        Status s = Status::error(impl_->name + ": " + kafka::describe(m->err));
        kafka::logger()->error("{}", s.message());
        if (impl_->on_fatal) impl_->on_fatal(std::move(s));
        return;
      }
      continue;  // transient; librdkafka retries
    }
    RecordView record;
    record.topic = rd_kafka_topic_name(m->rkt);
    record.partition = Partition{m->partition};
    record.offset = Offset{m->offset};
    if (m->key) record.key = {static_cast<const char*>(m->key), m->key_len};
    if (m->payload) record.value = {static_cast<const char*>(m->payload), m->len};
    rd_kafka_timestamp_type_t type;
    const std::int64_t ts = rd_kafka_message_timestamp(m.get(), &type);
    if (ts >= 0) record.timestamp = ProcTime{Millis{ts}};
    for (const Topic& topic : impl_->topics) {
      if (topic.name == record.topic) {
        topic.deliver(record);
        break;
      }
    }
  }
}

}  // namespace mozaiek
