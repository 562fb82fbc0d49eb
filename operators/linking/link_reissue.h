// What an entity does when a linked entity is erased (an erasure notice,
// operators/erasure/README.md): it drops its link to the erased one and
// re-issues, without it, the latest alert of each of its network rules that
// named the erased entity as a link.
//
// For every rule slot that has alerted, the latest alert (rule, subject,
// episode, level: the id the episode state gives, followed through earlier
// re-issues) is evaluated again at its own event time with the link still
// there: did it name the erased entity, in `linked` or by a contribution
// that is a signal naming it (one of the link's signals)? If so, it is
// evaluated at that time without the link and without the signals that
// named the erased entity. Those signals leave this entity's link state for
// good (every other link, the organisations seen), whatever was named; a
// person's own convergence score keeps them (they were signals about the
// person too), only the re-issued alert leaves them out of its
// contributions and score:
// - the rule still holds (at least min_count qualifying entries; for the
//   lift, own below and own + lift at or over the threshold): an alert of
//   the same rule, subject, episode and level is raised with the recomputed
//   score and content under reissued_alert_id(old id), and the old id is
//   withdrawn naming it (reissued_as);
// - otherwise the old id is withdrawn without re-issue.
// The episode state is left as it was (cooldown and escalation go on).
// Deterministic: the same state and notice give the same alerts, ids and
// withdrawals, in replay and after a crash.
//
// Called by LinkTracker::on_notice on the task thread owning the entity's
// partition; stateless.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "operators/convergence/convergence_scorer.h"
#include "operators/linking/link_state.h"
#include "operators/model/model.h"
#include "operators/records/alert_withdrawal.h"
#include "operators/records/entity_notice.h"

namespace mozaiek::linking {

struct ErasureOutputs {
  std::vector<Alert>& alerts;                 // re-issued alerts
  std::vector<EntityNotice>& notices;         // participation notices of re-issued alerts
  std::vector<AlertWithdrawal>& withdrawals;  // one per withdrawn alert id
  std::uint64_t& notices_sent;
};

// The person's own score view at an event time (nullopt: no own signals).
using OwnScoreAt = std::function<std::optional<ConvergenceScorer::SubjectView>(std::int64_t at_ms)>;

// Removes e.links[erased] from `e` (entity `type`/`key`) and re-issues or
// withdraws what named it, as above. `lift_mask`: bit (1 << SubjectType)
// per type whose scores lift persons; `max_alert_ids`: the ids an entity
// remembers; `requested_at`: the erasure request's time, the withdrawals'
// `at`.
void drop_erased_link(const OperatorConfig& config, std::uint8_t lift_mask,
                      std::size_t max_alert_ids, EntityLinks& e, SubjectType type,
                      const std::string& key, std::size_t erased, const OwnScoreAt& own_at,
                      ProcTime now, ProcTime requested_at, ErasureOutputs& out);

}  // namespace mozaiek::linking
