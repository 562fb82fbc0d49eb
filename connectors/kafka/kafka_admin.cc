#include "connectors/kafka/kafka_admin.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <thread>

#include "connectors/kafka/kafka_client.h"

namespace mozaiek {
namespace {

using SteadyClock = std::chrono::steady_clock;

int remaining_ms(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, std::int64_t{24} * 3600 * 1000));
}

struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* t) const { rd_kafka_NewTopic_destroy(t); }
};
struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};

// Names of the topics the cluster knows, or an error when no broker answered
// in time.
Status list_topics(rd_kafka_t* rk, const KafkaSettings& settings, SteadyClock::time_point deadline,
                   Millis timeout, std::set<std::string>& out) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, remaining_ms(deadline));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::error("kafka brokers '" + settings.brokers + "' did not answer within " +
                         std::to_string(timeout.count()) + " ms (" + kafka::describe(err) +
                         "): is the broker running and the address right?");
  }
  out.clear();
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (md->topics[i].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      out.insert(md->topics[i].topic);
    }
  }
  rd_kafka_metadata_destroy(md);
  return Status::ok();
}

}  // namespace

Status ensure_topics(const KafkaSettings& settings, const std::vector<std::string>& topics,
                     Millis timeout, const std::vector<std::string>& compacted) {
  std::vector<TopicSpec> specs;
  for (const auto& t : topics) {
    specs.push_back(TopicSpec{t, std::nullopt,
                              std::find(compacted.begin(), compacted.end(), t) != compacted.end()});
  }
  return ensure_topic_specs(settings, specs, timeout);
}

Status ensure_topic_specs(const KafkaSettings& settings, const std::vector<TopicSpec>& specs,
                          Millis timeout) {
  if (specs.empty()) return Status::ok();
  const auto deadline = SteadyClock::now() + timeout;

  kafka::ConfPtr conf;
  if (auto st = kafka::build_conf(settings, {}, {}, conf); !st) return st;
  kafka::HandlePtr rk;
  if (auto st = kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf), "admin client", rk); !st) {
    return st;
  }

  std::set<std::string> existing;
  if (auto st = list_topics(rk.get(), settings, deadline, timeout, existing); !st) return st;
  std::vector<std::string> missing;
  std::vector<const TopicSpec*> missing_specs;
  for (const auto& spec : specs) {
    const std::string& t = spec.name;
    if (!existing.contains(t) && std::find(missing.begin(), missing.end(), t) == missing.end()) {
      missing.push_back(t);
      missing_specs.push_back(&spec);
    }
  }
  if (missing.empty()) return Status::ok();

  std::vector<std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>> owned;
  std::vector<rd_kafka_NewTopic_t*> requests;
  std::array<char, 512> err{};
  for (const TopicSpec* spec : missing_specs) {
    const std::string& name = spec->name;
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(name.c_str(), settings.partitions,
                                                    settings.replication_factor, err.data(),
                                                    err.size());
    if (nt == nullptr) return Status::error("kafka topic '" + name + "': " + err.data());
    owned.emplace_back(nt);
    if (spec->compacted) {
      if (rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact")) {
        return Status::error("kafka topic '" + name + "': " + kafka::describe(e));
      }
    } else if (spec->retention) {
      const std::string ms = std::to_string(spec->retention->count());
      if (rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(nt, "retention.ms", ms.c_str())) {
        return Status::error("kafka topic '" + name + "': " + kafka::describe(e));
      }
    }
    requests.push_back(nt);
  }

  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  const int left = std::max(remaining_ms(deadline), 1);
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), left, err.data(), err.size()) ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), left, err.data(), err.size())) {
    return Status::error(std::string("kafka admin options: ") + err.data());
  }
  kafka::QueuePtr queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_CreateTopics(rk.get(), requests.data(), requests.size(), options.get(), queue.get());
  // A little slack: the request timeout above fires first and yields an event.
  kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), left + 1000));
  if (!event) {
    return Status::error("kafka brokers '" + settings.brokers +
                         "' did not answer CreateTopics within " + std::to_string(timeout.count()) +
                         " ms");
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::string hint;
    const std::string detail = rd_kafka_event_error_string(event.get());
    // The mock cluster reports no controller, so CreateTopics waits for one.
    if (rd_kafka_event_error(event.get()) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
        detail.find("controller") != std::string::npos) {
      hint = " (no controller or no CreateTopics API; for the embedded cluster use "
             "EmbeddedCluster::create_topic)";
    }
    return Status::error("kafka brokers '" + settings.brokers +
                         "': creating topics failed: " + detail + hint);
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  std::string failures;
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(results[i]);
    const char* name = rd_kafka_topic_result_name(results[i]);
    if (terr == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const auto spec = std::find_if(missing_specs.begin(), missing_specs.end(),
                                     [&](const TopicSpec* t) { return t->name == name; });
      std::string kept = "broker default retention";
      if (spec != missing_specs.end() && (*spec)->compacted) kept = "compacted";
      if (spec != missing_specs.end() && !(*spec)->compacted && (*spec)->retention) {
        kept = "retention.ms " + std::to_string((*spec)->retention->count());
      }
      kafka::logger()->info("created kafka topic {} ({} partitions, replication {}, {})", name,
                            settings.partitions, settings.replication_factor, kept);
    } else if (terr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* detail = rd_kafka_topic_result_error_string(results[i]);
      failures += std::string(failures.empty() ? "" : "; ") + name + ": " +
                  (detail != nullptr ? detail : kafka::describe(terr));
    }
  }
  if (!failures.empty()) {
    return Status::error("kafka brokers '" + settings.brokers +
                         "': cannot create topics: " + failures);
  }

  // Creation is acknowledged by the controller before every broker's metadata
  // cache has it; wait (bounded) so clients created next see the topics.
  while (true) {
    if (auto st = list_topics(rk.get(), settings, deadline, timeout, existing); !st) break;
    if (std::all_of(missing.begin(), missing.end(),
                    [&](const std::string& t) { return existing.contains(t); })) {
      return Status::ok();
    }
    if (remaining_ms(deadline) == 0) break;
    std::this_thread::sleep_for(Millis{50});
  }
  kafka::logger()->warn("kafka topics created but not yet visible in metadata after {} ms",
                        timeout.count());
  return Status::ok();
}

}  // namespace mozaiek

