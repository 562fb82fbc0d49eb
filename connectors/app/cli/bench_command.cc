// `mozaiek bench`: throughput of intake + routing + convergence with RocksDB
// state, in process (per core) and end to end through the embedded Kafka
// cluster, with signal-to-alert latency percentiles. A benchmark, not a test.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <thread>
#include <unordered_map>

#include "connectors/app/cli/commands.h"
#include "connectors/app/local_pipeline.h"
#include "connectors/app/service.h"
#include "connectors/app/settings.h"
#include "connectors/kafka/kafka_admin.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "connectors/synthetic/synthetic_traffic.h"
#include "operators/intake/intake_json.h"
#include "operators/records/alert_json.h"
#include "stream/rocksdb_state.h"
#include "stream/task_loop.h"
#include "stream/vector_source.h"

namespace mozaiek::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct BenchOptions {
  std::string config;
  std::size_t signals = 1'000'000;
  std::size_t e2e_signals = 300'000;  // the embedded cluster keeps a bounded log
  int rounds = 3;
  bool no_linking = false;
  std::string mode = "all";  // inprocess | e2e | all
  std::string work_dir = "/tmp";
  // A real broker (host:port): drain a backlog through `mozaiek run`'s code.
  std::string brokers;
  std::size_t drain_signals = 500'000;
};

TrafficOptions traffic_for(const Settings& settings, std::size_t n, std::uint64_t seed) {
  return benchmark_traffic(settings.operators, n, seed);
}

