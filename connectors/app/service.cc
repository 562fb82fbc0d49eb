#include "connectors/app/service.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "connectors/app/alert_topics_reader.h"
#include "connectors/app/audit_topic_reader.h"
#include "connectors/app/intake_order.h"
#include "connectors/app/metrics_bridge.h"
#include "connectors/app/pseudonym_state.h"
#include "connectors/app/service_tasks.h"
#include "connectors/app/stage_probe.h"
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
#include "connectors/http/api/whoami_api.h"
#include "connectors/http/auth/auth_config_api.h"
#include "connectors/http/auth/authenticator.h"
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
// Consumer lag and stage counts: an operator watches a backlog drain.
constexpr Millis kLagInterval = seconds(1);
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

// Every topic mozaiek reads or writes, with its retention class
// (kafka.retention); the changelog is compacted.
std::vector<TopicSpec> topics_to_create(const Settings& settings) {
  const TopicRetention& keep = settings.retention;
  std::vector<TopicSpec> topics;
  for (const auto& src : settings.operators.sources) {
    topics.push_back({settings.topics.signals_prefix + src.name, keep.inputs});
    topics.push_back({settings.topics.chain_prefix + src.name, keep.inputs});
  }
  topics.push_back({settings.topics.chain_events, keep.inputs});
  topics.push_back({settings.topics.alerts, keep.alerts});
  topics.push_back({settings.topics.alerts_care, keep.alerts});
  topics.push_back({settings.topics.alert_actions, keep.alerts});
  topics.push_back({settings.topics.dlq, keep.dlq});
  topics.push_back({settings.topics.audit, keep.audit});
  topics.push_back({settings.topics.subjects, keep.internal});
  topics.push_back({settings.changelog_topic(), std::nullopt, /*compacted=*/true});
  return topics;
}

// Secure by default: HTTPS, or plain HTTP only on loopback or when the
// config says so, each with a warning.
Status check_http_exposure(const Settings& s) {
  if (s.tls.enabled()) return Status::ok();
  if (is_loopback_listen(s.http_listen)) {
    spdlog::warn("plain HTTP on loopback {}: set service.tls.certificate to serve HTTPS",
                 s.http_listen);
    return Status::ok();
  }
  if (s.allow_plain_http) {
    spdlog::warn("plain HTTP on {} (service.allow_plain_http): the traffic is unencrypted unless "
                 "a proxy on this host terminates TLS",
                 s.http_listen);
    return Status::ok();
  }
  return Status::error("service.tls.certificate is required to serve on '" + s.http_listen +
                       "', which is not a loopback address (or set service.allow_plain_http: "
                       "true behind a TLS-terminating proxy on this host)");
}

}  // namespace

struct Service::Impl {
  Settings settings;
  ServiceOptions options;
  SystemClock clock;
  std::string key;
  std::unique_ptr<Pseudonymiser> pseudonymiser;
  std::optional<DlqKey> dlq_key;
  std::unique_ptr<DeadLetterProbe> dead_letter_probe;
  std::unique_ptr<StageProbe> stage_probe;
  std::unique_ptr<EmbeddedCluster> cluster;
  KafkaSettings kafka;
  std::unique_ptr<RocksStateDb> db;
  std::unique_ptr<StateStoreFactory> local_stores;
  // Per convergence loop, used by that loop only (its stores are opened on
  // its thread): the changelog, and the changelogged stores behind a key
  // version check per partition.
  struct LoopState {
    std::unique_ptr<KafkaChangelog> changelog;
    ChangelogCounters changelog_counters;
    std::unique_ptr<StateStoreFactory> changelogged;
    std::unique_ptr<StateStoreFactory> stores;
  };
  std::vector<std::unique_ptr<LoopState>> loop_state;
  int threads = 1;                                      // loops per stage (service.threads)
  std::unique_ptr<ConvergenceShare> convergence_share;  // with more than one
  prometheus::Registry registry;
  std::unique_ptr<PipelineMetrics> metrics;
  std::unique_ptr<OversightMetrics> oversight;
  // The rules in force and their reload (POST /api/rules, SIGHUP).
  std::unique_ptr<RulesRegistry> rules;
  std::unique_ptr<RulesReloadProbe> rules_probe;
  std::unique_ptr<RulesApi> rules_api;
  AlertFeed feed{1000};
  // With HTTP only: the alerts and actions every instance shows, and the
  // actions API (its producer writes the alert-actions topic).
  std::unique_ptr<AlertTopicsReader> alert_reader;
  std::unique_ptr<AlertActionProbe> action_probe;
  std::unique_ptr<AlertActionsApi> actions_api;
  // Who may call the API (service.auth); made before the server so it
  // outlives it. Not made for the demo.
  std::shared_ptr<auth::Authenticator> authenticator;  // run's gate (shared with the server)
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

