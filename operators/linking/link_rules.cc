#include "operators/linking/link_rules.h"

#include <algorithm>
#include <cmath>

namespace mozaiek::linking {

// w * 0.5^(age / half-life); no growth for a negative age (a notice from
// slightly later in event time than the evaluation).
double decay(double w, std::int64_t age_ms, Millis half_life) {
  if (age_ms <= 0) return w;
  return w * std::exp2(-static_cast<double>(age_ms) / static_cast<double>(half_life.count()));
}

bool in_window(std::int64_t t, std::int64_t at, Millis window) {
  return t <= at && t > at - window.count();
}

bool to_reception(const LinkingConfig& cfg, const Link& l) {
  return l.type == SubjectType::location && (l.reception || cfg.is_reception(l.key));
}

bool has_signal_in(const Link& l, std::int64_t at, Millis window) {
  for (const auto& s : l.signals) {
    if (in_window(s.observed_ms, at, window)) return true;
  }
  return false;
}

void remember(std::vector<std::string>& ids, std::string_view id, std::size_t max) {
  if (std::find(ids.begin(), ids.end(), id) != ids.end()) return;
  ids.emplace_back(id);
  if (ids.size() > max) ids.erase(ids.begin());
}

// Qualifying links (or organisations, for the hot-spot) of a network rule at `at`.
void qualifying(const EntityLinks& e, RuleSlot slot, const NetworkRule& rule,
                const LinkingConfig& cfg, std::int64_t at, std::vector<std::size_t>& out) {
  out.clear();
  const Millis window = std::min(rule.window, cfg.link_window);
  if (slot == linking::kHotspot) {
    for (std::size_t i = 0; i < e.sources_seen.size(); ++i) {
      if (in_window(e.sources_seen[i].observed_ms, at, rule.window)) out.push_back(i);
    }
    return;
  }
  for (std::size_t i = 0; i < e.links.size(); ++i) {
    const Link& l = e.links[i];
    const bool kind = slot == linking::kPickupVan ? to_reception(cfg, l)
                                                  : l.type == SubjectType::person && l.peer_has_own;
    if (kind && has_signal_in(l, at, window)) out.push_back(i);
  }
}

void add_contribution(const LinkSignal& s, std::int64_t at, Millis half_life,
                      const OperatorConfig& config, convergence::AlertBuilder& b) {
  if (b.has_contribution(s.source, s.signal_id)) return;
  Contribution& c = b.contribution();
  c.signal_id = s.signal_id;
  c.source = s.source;
  c.indicator = s.indicator;
  c.observed_at = event_time_from_ms(s.observed_ms);
  c.reported_at = event_time_from_ms(s.reported_ms);
  c.weight = config.catalogue.at(s.indicator).weight;
  c.decayed_weight = decay(c.weight, at - s.observed_ms, half_life);
}

// Each entity listed in a network alert learns that it took part.
void tell_participants(const Alert& a, std::vector<EntityNotice>& notices,
                       std::uint64_t& notices_sent) {
  for (const auto& l : a.linked) {
    EntityNotice& n = notices.emplace_back();
    n.from_type = a.subject_type;
    n.from_key = a.subject_key;
    n.to_type = l.type;
    n.to_key = l.key;
    n.at = a.last_seen;
    n.participation = true;
    n.alert_id = a.alert_id;
    ++notices_sent;
  }
}

double lift_at(const EntityLinks& e, std::int64_t at, const OperatorConfig& config,
               std::uint8_t mask, std::vector<std::size_t>* lifting) {
  const LinkingConfig& cfg = config.linking;
  double sum = 0;
  for (std::size_t i = 0; i < e.links.size(); ++i) {
    const Link& l = e.links[i];
    if ((mask & (1u << static_cast<unsigned>(l.type))) == 0) continue;
    // What the linked entity had told by `at`: a notice from later in event
    // time counts from its own time on, wherever it came in the input.
    const auto told = linking::peer_notice_at(l, at);
    if (!told) continue;
    // Live: a signal naming both within the link window before `at`.
    if (!has_signal_in(l, at, cfg.link_window)) continue;
    const double v = decay(told->score, at - told->at_ms, config.rule_for(l.type).half_life);
    if (v <= 0) continue;
    sum += v;
    if (lifting) lifting->push_back(i);
  }
  return cfg.person_lift.share * sum;
}

void fill_network_alert(const OperatorConfig& config, const EntityLinks& e, SubjectType type,
                        RuleSlot slot, const NetworkRule& rule, std::int64_t at,
                        const std::vector<std::size_t>& best, convergence::AlertBuilder& b) {
  const LinkingConfig& cfg = config.linking;
  Alert& a = b.alert();
  const Millis half_life = config.rule_for(type).half_life;
  const Millis window = std::min(rule.window, cfg.link_window);
  auto add_link = [&](const Link& l) {
    LinkedEntity& le = a.linked.emplace_back();
    le.type = l.type;
    le.key = l.key;
    le.rule = rule.name;
    for (const auto& s : l.signals) {
      if (!in_window(s.observed_ms, at, window)) continue;
      le.via.push_back(s.signal_id);
      add_contribution(s, at, half_life, config, b);
    }
  };
  if (slot == kHotspot) {
    for (std::size_t i : best) add_contribution(e.sources_seen[i], at, half_life, config, b);
    // The hot-spot explains itself by who else was seen there.
    for (const auto& l : e.links) {
      if (has_signal_in(l, at, window)) add_link(l);
    }
  } else {
    for (std::size_t i : best) add_link(e.links[i]);
  }
  b.sort_contributions().summarise_contributions().finish();
}

void fill_lift_alert(const OperatorConfig& config, const EntityLinks& e,
                     const std::string& rule_name, const std::vector<Contribution>& own,
                     const std::vector<std::size_t>& lifting, convergence::AlertBuilder& b) {
  Alert& a = b.alert();
  a.contributions = own;
  for (std::size_t i : lifting) {
    const Link& l = e.links[i];
    LinkedEntity& le = a.linked.emplace_back();
    le.type = l.type;
    le.key = l.key;
    le.rule = rule_name;
    for (const auto& s : l.signals) {
      le.via.push_back(s.signal_id);
      // The signals linking them explain the lift: shown, but they add no
      // weight of their own beyond what the person's score already holds.
      if (!b.has_contribution(s.source, s.signal_id)) {
        Contribution& contribution = b.contribution();
        contribution.signal_id = s.signal_id;
        contribution.source = s.source;
        contribution.indicator = s.indicator;
        contribution.observed_at = event_time_from_ms(s.observed_ms);
        contribution.reported_at = event_time_from_ms(s.reported_ms);
      }
    }
  }
  b.sort_contributions().summarise_contributions();
  // The organisations behind the lifting entities' scores count too.
  for (std::size_t i : lifting) {
    for (SourceId s : e.links[i].peer_sources) b.source(config.sources[s].name);
  }
  b.finish();
}

}  // namespace mozaiek::linking
