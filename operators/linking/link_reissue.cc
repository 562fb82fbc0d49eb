#include "operators/linking/link_reissue.h"

#include <algorithm>
#include <array>
#include <utility>

#include "operators/convergence/alert_builder.h"
#include "operators/convergence/alert_id.h"
#include "operators/convergence/episode.h"
#include "operators/linking/link_rules.h"

namespace mozaiek::linking {
namespace {

constexpr std::array<RuleSlot, kRuleSlots> kSlots{kPickupVan, kLinkedPersons, kHotspot, kLift};

const NetworkRule& network_rule(const LinkingConfig& cfg, RuleSlot slot) {
  switch (slot) {
    case kPickupVan: return cfg.pickup_van;
    case kLinkedPersons: return cfg.linked_persons;
    default: return cfg.address_hotspot;
  }
}

const std::string& rule_name(const LinkingConfig& cfg, RuleSlot slot) {
  return slot == kLift ? cfg.person_lift.name : network_rule(cfg, slot).name;
}

// The id the slot's latest alert goes by: the episode's, or what replaced
// it when it was re-issued before (each re-issue is remembered).
std::string latest_alert_id(const EntityLinks& e, const std::string& rule, SubjectType type,
                            const std::string& key, const RuleAlertState& r) {
  const auto first = convergence::make_alert_id(rule, type, key, r.episode_start_ms, r.level);
  std::string id(first.data(), first.size());
  for (std::size_t i = 0; i < e.alert_ids.size(); ++i) {
    const auto next = convergence::reissued_alert_id(id);
    const std::string_view next_id(next.data(), next.size());
    if (std::find(e.alert_ids.begin(), e.alert_ids.end(), next_id) == e.alert_ids.end()) break;
    id.assign(next_id);
  }
  return id;
}

// The slot's rule evaluated on `e` at `at` into the alert opened on `b`
// (content as when it was raised; own: the person's contributions and
// score for the lift). Returns whether the rule holds, and its score.
std::pair<bool, double> evaluate(const OperatorConfig& config, std::uint8_t lift_mask,
                                 const EntityLinks& e, SubjectType type, RuleSlot slot,
                                 std::int64_t at, const std::vector<Contribution>& own,
                                 double own_score, convergence::AlertBuilder& b) {
  const LinkingConfig& cfg = config.linking;
  std::vector<std::size_t> best;
  if (slot == kLift) {
    const double lift = lift_at(e, at, config, lift_mask, &best);
    const double threshold = cfg.person_lift.threshold;
    fill_lift_alert(config, e, cfg.person_lift.name, own, best, b);
    const bool holds = lift > 0 && !convergence::reaches(own_score, threshold) &&
                       convergence::reaches(own_score + lift, threshold);
    return {holds, own_score + lift};
  }
  const NetworkRule& rule = network_rule(cfg, slot);
  qualifying(e, slot, rule, cfg, at, best);
  fill_network_alert(config, e, type, slot, rule, at, best, b);
  return {best.size() >= static_cast<std::size_t>(rule.min_count),
          rule.weight * static_cast<double>(best.size())};
}

}  // namespace

void drop_erased_link(const OperatorConfig& config, std::uint8_t lift_mask,
                      std::size_t max_alert_ids, EntityLinks& e, SubjectType type,
                      const std::string& key, std::size_t erased, const OwnScoreAt& own_at,
                      ProcTime now, ProcTime requested_at, ErasureOutputs& out) {
  const LinkingConfig& cfg = config.linking;
  const SubjectType erased_type = e.links[erased].type;
  const std::string erased_key = e.links[erased].key;
  const std::vector<LinkSignal> gone = e.links[erased].signals;
  // The signals that named the erased entity (those of the link).
  auto naming = [&](SourceId source, std::string_view signal_id) {
    return std::any_of(gone.begin(), gone.end(), [&](const LinkSignal& s) {
      return s.source == source && s.signal_id == signal_id;
    });
  };
  auto own_of = [&](std::int64_t at, bool without_erased, std::vector<Contribution>& own) {
    own.clear();
    double score = 0;
    if (auto view = own_at(at)) {
      score = view->score;
      for (auto& c : view->contributions) {
        if (without_erased && naming(c.source, c.signal_id)) {
          score -= c.decayed_weight;
        } else {
          own.push_back(std::move(c));
        }
      }
    }
    return score;
  };

  // Which latest alerts named it (linked, or a contribution naming it), judged
  // with the link still there.
  std::array<bool, kRuleSlots> named{};
  bool any = false;
  std::vector<Contribution> own;
  for (RuleSlot slot : kSlots) {
    const RuleAlertState& r = e.rules[slot];
    if (!r.alerted) continue;
    const double own_score = slot == kLift ? own_of(r.last_alert_ms, false, own) : 0.0;
    Alert before;
    convergence::AlertBuilder b(config, before);
    b.open(rule_name(cfg, slot), type, key, r.episode_start_ms, r.level, now);
    (void)evaluate(config, lift_mask, e, type, slot, r.last_alert_ms, own, own_score, b);
    named[slot] = std::any_of(before.linked.begin(), before.linked.end(),
                              [&](const LinkedEntity& l) {
                                return l.type == erased_type && l.key == erased_key;
                              }) ||
                  std::any_of(before.contributions.begin(), before.contributions.end(),
                              [&](const Contribution& c) { return naming(c.source, c.signal_id); });
    any = any || named[slot];
  }
  // The link goes, and so do the signals that named the erased entity
  // from the other links and the organisations seen: nothing evaluated
  // here later (a second erasure's re-issue included) brings them back.
  e.links.erase(e.links.begin() + static_cast<std::ptrdiff_t>(erased));
  for (Link& l : e.links) {
    l.signals.erase(std::remove_if(l.signals.begin(), l.signals.end(),
                                   [&](const LinkSignal& s) {
                                     return naming(s.source, s.signal_id);
                                   }),
                    l.signals.end());
  }
  e.sources_seen.erase(std::remove_if(e.sources_seen.begin(), e.sources_seen.end(),
                                      [&](const LinkSignal& s) {
                                        return naming(s.source, s.signal_id);
                                      }),
                       e.sources_seen.end());
  if (!any) return;

  for (RuleSlot slot : kSlots) {
    if (!named[slot]) continue;
    const RuleAlertState& r = e.rules[slot];
    const std::string& name = rule_name(cfg, slot);
    AlertWithdrawal& w = out.withdrawals.emplace_back();
    w.alert_id = latest_alert_id(e, name, type, key, r);
    w.rule = name;
    w.at = requested_at;

    const double own_score = slot == kLift ? own_of(r.last_alert_ms, true, own) : 0.0;
    Alert after;
    convergence::AlertBuilder b(config, after);
    b.open(name, type, key, r.episode_start_ms, r.level, now);
    const auto [holds, score] = evaluate(config, lift_mask, e, type, slot, r.last_alert_ms, own,
                                         own_score, b);
    if (!holds) continue;
    b.score(convergence::round_score(score));
    const auto id = convergence::reissued_alert_id(w.alert_id);
    after.alert_id.assign(id.data(), id.size());
    w.reissued_as = after.alert_id;
    remember(e.alert_ids, w.reissued_as, max_alert_ids);
    tell_participants(after, out.notices, out.notices_sent);
    out.alerts.push_back(std::move(after));
  }
}

}  // namespace mozaiek::linking
