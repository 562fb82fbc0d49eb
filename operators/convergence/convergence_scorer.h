// ConvergenceScorer: the convergence operator. Per subject (person, vehicle,
// location) it keeps a bounded list of contributions, scores them as a sum
// of indicator weights decayed by age over a sliding event-time window, and
// raises an alert when the score crosses the rule's threshold with enough
// distinct sources (or one concrete signal where the rule allows), with a
// cooldown and escalations. See operators/convergence/README.md.
//
// The scorer is the immutable definition: it borrows the config, which must
// outlive it, and is safe to share between threads. All mutable data lives
// in a State per partition, made by make_state() over that partition's
// StateStore; a State is owned by one task thread.
//
// Lifecycle of a State: make_state() when the partition is assigned;
// process() per routed signal; flush() before committing source offsets;
// expire() now and then; destroy after a final flush() on revoke.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/model/model.h"
#include "stream/state_store.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

namespace convergence {
struct RuleParams;
}

class ConvergenceScorer {
 public:
  // Subjects kept decoded in memory per partition unless told otherwise.
  static constexpr std::size_t kDefaultCachedSubjects = 1 << 18;

  // purpose: the signals it scores (investigation or care); care alerts
  // carry it and a rule name prefixed "care_" ("care_person_convergence"),
  // so their ids never equal an investigation alert's.
  explicit ConvergenceScorer(const OperatorConfig& config,
                             Purpose purpose = Purpose::investigation);
  Purpose purpose() const { return purpose_; }
  ~ConvergenceScorer();

  // Per-partition state: a cache of decoded subjects over a StateStore.
  class State;
  // store must outlive the state. At most max_cached_subjects are kept
  // decoded; clean least-recently used ones are dropped beyond that. Scans
  // the store's keys once, so subjects never written skip the store lookup:
  // open (and restore) the store first; nothing else may write to it.
  std::unique_ptr<State> make_state(StateStore& store,
                                    std::size_t max_cached_subjects = kDefaultCachedSubjects) const;

  struct Result {
    enum class Kind {
      scored,     // added to the subject (an alert may have been appended)
      duplicate,  // same source and signal_id already counted: redelivery
      alerted,    // added and raised an alert (first of an episode or escalation)
      ignored,    // not scoreable: unknown source/indicator, empty key, a
                  // reception site the rule skips, or older than anything
                  // that can still matter
    } kind;
    double score;  // the highest score evaluated for this signal
    // With track_eligible: the highest score evaluated at a time the rule's
    // source condition held (min_sources, or concrete_alone), whatever the
    // threshold, so a tool can tell at which thresholds the subject alerts
    // from one run; 0 otherwise.
    double eligible_score = 0;
  };

  // Adds one routed signal to its subject and appends any alert. A late
  // signal is scored as if it had arrived on time: the score is evaluated at
  // each contribution time at or after its observed_at.
  Result process(State& state, const RoutedSignal& signal, ProcTime now, std::vector<Alert>& alerts,
                 bool track_eligible = false) const;

  // Drops contributions that can no longer fall in any window (watermark -
  // window - largest allowed lateness, at most the retention) and subjects
  // with nothing left once their cooldown is over. Scans the whole store:
  // call every few minutes, not per record. Returns the subjects removed.
  std::size_t expire(State& state, EventTime watermark) const;

  // Writes changed subjects to the store and flushes it. Call before
  // committing offsets.
  [[nodiscard]] Status flush(State& state) const;

  // Removes a subject entirely (erasure request). Durable after flush().
  void erase(State& state, SubjectType type, std::string_view key) const;

  // A snapshot for the entity view, at event time `at`.
  struct SubjectView {
    SubjectType type = SubjectType::person;
    std::string key;
    double score = 0;
    std::vector<Contribution> contributions;  // in the window at `at`, decayed to `at`
    EventTime newest = kMinEventTime;         // the newest contribution held (may be after `at`)
    std::vector<std::string> alert_ids;       // oldest first, the most recent few
    int level = 0;                            // level of the last alert
    EventTime last_alert_at = kMinEventTime;  // kMinEventTime if never alerted
  };
  std::optional<SubjectView> inspect(State& state, SubjectType type, std::string_view key,
                                     EventTime at) const;

  std::size_t cached_subjects(const State& state) const;

 private:
  struct SubjectCache;
  const OperatorConfig& config_;
  Purpose purpose_;
  std::array<std::unique_ptr<convergence::RuleParams>, kSubjectTypeCount> params_;
  std::array<std::string, kSubjectTypeCount> rule_names_;
};

// Opaque to callers; only the scorer reads or changes it.
class ConvergenceScorer::State {
 public:
  ~State();
  State(const State&) = delete;
  State& operator=(const State&) = delete;

 private:
  friend class ConvergenceScorer;
  explicit State(std::unique_ptr<SubjectCache> cache);
  std::unique_ptr<SubjectCache> cache_;
};

}  // namespace mozaiek
