#include "connectors/app/service.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "connectors/app/alert_topics_reader.h"
#include "connectors/app/metrics_bridge.h"
#include "connectors/app/service_tasks.h"
#include "connectors/http/api/alert_actions_api.h"
#include "connectors/http/api/alert_feed.h"
#include "connectors/http/api/alert_feed_api.h"
#include "connectors/http/api/console.h"
#include "connectors/http/api/entity_api.h"
#include "connectors/http/api/erasure_api.h"
#include "connectors/http/api/rules_api.h"
#include "connectors/http/http_server.h"
#include "connectors/kafka/embedded_cluster.h"
#include "connectors/kafka/kafka_admin.h"
#include "connectors/kafka/kafka_changelog.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/oversight/oversight_metrics.h"
#include "operators/pipeline/pipeline_metrics.h"
#include "stream/rocksdb_state.h"
#include "stream/task_loop.h"

namespace mozaiek {
namespace {

constexpr Millis kPollTimeout{100};
constexpr Millis kLagInterval = seconds(5);
constexpr Millis kExpiryInterval = seconds(30);
constexpr Millis kOversightInterval = seconds(1);

std::string escape_regex(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

constexpr auto kEntityTimeout = std::chrono::seconds(10);

}  // namespace

struct Service::Impl {
  Settings settings;
  ServiceOptions options;
  SystemClock clock;
  std::string key;
  std::unique_ptr<Pseudonymiser> pseudonymiser;
  std::unique_ptr<EmbeddedCluster> cluster;
  KafkaSettings kafka;
  std::unique_ptr<RocksStateDb> db;
  std::unique_ptr<StateStoreFactory> local_stores;
  // Used by the convergence loop only (stores are opened on its thread).
  std::unique_ptr<KafkaChangelog> changelog;
  ChangelogCounters changelog_counters;
  std::unique_ptr<StateStoreFactory> stores;
  prometheus::Registry registry;
  std::unique_ptr<PipelineMetrics> metrics;
  std::unique_ptr<OversightMetrics> oversight;
  AlertFeed feed{1000};
  // With HTTP only: the alerts and actions every instance shows, and the
  // actions API (its producer writes the alert-actions topic).
  std::unique_ptr<AlertTopicsReader> alert_reader;
  std::unique_ptr<AlertActionProbe> action_probe;
  std::unique_ptr<AlertActionsApi> actions_api;
  std::unique_ptr<HttpServer> http;
  EntityRequests entity_requests;
  std::unique_ptr<EntityLookupProbe> lookups;
  std::unique_ptr<ErasureApi> erasures;

  IntakeTask::Committed intake_committed;
  ConvergenceTask::Committed convergence_committed;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> failure;
  int loops_running = 0;
  std::thread intake_thread;
  std::thread convergence_thread;

  void fail(Status s) {
    std::lock_guard lock(mu);
    if (!failure) failure = std::move(s);
    stopping = true;
    cv.notify_all();
  }
  bool failed() {
    std::lock_guard lock(mu);
    return failure.has_value();
  }
  void loop_done() {
    std::lock_guard lock(mu);
    --loops_running;
    cv.notify_all();
  }

  ServiceTaskContext task_context() {
    return ServiceTaskContext{settings, clock, *metrics, *oversight, [this] { return failed(); }};
  }
  TaskLoopOptions loop_options(std::string name) const {
    return TaskLoopOptions{.name = std::move(name),
                           .batch_records = Service::kBatchRecords,
                           .poll_timeout = kPollTimeout,
                           .commit_interval = Millis{settings.commit_interval_ms}};
  }
  // A loop's end: its error fails the service, exceptions it caught are counted.
  void loop_ended(const std::string& name, Status status, const TaskLoopStats& stats) {
    if (stats.exceptions > 0) metrics->record_task_error(name, stats.exceptions);
    if (!status) fail(std::move(status));
    loop_done();
  }

