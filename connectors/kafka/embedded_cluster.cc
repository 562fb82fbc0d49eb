#include "connectors/kafka/embedded_cluster.h"

#include <librdkafka/rdkafka_mock.h>

#include <array>

#include "connectors/kafka/kafka_client.h"

namespace mozaiek {

std::unique_ptr<EmbeddedCluster> EmbeddedCluster::start(int brokers, Status& status) {
  if (brokers < 1) {
    status = Status::error("embedded kafka cluster needs at least one broker");
    return nullptr;
  }
  kafka::ConfPtr conf(rd_kafka_conf_new());
  std::array<char, 256> err{};
  // The bookkeeping handle never connects anywhere: keep its "no
  // bootstrap.servers" notice out of the logs (warnings still show).
  for (const auto& [key, value] :
       {std::pair{"client.id", "mozaiek-embedded-cluster"}, std::pair{"log_level", "4"}}) {
    if (rd_kafka_conf_set(conf.get(), key, value, err.data(), err.size()) != RD_KAFKA_CONF_OK) {
      status = Status::error(std::string("embedded kafka cluster: ") + err.data());
      return nullptr;
    }
  }
  kafka::HandlePtr handle;
  if (status = kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf), "embedded cluster handle",
                                  handle);
      !status) {
    return nullptr;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle.get(), brokers);
  if (cluster == nullptr) {
    status = Status::error(
        "cannot start the embedded kafka cluster (mock cluster creation failed)");
    return nullptr;
  }
  status = Status::ok();
  auto result = std::unique_ptr<EmbeddedCluster>(
      new EmbeddedCluster(handle.release(), cluster, brokers));
  kafka::logger()->info("embedded kafka cluster started at {} ({} broker(s))",
                        result->bootstrap_servers(), brokers);
  return result;
}

EmbeddedCluster::EmbeddedCluster(rd_kafka_t* handle, rd_kafka_mock_cluster_t* cluster, int brokers)
    : handle_(handle), cluster_(cluster), brokers_(brokers) {}

EmbeddedCluster::~EmbeddedCluster() {
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(handle_);
}

std::string EmbeddedCluster::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_);
}

std::vector<std::pair<std::string, std::string>> EmbeddedCluster::client_properties() {
  return {{"session.timeout.ms", "3000"}, {"heartbeat.interval.ms", "500"}};
}

Status EmbeddedCluster::create_topic(const std::string& name, int partitions,
                                     int replication_factor) {
  if (partitions < 1 || replication_factor < 1 || replication_factor > brokers_) {
    return Status::error("embedded kafka: topic '" + name + "' needs partitions >= 1 and 1 <= " +
                         "replication factor <= " + std::to_string(brokers_));
  }
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions,
                                                       replication_factor);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return Status::error("embedded kafka: cannot create topic '" + name +
                         "': " + kafka::describe(err));
  }
  return Status::ok();
}

void EmbeddedCluster::push_request_errors(KafkaApi api,
                                          const std::vector<rd_kafka_resp_err_t>& errors) {
  rd_kafka_mock_push_request_errors_array(cluster_, static_cast<std::int16_t>(api), errors.size(),
                                          errors.data());
}

void EmbeddedCluster::clear_request_errors(KafkaApi api) {
  rd_kafka_mock_clear_request_errors(cluster_, static_cast<std::int16_t>(api));
}

Status EmbeddedCluster::broker_down(int broker_id) {
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(cluster_, broker_id);
  if (err) return Status::error("embedded kafka: broker_down: " + kafka::describe(err));
  return Status::ok();
}

Status EmbeddedCluster::broker_up(int broker_id) {
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(cluster_, broker_id);
  if (err) return Status::error("embedded kafka: broker_up: " + kafka::describe(err));
  return Status::ok();
}

Status EmbeddedCluster::set_broker_rtt(int broker_id, Millis rtt) {
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(cluster_, broker_id,
                                                         static_cast<int>(rtt.count()));
  if (err) return Status::error("embedded kafka: set_broker_rtt: " + kafka::describe(err));
  return Status::ok();
}

}  // namespace mozaiek
