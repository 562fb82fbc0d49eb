// Helpers of the network rules shared by LinkTracker's evaluation
// (link_tracker.cc) and its re-issue after an erasure (link_reissue.cc):
// windows, decay, qualifying links, the lift, and the content of a network
// or lifted alert. Internal to operators/linking/; stateless.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "operators/convergence/alert_builder.h"
#include "operators/linking/link_state.h"
#include "operators/model/model.h"
#include "operators/records/entity_notice.h"

namespace mozaiek::linking {

// w * 0.5^(age / half-life); no growth for a negative age.
double decay(double w, std::int64_t age_ms, Millis half_life);
bool in_window(std::int64_t t, std::int64_t at, Millis window);
// Whether the link has a signal within `window` before `at`.
bool has_signal_in(const Link& l, std::int64_t at, Millis window);
// A link to a reception location: by its id (linking.reception_locations)
// or because a signal marked it as one.
bool to_reception(const LinkingConfig& cfg, const Link& l);
// Appends the id once, keeping the newest `max`.
void remember(std::vector<std::string>& ids, std::string_view id, std::size_t max);

// Qualifying links (or organisations, for the hot-spot) of a network rule at `at`.
void qualifying(const EntityLinks& e, RuleSlot slot, const NetworkRule& rule,
                const LinkingConfig& cfg, std::int64_t at, std::vector<std::size_t>& out);
// The signal as a contribution of the alert being built (once), decayed to `at`.
void add_contribution(const LinkSignal& s, std::int64_t at, Millis half_life,
                      const OperatorConfig& config, convergence::AlertBuilder& b);
// Each entity listed in a network alert learns that it took part.
void tell_participants(const Alert& a, std::vector<EntityNotice>& notices,
                       std::uint64_t& notices_sent);
// What the live links of the types in `mask` (bit 1 << SubjectType) lift a
// person by at `at`; `lifting`, when given, gets the links that lift.
double lift_at(const EntityLinks& e, std::int64_t at, const OperatorConfig& config,
               std::uint8_t mask, std::vector<std::size_t>* lifting);

// The content of a network alert opened on `b` for entity `e` of `type`
// at `at`: linked entities with their signals in the window and the
// contributions, for the qualifying entries `best`; finishes the alert.
void fill_network_alert(const OperatorConfig& config, const EntityLinks& e, SubjectType type,
                        RuleSlot slot, const NetworkRule& rule, std::int64_t at,
                        const std::vector<std::size_t>& best, convergence::AlertBuilder& b);
// The content of a lifted person alert: the person's own contributions, the
// lifting links with their signals and the organisations behind their
// scores; finishes the alert.
void fill_lift_alert(const OperatorConfig& config, const EntityLinks& e,
                     const std::string& rule_name, const std::vector<Contribution>& own,
                     const std::vector<std::size_t>& lifting, convergence::AlertBuilder& b);

}  // namespace mozaiek::linking
