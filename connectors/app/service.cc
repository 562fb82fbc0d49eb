#include "connectors/app/service.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "connectors/app/alert_topics_reader.h"
#include "connectors/app/audit_topic_reader.h"
#include "connectors/app/metrics_bridge.h"
#include "connectors/app/service_tasks.h"
#include "connectors/http/api/alert_actions_api.h"
#include "connectors/http/api/alert_feed.h"
#include "connectors/http/api/alert_feed_api.h"
#include "connectors/http/api/audit.h"
#include "connectors/http/api/audit_api.h"
#include "connectors/http/api/audit_index.h"
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
// Audit records the read-back holds in memory (the newest; older ones are
// read from the topic by `mozaiek audit`).
constexpr std::size_t kAuditIndexCapacity = 100'000;

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
  // The audit of every API read and write, and its read-back.
  std::unique_ptr<AuditLog> audit_log;
  AuditIndex audit_index{kAuditIndexCapacity};
  std::unique_ptr<AuditTopicReader> audit_reader;
  // Audits the server's 401 and 403 answers; for the server to install
  // once it refuses requests itself.
  DenialObserver denial_observer;

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

  // The steps of Service::start(), in order.
  Status connect_kafka();
  Status open_state();
  void make_probes();
  Status start_http();
  void add_feature_routes();
  // `request` with its principal named by options.identify when it has none.
  HttpRequest identified(const HttpRequest& request) const;

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
  if (Status s = m.connect_kafka(); !s) return s;
  if (Status s = m.open_state(); !s) return s;
  m.make_probes();
  if (m.options.serve_http) {
    if (Status s = m.start_http(); !s) return s;
  }
  m.loops_running = 2;
  m.intake_thread = std::thread([&m] { m.run_intake(); });
  m.convergence_thread = std::thread([&m] { m.run_convergence(); });
  if (m.http) m.http->set_ready(true);
  return Status::ok();
}

// The embedded cluster (with its topics), or the configured brokers with the
// missing topics created.
Status Service::Impl::connect_kafka() {
  kafka = settings.kafka_settings();
  const std::string changelog_topic = settings.changelog_topic();
  std::vector<std::string> topics;
  for (const auto& src : settings.operators.sources) {
    topics.push_back(settings.topics.signals_prefix + src.name);
  }
  for (const auto* t :
       {&settings.topics.chain_events, &settings.topics.alerts, &settings.topics.alert_actions,
        &settings.topics.dlq, &settings.topics.audit, &settings.topics.subjects}) {
    topics.push_back(*t);
  }
  topics.push_back(changelog_topic);
  if (settings.brokers != "embedded") {
    return ensure_topics(kafka, topics, seconds(30), {changelog_topic});
  }
  Status s = Status::ok();
  cluster = EmbeddedCluster::start(1, s);
  if (!cluster) return Status::error("embedded Kafka cluster: " + s.message());
  kafka.brokers = cluster->bootstrap_servers();
  for (auto& prop : EmbeddedCluster::client_properties()) kafka.properties.push_back(prop);
  for (const auto& t : topics) {
    if (Status c = cluster->create_topic(t, settings.partitions, 1); !c) return c;
  }
  spdlog::info("embedded Kafka cluster at {}", kafka.brokers);
  return Status::ok();
}

// RocksDB under a changelog: a partition's state follows the partition to
// whichever instance it is assigned to.
Status Service::Impl::open_state() {
  Status s = Status::ok();
  db = RocksStateDb::open(settings.state_dir, s);
  if (!db) return Status::error("state directory " + settings.state_dir + ": " + s.message());
  local_stores = db->factory();
  changelog = KafkaChangelog::create(kafka, settings.changelog_topic(), s);
  if (!changelog) return Status::error("state changelog: " + s.message());
  stores = make_changelog_factory(*local_stores, *changelog, changelog_counters);
  return Status::ok();
}

void Service::Impl::make_probes() {
  metrics = std::make_unique<PipelineMetrics>(registry, pipeline_label_sets(settings));
  metrics->record_restart();
  oversight = std::make_unique<OversightMetrics>(registry, oversight_label_sets(settings));
  lookups = std::make_unique<EntityLookupProbe>(registry);
}

