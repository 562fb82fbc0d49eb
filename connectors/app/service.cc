#include "connectors/app/service.h"

#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "connectors/http/api/alert_actions_api.h"
#include "connectors/http/api/alert_feed.h"
#include "connectors/http/api/alert_feed_api.h"
#include "connectors/app/alert_topics_reader.h"
#include "connectors/kafka/embedded_cluster.h"
#include "connectors/http/api/entity_api.h"
#include "connectors/http/api/erasure_api.h"
#include "connectors/http/api/console.h"
#include "connectors/http/http_server.h"
#include "connectors/http/api/rules_api.h"
#include "connectors/kafka/kafka_admin.h"
#include "connectors/kafka/kafka_changelog.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/app/metrics_bridge.h"
#include "operators/records/alert_json.h"
#include "operators/records/dlq_record.h"
#include "operators/records/erasure_record.h"
#include "operators/records/internal_record.h"
#include "operators/records/entity_notice.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/pipeline/intake_stage.h"
#include "operators/records/chain_codec.h"
#include "operators/records/chain_router.h"
#include "operators/records/routed_codec.h"
#include "operators/records/subject_router.h"
#include "operators/oversight/oversight_metrics.h"
#include "operators/pipeline/pipeline_metrics.h"
#include "stream/rocksdb_state.h"

