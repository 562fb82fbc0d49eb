// `mozaiek run` (the service) and `mozaiek demo` (embedded cluster plus
// synthetic partner traffic).
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "connectors/app/cli/commands.h"
#include "connectors/app/demo_gate.h"
#include "connectors/app/service.h"
#include "connectors/app/settings.h"
#include "connectors/app/systemd_notify.h"
#include "connectors/http/http_server.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/synthetic/synthetic_chain.h"
#include "connectors/synthetic/synthetic_traffic.h"

namespace mozaiek::cli {
namespace {

std::atomic<bool> g_interrupted{false};

std::atomic<bool> g_reload{false};

void on_signal(int) { g_interrupted = true; }
void on_reload_signal(int) { g_reload = true; }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // SIGHUP: reload the rules from the config file (Service::reload_rules()).
  struct sigaction hup {};
  hup.sa_handler = on_reload_signal;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);
}

struct RunOptions {
  std::string config;
  std::string brokers;
  std::string http_listen;
  std::string state_dir;
  double duration_seconds = 0;  // 0 = until interrupted
  // demo only
  std::size_t signals = 20000;
  double rate = 2000;  // records per second
  std::uint64_t seed = 42;
  bool print_alerts = false;  // one line per alert on stdout
};

bool load(const RunOptions& o, Settings& settings) {
  std::vector<std::string> errors;
  if (!load_settings(o.config, settings, errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "config error: %s\n", e.c_str());
    return false;
  }
  if (!o.brokers.empty()) settings.brokers = o.brokers;
  if (!o.http_listen.empty()) settings.http_listen = o.http_listen;
  if (!o.state_dir.empty()) settings.state_dir = o.state_dir;
  return true;
}

// The demo gate for `identity` on loopback, announced; an error naming
// service.demo_identity elsewhere.
Status demo_gate(const Settings& settings, const DemoIdentity& identity,
                 std::shared_ptr<const AccessGate>& gate) {
  if (Status s = make_demo_gate(identity, settings.http_listen, gate); !s) return s;
  std::string roles;
  for (const auto& r : identity.roles) roles += (roles.empty() ? "" : ", ") + r;
  spdlog::warn("demo identity: every request to this loopback-only service is '{}' with roles "
               "[{}] (service.demo_identity); not for real data",
               identity.name, roles);
  return Status::ok();
}

// Waits for an interrupt, a failure of the service or the deadline.
Status supervise(Service& service, double duration_seconds,
                 const std::function<bool()>& extra_done = {},
                 const std::function<void()>& on_stopping = {}) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long long>(duration_seconds * 1000));
  std::atomic<bool> waiting{true};
  Status failure = Status::ok();
  std::thread watcher([&] {
    Status s = service.wait();
    if (!s) failure = s;
    waiting = false;
  });
  while (waiting && !g_interrupted) {
    if (duration_seconds > 0 && std::chrono::steady_clock::now() >= deadline) break;
    if (extra_done && extra_done()) break;
    if (g_reload.exchange(false)) (void)service.reload_rules();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("shutting down: finishing the current batch, flushing and committing");
  if (on_stopping) on_stopping();
  service.stop();
  watcher.join();
  return failure;
}

int run_service(const RunOptions& o) {
  install_signal_handlers();
  Settings settings;
  if (!load(o, settings)) return 2;
  ServiceOptions options{.demo = false, .print_alerts = o.print_alerts};
  if (!settings.demo_identity.name.empty()) {
    if (Status s = demo_gate(settings, settings.demo_identity, options.access_gate); !s) {
      spdlog::error("cannot start: {}", s.message());
      return 1;
    }
  }
  Service service(settings, options);
  if (Status s = service.start(); !s) {
    spdlog::error("cannot start: {}", s.message());
    return 1;
  }
  spdlog::info("mozaiek running against {}", service.bootstrap_servers());
  // Under systemd (Type=notify): started. STOPPING=1 once asked to stop.
  if (Status n = notify_systemd("READY=1"); !n) spdlog::warn("systemd: {}", n.message());
  Status s = supervise(service, o.duration_seconds, {}, [] {
    if (Status n = notify_systemd("STOPPING=1"); !n) spdlog::warn("systemd: {}", n.message());
  });
  if (!s) {
    spdlog::error("{}", s.message());
    return 1;
  }
  return 0;
}