// The generic server with the feature routes; the alert topics reader keeps
// the feed the routes serve in step with every instance's alerts and actions.
Status Service::Impl::start_http() {
  http = std::make_unique<HttpServer>(settings.http_listen, registry);
  Status s = Status::ok();
  alert_reader = AlertTopicsReader::start(
      kafka, {settings.topics.alerts, settings.topics.alert_actions}, feed, feed.capacity(),
      [this](Status fatal) { fail(std::move(fatal)); }, s);
  if (!alert_reader) return Status::error("alert topics: " + s.message());
  audit_reader = AuditTopicReader::start(
      kafka, settings.topics.audit, audit_index, kAuditIndexCapacity,
      [this](Status fatal) { fail(std::move(fatal)); }, s);
  if (!audit_reader) return Status::error("audit topic: " + s.message());
  add_feature_routes();
  if (Status h = http->start(); !h) return h;
  spdlog::info("HTTP on http://{} (/metrics, /healthz, /readyz, /api/alerts, /api/entities, "
               "POST /api/alerts/<id>/actions, POST /api/erasure, /api/audit)",
               http->address());
  return Status::ok();
}

HttpRequest Service::Impl::identified(const HttpRequest& request) const {
  HttpRequest r = request;
  if (r.principal.name.empty() && options.identify) r.principal = options.identify(request);
  return r;
}

void Service::Impl::add_feature_routes() {
  // The APIs that write get their own producers: HTTP threads never share
  // the task loops' sinks.
  auto new_sink = [this](Status& status) -> std::unique_ptr<RecordSink> {
    return KafkaSink::create(kafka, status);
  };
  audit_log = std::make_unique<AuditLog>(settings.topics.audit, new_sink);
  denial_observer = audit_denials(*audit_log, clock);
  add_console_routes(*http);
  http->route("GET", "/api/alerts", [this](const HttpRequest& req) {
    return list_alerts(feed, *audit_log, clock, identified(req));
  });
  http->event_stream(
      "/api/alerts/stream",
      [this](const HttpRequest& req) {
        return open_alert_stream(feed, *audit_log, clock, identified(req));
      },
      [this] { feed.wake_all(); });
  http->route("GET", "/api/rules",
              [this, json = rules_json(settings.operators)](const HttpRequest& req) {
                return read_rules(json, *audit_log, clock, identified(req));
              });
  http->route("GET", R"(/api/entities/([a-z]+)/([^/]+))", [this](const HttpRequest& in) {
    const HttpRequest req = identified(in);
    if (req.principal.name.empty()) return refuse_unauthenticated(*audit_log, req, clock);
    EntityLookup lookup;
    if (auto bad = check_entity_request(req, lookup)) return *bad;
    return entity_requests.ask(std::move(lookup), kEntityTimeout);
  });
  action_probe = std::make_unique<AlertActionProbe>(registry);
  actions_api = std::make_unique<AlertActionsApi>(feed, settings.topics.alert_actions,
                                                  settings.topics.audit, new_sink, clock,
                                                  *action_probe);
  http->route("POST", R"(/api/alerts/([^/]+)/actions)", [this](const HttpRequest& in) {
    const HttpRequest req = identified(in);
    if (req.principal.name.empty()) return refuse_unauthenticated(*audit_log, req, clock);
    return actions_api->handle(req);
  });
  erasures = std::make_unique<ErasureApi>(
      new_sink, ErasureTopics{settings.topics.subjects, settings.topics.audit}, *pseudonymiser,
      clock);
  http->route("POST", "/api/erasure", [this](const HttpRequest& in) {
    const HttpRequest req = identified(in);
    if (req.principal.name.empty()) return refuse_unauthenticated(*audit_log, req, clock);
    return erasures->handle(req);
  });
  http->route("GET", "/api/audit", [this](const HttpRequest& req) {
    return read_audit_trail(audit_index, *audit_log, clock, identified(req));
  });
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
  if (m.audit_reader) m.audit_reader->stop();
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
