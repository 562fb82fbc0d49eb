// Service: the running mozaiek. Stitches the real implementations together:
// Kafka (or the embedded cluster), RocksDB state, the task loops, the
// Prometheus probe and the HTTP server.
//
// Threads: start() spawns service.threads intake loops and as many
// convergence loops (each a member of its stage's consumer group), one thread
// each; each runs a TaskLoop (stream/task_loop.h) over its task
// (service_tasks.h) and owns its consumer, producer and stage. A loop that
// fails, or whose task throws, stops the service with the reason. The HTTP server
// runs its own threads and only reads thread-safe objects (registry, alert
// feed); with it, the alert-topics reader keeps the feed's alerts and
// statuses in step with the alerts and alert-actions topics on one more
// thread, and the actions API writes alert actions through its own
// producer. stop() asks the loops to finish their batch, flush and commit.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "connectors/app/settings.h"
#include "connectors/http/access.h"
#include "stream/status.h"

namespace mozaiek {

struct ServiceOptions {
  bool demo = false;          // accept the demo pseudonym key
  bool print_alerts = false;  // one line per alert on stdout
  bool serve_http = true;
  // Decides access to every protected route (shared with whoever made it:
  // the CLI's demo gate or the authenticator). Null: every protected route
  // answers 401.
  std::shared_ptr<const AccessGate> access_gate{};
  // Told of every 401 and 403 (besides the log and the denial counter).
  DenialObserver on_denied{};
};

class Service {
 public:
  // Records a stage's loop takes per poll.
  static constexpr std::size_t kBatchRecords = 20000;

  Service(Settings settings, ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Connects (or starts the embedded cluster), creates topics, opens state and
  // starts the loops. Fails with a clear message on a bad key, an unreachable
  // broker or a state directory it cannot open.
  [[nodiscard]] Status start();
  // Graceful: loops finish the current batch, flush outputs and state, commit.
  void stop();
  // Blocks until a loop fails or stop() is called; returns the first error
  // (a loop's reason: "<task>: ...").
  Status wait();
  // Reloads the rules (catalogue, sources, rules, linking, oversight) from
  // the config file the service started with, as SIGHUP does: validated
  // as check-config does, audited, taken by every task at its next batch
  // boundary; an error (the file's errors, logged) leaves the running
  // rules in force. Any thread, after start().
  Status reload_rules();
  // Bootstrap servers in use (the embedded cluster's when embedded).
  std::string bootstrap_servers() const;
  std::string http_address() const;

  // Totals since start of committed work (for the benchmark and tests).
  struct Progress {
    std::uint64_t intake_in = 0;       // records consumed from signals.*
    std::uint64_t intake_dlq = 0;      // of which dead-lettered
    std::uint64_t routed = 0;          // per-subject records written to the internal topic
    std::uint64_t convergence_in = 0;  // per-subject records scored
    std::uint64_t alerts = 0;
  };
  Progress progress() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mozaiek
