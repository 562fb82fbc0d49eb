// LinkTracker: the linking operator. On the partition of subject X it keeps
// X's links to the other subjects named by X's signals (both ends of a link
// receive the signal through the internal topic, so both partitions hold
// it), evaluates the network rules on X, and tells linked entities what
// matters to them through EntityNotices keyed by the receiver.
//
// Rules (config `linking:`; see operators/linking/README.md):
//   pickup_van      vehicle linked to N+ distinct reception locations in the window
//   linked_persons  vehicle or location linked to M+ distinct persons who have
//                   signals of their own (learned from the persons' notices)
//   address_hotspot location with signals from K+ distinct organisations
//   person_lift     person's own score + share * own scores of linked entities
//                   (as noticed, decayed), while the link lives
// Lifts use own scores only (a notice carries the sender's convergence score
// without the signals it shares with the receiver), and a notice is never
// answered by a score notice: no feedback loops, no double counting.
//
// The tracker is the immutable definition, shared like the scorer; a State
// per partition (over its "links-p<N>" store) belongs to one task thread.
// Lifecycle: make_state() on assign; on_signal() after the scorer processed
// each routed signal; on_notice() per notice; flush() before commit;
// expire() now and then; destroy after a final flush() on revoke.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/convergence/convergence_scorer.h"
#include "operators/linking/link_state.h"
#include "operators/model/model.h"
#include "operators/records/alert_withdrawal.h"
#include "operators/records/entity_notice.h"
#include "stream/state_store.h"
#include "stream/status.h"

namespace mozaiek {

// Per-batch counts, published and reset by the task loop.
struct LinkCounters {
  std::array<std::uint64_t, linking::kLinkTypeCount> created{};
  std::array<std::uint64_t, linking::kLinkTypeCount> expired{};
  std::uint64_t notices_sent = 0;
  std::uint64_t notices_received = 0;
  std::uint64_t notices_unmatched = 0;  // for a link this end no longer holds
  void reset() { *this = LinkCounters{}; }
};

class LinkTracker {
 public:
  static constexpr std::size_t kDefaultCachedEntities = 1 << 17;
  static constexpr std::size_t kMaxAlertIds = 16;

  // Borrows both; they must outlive the tracker.
  LinkTracker(const OperatorConfig& config, const ConvergenceScorer& scorer);

  class State;
  std::unique_ptr<State> make_state(StateStore& store,
                                    std::size_t max_cached = kDefaultCachedEntities) const;

  // After the scorer processed `signal` for its subject (own_score: the
  // scorer's result score; duplicates must not be passed). Appends network
  // alerts and the notices to send.
  void on_signal(State& state, ConvergenceScorer::State& scores, const RoutedSignal& signal,
                 double own_score, ProcTime now, std::vector<Alert>& alerts,
                 std::vector<EntityNotice>& notices) const;

  // A notice for an entity of this partition. May append alerts and
  // participation notices (never score notices). An erasure notice drops
  // the receiver's link to the erased sender and re-issues without it (or
  // withdraws) the latest alert of each network rule that named it
  // (link_reissue.h): withdrawals appended, one per alert id.
  void on_notice(State& state, ConvergenceScorer::State& scores, const EntityNotice& notice,
                 ProcTime now, std::vector<Alert>& alerts, std::vector<EntityNotice>& notices,
                 std::vector<AlertWithdrawal>& withdrawals) const;

  // Drops links and organisations last seen link_window (or retention)
  // before the watermark; scans the store. Returns links dropped.
  std::size_t expire(State& state, EventTime watermark) const;
  [[nodiscard]] Status flush(State& state) const;
  // Erasure: removes the entity's links, organisations seen and rule
  // state (a tombstone on flush) and appends an erasure notice for each
  // other end that holds the link (every linked entity but reception
  // locations, which hold none), carrying the request's time as its `at`.
  // The links count as expired. Returns the links removed.
  std::size_t erase(State& state, SubjectType type, std::string_view key, ProcTime requested_at,
                    std::vector<EntityNotice>& notices) const;

  struct LinkView {
    SubjectType type = SubjectType::person;
    std::string key;
    EventTime first_seen{};
    EventTime last_seen{};
    std::vector<std::string> via;       // signal ids, oldest first
    std::vector<std::string> sources;   // organisations behind the link
    bool live = false;                  // within the link window at `at`
    std::optional<double> their_score;  // their own score as last noticed, decayed to `at`
    bool they_have_own_signals = false;
  };
  struct EntityView {
    std::vector<LinkView> links;
    double lift = 0;                         // persons: what live links add at `at`
    std::vector<std::string> organisations;  // locations: organisations seen in the hot-spot window
    std::vector<std::string> alert_ids;      // network alerts on or listing this entity
  };
  std::optional<EntityView> inspect(State& state, SubjectType type, std::string_view key,
                                    EventTime at) const;

  LinkCounters& counters(State& state) const;
  std::size_t cached_entities(const State& state) const;

 private:
  struct Cache;
  struct Visit;  // one entity's turn: cache, entity, alerts and notices out
  // The steps of on_signal(), in order.
  bool link_co_subjects(Visit& v, const RoutedSignal& sig) const;
  static bool note_organisation(linking::EntityLinks& e, const RoutedSignal& sig);
  bool tell_linked(Visit& v, const RoutedSignal& sig, double own_score) const;
  bool choose_receivers(Visit& v, const RoutedSignal& sig, bool moved, bool others) const;
  void send_score_notices(Visit& v, const RoutedSignal& sig) const;
  bool send_score_notice(Visit& v, linking::Link& l, const ConvergenceScorer::SubjectView& view,
                         EventTime at) const;
  void evaluate_rules(Visit& v, const RoutedSignal& sig) const;
  void bound_links(Visit& v) const;
  void evaluate_network_rule(Visit& v, linking::RuleSlot slot, const NetworkRule& rule,
                             std::int64_t t) const;
  void evaluate_lift(Visit& v, std::int64_t t) const;
  const OperatorConfig& config_;
  const ConvergenceScorer& scorer_;
  std::uint8_t lift_from_mask_ = 0;  // bit (1 << SubjectType)
};

class LinkTracker::State {
 public:
  ~State();
  State(const State&) = delete;
  State& operator=(const State&) = delete;

 private:
  friend class LinkTracker;
  explicit State(std::unique_ptr<Cache> cache);
  std::unique_ptr<Cache> cache_;
};

}  // namespace mozaiek
