// IntakeStage: the first stage of the pipeline. Turns raw partner records
// (signals.<source> topics or NDJSON lines) into routed per-subject signals,
// or into rejections with a reason. Owned by one task thread.
//
// Chain events come on the shared chain topic or on per-partner topics
// <chain_prefix><org>; an event whose org is not the partner its topic
// belongs to is rejected (org_mismatch): partners write only as themselves.
//
// Lifecycle: construct with the immutable operator config; process() each
// record of a batch; the owner flushes outputs and commits the source after
// the batch; counters() are drained into the metrics probe per batch.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "operators/intake/chain_intake.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/intake/signal_intake.h"
#include "operators/model/chain_event.h"
#include "operators/model/model.h"
#include "operators/oversight/oversight_metrics.h"
#include "operators/pipeline/stage_counters.h"
#include "operators/records/dlq_reason.h"
#include "stream/record.h"
#include "stream/time.h"
#include "stream/watermark_tracker.h"

namespace mozaiek {

// Where the intake stage's results go: the internal topic (service) or the
// convergence stage directly (replay, bench).
class IntakeOutput {
 public:
  virtual ~IntakeOutput() = default;
  virtual void on_routed(const RoutedSignal& routed) = 0;
  // A chain event routed to one entity (record kind 2 on the internal topic).
  virtual void on_routed_chain(const RoutedChainEvent& routed) = 0;
  virtual void on_rejected(const Rejection& rejection, const RecordView& record) = 0;
};

class IntakeStage {
 public:
  IntakeStage(const OperatorConfig& config, const Pseudonymiser& pseudonymiser, const Clock& clock,
              std::string_view signals_prefix, IntakeOutput& output,
              std::string_view chain_topic = "chain.events", std::string_view chain_prefix = "",
              std::string_view chain_topic_org = "");
  IntakeStage(const IntakeStage&) = delete;
  IntakeStage& operator=(const IntakeStage&) = delete;

  void process(const RecordView& record);
  // A live reload between batches: parsing, validation and routing follow
  // `config` from the next record on; watermarks carry on. `config` must
  // keep the running one's sources and catalogue (operators/model/
  // rules_version.h) and outlive its use.
  void reconfigure(const OperatorConfig& config);
  const OperatorConfig& config() const { return *config_; }

  StageCounters& counters() { return counters_; }
  // observed -> reported of every valid signal in this batch, by SourceId
  // (mozaiek_reporting_delay_seconds); the task loop publishes and resets it.
  HistogramBatch& reporting_delay() { return reporting_delay_; }
  const WatermarkTracker& watermarks() const { return watermarks_; }
  // To restore the watermarks after a restart (before the first record).
  WatermarkTracker& watermarks() { return watermarks_; }
  Watermark watermark() const { return watermarks_.current(clock_.now()); }
  // Signals newer than now + this are rejected as bad_timestamp.
  static constexpr Millis kMaxClockSkew = days(1);

 private:
  std::optional<SourceId> source_of_topic(std::string_view topic, bool& unknown_topic);
  std::optional<SourceId> look_up_topic(std::string_view topic, bool& unknown_topic) const;
  void reject(const Rejection& r, std::size_t source_slot, const RecordView& record);
  // partner: the org the record's topic belongs to; empty: any.
  void process_chain(const RecordView& record, std::string_view partner);

  const OperatorConfig* config_;
  const Pseudonymiser& pseudonymiser_;
  const Clock& clock_;
  std::string signals_prefix_;
  // The answer for the last topic: a consumed batch mostly comes from one.
  std::string last_topic_;
  std::optional<SourceId> last_topic_source_;
  bool last_topic_unknown_ = false;
  IntakeOutput& output_;
  std::unique_ptr<SignalIntake> intake_;
  WatermarkTracker watermarks_;
  StageCounters counters_;
  Signal signal_;
  std::vector<RoutedSignal> routed_;
  std::string chain_topic_;
  // Per-partner chain topics are <chain_prefix_><org> (empty: none); the
  // shared chain_topic_ belongs to chain_topic_org_ (empty: anyone).
  std::string chain_prefix_;
  std::string chain_topic_org_;
  std::unique_ptr<ChainIntake> chain_intake_;
  ChainEvent chain_event_;
  std::vector<RoutedChainEvent> routed_chain_;
  EventTime chain_max_at_ = kMinEventTime;
  HistogramBatch reporting_delay_;
  Rejection scratch_rejection_;
};

}  // namespace mozaiek
