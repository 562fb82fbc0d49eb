// ConvergenceStage: the second stage. Owns one convergence state, one care
// convergence state and one link state per assigned partition of the
// internal subjects topic (stores "convergence-p<N>", "care-p<N>" and
// "links-p<N>"), feeds investigation signals to the scorer and then to the
// link tracker, care signals to the care scorer only (never linked, never
// in the entity view; their alerts carry purpose care), entity notices to the link tracker, and
// hands alerts and outgoing notices to its output. Owned by one task thread.
//
// Lifecycle: assign(p) when a partition arrives (opens its state store),
// process() per record, flush() before committing offsets, maintain() now
// and then (expiry, state gauges), revoke(p) when a partition leaves.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "operators/convergence/convergence_scorer.h"
#include "operators/linking/link_tracker.h"
#include "operators/model/chain_event.h"
#include "operators/model/model.h"
#include "operators/oversight/oversight_metrics.h"
#include "operators/oversight/oversight_tracker.h"
#include "operators/pipeline/stage_counters.h"
#include "operators/records/alert_withdrawal.h"
#include "operators/records/entity_notice.h"
#include "operators/records/erasure_record.h"
#include "stream/state_store.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

class AlertOutput {
 public:
  virtual ~AlertOutput() = default;
  // json is the alert v1 document; valid only during the call.
  virtual void on_alert(const Alert& alert, std::string_view json) = 0;
  // A notice for a linked entity, to be delivered on the internal topic
  // keyed by its receiver; valid only during the call.
  virtual void on_notice(const EntityNotice& notice) = 0;
  // An alert withdrawal (alert_withdrawal.h): a v2 record per withdrawn
  // alert id (keyed by that id; `reissued_as` when an alert replaces it)
  // or the v1 record of an erased entity (keyed by the entity); json is
  // its document, valid only during the call. Goes where the alerts go.
  // Outputs that serve no alerts may ignore it.
  virtual void on_withdrawal(const AlertWithdrawal& withdrawal, std::string_view json) {
    (void)withdrawal;
    (void)json;
  }
};

// Sees what the stage scores, for tools that measure the rules (`mozaiek
// backtest`): every investigation signal with its subject's eligible score
// (ConvergenceScorer::Result::eligible_score), every chain event and every
// alert. Called on the stage's thread during process(); may stay null (the
// service sets none), and then no eligible score is computed.
class ScoreObserver {
 public:
  virtual ~ScoreObserver() = default;
  virtual void on_scored(const RoutedSignal& signal, double eligible_score) = 0;
  virtual void on_chain(const RoutedChainEvent& event) = 0;
  virtual void on_alert(const Alert& alert) = 0;
};

// The oversight gauges of several stages that publish to one
// OversightMetrics (the service's convergence threads, each with some
// partitions): each stage hands in its own, the sum over the latest of
// every stage is published. Thread-safe.
class OversightGaugeTotals {
 public:
  explicit OversightGaugeTotals(std::size_t stages) : stages_(stages), registrations_(stages) {}
  void publish(std::size_t stage, const OversightTracker::Gauges& gauges,
               const std::map<RegistrationTally::Key, std::int64_t>& registrations,
               OversightMetrics& metrics);

 private:
  std::mutex mu_;
  std::vector<OversightTracker::Gauges> stages_;
  std::vector<std::map<RegistrationTally::Key, std::int64_t>> registrations_;
  std::map<RegistrationTally::Key, std::int64_t> published_;
};

class ConvergenceStage {
 public:
  // link_cache: linked entities kept decoded per partition (the least
  // recently used beyond it leave after a flush). `config` must outlive the
  // stage, or its use until the next reconfigure().
  ConvergenceStage(const OperatorConfig& config, StateStoreFactory& stores, const Clock& clock,
                   AlertOutput& output,
                   std::size_t link_cache = LinkTracker::kDefaultCachedEntities);
  ConvergenceStage(const ConvergenceStage&) = delete;
  ConvergenceStage& operator=(const ConvergenceStage&) = delete;
  ~ConvergenceStage();

