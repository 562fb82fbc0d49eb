#include "connectors/app/alert_topics_reader.h"

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

}  // namespace

struct AlertTopicsReader::Impl {
  kafka::HandlePtr rk;
  Topics topics;
  AlertFeed& feed;
  OnFatal on_fatal;
  Impl(Topics t, AlertFeed& f, OnFatal fatal)
      : topics(std::move(t)), feed(f), on_fatal(std::move(fatal)) {}
};

std::unique_ptr<AlertTopicsReader> AlertTopicsReader::start(const KafkaSettings& settings,
                                                            Topics topics, AlertFeed& feed,
                                                            std::size_t alerts_tail,
                                                            OnFatal on_fatal, Status& status) {
  auto impl = std::make_unique<Impl>(std::move(topics), feed, std::move(on_fatal));
  const kafka::Properties defaults = {{"fetch.wait.max.ms", "100"}};
  // Partitions are assigned directly and nothing is committed; the group
  // id is required by the client but never joins a group.
  const kafka::Properties enforced = {
      {"group.id", impl->topics.actions + ".reader"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
  };
  kafka::ConfPtr conf;
  if (status = kafka::build_conf(settings, defaults, enforced, conf); !status) return nullptr;
  if (status = kafka::make_handle(RD_KAFKA_CONSUMER, std::move(conf), "alert topics reader",
                                  impl->rk);
      !status) {
    return nullptr;
  }
  rd_kafka_t* rk = impl->rk.get();
  int alert_partitions = 0;
  int action_partitions = 0;
  if (status = partition_count(rk, impl->topics.alerts, alert_partitions); !status) return nullptr;
  if (status = partition_count(rk, impl->topics.actions, action_partitions); !status) {
    return nullptr;
  }
  kafka::PartitionListPtr assignment(
      rd_kafka_topic_partition_list_new(alert_partitions + action_partitions));
  for (int p = 0; p < alert_partitions; ++p) {
    std::int64_t low = 0, high = 0;
    const auto deadline = std::chrono::steady_clock::now() + kSetupTimeout;
    if (Status s = kafka::query_watermarks(rk, impl->topics.alerts, p, deadline, low, high); !s) {
      status = Status::error("topic " + impl->topics.alerts + " [" + std::to_string(p) +
                             "]: " + s.message());
      return nullptr;
    }
    const auto tail = static_cast<std::int64_t>(alerts_tail);
    rd_kafka_topic_partition_list_add(assignment.get(), impl->topics.alerts.c_str(), p)->offset =
        std::max(low, high - tail);
  }
  for (int p = 0; p < action_partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), impl->topics.actions.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment.get())) {
    status = Status::error("alert topics reader: assign failed: " + kafka::describe(err));
    return nullptr;
  }
  status = Status::ok();
  std::unique_ptr<AlertTopicsReader> reader(new AlertTopicsReader(std::move(impl)));
  reader->thread_ = std::thread([r = reader.get()] { r->run(); });
  return reader;
}

AlertTopicsReader::AlertTopicsReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AlertTopicsReader::~AlertTopicsReader() { stop(); }

void AlertTopicsReader::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (impl_ && impl_->rk) {
    (void)rd_kafka_assign(impl_->rk.get(), nullptr);
    (void)rd_kafka_consumer_close(impl_->rk.get());
    impl_->rk.reset();
  }
}

void AlertTopicsReader::run() {
  rd_kafka_t* rk = impl_->rk.get();
  AlertAction action;
  std::string error;
  while (!stopping_) {
    kafka::MessagePtr m(rd_kafka_consumer_poll(rk, kPollMs));
    if (!m) continue;
    if (m->err) {
      if (kafka::classify(m->err) == kafka::ErrorClass::kFatal) {
        Status s = Status::error("alert topics reader: " + kafka::describe(m->err));
        kafka::logger()->error("{}", s.message());
        if (impl_->on_fatal) impl_->on_fatal(std::move(s));
        return;
      }
      continue;  // transient; librdkafka retries
    }
    const std::string_view topic(rd_kafka_topic_name(m->rkt));
    const std::string_view value(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
    if (topic == impl_->topics.alerts) {
      ++alerts_read_;
      impl_->feed.publish(std::string(value));
      continue;
    }
    if (!read_action_json(value, action, error)) {
      ++unreadable_;
      kafka::logger()->warn("{} [{}] offset {}: not an action record v1 (field {}); ignored",
                            topic, m->partition, m->offset, error);
      continue;
    }
    ++actions_read_;
    impl_->feed.apply(action);
  }
}

}  // namespace mozaiek
