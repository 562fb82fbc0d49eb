// ConvergenceStage: the second stage. Owns one convergence state per assigned
// partition of the internal subjects topic, feeds routed signals to the
// scorer, and hands alerts to its output. Owned by one task thread.
//
// Lifecycle: assign(p) when a partition arrives (opens its state store),
// process() per record, flush() before committing offsets, maintain() now
// and then (expiry, state gauges), revoke(p) when a partition leaves.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "operators/convergence_scorer.h"
#include "operators/model.h"
#include "operators/oversight/chain_event.h"
#include "operators/oversight/oversight_tracker.h"
#include "operators/pipeline/stage_counters.h"
#include "stream/oversight_metrics.h"
#include "stream/state_store.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

class AlertOutput {
 public:
  virtual ~AlertOutput() = default;
  // json is the alert v1 document; valid only during the call.
  virtual void on_alert(const Alert& alert, std::string_view json) = 0;
};

class ConvergenceStage {
 public:
  ConvergenceStage(const OperatorConfig& config, StateStoreFactory& stores, const Clock& clock,
                   AlertOutput& output);
  ConvergenceStage(const ConvergenceStage&) = delete;
  ConvergenceStage& operator=(const ConvergenceStage&) = delete;
  ~ConvergenceStage();

  void assign(Partition p);
  // Flushes the partition's state and forgets it.
  [[nodiscard]] Status revoke(Partition p);
  void process(Partition p, const RoutedSignal& signal);
  // A routed chain event (record kind 2): the oversight tracker of the same
  // partition, which reads the partition's convergence state.
  void process_chain(Partition p, const RoutedChainEvent& event);
  // Melding deadlines up to the watermark (sla_breach alerts) and the
  // oversight gauges. Call after each batch or every second or so.
  void maintain_oversight();
  // Where oversight counters and gauges go; may stay null (counted nowhere).
  void set_oversight_metrics(OversightMetrics* metrics) { oversight_metrics_ = metrics; }
  const OversightTracker& oversight() const { return oversight_; }
  OversightTracker::State* oversight_state(Partition p);
  [[nodiscard]] Status flush();
  // Expires state behind the watermark; call every few seconds at most.
  std::size_t expire();
  std::size_t state_entries();

  Watermark watermark() const { return watermark_; }
  StageCounters& counters() { return counters_; }
  const ConvergenceScorer& scorer() const { return scorer_; }
  // The partition state for the entity view; nullptr when not assigned.
  ConvergenceScorer::State* state(Partition p);
  std::vector<Partition> partitions() const;

 private:
  struct PartitionState {
    std::unique_ptr<StateStore> store;
    std::unique_ptr<ConvergenceScorer::State> state;
    std::unique_ptr<StateStore> oversight_store;
    std::unique_ptr<OversightTracker::State> oversight;
  };
  void emit(const std::vector<Alert>& alerts);
  PartitionState& ensure(Partition p);

  const OperatorConfig& config_;
  StateStoreFactory& stores_;
  const Clock& clock_;
  AlertOutput& output_;
  ConvergenceScorer scorer_;
  OversightTracker oversight_;
  OversightMetrics* oversight_metrics_ = nullptr;
  // Registration series published last time, so vanished ones are set to 0.
  std::map<RegistrationTally::Key, std::int64_t> published_registrations_;
  std::map<std::int32_t, PartitionState> partitions_;
  Watermark watermark_;
  StageCounters counters_;
  std::vector<Alert> alerts_;
  std::string json_;
};

}  // namespace mozaiek