int run_demo(const RunOptions& o) {
  install_signal_handlers();
  Settings settings;
  if (!load(o, settings)) return 2;
  settings.brokers = o.brokers.empty() ? "embedded" : o.brokers;
  if (o.state_dir.empty()) {
    settings.state_dir = "/tmp/mozaiek-demo-" + std::to_string(::getpid());
  }
  ServiceOptions options{.demo = true, .print_alerts = o.print_alerts};
  if (settings.auth.any_identity() && settings.demo_identity.name.empty()) {
    // A config with service.auth: callers log in as with `run` (the
    // console's login against a test provider).
    spdlog::info("mozaiek demo: callers authenticate through service.auth");
  } else {
    const DemoIdentity identity = settings.demo_identity.name.empty() ? default_demo_identity()
                                                                      : settings.demo_identity;
    if (Status s = demo_gate(settings, identity, options.access_gate); !s) {
      spdlog::error("cannot start the demo: {}", s.message());
      return 1;
    }
  }
  Service service(settings, options);
  if (Status s = service.start(); !s) {
    spdlog::error("cannot start the demo: {}", s.message());
    return 1;
  }
  const char* scheme = settings.tls.enabled() ? "https" : "http";
  spdlog::info("mozaiek demo: embedded Kafka at {}, console at {}://{}/, metrics at "
               "{}://{}/metrics",
               service.bootstrap_servers(), scheme, service.http_address(), scheme,
               service.http_address());

  TrafficOptions traffic;
  traffic.seed = o.seed;
  traffic.signals = o.signals;
  for (const auto& src : settings.operators.sources) traffic.sources.push_back(src.name);
  traffic.locations = settings.operators.locations;
  for (const auto& ind : settings.operators.catalogue.all()) traffic.indicators.push_back(ind.code);
  ChainTrafficOptions chain;
  chain.seed = o.seed;
  chain.topic = settings.topics.chain_events;
  chain.sources = traffic.sources;
  chain.locations = traffic.locations;

  std::atomic<bool> producing{true};
  std::atomic<std::uint64_t> produced{0};
  std::thread producer([&] {
    KafkaSettings kafka;
    kafka.brokers = service.bootstrap_servers();
    Status s = Status::ok();
    auto sink = KafkaSink::create(kafka, s);
    if (!sink) {
      spdlog::error("demo producer: {}", s.message());
      producing = false;
      return;
    }
    PartnerTraffic gen(traffic, settings.operators.catalogue, chain, true);
    OutRecord rec;
    const auto start = std::chrono::steady_clock::now();
    while (!g_interrupted && gen.next(rec)) {
      (void)sink->produce(rec.topic, rec.key, rec.value);
      const auto n = ++produced;
      if (o.rate > 0 && n % 100 == 0) {
        const auto due = start + std::chrono::microseconds(
                                     static_cast<long long>(1e6 * static_cast<double>(n) / o.rate));
        std::this_thread::sleep_until(due);
      }
      if (n % 5000 == 0) spdlog::info("demo: {} partner records produced", n);
    }
    (void)sink->flush(seconds(30));
    spdlog::info("demo: all {} synthetic partner records produced ({} of them chain events)",
                 produced.load(), gen.chain_events());
    producing = false;
  });
  Status s = supervise(service, o.duration_seconds);
  g_interrupted = true;
  producer.join();
  if (!s) {
    spdlog::error("{}", s.message());
    return 1;
  }
  return 0;
}

void add_common(CLI::App* cmd, RunOptions& o) {
  cmd->add_option("--config", o.config, "Config file")->capture_default_str();
  cmd->add_option("--brokers", o.brokers, "Override kafka.brokers (\"embedded\" or host:port,...)");
  cmd->add_option("--http", o.http_listen, "Override service.http_listen (host:port)");
  cmd->add_option("--state-dir", o.state_dir, "Override service.state_dir");
  cmd->add_option("--duration", o.duration_seconds,
                  "Stop after this many seconds (0: run until "
                  "SIGINT/SIGTERM)");
  cmd->add_flag("--print-alerts", o.print_alerts,
                "Print one line per alert on stdout (logs always go to stderr)");
}

}  // namespace

void add_run_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<RunOptions>();
  o->config = default_config_path();
  auto* cmd = app.add_subcommand("run", "Run the service: consume signals.*, raise alerts.");
  add_common(cmd, *o);
  cmd->callback([o, &run] { run = [o] { return run_service(*o); }; });
}

void add_demo_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<RunOptions>();
  o->config = default_config_path();
  o->duration_seconds = 60;
  auto* cmd = app.add_subcommand(
      "demo",
      "Embedded Kafka, synthetic partner traffic (signals with the brief's planted cases, and\n"
      "chain events: meldingen, arrivals and MOB departures, a departure spike, registrations),\n"
      "the service, the web console on / and /metrics served; with --print-alerts the alerts\n"
      "on stdout as they fire.");
  add_common(cmd, *o);
  cmd->add_option("--signals", o->signals, "Approximate number of synthetic signals")
      ->capture_default_str();
  cmd->add_option("--rate", o->rate, "Records produced per second (0: as fast as possible)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed of the synthetic traffic")->capture_default_str();
  cmd->callback([o, &run] { run = [o] { return run_demo(*o); }; });
}

}  // namespace mozaiek::cli