namespace mozaiek {
namespace {

constexpr Millis kPollTimeout{100};
constexpr Millis kFlushTimeout = seconds(60);
constexpr auto kLagInterval = std::chrono::seconds(5);
constexpr auto kExpiryInterval = std::chrono::seconds(30);
constexpr auto kOversightInterval = std::chrono::seconds(1);

// When a stage flushes its outputs and state and commits its offsets: at most
// every commit_interval, and as soon as its input goes quiet. Flushing waits
// for acknowledgements, so doing it once per interval rather than once per
// polled batch lets librdkafka deliver while the next batches are processed.
class CommitCadence {
 public:
  explicit CommitCadence(int interval_ms) : interval_(interval_ms) {}
  // Records processed since the last commit.
  void processed(std::size_t n) { pending_ += n; }
  std::size_t pending() const { return pending_; }
  // Whether to commit now; input_idle: the last poll returned nothing.
  bool due(bool input_idle) const {
    if (pending_ == 0) return false;
    return input_idle || std::chrono::steady_clock::now() - last_ >= interval_;
  }
  void committed() {
    pending_ = 0;
    last_ = std::chrono::steady_clock::now();
  }

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::size_t pending_ = 0;
};

std::string escape_regex(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Intake outputs: routed signals to the internal topic, rejections to the DLQ.
class KafkaIntakeOutput final : public IntakeOutput {
 public:
  KafkaIntakeOutput(const Settings& settings, RecordSink& sink, const Clock& clock)
      : settings_(settings), sink_(sink), clock_(clock) {}
  void on_routed(const RoutedSignal& r) override {
    encode_routed(r, settings_.operators, value_);
    routing_key(r.subject_type, r.subject_key, key_);
    note(sink_.produce(settings_.topics.subjects, key_, value_));
  }
  void on_routed_chain(const RoutedChainEvent& r) override {
    encode_routed_chain(r, settings_.operators, value_);
    chain_routing_key(r, key_);
    note(sink_.produce(settings_.topics.subjects, key_, value_));
  }
  void on_rejected(const Rejection& rejection, const RecordView& record) override {
    value_.clear();
    write_dlq_record(rejection, record.topic, raw(record.partition), raw(record.offset),
                     record.value, clock_.now(), value_);
    note(sink_.produce(settings_.topics.dlq, record.key, value_));
  }
  Status take_status() {
    Status s = status_;
    status_ = Status::ok();
    return s;
  }

 private:
  void note(Status s) {
    if (!s && status_) status_ = std::move(s);
  }
  const Settings& settings_;
  RecordSink& sink_;
  const Clock& clock_;
  std::string key_;
  std::string value_;
  Status status_ = Status::ok();
};

class KafkaAlertOutput final : public AlertOutput {
 public:
  KafkaAlertOutput(const Settings& settings, RecordSink& sink, AlertFeed& feed, bool print,
                   PipelineMetrics& metrics)
      : settings_(settings), sink_(sink), feed_(feed), print_(print), metrics_(metrics) {}
  void on_notice(const EntityNotice& notice) override {
    encode_notice(notice, notice_value_);
    routing_key(notice.to_type, notice.to_key, notice_key_);
    Status s = sink_.produce(settings_.topics.subjects, notice_key_, notice_value_);
    if (!s && status_) status_ = std::move(s);
  }
  void on_alert(const Alert& alert, std::string_view json) override {
    Status s = sink_.produce(settings_.topics.alerts, alert.alert_id, json);
    if (!s && status_) status_ = std::move(s);
    feed_.publish(std::string(json));
    metrics_.record_alert(alert.rule, to_string(alert.subject_type), alert.level);
    if (print_) {
      // Unanswered meldingen come by the hundred: the first few, then a tally.
      const bool breach = alert.rule == "sla_breach";
      const std::uint64_t n = breach ? ++breaches_ : 0;
      if (!breach || n <= 3) {
        std::printf("%s\n", alert_line(alert).c_str());
      } else if (n % 50 == 0) {
        std::printf("ALERTS sla_breach: %llu meldingen past their deadline without feedback so "
                    "far (each on %s)\n",
                    static_cast<unsigned long long>(n), settings_.topics.alerts.c_str());
      }
      std::fflush(stdout);
    }
  }
  Status take_status() {
    Status s = status_;
    status_ = Status::ok();
    return s;
  }

 private:
  const Settings& settings_;
  RecordSink& sink_;
  AlertFeed& feed_;
  bool print_;
  PipelineMetrics& metrics_;
  std::uint64_t breaches_ = 0;
  Status status_ = Status::ok();
  std::string notice_key_;
  std::string notice_value_;
};

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

  std::atomic<std::uint64_t> intake_in{0}, intake_dlq{0}, routed{0}, convergence_in{0},
      alerts{0};
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
    m.http->route("POST", "/api/erasure", [&m](const HttpRequest& req) {
      return m.erasures->handle(req);
    });
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
  if (!sink || !source) {
    fail(Status::error("intake: " + s.message()));
    loop_done();
    return;
  }
  KafkaIntakeOutput output(settings, *sink, clock);
  IntakeStage stage(settings.operators, *pseudonymiser, clock, settings.topics.signals_prefix,
                    output, settings.topics.chain_events);
  RecordBatch batch;
  CommitCadence cadence(settings.commit_interval_ms);
  // Counts of records processed since the last commit; progress() shows
  // committed work only.
  std::uint64_t pending_in = 0, pending_dlq = 0, pending_routed = 0;
  // Outputs delivered, then offsets committed. False after failing the service.
  auto commit = [&]() {
    if (Status out = sink->flush(kFlushTimeout); !out) {
      // Nothing is committed: the records are redelivered after the restart.
      fail(Status::error("intake producer: " + out.message()));
      return false;
    }
    if (Status c = source->commit(); !c) spdlog::warn("intake commit: {}", c.message());
    intake_in += std::exchange(pending_in, 0);
    intake_dlq += std::exchange(pending_dlq, 0);
    routed += std::exchange(pending_routed, 0);
    cadence.committed();
    return true;
  };
  auto last_lag = std::chrono::steady_clock::now();
  while (!stopping) {
    if (Status p = source->poll(batch, Service::kBatchRecords, kPollTimeout); !p) {
      fail(Status::error("intake consumer: " + p.message()));
      break;
    }
    if (!batch.records.empty()) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const auto& r : batch.records) stage.process(r);
      if (Status out = output.take_status(); !out) {
        fail(Status::error("intake producer: " + out.message()));
        break;
      }
      cadence.processed(batch.records.size());
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      metrics->observe_batch_latency(secs / static_cast<double>(batch.records.size()),
                                     batch.records.size());
      pending_in += stage.counters().total_in();
      pending_dlq += stage.counters().total_dlq();
      pending_routed += stage.counters().routed;
      publish_chain_counts(stage.counters(), *oversight);
      publish_stage_counters(stage.counters(), Stage::intake, *metrics);
      oversight->publish_reporting_delay(stage.reporting_delay());
    }
    if (cadence.due(batch.records.empty()) && !commit()) break;
    auto now = std::chrono::steady_clock::now();
    if (now - last_lag > kLagInterval) {
      last_lag = now;
      for (const auto& lag : source->lag()) {
        if (lag.lag) metrics->set_consumer_lag("intake", lag.topic, lag.partition, *lag.lag);
      }
      publish_watermarks(stage.watermarks(), clock.now(), *metrics);
    }
  }
  if (cadence.pending() > 0 && !failed()) (void)commit();
  (void)sink->flush(kFlushTimeout);
  loop_done();
}

