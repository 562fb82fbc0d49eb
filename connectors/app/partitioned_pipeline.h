// PartitionedPipeline: what LocalPipeline does, over P partitions of the
// internal topic on T threads, with the same output whatever T is.
//
// Intake runs on the calling thread in input order and routes each record
// to partition murmur2(routing key) % P, as the service's producer routes
// it on `mozaiek.internal.subjects`. Convergence runs in epochs of
// `epoch_records` input records. In epoch e each partition takes first the
// entity notices the other partitions sent it in epoch e-1 (in order of the
// sending partition, then as sent), then its own records of epoch e in
// input order; a notice to its own partition is delivered at once after the
// record that caused it (as LocalPipeline does). At the end of its epoch a
// partition runs its oversight maintenance. Alerts and withdrawals are
// written after the epoch, partition by partition, each in the order
// raised. Nothing depends on which thread ran a partition or when, so the
// alerts, their ids and their order are the same on 1 or N threads (for
// the same P and epoch size). With one partition nothing crosses partitions,
// but maintenance runs per epoch rather than per batch.
//
// Threads: with T >= 2 the workers run epoch e (worker w takes partitions
// w, w+T, ...) while the calling thread reads and routes epoch e+1; with
// T = 1 the calling thread runs each epoch itself. Every method is called
// from one thread (the caller's); the workers touch only their partitions'
// stages between the start of an epoch and its end.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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

struct PartitionedOptions {
  int partitions = 1;
  int threads = 1;
  // Input records per epoch: how long a notice to another partition waits
  // at most, in records. Part of what decides the output (unlike threads).
  std::size_t epoch_records = 16384;
};

class PartitionedPipeline final : public Task, private IntakeOutput {
 public:
  // alerts and dlq may be null (counted only). stores owns the state.
  PartitionedPipeline(const OperatorConfig& config, const Pseudonymiser& pseudonymiser,
                      const Clock& clock, StateStoreFactory& stores, RecordSink* alerts,
                      RecordSink* dlq, PartitionedOptions options,
                      std::string dlq_topic = "mozaiek.dlq",
                      std::string alerts_topic = "mozaiek.alerts");
  PartitionedPipeline(const PartitionedPipeline&) = delete;
  PartitionedPipeline& operator=(const PartitionedPipeline&) = delete;
  ~PartitionedPipeline() override;

  void process(const RecordView& record);
  // Task: every record of the batch; the first sink or worker error, if any.
  Status process(const RecordBatch& batch) override;
  // Task: what finish() does.
  Status flush() override { return finish(); }
  // Runs epochs until every record and every notice is processed, then
  // flushes operator state and the sinks.
  [[nodiscard]] Status finish();
  // Queues an erasure request to its entity's partition, behind the input
  // read so far; applied (with the notices it sends) by the next finish().
  void erase(const ErasureRecord& erasure);
  // See LocalPipeline.
  void seal_dead_letters(std::optional<DlqKey> key, std::size_t max_sealed_bytes) {
    sealer_ = DeadLetterSealer(std::move(key), max_sealed_bytes);
  }
  void set_care_alerts(RecordSink* care_alerts, std::string topic = "mozaiek.alerts.care");

  IntakeStage& intake() { return intake_; }
  int partitions() const { return static_cast<int>(parts_.size()); }
  // The partition of a subject (its routing key, as on the internal topic).
  int partition_of(SubjectType type, std::string_view key) const;
  // Only between finish() and the next record.
  ConvergenceStage& stage(int partition);
  // The largest watermark of any partition; counters summed over them.
  Watermark watermark() const;
  StageCounters convergence_counters() const;
  std::size_t state_entries();
  std::size_t link_state_entries();
  bool entity_view(SubjectType type, std::string_view key, std::string& json);
  std::uint64_t alerts_raised() const { return alerts_raised_; }
  std::uint64_t care_alerts_raised() const { return care_alerts_raised_; }
  std::uint64_t epochs() const { return epochs_; }

 private:
  struct Part;
  // Reused strings, in order: items[0, used); for inboxes also the input
  // record each came from (its routed records are processed together, own
  // notices delivered after the last of them, as LocalPipeline does).
  struct Buffer {
    std::vector<std::string> items;
    std::vector<std::uint64_t> inputs;
    std::size_t used = 0;
    std::string& next() {
      if (used == items.size()) items.emplace_back();
      return items[used++];
    }
    std::string& next(std::uint64_t input) {
      if (inputs.size() < used + 1) inputs.resize(used + 1);
      inputs[used] = input;
      return next();
    }
  };

  void on_routed(const RoutedSignal& routed) override;
  void on_routed_chain(const RoutedChainEvent& routed) override;
  void on_rejected(const Rejection& rejection, const RecordView& record) override;

  // Ends the epoch being filled: waits for the running one, writes its
  // output, starts this one.
  void close_epoch();
  // Waits for the running epoch (if any) and writes its output and notices.
  void wait_epoch();
  void run_part(Part& part, int buffer);
  void worker(int index);
  bool work_pending() const;
  void note(Status s) {
    if (!s && status_) status_ = std::move(s);
  }

  const OperatorConfig& config_;
  const Clock& clock_;
  RecordSink* alerts_;
  RecordSink* dlq_;
  std::string dlq_topic_;
  std::string alerts_topic_;
  RecordSink* care_alerts_ = nullptr;
  std::string care_alerts_topic_ = "mozaiek.alerts.care";
  PartitionedOptions options_;
  IntakeStage intake_;
  std::vector<std::unique_ptr<Part>> parts_;
  Status status_ = Status::ok();
  DeadLetterSealer sealer_{std::nullopt, kDefaultDlqMaxSealedBytes};
  std::string dlq_json_;
  std::string dlq_key_;
  std::string key_;
  std::uint64_t alerts_raised_ = 0;
  std::uint64_t care_alerts_raised_ = 0;
  std::uint64_t epochs_ = 0;

  // Epochs: intake fills each part's inbox[fill_]; the running epoch reads
  // inbox[fill_ ^ 1].
  int fill_ = 0;
  std::size_t filled_ = 0;   // input records in the epoch being filled
  std::uint64_t input_ = 0;  // input records read (and erasures queued)
  bool running_ = false;

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  std::uint64_t generation_ = 0;  // epochs started (under mu_)
  int busy_ = 0;                  // workers still in the running epoch (under mu_)
  bool stop_ = false;
  std::optional<Status> worker_error_;  // under mu_
};

}  // namespace mozaiek