namespace mozaiek {
namespace {

struct ConfigResourceDeleter {
  void operator()(rd_kafka_ConfigResource_t* r) const { rd_kafka_ConfigResource_destroy(r); }
};

}  // namespace

Status describe_topic_config(const KafkaSettings& settings, const std::string& topic,
                             Millis timeout, std::map<std::string, std::string>& out) {
  out.clear();
  kafka::ConfPtr conf;
  if (auto st = kafka::build_conf(settings, {}, {}, conf); !st) return st;
  kafka::HandlePtr rk;
  if (auto st = kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf), "admin client", rk); !st) {
    return st;
  }
  std::unique_ptr<rd_kafka_ConfigResource_t, ConfigResourceDeleter> resource(
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS));
  std::array<char, 512> err{};
  const int ms = static_cast<int>(timeout.count());
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), ms, err.data(), err.size())) {
    return Status::error(std::string("kafka admin options: ") + err.data());
  }
  kafka::QueuePtr queue(rd_kafka_queue_new(rk.get()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  rd_kafka_DescribeConfigs(rk.get(), resources, 1, options.get(), queue.get());
  kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), ms + 1000));
  if (!event) {
    return Status::error("kafka brokers '" + settings.brokers +
                         "' did not answer DescribeConfigs within " + std::to_string(ms) + " ms");
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::error("kafka topic '" + topic + "': describing its config failed: " +
                         rd_kafka_event_error_string(event.get()));
  }
  const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(
      event.get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described = rd_kafka_DescribeConfigs_result_resources(result,
                                                                                          &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(described[i])) {
      return Status::error("kafka topic '" + topic + "': " + kafka::describe(e));
    }
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(described[i],
                                                                             &entries);
    for (size_t j = 0; j < entries; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(configs[j]);
      out[rd_kafka_ConfigEntry_name(configs[j])] = value != nullptr ? value : "";
    }
  }
  return Status::ok();
}

}  // namespace mozaiek
