#include "connectors/kafka/kafka_client.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <thread>

namespace mozaiek::kafka {
namespace {

// librdkafka log levels are syslog levels.
void route_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto& log = *logger();
  const char* name = rd_kafka_name(rk);
  // KafkaSettings::properties is shared by consumers and producers, so a
  // property of the other role being ignored is expected, not a warning.
  if (std::strcmp(facility, "CONFWARN") == 0 &&
      std::strstr(message, "will be ignored by this") != nullptr) {
    log.debug("{} {}: {}", name, facility, message);
    return;
  }
  if (level <= 3) {
    log.error("{} {}: {}", name, facility, message);
  } else if (level <= 4) {
    log.warn("{} {}: {}", name, facility, message);
  } else if (level <= 6) {
    log.info("{} {}: {}", name, facility, message);
  } else {
    log.debug("{} {}: {}", name, facility, message);
  }
}

Status set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  std::array<char, 512> err{};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err.data(), err.size()) !=
      RD_KAFKA_CONF_OK) {
    // librdkafka's message names the property and, for enums, the allowed
    // values; it does not echo the value for string properties.
    return Status::error("kafka property '" + key + "': " + err.data());
  }
  return Status::ok();
}

}  // namespace

Status build_conf(const KafkaSettings& settings, const Properties& defaults,
                  const Properties& enforced, ConfPtr& out) {
  if (settings.brokers.empty()) {
    return Status::error("kafka.brokers is empty: give a host:port list or 'embedded'");
  }
  if (settings.brokers == "embedded") {
    return Status::error(
        "kafka.brokers is 'embedded': start an EmbeddedCluster and use its bootstrap_servers()");
  }
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &route_log);
  for (const auto* layer : {&defaults, &settings.properties, &enforced}) {
    for (const auto& [key, value] : *layer) {
      if (auto st = set_property(conf.get(), key, value); !st) return st;
    }
  }
  if (auto st = set_property(conf.get(), "bootstrap.servers", settings.brokers); !st) return st;
  if (auto st = set_property(conf.get(), "client.id", settings.client_id); !st) return st;
  out = std::move(conf);
  return Status::ok();
}

Status make_handle(rd_kafka_type_t type, ConfPtr conf, const std::string& what, HandlePtr& out) {
  std::array<char, 512> err{};
  // rd_kafka_new takes ownership of conf only on success.
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err.data(), err.size());
  if (rk == nullptr) return Status::error("cannot create kafka " + what + ": " + err.data());
  (void)conf.release();
  out.reset(rk);
  return Status::ok();
}

ErrorClass classify(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL:
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION: return ErrorClass::kFatal;
    default: return ErrorClass::kRecoverable;
  }
}

std::string describe(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

std::string fatal_reason(rd_kafka_t* rk) {
  std::array<char, 512> reason{};
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk, reason.data(), reason.size());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  return std::string(rd_kafka_err2name(err)) + ": " + reason.data();
}

Status query_watermarks(rd_kafka_t* rk, const std::string& topic, int partition,
                        std::chrono::steady_clock::time_point deadline, std::int64_t& low,
                        std::int64_t& high) {
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low,
                                                               &high, 5000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok();
    if (classify(err) == ErrorClass::kFatal || std::chrono::steady_clock::now() > deadline) {
      return Status::error("reading its end offset: " + describe(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    if (auto existing = spdlog::get("kafka")) return existing;
    auto created = spdlog::default_logger()->clone("kafka");
    try {
      spdlog::register_logger(created);
    } catch (const spdlog::spdlog_ex&) {
      // Someone registered "kafka" concurrently; use theirs.
      if (auto existing = spdlog::get("kafka")) return existing;
    }
    return created;
  }();
  return instance;
}

}  // namespace mozaiek::kafka
