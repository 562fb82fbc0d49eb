// LocalPipeline: intake -> routing -> convergence in one thread, no broker.
// Used by `mozaiek replay` (NDJSON files) and by the in-process benchmark.
// The same operators run in the service; only the transport differs.
//
// Entity notices between linked subjects take the path they take in the
// service: encoded as internal records, queued, and dispatched on their
// first byte after the record that caused them (all on partition 0).
//
// Lifecycle: construct, feed records with process() (or run it as the Task
// of a TaskLoop, which calls process() per batch and flush() to commit), call
// finish() to flush state and sinks. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "operators/intake/dead_letter.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/pipeline/intake_stage.h"
#include "operators/pipeline/internal_dispatch.h"
#include "stream/io.h"
#include "stream/state_store.h"
#include "stream/task_loop.h"

namespace mozaiek {

class LocalPipeline final : public Task, private IntakeOutput, private AlertOutput {
 public:
  // alerts and dlq may be null (counted only). stores owns the state.
  LocalPipeline(const OperatorConfig& config, const Pseudonymiser& pseudonymiser,
                const Clock& clock, StateStoreFactory& stores, RecordSink* alerts, RecordSink* dlq,
                std::string dlq_topic = "mozaiek.dlq", std::string alerts_topic = "mozaiek.alerts");
  LocalPipeline(const LocalPipeline&) = delete;
  LocalPipeline& operator=(const LocalPipeline&) = delete;

  void process(const RecordView& record) {
    intake_.process(record);
    deliver_internal();
  }
  // Task: every record of the batch; the first sink error, if any.
  Status process(const RecordBatch& batch) override {
    for (const auto& r : batch.records) process(r);
    return sink_status_;
  }
  // Task: what finish() does, so a loop's commit makes everything durable.
  Status flush() override { return finish(); }
  // Applies an erasure request to the state (partition 0) and delivers the
  // erasure notices it sends; durable after finish().
  ConvergenceStage::ErasureOutcome erase(const ErasureRecord& erasure);
  // Seals the originals of dead letters with key (the default: no key, so
  // dead letters carry hash and size only).
  void seal_dead_letters(std::optional<DlqKey> key, std::size_t max_sealed_bytes) {
    sealer_ = DeadLetterSealer(std::move(key), max_sealed_bytes);
  }
  // Flushes operator state and both sinks.
  [[nodiscard]] Status finish();
  // First error writing to a sink, if any (checked by the driver per batch).
  const Status& sink_status() const { return sink_status_; }

  // Where care-purpose alerts go (they never go to `alerts`); null: counted
  // only. Call before the first record.
  void set_care_alerts(RecordSink* care_alerts, std::string topic = "mozaiek.alerts.care");
  IntakeStage& intake() { return intake_; }
  ConvergenceStage& convergence() { return convergence_; }
  // Investigation (and oversight) alerts raised; care alerts apart.
  std::uint64_t alerts_raised() const { return alerts_raised_; }
  std::uint64_t care_alerts_raised() const { return care_alerts_raised_; }
  // Deadlines up to the watermark and the oversight gauges; call per batch.
  void maintain() { convergence_.maintain_oversight(); }

 private:
  void on_routed(const RoutedSignal& routed) override;
  void on_routed_chain(const RoutedChainEvent& routed) override;
  void on_rejected(const Rejection& rejection, const RecordView& record) override;
  void on_alert(const Alert& alert, std::string_view json) override;
  void on_notice(const EntityNotice& notice) override;
  // To the alerts topic (and the care alerts topic), keyed by the entity.
  void on_withdrawal(const AlertWithdrawal& withdrawal, std::string_view json) override;
  // Dispatches queued internal records by kind until none are left.
  void deliver_internal();

  const Clock& clock_;
  RecordSink* alerts_;
  RecordSink* dlq_;
  std::string dlq_topic_;
  std::string alerts_topic_;
  RecordSink* care_alerts_ = nullptr;
  std::string care_alerts_topic_ = "mozaiek.alerts.care";
  IntakeStage intake_;
  ConvergenceStage convergence_;
  Status sink_status_ = Status::ok();
  DeadLetterSealer sealer_{std::nullopt, kDefaultDlqMaxSealedBytes};
  std::string dlq_json_;
  std::string dlq_key_;
  std::uint64_t alerts_raised_ = 0;
  std::uint64_t care_alerts_raised_ = 0;
  // Encoded internal records not yet delivered, in order: internal_[0,
  // internal_used_). The strings are reused, so queuing a notice allocates
  // only while the queue is longer than it has ever been.
  std::vector<std::string> internal_;
  std::size_t internal_used_ = 0;
  // Only this pipeline's own encodings are queued: an undecodable one is a bug.
  InternalDispatch dispatch_;
};

}  // namespace mozaiek