void Service::Impl::run_convergence() {
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka, s);
  std::unique_ptr<KafkaSource> source;
  if (sink) source = KafkaSource::create(kafka, settings.group_id + ".convergence",
                                         {settings.topics.subjects}, s);
  if (!sink || !source) {
    fail(Status::error("convergence: " + s.message()));
    loop_done();
    return;
  }
  KafkaAlertOutput output(settings, *sink, feed, options.print_alerts, *metrics);
  ConvergenceStage stage(settings.operators, *stores, clock, output);
  stage.set_oversight_metrics(oversight.get());
  source->set_rebalance_listener(
      [&stage](const std::vector<std::pair<std::string, int>>& assigned,
               const std::vector<std::pair<std::string, int>>& revoked) {
        for (const auto& [topic, p] : revoked) {
          if (Status r = stage.revoke(Partition{p}); !r) {
            spdlog::error("revoking partition {}: {}", p, r.message());
          }
        }
        for (const auto& [topic, p] : assigned) stage.assign(Partition{p});
      });
  RecordBatch batch;
  RoutedSignal routed;
  RoutedChainEvent routed_chain;
  EntityNotice notice;
  ErasureRecord erasure;
  std::uint64_t undecodable = 0;
  auto last_lag = std::chrono::steady_clock::now();
  auto last_expiry = last_lag;
  auto last_oversight = last_lag;
  CommitCadence cadence(settings.commit_interval_ms);
  std::uint64_t pending_in = 0, pending_alerts = 0;  // since the last commit
  // Alerts and notices delivered, then state (changelog, RocksDB): what must
  // hold before offsets are committed. False after failing the service.
  auto flush_outputs = [&]() {
    Status out = output.take_status();
    if (out) out = sink->flush(kFlushTimeout);
    if (out) out = stage.flush();
    if (!out) fail(Status::error("convergence: " + out.message()));
    return out.is_ok();
  };
  auto commit = [&]() {
    if (!flush_outputs()) return false;
    if (Status c = source->commit(); !c) spdlog::warn("convergence commit: {}", c.message());
    convergence_in += std::exchange(pending_in, 0);
    alerts += std::exchange(pending_alerts, 0);
    cadence.committed();
    return true;
  };
  while (!stopping) {
    if (Status p = source->poll(batch, Service::kBatchRecords, kPollTimeout); !p) {
      fail(Status::error("convergence consumer: " + p.message()));
      break;
    }
    if (!batch.records.empty()) {
      const auto t0 = std::chrono::steady_clock::now();
      for (const auto& r : batch.records) {
        // Undecodable records (written with a different catalogue or by a
        // newer version) are counted and logged once per batch.
        switch (internal_record_kind(r.value).value_or(InternalRecordKind{0})) {
          case InternalRecordKind::routed_signal:
            if (!decode_routed(r.value, settings.operators, routed)) break;
            stage.process(r.partition, routed);
            continue;
          case InternalRecordKind::entity_notice:
            if (!decode_notice(r.value, notice)) break;
            stage.process_notice(r.partition, notice);
            continue;
          case InternalRecordKind::chain_event:
            if (!decode_routed_chain(r.value, settings.operators, routed_chain)) break;
            stage.process_chain(r.partition, routed_chain);
            continue;
          case InternalRecordKind::erasure: {
            if (!decode_erasure(r.value, erasure)) break;
            const auto done = stage.process_erasure(r.partition, erasure);
            spdlog::info("erasure applied to a {}: {} links dropped, {} other ends told",
                         to_string(erasure.type), done.links, done.notices);
            continue;
          }
        }
        ++undecodable;
      }
      if (undecodable > 0) {
        spdlog::warn("convergence: {} internal records could not be decoded", undecodable);
        metrics->record_task_error("convergence", undecodable);
        undecodable = 0;
      }
      if (Status out = output.take_status(); !out) {
        fail(Status::error("convergence: " + out.message()));
        break;
      }
      cadence.processed(batch.records.size());
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      metrics->observe_batch_latency(secs / static_cast<double>(batch.records.size()),
                                     batch.records.size());
      pending_in += stage.counters().total_in();
      pending_alerts += stage.counters().alerts;
      publish_stage_counters(stage.counters(), Stage::convergence, *metrics);
      publish_link_counters(stage.link_counters(), *metrics);
    }
    if (cadence.due(batch.records.empty()) && !commit()) break;
    lookups->record(entity_requests.serve(stage, *sink, settings.topics.audit, clock));
    auto now = std::chrono::steady_clock::now();
    if (now - last_oversight > kOversightInterval) {
      // Melding deadlines by the watermark, open meldingen and missing gauges.
      last_oversight = now;
      stage.maintain_oversight();
      // With records pending, the next commit (within the interval) flushes.
      if (cadence.pending() == 0 && !flush_outputs()) break;
    }
    if (now - last_lag > kLagInterval) {
      last_lag = now;
      for (const auto& lag : source->lag()) {
        if (lag.lag) metrics->set_consumer_lag("convergence", lag.topic, lag.partition, *lag.lag);
      }
      metrics->set_state_entries("convergence", stage.state_entries());
      metrics->set_state_entries("links", stage.link_state_entries());
    }
    if (now - last_expiry > kExpiryInterval) {
      last_expiry = now;
      // As for the oversight gauges: with records pending, the next commit
      // flushes, so state never gets ahead of uncommitted input (a
      // redelivered notice would meet state that already holds it).
      if (stage.expire() > 0 && cadence.pending() == 0) {
        if (Status f = stage.flush(); !f) spdlog::warn("expiry flush: {}", f.message());
      }
      publish_link_counters(stage.link_counters(), *metrics);
    }
  }
  entity_requests.close();
  if (cadence.pending() > 0 && !failed()) {
    (void)commit();
  } else if (Status f = stage.flush(); !f) {
    spdlog::error("final state flush: {}", f.message());
  }
  (void)sink->flush(kFlushTimeout);
  loop_done();
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
  return Progress{impl_->intake_in.load(), impl_->intake_dlq.load(), impl_->routed.load(),
                  impl_->convergence_in.load(), impl_->alerts.load()};
}

std::string Service::bootstrap_servers() const { return impl_->kafka.brokers; }
std::string Service::http_address() const { return impl_->http ? impl_->http->address() : ""; }

}  // namespace mozaiek
