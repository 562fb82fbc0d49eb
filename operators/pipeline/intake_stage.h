// IntakeStage: the first stage of the pipeline. Turns raw partner records
// (signals.<source> topics or NDJSON lines) into routed per-subject signals,
// or into rejections with a reason. Owned by one task thread.
//
// Lifecycle: construct with the immutable operator config; process() each
// record of a batch; the owner flushes outputs and commits the source after
// the batch; counters() are drained into the metrics probe per batch.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "operators/dlq_reason.h"
#include "operators/model.h"
#include "operators/pipeline/stage_counters.h"
#include "operators/pseudonymiser.h"
#include "operators/signal_intake.h"
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
  virtual void on_rejected(const Rejection& rejection, const RecordView& record) = 0;
};

class IntakeStage {
 public:
  IntakeStage(const OperatorConfig& config, const Pseudonymiser& pseudonymiser,
              const Clock& clock, std::string_view signals_prefix, IntakeOutput& output);
  IntakeStage(const IntakeStage&) = delete;
  IntakeStage& operator=(const IntakeStage&) = delete;

  void process(const RecordView& record);

  StageCounters& counters() { return counters_; }
  const WatermarkTracker& watermarks() const { return watermarks_; }
  Watermark watermark() const { return watermarks_.current(clock_.now()); }
  // Signals newer than now + this are rejected as bad_timestamp.
  static constexpr Millis kMaxClockSkew = days(1);

 private:
  std::optional<SourceId> source_of_topic(std::string_view topic, bool& unknown_topic) const;
  void reject(const Rejection& r, std::size_t source_slot, const RecordView& record);

  const OperatorConfig& config_;
  const Clock& clock_;
  std::string signals_prefix_;
  IntakeOutput& output_;
  SignalIntake intake_;
  WatermarkTracker watermarks_;
  StageCounters counters_;
  Signal signal_;
  std::vector<RoutedSignal> routed_;
  Rejection scratch_rejection_;
};

}  // namespace mozaiek
