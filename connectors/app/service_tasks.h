// The service's two stages as Tasks of a TaskLoop (stream/task_loop.h): what
// each does per batch, at a commit, between batches and when it stops. The
// loop decides when; these decide what.
//
// Lifecycle: Service makes each task on its loop's thread, with the Kafka
// source and sink that thread owns, and runs it until the service stops.
// Only the Committed totals are read from other threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/app/dead_letter_writer.h"
#include "connectors/app/settings.h"
#include "connectors/http/api/alert_feed.h"
#include "connectors/http/api/entity_api.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/oversight/oversight_metrics.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/pipeline/intake_stage.h"
#include "operators/pipeline/internal_dispatch.h"
#include "operators/pipeline/pipeline_metrics.h"
#include "operators/pipeline/rules_registry.h"
#include "stream/io.h"
#include "stream/task_loop.h"

namespace mozaiek {

// What both tasks borrow from the service.
struct ServiceTaskContext {
  const Settings& settings;
  const Clock& clock;
  PipelineMetrics& metrics;
  OversightMetrics& oversight;
  // True once the service failed: a stopping task then commits nothing more.
  std::function<bool()> service_failed;
  // True once the service is asked to stop: retries (of dead letters) end.
  std::function<bool()> stopping;
  // The rules in force (live reload); each task takes a new set between
  // batches (pick_up_rules()).
  RulesRegistry& rules;
  // The task's name where it reports the rules version it runs on
  // ("intake", "convergence-1", ...).
  std::string name;
};

// Intake: partner records (signals.*, the chain topics) in; routed records to
// the internal subjects topic, rejections sealed (dlq_key) to the DLQ through
// their own writer, which retries until they are delivered: flush() is ok,
// and offsets are committed, only once they are.
class IntakeTask final : public Task {
 public:
  // Committed work only (Service::progress()).
  struct Committed {
    std::atomic<std::uint64_t> in{0}, dlq{0}, routed{0};
  };
  IntakeTask(ServiceTaskContext context, const Pseudonymiser& pseudonymiser, RecordSink& sink,
             KafkaSource& source, Committed& committed, DeadLetterWriter& dead_letters,
             std::optional<DlqKey> dlq_key);
  ~IntakeTask() override;

  Status process(const RecordBatch& batch) override;
  void batch_done(std::size_t records, std::chrono::duration<double> took) override;
  Status flush() override;
  void committed() override;
  bool commit_on_stop() const override { return !context_.service_failed(); }
  void on_stop(bool final_commit) override;
  // Consumer lag and the sources' watermarks; every few seconds.
  void report_lag();
  // A reloaded rule set, if there is one, from the next batch on; after
  // every poll.
  void pick_up_rules();

 private:
  class Output;
  ServiceTaskContext context_;
  // The rule set the stage runs on (kept alive until the next is taken).
  std::shared_ptr<const OperatorConfig> rules_;
  std::uint64_t rules_generation_ = 0;
  RecordSink& sink_;
  KafkaSource& source_;
  Committed& committed_;
  DeadLetterWriter& dead_letters_;
  std::unique_ptr<Output> output_;
  IntakeStage stage_;
  // Since the last commit.
  std::uint64_t pending_in_ = 0, pending_dlq_ = 0, pending_routed_ = 0;
};

// What the convergence loops of one service share when there are several
// (service.threads): which one this is, the oversight gauges and the state
// sizes, summed over the loops before they are published.
class ConvergenceShare {
 public:
  explicit ConvergenceShare(std::size_t loops) : gauges_(loops), sizes_(loops) {}
  std::size_t loops() const { return sizes_.size(); }
  OversightGaugeTotals& gauges() { return gauges_; }
  // Loop `index`'s state entries (convergence, links); returns the sums.
  std::pair<std::size_t, std::size_t> sizes(std::size_t index, std::size_t convergence,
                                            std::size_t links);

 private:
  OversightGaugeTotals gauges_;
  std::mutex mu_;
  std::vector<std::pair<std::size_t, std::size_t>> sizes_;
};

// Convergence: internal records in (dispatched on their kind); alerts to the
// alerts topic and the feed, entity notices back to the internal topic.
class ConvergenceTask final : public Task {
 public:
  struct Committed {
    std::atomic<std::uint64_t> in{0}, alerts{0};
  };
  ConvergenceTask(ServiceTaskContext context, StateStoreFactory& stores, RecordSink& sink,
                  KafkaSource& source, AlertFeed& feed, bool print_alerts, EntityRequests& lookups,
                  EntityLookupProbe& lookup_probe, Committed& committed,
                  ConvergenceShare* share = nullptr, std::size_t index = 0);
  ~ConvergenceTask() override;

  Status process(const RecordBatch& batch) override;
  void batch_done(std::size_t records, std::chrono::duration<double> took) override;
  // Alerts and notices delivered, then state (changelog, RocksDB).
  Status flush() override;
  void committed() override;
  bool commit_on_stop() const override { return !context_.service_failed(); }
  void on_stop(bool final_commit) override;

  // Entity view lookups queued by HTTP threads; between batches.
  void serve_lookups();
  // Melding deadlines and oversight gauges; every second.
  Status maintain_oversight(std::size_t uncommitted);
  // Consumer lag and state sizes; every few seconds.
  void report_lag();
  // State behind the watermark, or, once the watermark has not moved for
  // settings.state_wall_clock_grace, behind where the wall clock has carried
  // it since (a quiet feed); every half minute.
  void expire(std::size_t uncommitted);
  // A reloaded rule set, if there is one: taken only with nothing
  // uncommitted (right after a commit, or while idle), so the state flushed
  // for the hand-over is never ahead of committed input; after every poll.
  Status pick_up_rules(std::size_t uncommitted);

 private:
  class Output;
  void listen_to_rebalances();

  ServiceTaskContext context_;
  std::shared_ptr<const OperatorConfig> rules_;  // the set the stage runs on
  std::uint64_t rules_generation_ = 0;
  RecordSink& sink_;
  KafkaSource& source_;
  EntityRequests& lookups_;
  EntityLookupProbe& lookup_probe_;
  Committed& committed_;
  ConvergenceShare* share_;  // null: the only convergence loop
  std::size_t index_;
  std::unique_ptr<Output> output_;
  ConvergenceStage stage_;
  InternalDispatch dispatch_;
  std::uint64_t pending_in_ = 0, pending_alerts_ = 0;  // since the last commit
};

}  // namespace mozaiek
