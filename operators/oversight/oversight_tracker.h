// OversightTracker: the chain-oversight operator of the entity stage. It
// consumes routed chain events (record kind 2) per partition and keeps
//  - per melding: sent -> acknowledged -> feedback, matched by melding id in
//    any arrival order, de-duplicated by event id; feedback latencies; the
//    deadline (oversight.melding_deadline_days), judged against the
//    watermark, after which a melding without feedback is unanswered and
//    raises one sla_breach alert;
//  - per person: arrival, transfer, MOB departure, re-appearance,
//    registrations; a departure of a person with convergence contributions
//    in the window before it raises worrying_departure (the contributions
//    read from the same partition's ConvergenceScorer state);
//  - per location: its recent departures, tested by the spike rule
//    (spike_rule.h) against its own baseline; a spike raises mob_spike.
//
// The tracker is the immutable definition; a State per partition holds every
// entity of that partition in memory (chain events are orders of magnitude
// rarer than signals) over the partition's own "oversight-p<N>" StateStore,
// loaded by make_state() and written by flush(). A State is owned by one
// task thread. Lifecycle: make_state() on assign; process() per record;
// advance() with the watermark after each batch; flush() before commit.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "operators/convergence/convergence_scorer.h"
#include "operators/model/chain_event.h"
#include "operators/model/model.h"
#include "operators/oversight/oversight_metrics.h"
#include "operators/oversight/registration_count.h"
#include "stream/state_store.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

namespace oversight {
struct Melding;
struct Person;
struct LocationState;
}  // namespace oversight

inline constexpr std::string_view kSlaBreachRule = "sla_breach";
inline constexpr std::string_view kWorryingDepartureRule = "worrying_departure";
inline constexpr std::string_view kMobSpikeRule = "mob_spike";

class OversightTracker {
 public:
  // Borrows both; they must outlive the tracker.
  OversightTracker(const OperatorConfig& config, const ConvergenceScorer& scorer);

  class State;
  // Loads the partition's oversight entities from `store` (which must outlive the state).
  std::unique_ptr<State> make_state(StateStore& store) const;

  enum class Result { applied, duplicate };

  // Applies one routed chain event. `convergence` is the same partition's
  // convergence state (for worrying_departure), or null. Alerts are
  // appended; counters go to `metrics` when not null.
  Result process(State& state, const RoutedChainEvent& event, ConvergenceScorer::State* convergence,
                 ProcTime now, std::vector<Alert>& alerts, OversightMetrics* metrics) const;

  // A person convergence alert was raised for this pseudonym in this
  // partition, at event time `at` (its last_seen).
  void note_person_alert(State& state, std::string_view person_key, EventTime at) const;

  // Judges melding deadlines up to the watermark: each melding past its
  // deadline without feedback counts unanswered once and raises sla_breach.
  void advance(State& state, EventTime watermark, ProcTime now, std::vector<Alert>& alerts,
               OversightMetrics* metrics) const;

  [[nodiscard]] Status flush(State& state) const;

  // Retention (privacy.retention_days): drops meldingen that are settled
  // (answered or counted unanswered) and persons and locations with no chain
  // event since watermark - retention. Kept: meldingen still open, persons
  // still missing, and persons with registrations (counted per year).
  // Durable after flush(). Returns the entities removed.
  std::size_t expire(State& state, EventTime watermark) const;

  // The gauges' values over one partition, added to `out` (the stage sums
  // its partitions). Ages of open meldingen are measured at `watermark`.
  struct Gauges {
    std::vector<std::int64_t> open;     // OversightMetrics::set_meldingen_open layout
    std::vector<std::int64_t> missing;  // by age group index (+ other)
    std::int64_t converging = 0;
    std::int64_t converging_unregistered = 0;
  };
  void tally(const State& state, EventTime watermark, const OversightMetrics& metrics, Gauges& out,
             RegistrationTally& registrations) const;

  // Erasure of an entity of this partition (durable after flush()):
  //  - a person: their entry (status, arrivals, departures, registrations,
  //    seen event ids) is removed; their registrations' contribution to the
  //    yearly unique counts is first added to the partition's anonymous
  //    "a:erased" counts, so published counts stay. Appends the locations
  //    they left from (their departures name them) to `tell`.
  //  - a location: its departures and spike state are removed.
  //  - a vehicle: nothing (oversight keeps none).
  void erase(State& state, SubjectType type, std::string_view key,
             std::vector<std::string>& tell) const;
  // A person was erased: departures at this location no longer name them.
  void forget_person_at(State& state, std::string_view location_key,
                        std::string_view person_key) const;

  // For tests and tools.
  std::size_t meldingen(const State& state) const;
  std::size_t persons(const State& state) const;

 private:
  struct Data;
  void on_melding(Data& d, oversight::Melding& m, const RoutedChainEvent& r,
                  OversightMetrics* metrics) const;
  void on_person(oversight::Person& p, const RoutedChainEvent& r,
                 ConvergenceScorer::State* convergence, ProcTime now, std::vector<Alert>& alerts,
                 OversightMetrics* metrics) const;
  void on_location(oversight::LocationState& l, const RoutedChainEvent& r, ProcTime now,
                   std::vector<Alert>& alerts, OversightMetrics* metrics) const;
  void raise_worrying_departure(const RoutedChainEvent& r,
                                const ConvergenceScorer::SubjectView& view, ProcTime now,
                                std::vector<Alert>& alerts) const;

  const OperatorConfig& config_;
  const ConvergenceScorer& scorer_;
};

class OversightTracker::State {
 public:
  ~State();
  State(const State&) = delete;
  State& operator=(const State&) = delete;

 private:
  friend class OversightTracker;
  explicit State(std::unique_ptr<Data> data);
  std::unique_ptr<Data> data_;
};

}  // namespace mozaiek