  // A live reload, at a batch boundary (after a commit, so state is never
  // ahead of committed input): flushes every partition's state, makes the
  // operators anew from `config` and their partition states over the same
  // stores, so scores, links and cooldowns carry on. `config` must keep the
  // names of the running one (operators/model/rules_version.h) and outlive
  // its use. An error (the flush) leaves the old operators running.
  [[nodiscard]] Status reconfigure(const OperatorConfig& config);
  const OperatorConfig& config() const { return *config_; }

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
  // Who sees scores, chain events and alerts; may stay null.
  void set_score_observer(ScoreObserver* observer) { observer_ = observer; }
  // With several stages on one OversightMetrics: the gauges go through
  // `totals` as stage `index` of them (set before the first maintenance).
  void share_oversight_gauges(OversightGaugeTotals* totals, std::size_t index) {
    gauge_totals_ = totals;
    gauge_index_ = index;
  }
  const OversightTracker& oversight() const { return *oversight_; }
  OversightTracker::State* oversight_state(Partition p);
  void process_notice(Partition p, const EntityNotice& notice);
  // An erasure record (kind 4) for an entity of partition p: its
  // convergence, link and oversight state go (tombstones on the next
  // flush), and erasure notices go to the other ends of its links and to
  // every location a person left from (the last 16). Then one withdrawal
  // record (alert_withdrawal.h, time = the request's) goes to the output:
  // every alert naming the entity is withdrawn, the same on a replay.
  // Counted in counters().erasures.
  struct ErasureOutcome {
    std::size_t links = 0;      // links the entity held
    std::size_t notices = 0;    // erasure notices sent
    std::size_t withdrawn = 0;  // v2 withdrawals written (alert ids the entity's state knew)
  };
  ErasureOutcome process_erasure(Partition p, const ErasureRecord& erasure);
  [[nodiscard]] Status flush();
  // Expires state behind the watermark; call every few seconds at most.
  // at_least: expire up to this time even when the watermark is behind it
  // (wall clock minus a grace, so a quiet feed does not keep state forever).
  std::size_t expire(std::optional<EventTime> at_least = std::nullopt);
  // The event time a quiet feed has reached on the wall clock: the
  // watermark moved on by the time since it last moved, less `grace`;
  // nullopt while the watermark moved within `grace` (or is unknown). A
  // backfill of old records keeps its event time; a feed that stops no
  // longer keeps its state forever.
  std::optional<EventTime> wall_clock_floor(Millis grace) const;
  std::size_t state_entries();
  std::size_t link_state_entries();
  // Linked entities held decoded in memory, over all partitions.
  std::size_t cached_link_entities() const;
  LinkCounters& link_counters() { return link_counters_; }

  // The entity view JSON (operators/linking/entity_view.h) of one subject at
  // the stage's watermark, searching the assigned partitions; false when no
  // partition holds it.
  bool entity_view(SubjectType type, std::string_view key, std::string& json);

  Watermark watermark() const { return watermark_; }
  StageCounters& counters() { return counters_; }
  const ConvergenceScorer& scorer() const { return *scorer_; }
  // The partition state for the entity view; nullptr when not assigned.
  ConvergenceScorer::State* state(Partition p);
  std::vector<Partition> partitions() const;

 private:
  struct PartitionState {
    std::unique_ptr<StateStore> store;
    std::unique_ptr<ConvergenceScorer::State> state;
    std::unique_ptr<StateStore> care_store;
    std::unique_ptr<ConvergenceScorer::State> care;
    std::unique_ptr<StateStore> oversight_store;
    std::unique_ptr<OversightTracker::State> oversight;
    std::unique_ptr<StateStore> links_store;
    std::unique_ptr<LinkTracker::State> links;
  };
  // The alerts and notices of one record; person alerts are noted for oversight.
  void emit(PartitionState& ps);
  void emit_alerts(const std::vector<Alert>& alerts);
  void emit_withdrawals();  // withdrawals_ to the output
  PartitionState& ensure(Partition p);
  void make_operators();
  void make_states(PartitionState& ps);

  const OperatorConfig* config_;
  StateStoreFactory& stores_;
  const Clock& clock_;
  AlertOutput& output_;
  // Made anew by reconfigure(); linker_ and oversight_ borrow scorer_.
  std::unique_ptr<ConvergenceScorer> scorer_;
  std::unique_ptr<ConvergenceScorer> care_scorer_;  // care-purpose signals, scored apart
  std::unique_ptr<OversightTracker> oversight_;
  OversightMetrics* oversight_metrics_ = nullptr;
  ScoreObserver* observer_ = nullptr;
  OversightGaugeTotals* gauge_totals_ = nullptr;
  std::size_t gauge_index_ = 0;
  // Registration series published last time, so vanished ones are set to 0.
  std::map<RegistrationTally::Key, std::int64_t> published_registrations_;
  std::unique_ptr<LinkTracker> linker_;
  std::map<std::int32_t, PartitionState> partitions_;
  Watermark watermark_;
  ProcTime watermark_moved_at_{};  // processing time of the watermark's last move
  StageCounters counters_;
  std::vector<Alert> alerts_;
  std::vector<EntityNotice> notices_;
  std::vector<AlertWithdrawal> withdrawals_;
  std::vector<std::string> erasure_locations_;  // scratch
  std::size_t link_cache_;
  LinkCounters link_counters_;
  std::string json_;
};

}  // namespace mozaiek