  void run_intake();
  void run_convergence();
};

Service::Service(Settings settings, ServiceOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
  impl_->options = options;
}

Service::~Service() { stop(); }

Status Service::start() {
  Impl& m = *impl_;
  if (Status s = load_pseudonym_key(m.settings, m.options.demo, m.key); !s) return s;
  m.pseudonymiser = std::make_unique<Pseudonymiser>(m.key);

  m.kafka = m.settings.kafka_settings();
  const std::string changelog_topic = m.settings.changelog_topic();
  std::vector<std::string> topics;
  for (const auto& src : m.settings.operators.sources) {
    topics.push_back(m.settings.topics.signals_prefix + src.name);
  }
  for (const auto* t : {&m.settings.topics.chain_events, &m.settings.topics.alerts,
                        &m.settings.topics.alert_actions, &m.settings.topics.dlq,
                        &m.settings.topics.audit, &m.settings.topics.subjects}) {
    topics.push_back(*t);
  }
  topics.push_back(changelog_topic);
  if (m.settings.brokers == "embedded") {
    Status s = Status::ok();
    m.cluster = EmbeddedCluster::start(1, s);
    if (!m.cluster) return Status::error("embedded Kafka cluster: " + s.message());
    m.kafka.brokers = m.cluster->bootstrap_servers();
    for (auto& prop : EmbeddedCluster::client_properties()) m.kafka.properties.push_back(prop);
    for (const auto& t : topics) {
      if (Status c = m.cluster->create_topic(t, m.settings.partitions, 1); !c) return c;
    }
    spdlog::info("embedded Kafka cluster at {}", m.kafka.brokers);
  } else {
    if (Status s = ensure_topics(m.kafka, topics, seconds(30), {changelog_topic}); !s) {
      return s;
    }
  }

  Status s = Status::ok();
  m.db = RocksStateDb::open(m.settings.state_dir, s);
  if (!m.db) return Status::error("state directory " + m.settings.state_dir + ": " + s.message());
  m.local_stores = m.db->factory();
  // Operator state is changelogged, so a partition's state follows the
  // partition to whichever instance it is assigned to.
  m.changelog = KafkaChangelog::create(m.kafka, changelog_topic, s);
  if (!m.changelog) return Status::error("state changelog: " + s.message());
  m.stores = make_changelog_factory(*m.local_stores, *m.changelog, m.changelog_counters);

  m.metrics = std::make_unique<PipelineMetrics>(m.registry, pipeline_label_sets(m.settings));
  m.metrics->record_restart();
  m.oversight = std::make_unique<OversightMetrics>(m.registry, oversight_label_sets(m.settings));
  m.lookups = std::make_unique<EntityLookupProbe>(m.registry);
  if (m.options.serve_http) {
    m.http = std::make_unique<HttpServer>(m.settings.http_listen, m.registry);
    add_console_routes(*m.http);
    add_alert_feed_routes(*m.http, m.feed);
    add_rules_route(*m.http, rules_json(m.settings.operators));
    m.http->route("GET", R"(/api/entities/([a-z]+)/([^/]+))", [&m](const HttpRequest& req) {
      EntityLookup lookup;
      if (auto bad = check_entity_request(req, lookup)) return *bad;
      return m.entity_requests.ask(std::move(lookup), kEntityTimeout);
    });
    m.alert_reader = AlertTopicsReader::start(
        m.kafka, {m.settings.topics.alerts, m.settings.topics.alert_actions}, m.feed,
        m.feed.capacity(), [&m](Status fatal) { m.fail(std::move(fatal)); }, s);
    if (!m.alert_reader) return Status::error("alert topics: " + s.message());
    m.action_probe = std::make_unique<AlertActionProbe>(m.registry);
    m.actions_api = std::make_unique<AlertActionsApi>(
        m.feed, m.settings.topics.alert_actions,
        [&m](Status& status) -> std::unique_ptr<RecordSink> {
          return KafkaSink::create(m.kafka, status);
        },
        m.clock, *m.action_probe);
    m.http->route("POST", R"(/api/alerts/([^/]+)/actions)",
                  [&m](const HttpRequest& req) { return m.actions_api->handle(req); });
    // Erasure requests get their own producer: HTTP threads never share the
    // task loops' sinks.
    m.erasures = std::make_unique<ErasureApi>(
        [&m](Status& status) -> std::unique_ptr<RecordSink> {
          return KafkaSink::create(m.kafka, status);
        },
        ErasureTopics{m.settings.topics.subjects, m.settings.topics.audit}, *m.pseudonymiser,
        m.clock);
    m.http->route("POST", "/api/erasure",
                  [&m](const HttpRequest& req) { return m.erasures->handle(req); });
    if (Status h = m.http->start(); !h) return h;
    spdlog::info("HTTP on http://{} (/metrics, /healthz, /readyz, /api/alerts, /api/entities, "
                 "POST /api/alerts/<id>/actions, POST /api/erasure)",
                 m.http->address());
  }

  m.loops_running = 2;
  m.intake_thread = std::thread([&m] { m.run_intake(); });
  m.convergence_thread = std::thread([&m] { m.run_convergence(); });
  if (m.http) m.http->set_ready(true);
  return Status::ok();
}

void Service::Impl::run_intake() {
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka, s);
  std::unique_ptr<KafkaSource> source;
  if (sink) {
    source = KafkaSource::create(kafka, settings.group_id + ".intake",
                                 {"^" + escape_regex(settings.topics.signals_prefix) + ".*",
                                  settings.topics.chain_events},
                                 s);
  }
  if (!sink || !source) return loop_ended("intake", Status::error("intake: " + s.message()), {});
  IntakeTask task(task_context(), *pseudonymiser, *sink, *source, intake_committed);
  TaskLoop loop(loop_options("intake"), *source, task, clock);
  loop.every(kLagInterval, "lag", [&task](std::size_t) {
    task.report_lag();
    return Status::ok();
  });
  Status stopped = loop.run(stopping);
  loop_ended("intake", std::move(stopped), loop.stats());
}

void Service::Impl::run_convergence() {
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka, s);
  std::unique_ptr<KafkaSource> source;
  if (sink)
    source = KafkaSource::create(kafka, settings.group_id + ".convergence",
                                 {settings.topics.subjects}, s);
  if (!sink || !source) {
    return loop_ended("convergence", Status::error("convergence: " + s.message()), {});
  }
  ConvergenceTask task(task_context(), *stores, *sink, *source, feed, options.print_alerts,
                       entity_requests, *lookups, convergence_committed);
  TaskLoop loop(loop_options("convergence"), *source, task, clock);
  // In this order after every poll, as each interval comes round.
  loop.every(Millis{0}, "entity lookups", [&task](std::size_t) {
    task.serve_lookups();
    return Status::ok();
  });
  loop.every(kOversightInterval, "oversight",
             [&task](std::size_t uncommitted) { return task.maintain_oversight(uncommitted); });
  loop.every(kLagInterval, "lag", [&task](std::size_t) {
    task.report_lag();
    return Status::ok();
  });
  loop.every(kExpiryInterval, "expiry", [&task](std::size_t uncommitted) {
    task.expire(uncommitted);
    return Status::ok();
  });
  Status stopped = loop.run(stopping);
  loop_ended("convergence", std::move(stopped), loop.stats());
}

void Service::stop() {
  Impl& m = *impl_;
  m.stopping = true;
  m.cv.notify_all();
  if (m.intake_thread.joinable()) m.intake_thread.join();
  if (m.convergence_thread.joinable()) m.convergence_thread.join();
  if (m.http) {
    m.http->set_ready(false);
    m.http->stop();
  }
  if (m.alert_reader) m.alert_reader->stop();
}

Status Service::wait() {
  Impl& m = *impl_;
  std::unique_lock lock(m.mu);
  m.cv.wait(lock, [&m] { return m.stopping.load() || m.failure.has_value(); });
  return m.failure ? *m.failure : Status::ok();
}

Service::Progress Service::progress() const {
  const Impl& m = *impl_;
  return Progress{m.intake_committed.in.load(), m.intake_committed.dlq.load(),
                  m.intake_committed.routed.load(), m.convergence_committed.in.load(),
                  m.convergence_committed.alerts.load()};
}

std::string Service::bootstrap_servers() const { return impl_->kafka.brokers; }
std::string Service::http_address() const { return impl_->http ? impl_->http->address() : ""; }

}  // namespace mozaiek