// CPU seconds used so far by this thread or by the whole process (all
// threads, RocksDB's background flushes and librdkafka's included). Rates per
// CPU second stay comparable when other work shares the machine; wall-clock
// rates do not.
double cpu_seconds(clockid_t which) {
  timespec ts{};
  ::clock_gettime(which, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

void print_round(int round, LocalPipeline& pipeline, const Settings& settings, double n,
                 double secs, double thread_cpu, double process_cpu, std::uint64_t flushes) {
  const auto& c = pipeline.intake().counters();
  const LinkCounters& links = pipeline.convergence().link_counters();
  std::uint64_t links_created = 0;
  for (auto k : links.created) links_created += k;
  std::printf(
      "in-process round %d: %.0f signals/s wall (%.2f s), %.0f per CPU second of the pipeline "
      "thread, %.0f per CPU second of the process (RocksDB background work included); %llu "
      "routed subjects, %llu alerts, %llu dlq; linking %s: %llu links, %llu notices; %llu state "
      "flushes\n",
      round + 1, n / secs, secs, n / thread_cpu, n / process_cpu,
      static_cast<unsigned long long>(c.routed),
      static_cast<unsigned long long>(pipeline.alerts_raised()),
      static_cast<unsigned long long>(c.total_dlq()),
      settings.operators.linking.enabled ? "on" : "off",
      static_cast<unsigned long long>(links_created),
      static_cast<unsigned long long>(links.notices_sent),
      static_cast<unsigned long long>(flushes));
}

// One round on a fresh RocksDB: the pipeline on the service's loop, batch
// size and commit cadence (a commit flushes the state), on this thread.
// Appends the wall and pipeline-thread CPU rates; false on an error.
bool bench_round(int round, const BenchOptions& o, const Settings& settings,
                 const Pseudonymiser& pseudonymiser, const std::vector<OutRecord>& records,
                 std::vector<double>& rates, std::vector<double>& cpu_rates) {
  const std::string dir = o.work_dir + "/mozaiek-bench-" + std::to_string(::getpid()) + "-" +
                          std::to_string(round);
  Status s = Status::ok();
  auto db = RocksStateDb::open(dir, s);
  if (!db) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return false;
  }
  auto stores = db->factory();
  ManualClock clock(SystemClock().now());
  auto pipeline = std::make_unique<LocalPipeline>(settings.operators, pseudonymiser, clock, *stores,
                                                  nullptr, nullptr);
  VectorSource source(records);
  SystemClock wall;
  TaskLoop loop(TaskLoopOptions{.name = "bench",
                                .batch_records = Service::kBatchRecords,
                                .poll_timeout = Millis{0},
                                .commit_interval = Millis{settings.commit_interval_ms}},
                source, *pipeline, wall);
  const std::atomic<bool> never{false};
  const auto t0 = SteadyClock::now();
  const double thread_cpu0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  const double process_cpu0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  s = loop.run(never);
  const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double thread_cpu = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - thread_cpu0;
  const double process_cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu0;
  const auto n = static_cast<double>(records.size());
  if (s) {
    rates.push_back(n / secs);
    cpu_rates.push_back(n / thread_cpu);
    print_round(round, *pipeline, settings, n, secs, thread_cpu, process_cpu, loop.stats().commits);
  } else {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
  }
  // Stores before the database that owns them (a store touches it when
  // destroyed; the other order corrupted its table and could hang).
  pipeline.reset();
  stores.reset();
  db.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return s.is_ok();
}

int bench_inprocess(const BenchOptions& o, const Settings& settings, const std::string& key) {
  Pseudonymiser pseudonymiser(key);
  std::printf("in-process: generating %zu synthetic signals...\n", o.signals);
  auto records = generate_records(traffic_for(settings, o.signals, 7), settings.operators.catalogue,
                                  o.signals);
  std::size_t bytes = 0;
  for (const auto& r : records) bytes += r.value.size();
  std::printf("in-process: %zu records, %.1f MB, RocksDB state, 1 thread, JSON kernel %s\n",
              records.size(), static_cast<double>(bytes) / 1e6, std::string(json_kernel()).c_str());
  std::vector<double> rates;
  std::vector<double> cpu_rates;
  for (int round = 0; round < o.rounds; ++round) {
    if (!bench_round(round, o, settings, pseudonymiser, records, rates, cpu_rates)) return 1;
  }
  std::printf("in-process median: %.0f signals/s wall, %.0f per CPU second\n",
              percentile(rates, 0.5), percentile(cpu_rates, 0.5));
  return 0;
}

// Signal-to-alert latency of the end-to-end run: the produce time of every
// signal, and an alert consumer on its own thread that measures, per alert,
// the time since its newest contribution was produced (timed records only).
class AlertLatency {
 public:
  AlertLatency(std::size_t records, std::unique_ptr<KafkaSource> alerts)
      : alerts_(std::move(alerts)) {
    produced_at_.reserve(records);
    reader_ = std::thread([this] { read(); });
  }
  ~AlertLatency() { stop(); }
  AlertLatency(const AlertLatency&) = delete;
  AlertLatency& operator=(const AlertLatency&) = delete;

  void produced(const std::string& signal_key) {
    std::lock_guard lock(mu_);
    produced_at_[signal_key] = SteadyClock::now();
  }
  // Alerts whose newest signal was produced from t on are measured.
  void time_from(SteadyClock::time_point t) {
    std::lock_guard lock(mu_);
    timed_from_ = t;
  }
  void stop() {
    done_ = true;
    if (reader_.joinable()) reader_.join();
  }
  // After stop().
  std::vector<double>& latencies_ms() { return latencies_ms_; }

 private:
  void read() {
    RecordBatch batch;
    Alert alert;
    while (!done_) {
      if (!alerts_->poll(batch, 1000, Millis{50})) break;
      const auto now = SteadyClock::now();
      std::lock_guard lock(mu_);
      for (const auto& r : batch.records) {
        if (!read_alert_json(r.value, alert)) continue;
        SteadyClock::time_point last{};
        for (const auto& c : alert.contributions) {
          auto it = produced_at_.find(c.signal_id);
          if (it != produced_at_.end()) last = std::max(last, it->second);
        }
        if (last >= timed_from_) {
          latencies_ms_.push_back(std::chrono::duration<double, std::milli>(now - last).count());
        }
      }
    }
  }

  std::unique_ptr<KafkaSource> alerts_;
  std::mutex mu_;
  std::unordered_map<std::string, SteadyClock::time_point> produced_at_;
  SteadyClock::time_point timed_from_ = SteadyClock::time_point::max();
  std::vector<double> latencies_ms_;
  std::atomic<bool> done_{false};
  std::thread reader_;  // last: starts once the members above exist
};

// Produces records [from, to) and waits until they are delivered.
Status produce_range(const std::vector<OutRecord>& records, std::size_t from, std::size_t to,
                     RecordSink& sink, AlertLatency& latency) {
  for (std::size_t i = from; i < to; ++i) {
    const auto& r = records[i];
    latency.produced(r.key);
    if (Status p = sink.produce(r.topic, r.key, r.value); !p) return p;
  }
  return sink.flush(seconds(120));
}

// Until every record produced so far is committed by both stages.
bool wait_for_commits(const Service& service, std::size_t produced, Service::Progress& p) {
  const auto deadline = SteadyClock::now() + std::chrono::minutes(10);
  while (SteadyClock::now() < deadline) {
    p = service.progress();
    if (p.intake_in >= produced && p.convergence_in >= p.routed) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

void print_e2e(const Service::Progress& before, const Service::Progress& p, double secs,
               double process_cpu, std::vector<double>& latencies_ms) {
  const auto timed = static_cast<double>(p.intake_in - before.intake_in);
  std::printf(
      "end-to-end: %.0f signals in %.2f s = %.0f signals/s wall, %.0f per CPU second of the "
      "process (producer, broker, both stages) (%llu routed subject records, %llu alerts)\n",
      timed, secs, timed / secs, timed / process_cpu,
      static_cast<unsigned long long>(p.routed - before.routed),
      static_cast<unsigned long long>(p.alerts - before.alerts));
  std::printf("end-to-end: signal-to-alert latency over %zu alerts: p50 %.1f ms, p99 %.1f ms\n",
              latencies_ms.size(), percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.99));
}

int bench_e2e(const BenchOptions& o, Settings settings) {
  settings.brokers = "embedded";
  settings.state_dir = o.work_dir + "/mozaiek-bench-e2e-" + std::to_string(::getpid());
  settings.http_listen = "127.0.0.1:0";
  std::printf("end-to-end: generating %zu synthetic signals...\n", o.e2e_signals);
  auto records = generate_records(traffic_for(settings, o.e2e_signals, 11),
                                  settings.operators.catalogue, o.e2e_signals);
  Service service(settings,
                  ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
  if (Status s = service.start(); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  KafkaSettings kafka;
  kafka.brokers = service.bootstrap_servers();
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka, s);
  auto alerts = sink ? KafkaSource::create(kafka, "mozaiek-bench-alerts", {settings.topics.alerts},
                                           s)
                     : nullptr;
  if (!sink || !alerts) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  AlertLatency latency(records.size(), std::move(alerts));
  // Warm-up, not timed: the first records wait for both consumer groups to
  // join (seconds on the embedded cluster), which is start-up, not throughput.
  const std::size_t warmup = std::min<std::size_t>(1000, records.size() / 10);
  Service::Progress p;
  std::printf("end-to-end: warming up with %zu records (consumer groups joining)\n", warmup);
  if (Status w = produce_range(records, 0, warmup, *sink, latency);
      !w || !wait_for_commits(service, warmup, p)) {
    std::fprintf(stderr, "error: warm-up did not complete: %s\n", w.message().c_str());
    return 1;
  }
  const Service::Progress before = p;
  std::printf(
      "end-to-end: producing %zu records to the embedded cluster (2 stages, %d partitions)\n",
      records.size() - warmup, settings.partitions);
  const auto t0 = SteadyClock::now();
  latency.time_from(t0);
  const double process_cpu0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  if (Status w = produce_range(records, warmup, records.size(), *sink, latency); !w) {
    std::fprintf(stderr, "error: %s\n", w.message().c_str());
    return 1;
  }
  const bool complete = wait_for_commits(service, records.size(), p);
  const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double process_cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_cpu0;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the last alerts' latencies
  latency.stop();
  service.stop();
  std::error_code ec;
  std::filesystem::remove_all(settings.state_dir, ec);
  if (!complete) {
    std::fprintf(stderr, "error: the stages did not commit every record within 10 minutes\n");
    return 1;
  }
  print_e2e(before, p, secs, process_cpu, latency.latencies_ms());
  return 0;
}

// Peak resident set of this process so far, in MiB.
double peak_rss_mib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// On a real broker: N generated signals produced first (a backlog, not
// timed) to fresh topics, then the service started as `mozaiek run` starts
// it (its own topics, a fresh group, RocksDB state under a changelog) and
// timed until both stages have committed every record.
int bench_drain(const BenchOptions& o, Settings settings) {
  const std::string ns = "bench" + std::to_string(::getpid()) + "-" +
                         std::to_string(std::chrono::system_clock::now().time_since_epoch() /
                                        std::chrono::seconds(1));
  settings.brokers = o.brokers;
  settings.group_id = ns;
  auto& t = settings.topics;
  for (std::string* name : {&t.signals_prefix, &t.chain_prefix, &t.chain_events, &t.alerts,
                            &t.alerts_care, &t.alert_actions, &t.dlq, &t.audit, &t.subjects}) {
    *name = ns + "." + *name;
  }
  settings.state_dir = o.work_dir + "/mozaiek-bench-drain-" + ns;
  settings.http_listen = "127.0.0.1:0";
  std::printf("drain: generating %zu synthetic signals...\n", o.drain_signals);
  auto records = generate_records(traffic_for(settings, o.drain_signals, 11),
                                  settings.operators.catalogue, o.drain_signals);
  const double input_mib = peak_rss_mib();
  KafkaSettings kafka = settings.kafka_settings();
  std::vector<TopicSpec> inputs;
  for (const auto& src : settings.operators.sources) {
    inputs.push_back({settings.topics.signals_prefix + src.name, std::nullopt});
  }
  if (Status c = ensure_topic_specs(kafka, inputs, seconds(60)); !c) {
    std::fprintf(stderr, "error: %s\n", c.message().c_str());
    return 1;
  }
  {
    Status s = Status::ok();
    auto sink = KafkaSink::create(kafka, s);
    if (!sink) {
      std::fprintf(stderr, "error: %s\n", s.message().c_str());
      return 1;
    }
    std::string topic;
    for (const auto& r : records) {
      topic = r.topic.starts_with("signals.") ? ns + "." + r.topic : r.topic;
      if (Status p = sink->produce(topic, r.key, r.value); !p) {
        std::fprintf(stderr, "error: %s\n", p.message().c_str());
        return 1;
      }
    }
    if (Status f = sink->flush(seconds(300)); !f) {
      std::fprintf(stderr, "error: %s\n", f.message().c_str());
      return 1;
    }
  }
  const std::size_t n = records.size();
  std::vector<OutRecord>().swap(records);
  std::printf("drain: %zu signals on %s (topics %s.*, %d partitions); starting the service "
              "(service.threads %d; 0: the cores)\n",
              n, o.brokers.c_str(), ns.c_str(), settings.partitions, settings.threads);
  Service service(settings,
                  ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
  const auto t0 = SteadyClock::now();
  const double cpu0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  if (Status s = service.start(); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 1;
  }
  Service::Progress p;
  std::optional<SteadyClock::time_point> first;
  double cpu_first = 0;
  const auto deadline = t0 + std::chrono::minutes(30);
  while (SteadyClock::now() < deadline) {
    p = service.progress();
    if (!first && p.intake_in > 0) {
      first = SteadyClock::now();
      cpu_first = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    }
    if (p.intake_in >= n && p.convergence_in >= p.routed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  const double from_first = first
                                ? std::chrono::duration<double>(SteadyClock::now() - *first).count()
                                : secs;
  const double cpu_from_first = first ? cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_first : cpu;
  service.stop();
  std::error_code ec;
  std::filesystem::remove_all(settings.state_dir, ec);
  if (p.intake_in < n || p.convergence_in < p.routed) {
    std::fprintf(stderr, "error: %llu of %zu signals committed within 30 minutes\n",
                 static_cast<unsigned long long>(p.intake_in), n);
    return 1;
  }
  const auto dn = static_cast<double>(n);
  std::printf("drain: %zu signals in %.2f s from start = %.0f signals/s wall, %.0f per CPU second "
              "of the process; from the first commit %.2f s = %.0f signals/s wall, %.0f per CPU "
              "second (%llu routed subject records, %llu alerts)\n",
              n, secs, dn / secs, dn / cpu, from_first, dn / from_first, dn / cpu_from_first,
              static_cast<unsigned long long>(p.routed), static_cast<unsigned long long>(p.alerts));
  std::printf("drain: peak RSS %.0f MiB (%.0f MiB of it before the service started: the "
              "generated input)\n",
              peak_rss_mib(), input_mib);
  return 0;
}

int bench(const BenchOptions& o) {
  spdlog::set_level(spdlog::level::warn);
  Settings settings;
  std::vector<std::string> errors;
  if (!load_settings(o.config, settings, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "config error: %s\n", e.c_str());
    return 2;
  }
  if (o.no_linking) settings.operators.linking.enabled = false;
  std::string key;
  if (Status s = load_pseudonym_key(settings, true, key); !s) {
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
    return 2;
  }
  std::printf("machine: %u hardware threads\n", std::thread::hardware_concurrency());
  if (!o.brokers.empty()) return bench_drain(o, settings);
  int rc = 0;
  if (o.mode == "all" || o.mode == "inprocess") rc |= bench_inprocess(o, settings, key);
  if (o.mode == "all" || o.mode == "e2e") rc |= bench_e2e(o, settings);
  return rc;
}

}  // namespace

void add_bench_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<BenchOptions>();
  o->config = default_config_path();
  auto* cmd = app.add_subcommand(
      "bench", "Measure signals/s in process (per core) and end to end through embedded Kafka.");
  cmd->add_option("--config", o->config, "Config file")->capture_default_str();
  cmd->add_option("--signals", o->signals, "Signals for the in-process run")->capture_default_str();
  cmd->add_option("--e2e-signals", o->e2e_signals, "Signals for the end-to-end run")
      ->capture_default_str();
  cmd->add_option("--rounds", o->rounds, "In-process rounds")->capture_default_str();
  cmd->add_flag("--no-linking", o->no_linking,
                "Turn the linking layer off (linking.enabled: false), to measure its cost");
  cmd->add_option("--mode", o->mode, "inprocess | e2e | all")
      ->check(CLI::IsMember({"inprocess", "e2e", "all"}))
      ->capture_default_str();
  cmd->add_option("--work-dir", o->work_dir, "Where temporary RocksDB state goes")
      ->capture_default_str();
  cmd->add_option("--brokers", o->brokers,
                  "A real Kafka broker (host:port): produce --drain-signals generated signals "
                  "to fresh topics, then drain them through the service `mozaiek run` starts "
                  "(signals/s wall and per CPU second, peak RSS, alerts); instead of --mode");
  cmd->add_option("--drain-signals", o->drain_signals, "Signals for the --brokers drain")
      ->capture_default_str();
  cmd->callback([o, &run] { run = [o] { return bench(*o); }; });
}

}  // namespace mozaiek::cli