  IntakeTask::Committed intake_committed;
  ConvergenceTask::Committed convergence_committed;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> failure;
  int loops_running = 0;
  std::vector<std::thread> loop_threads;

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

  ServiceTaskContext task_context(std::string name) {
    return ServiceTaskContext{settings,
                              clock,
                              *metrics,
                              *oversight,
                              [this] { return failed(); },
                              [this] { return stopping.load(); },
                              *rules,
                              std::move(name)};
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
  Status make_authenticator();
  Status start_http();
  void add_feature_routes();
  void make_rules_api();
  // The newest *.html of service.backtest_reports_dir ("" when none).
  std::string newest_backtest_report() const;

  void run_intake(int index);
  void run_convergence(int index);
};

Service::Service(Settings settings, ServiceOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
  impl_->options = options;
}

Service::~Service() { stop(); }

Status Service::start() {
  Impl& m = *impl_;
  if (Status s = load_pseudonym_key(m.settings, m.options.demo, m.key); !s) return s;
  if (m.options.serve_http) {
    if (Status s = check_http_exposure(m.settings); !s) return s;
  }
  if (Status s = m.make_authenticator(); !s) return s;
  m.pseudonymiser = std::make_unique<Pseudonymiser>(m.key);
  if (Status s = load_dlq_key(m.settings, m.dlq_key); !s) return s;
  if (m.dlq_key) {
    spdlog::info("dlq: originals sealed (AES-256-GCM, key id {}, at most {} bytes each)",
                 m.dlq_key->id, m.settings.dlq_max_sealed_bytes);
  } else {
    spdlog::warn("dlq: no DLQ key (${} or privacy.dlq_key_file): dead letters keep only the "
                 "SHA-256 and size of the original, not its bytes",
                 kDlqKeyEnv);
  }
  if (!m.settings.topics.chain_events_org.empty()) {
    spdlog::info("chain events on {} are accepted from {} only", m.settings.topics.chain_events,
                 m.settings.topics.chain_events_org);
  }
  m.settings.operators.pseudonym_key_version = m.pseudonymiser->key_version();
  m.threads = m.settings.threads > 0
                  ? m.settings.threads
                  : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  if (Status s = m.connect_kafka(); !s) return s;
  if (Status s = m.open_state(); !s) return s;
  m.make_probes();
  m.rules = std::make_unique<RulesRegistry>(m.settings.operators, m.clock.now());
  spdlog::info("rules {} in force", m.rules->version());
  if (m.options.serve_http) {
    if (Status s = m.start_http(); !s) return s;
  } else {
    m.make_rules_api();
  }
  // One intake loop: its event-time merge and its watermarks span every
  // partner partition, so that a drain rejects and scores as replay does;
  // split over loops, each would judge lateness by its own partitions only.
  // Convergence state is keyed by partition, so its loops share them out.
  m.loops_running = 1 + m.threads;
  if (m.threads > 1) {
    m.convergence_share = std::make_unique<ConvergenceShare>(static_cast<std::size_t>(m.threads));
  }
  spdlog::info("1 intake and {} convergence task threads (service.threads)", m.threads);
  m.loop_threads.emplace_back([&m] { m.run_intake(0); });
  for (int i = 0; i < m.threads; ++i) {
    m.loop_threads.emplace_back([&m, i] { m.run_convergence(i); });
  }
  if (m.http) m.http->set_ready(true);
  return Status::ok();
}

// The embedded cluster (with its topics), or the configured brokers with the
// missing topics created.
Status Service::Impl::connect_kafka() {
  kafka = settings.kafka_settings();
  const std::vector<TopicSpec> topics = topics_to_create(settings);
  if (settings.brokers != "embedded") return ensure_topic_specs(kafka, topics, seconds(30));
  Status s = Status::ok();
  cluster = EmbeddedCluster::start(1, s);
  if (!cluster) return Status::error("embedded Kafka cluster: " + s.message());
  kafka.brokers = cluster->bootstrap_servers();
  for (auto& prop : EmbeddedCluster::client_properties()) kafka.properties.push_back(prop);
  for (const auto& t : topics) {
    if (Status c = cluster->create_topic(t.name, settings.partitions, 1); !c) return c;
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
  if (Status k = check_state_key_version(*local_stores, settings.partitions,
                                         pseudonymiser->key_version(), settings.state_dir);
      !k) {
    return k;
  }
  for (int i = 0; i < threads; ++i) {
    auto loop = std::make_unique<LoopState>();
    loop->changelog = KafkaChangelog::create(kafka, settings.changelog_topic(), s);
    if (!loop->changelog) return Status::error("state changelog: " + s.message());
    loop->changelogged = make_changelog_factory(*local_stores, *loop->changelog,
                                                loop->changelog_counters);
    loop->stores = make_key_version_guard(*loop->changelogged, pseudonymiser->key_version());
    loop_state.push_back(std::move(loop));
  }
  return Status::ok();
}

void Service::Impl::make_probes() {
  metrics = std::make_unique<PipelineMetrics>(registry, pipeline_label_sets(settings));
  metrics->record_restart();
  dead_letter_probe = std::make_unique<DeadLetterProbe>(registry);
  stage_probe = std::make_unique<StageProbe>(registry);
  oversight = std::make_unique<OversightMetrics>(registry, oversight_label_sets(settings));
  lookups = std::make_unique<EntityLookupProbe>(registry);
  rules_probe = std::make_unique<RulesReloadProbe>(registry);
}

void Service::Impl::make_rules_api() {
  // Validated as check-config validates the file; relative paths as from it.
  RulesValidator validate = [this](const std::string& yaml, OperatorConfig& out,
                                   std::vector<std::string>& errors) {
    Settings parsed;
    if (!load_settings_text(yaml, settings.config_path, parsed, errors)) return false;
    out = std::move(parsed.operators);
    return true;
  };
  rules_api = std::make_unique<RulesApi>(*rules, std::move(validate), audit_log.get(), *rules_probe,
                                         clock, [this] { return newest_backtest_report(); });
}

std::string Service::Impl::newest_backtest_report() const {
  namespace fs = std::filesystem;
  if (settings.backtest_reports_dir.empty()) return {};
  std::error_code ec;
  std::string newest;
  fs::file_time_type newest_time{};
  for (const auto& entry : fs::directory_iterator(settings.backtest_reports_dir, ec)) {
    if (!entry.is_regular_file(ec) || entry.path().extension() != ".html") continue;
    const auto t = entry.last_write_time(ec);
    if (ec) continue;
    if (newest.empty() || t > newest_time) {
      newest = entry.path().filename().string();
      newest_time = t;
    }
  }
  return newest;
}

// The generic server with the feature routes; the alert topics reader keeps
// the feed the routes serve in step with every instance's alerts and actions.
// `mozaiek run` does not start without a way to authenticate callers
// (service.auth), as it does not without a pseudonym key.
Status Service::Impl::make_authenticator() {
  // The demo (unless service.auth names identities) and a loopback instance
  // with a configured demo identity run under the CLI's announced demo gate.
  if (!options.serve_http || options.access_gate) return Status::ok();
  if (options.demo && !settings.auth.any_identity()) return Status::ok();
  const std::string config_dir = std::filesystem::path(settings.config_path).parent_path().string();
  std::unique_ptr<auth::Authenticator> made;
  if (Status s = auth::make_authenticator(settings.auth, config_dir, made); !s) return s;
  authenticator = std::move(made);
  if (const auth::OidcVerifier* oidc = authenticator->oidc()) {
    spdlog::info("auth: OpenID Connect tokens of {} for audience {}", oidc->options().issuer,
                 oidc->options().audience);
    // Early, so the first request does not wait; requests fetch again if
    // the provider is not reachable yet.
    if (Status k = authenticator->fetch_keys(); !k) {
      spdlog::warn("auth: the provider's keys are not available yet: {}", k.message());
    }
  }
  if (!settings.auth.mtls_principals.empty()) {
    spdlog::info("auth: {} client certificate principal(s)", settings.auth.mtls_principals.size());
  }
  return Status::ok();
}

Status Service::Impl::start_http() {
  http = std::make_unique<HttpServer>(settings.http_listen, registry,
                                      HttpServerOptions{settings.tls, settings.http_limits,
                                                        settings.allowed_hosts});
  std::shared_ptr<const AccessGate> gate = options.access_gate;
  if (!gate) gate = authenticator;
  if (!gate) {
    spdlog::warn("no authenticator configured: every route but /healthz, /readyz and the console "
                 "files answers 401");
  }
  // Every refusal is audited: the log exists before the gate that uses it.
  audit_log = std::make_unique<AuditLog>(settings.topics.audit,
                                         [this](Status& status) -> std::unique_ptr<RecordSink> {
                                           return KafkaSink::create(kafka, status);
                                         });
  // The path may hold an entity key: only the method, status and reason are logged.
  http->set_access_gate(std::move(gate),
                        [this, audited = audit_denials(*audit_log, clock)](
                            const HttpRequest& req, const Roles& roles, const AccessDecision& d) {
                          spdlog::debug("http: {} refused {} ({})", req.method, d.status, d.reason);
                          audited(req, roles, d);
                          if (options.on_denied) options.on_denied(req, roles, d);
                        });
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
  spdlog::info("HTTP on {}://{} (/metrics, /healthz, /readyz, /api/alerts, /api/entities, "
               "POST /api/alerts/<id>/actions, POST /api/erasure, /api/audit)",
               http->tls() ? "https" : "http", http->address());
  return Status::ok();
}

void Service::Impl::add_feature_routes() {
  // The APIs that write get their own producers: HTTP threads never share
  // the task loops' sinks.
  auto new_sink = [this](Status& status) -> std::unique_ptr<RecordSink> {
    return KafkaSink::create(kafka, status);
  };
  add_console_routes(*http, settings.auth.oidc_enabled() ? settings.auth.oidc.issuer : "");
  http->route("GET", "/api/whoami", Roles(kWhoamiRoles), whoami);
  // Public: the console reads it to log in.
  http->route("GET", auth::kAuthConfigPath, Roles::anyone(),
              auth::auth_config_route(settings.auth));
  http->route("GET", "/api/alerts", Roles(kAlertReaderRoles),
              [this](const HttpRequest& req) { return list_alerts(feed, *audit_log, clock, req); });
  http->event_stream(
      "/api/alerts/stream", Roles(kAlertReaderRoles),
      [this](const HttpRequest& req) { return open_alert_stream(feed, *audit_log, clock, req); },
      [this] { feed.wake_all(); });
  make_rules_api();
  http->route("GET", "/api/rules", Roles(kRulesReaderRoles),
              [this](const HttpRequest& req) { return rules_api->get(req); });
  http->route("POST", "/api/rules", Roles(kRulesReloaderRoles),
              [this](const HttpRequest& req) { return rules_api->post(req); });
  http->route("GET", "/api/rules/backtest-report", Roles(kRulesReaderRoles),
              [this](const HttpRequest& req) {
                return serve_backtest_report(settings.backtest_reports_dir,
                                             newest_backtest_report(), *audit_log, clock, req);
              });
  http->route("GET", R"(/api/entities/([a-z]+)/([^/]+))", Roles(kEntityViewerRoles),
              [this](const HttpRequest& req) {
                EntityLookup lookup;
                if (auto bad = check_entity_request(req, lookup)) return *bad;
                return entity_requests.ask(std::move(lookup), kEntityTimeout);
              });
  action_probe = std::make_unique<AlertActionProbe>(registry);
  actions_api = std::make_unique<AlertActionsApi>(feed, settings.topics.alert_actions,
                                                  settings.topics.audit, new_sink, clock,
                                                  *action_probe);
  http->route("POST", R"(/api/alerts/([^/]+)/actions)", Roles(kAlertActorRoles),
              [this](const HttpRequest& req) { return actions_api->handle(req); });
  erasures = std::make_unique<ErasureApi>(
      new_sink, ErasureTopics{settings.topics.subjects, settings.topics.audit}, *pseudonymiser,
      clock);
  http->route("POST", "/api/erasure", Roles(kErasureRoles),
              [this](const HttpRequest& req) { return erasures->handle(req); });
  http->route("GET", "/api/audit", Roles(kAuditReaderRoles), [this](const HttpRequest& req) {
    return read_audit_trail(audit_index, *audit_log, clock, req);
  });
}

void Service::Impl::run_intake(int index) {
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka, s);
  std::unique_ptr<KafkaSource> source;
  if (sink) {
    std::optional<SourceAlignment> alignment;
    if (settings.alignment_wait_ms > 0) {
      alignment = SourceAlignment{partner_record_ms, Millis{settings.alignment_wait_ms}};
    }
    source = KafkaSource::create(kafka, settings.group_id + ".intake",
                                 {"^" + escape_regex(settings.topics.signals_prefix) + ".*",
                                  "^" + escape_regex(settings.topics.chain_prefix) + ".*",
                                  settings.topics.chain_events},
                                 s, std::move(alignment));
  }
  if (!sink || !source) return loop_ended("intake", Status::error("intake: " + s.message()), {});
  // Dead letters on a producer of their own: one that fails is replaced
  // without touching the routed records' producer.
  DeadLetterWriter dead_letters(
      settings.topics.dlq,
      [this](Status& why) -> std::unique_ptr<RecordSink> { return KafkaSink::create(kafka, why); },
      *dead_letter_probe, [this] { return stopping.load(); }, DeadLetterWriter::Options{});
  const std::string name = index == 0 ? "intake" : "intake-" + std::to_string(index);
  IntakeTask task(task_context(name), *pseudonymiser, *sink, *source, intake_committed,
                  dead_letters, dlq_key);
  TaskLoop loop(loop_options(name), *source, task, clock);
  loop.every(Millis{0}, "rules", [&task](std::size_t) {
    task.pick_up_rules();
    return Status::ok();
  });
  loop.every(kLagInterval, "lag", [&task, &loop, &source, this](std::size_t) {
    task.report_lag();
    stage_probe->report("intake", loop.stats().records, intake_committed.in.load());
    stage_probe->report_alignment(source->counters().alignment_holds,
                                  source->counters().alignment_timeouts);
    return Status::ok();
  });
  Status stopped = loop.run(stopping);
  loop_ended("intake", std::move(stopped), loop.stats());
}

void Service::Impl::run_convergence(int index) {
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka, s);
  std::unique_ptr<KafkaSource> source;
  if (sink) {
    // Partitions merged by the watermark their records carry, so the stage's
    // watermark moves as in replay however the partitions are fetched.
    std::optional<SourceAlignment> alignment;
    if (settings.alignment_wait_ms > 0) {
      alignment = SourceAlignment{internal_record_ms, Millis{settings.alignment_wait_ms}};
    }
    source = KafkaSource::create(kafka, settings.group_id + ".convergence",
                                 {settings.topics.subjects}, s, std::move(alignment));
  }
  if (!sink || !source) {
    return loop_ended("convergence", Status::error("convergence: " + s.message()), {});
  }
  const std::string name = index == 0 ? "convergence" : "convergence-" + std::to_string(index);
  ConvergenceTask task(task_context(name), *loop_state[static_cast<std::size_t>(index)]->stores,
                       *sink, *source, feed, options.print_alerts, entity_requests, *lookups,
                       convergence_committed, convergence_share.get(),
                       static_cast<std::size_t>(index));
  TaskLoop loop(loop_options(name), *source, task, clock);
  // In this order after every poll, as each interval comes round.
  loop.every(Millis{0}, "entity lookups", [&task](std::size_t) {
    task.serve_lookups();
    return Status::ok();
  });
  loop.every(Millis{0}, "rules",
             [&task](std::size_t uncommitted) { return task.pick_up_rules(uncommitted); });
  loop.every(kOversightInterval, "oversight",
             [&task](std::size_t uncommitted) { return task.maintain_oversight(uncommitted); });
  loop.every(kLagInterval, "lag", [&task, &loop, this](std::size_t) {
    task.report_lag();
    stage_probe->report("convergence", loop.stats().records, convergence_committed.in.load());
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
  for (auto& t : m.loop_threads) {
    if (t.joinable()) t.join();
  }
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

Status Service::reload_rules() {
  Impl& m = *impl_;
  if (!m.rules_api) return Status::error("the service is not running");
  std::ifstream in(m.settings.config_path, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  AuditRecord by;
  by.principal = "(sighup)";
  by.via = "sighup";
  by.role = std::string(role::kOperator);
  by.method = "SIGHUP";
  by.route = m.settings.config_path;
  by.at = m.clock.now();
  spdlog::info("SIGHUP: reloading the rules from {}", m.settings.config_path);
  const std::string yaml = in ? text.str()
                              : std::string("# cannot read ") + m.settings.config_path + "\n";
  RulesApi::Reload r = m.rules_api->reload(yaml, std::move(by), "");
  if (!r.audited) return Status::error("rules reload not applied: the audit record failed");
  if (r.entry.outcome == RulesOutcome::refused) {
    return Status::error("rules reload refused: " +
                         (r.entry.errors.empty() ? std::string() : r.entry.errors.front()));
  }
  return Status::ok();
}

std::string Service::bootstrap_servers() const { return impl_->kafka.brokers; }
std::string Service::http_address() const { return impl_->http ? impl_->http->address() : ""; }

}  // namespace mozaiek
