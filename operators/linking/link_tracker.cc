#include "operators/linking/link_tracker.h"

#include <algorithm>
#include <cmath>

#include "operators/convergence/alert_builder.h"
#include "operators/convergence/episode.h"
#include "operators/linking/link_reissue.h"
#include "operators/linking/link_rules.h"
#include "stream/cached_store.h"

namespace mozaiek {

using linking::EntityLinks;
using linking::has_signal_in;
using linking::in_window;
using linking::kNever;
using linking::lift_at;
using linking::Link;
using linking::LinkSignal;
using linking::qualifying;
using linking::remember;
using linking::RuleAlertState;
using linking::RuleSlot;
using linking::to_reception;

namespace {

// Links are counted once, at the end whose (type, key) sorts first, or at
// the end that is not a reception location (those hold no links).
// b_marked: a signal marked b as a reception centre (its `kind`).
bool counted_here(const LinkingConfig& cfg, SubjectType a, std::string_view ak, SubjectType b,
                  std::string_view bk, bool b_marked) {
  if (b == SubjectType::location && (b_marked || cfg.is_reception(bk))) return true;
  return a != b ? a < b : ak < bk;
}

Link* find_link(EntityLinks& e, SubjectType type, std::string_view key) {
  for (auto& l : e.links) {
    if (l.type == type && l.key == key) return &l;
  }
  return nullptr;
}

// Adds the signal to the link (once), keeping the newest `max` by event time.
void add_signal(Link& l, const RoutedSignal& sig, std::int64_t t, std::size_t max) {
  for (const auto& s : l.signals) {
    if (s.source == sig.source && s.signal_id == sig.signal_id) return;
  }
  auto pos = std::find_if(l.signals.begin(), l.signals.end(),
                          [t](const LinkSignal& s) { return s.observed_ms > t; });
  LinkSignal& s = *l.signals.emplace(pos);
  s.signal_id.assign(sig.signal_id);
  s.source = sig.source;
  s.indicator = sig.indicator;
  s.observed_ms = t;
  s.reported_ms = to_ms(sig.reported_at);
  if (l.signals.size() > max) l.signals.erase(l.signals.begin());
  l.first_ms = std::min(l.first_ms, t);
  l.last_ms = std::max(l.last_ms, t);
}

}  // namespace

namespace {

// The link codec as the cache uses it: an empty entity is a tombstone.
struct LinkStoreCodec {
  explicit LinkStoreCodec(const OperatorConfig& config) : codec(config) {}
  void encode(const EntityLinks& e, std::string& out) { codec.encode(e, out); }
  bool decode(std::string_view in, EntityLinks& e) { return codec.decode(in, e); }
  // Keeps the vectors' capacity for the next entity in a recycled node.
  void reset(EntityLinks& e) {
    e.links.clear();
    e.sources_seen.clear();
    e.alert_ids.clear();
    e.noticed_score = 0;
    e.rules = {};
  }
  bool erases(const EntityLinks& e) const { return e.empty(); }
  linking::LinkCodec codec;
};

}  // namespace

// The per-partition state: decoded entities over the store, keyed
// "<type>:<key>" as on the internal topic, and the scratch of one signal.
// Its known keys hold every entity in the store or given links since: a
// lone signal on any other person or vehicle needs no state at all.
struct LinkTracker::Cache {
  using Entities = CachedStore<EntityLinks, LinkStoreCodec>;
  using Node = Entities::Node;
  Cache(StateStore& s, const OperatorConfig& c, std::size_t max)
      : entities(s, "linking", max, "", c) {}

  std::string_view make_key(SubjectType type, std::string_view k) {
    return entities.make_key(to_string(type), std::string_view(":"), k);
  }

  Entities entities;
  EntityLinks scratch;              // uncached entities during inspect and expire
  std::vector<std::size_t> fresh;   // scratch: links created by the current signal
  std::vector<std::size_t> chosen;  // scratch: qualifying links or sources
  std::vector<std::size_t> best;    // scratch: the best candidate's
  std::vector<std::int64_t> times;  // scratch: evaluation times
  LinkCounters counters;
};

LinkTracker::LinkTracker(const OperatorConfig& config, const ConvergenceScorer& scorer)
    : config_(config), scorer_(scorer) {
  for (const auto& name : config.linking.person_lift.from) {
    if (auto t = subject_type_from(name))
      lift_from_mask_ |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(*t));
  }
}

LinkTracker::State::State(std::unique_ptr<Cache> cache) : cache_(std::move(cache)) {}
LinkTracker::State::~State() = default;

std::unique_ptr<LinkTracker::State> LinkTracker::make_state(StateStore& store,
                                                            std::size_t max_cached) const {
  return std::unique_ptr<State>(new State(std::make_unique<Cache>(store, config_, max_cached)));
}

LinkCounters& LinkTracker::counters(State& state) const { return state.cache_->counters; }
std::size_t LinkTracker::cached_entities(const State& state) const {
  return state.cache_->entities.size();
}

namespace {

// Opens (or escalates) an alert of `rule_name` on the entity when allowed by
// its episode state; returns its builder, or nothing.
std::optional<convergence::AlertBuilder> open_alert(const OperatorConfig& config, EntityLinks& e,
                                                    RuleSlot slot, const std::string& rule_name,
                                                    Millis cooldown, double step, SubjectType type,
                                                    const std::string& key, std::int64_t at,
                                                    double score, ProcTime now,
                                                    std::vector<Alert>& alerts) {
  RuleAlertState& r = e.rules[slot];
  const auto next = convergence::next_alert(r, at, score, cooldown.count(), step);
  if (!next) return std::nullopt;
  r = RuleAlertState{true, at, score, next->level, next->episode_start_ms};
  convergence::AlertBuilder b(config, alerts.emplace_back());
  b.open(rule_name, type, key, next->episode_start_ms, next->level, now)
      .score(convergence::round_score(score));
  remember(e.alert_ids, b.alert().alert_id, LinkTracker::kMaxAlertIds);
  return b;
}

}  // namespace

// One entity's turn in on_signal() or on_notice(): what the steps share.
struct LinkTracker::Visit {
  Cache& c;
  ConvergenceScorer::State& scores;
  EntityLinks& e;
  SubjectType type;
  const std::string& key;
  ProcTime now;
  std::vector<Alert>& alerts;
  std::vector<EntityNotice>& notices;
};

void LinkTracker::evaluate_network_rule(Visit& v, RuleSlot slot, const NetworkRule& rule,
                                        std::int64_t t) const {
  if (!rule.enabled) return;
  const LinkingConfig& cfg = config_.linking;
  EntityLinks& e = v.e;
  std::vector<std::size_t>& best = v.c.best;
  std::vector<std::size_t>& chosen = v.c.chosen;
  // Evaluated at the signal's time and, for a late one, at the newest time
  // it may complete: as if the pieces had arrived on time.
  std::int64_t newest = t;
  for (const auto& l : e.links) newest = std::max(newest, l.last_ms);
  for (const auto& s : e.sources_seen) newest = std::max(newest, s.observed_ms);
  std::int64_t at = t;
  qualifying(e, slot, rule, cfg, t, best);
  if (newest > t) {
    qualifying(e, slot, rule, cfg, newest, chosen);
    if (chosen.size() > best.size()) {
      best.swap(chosen);
      at = newest;
    }
  }
  if (best.size() < static_cast<std::size_t>(rule.min_count)) return;
  const double score = rule.weight * static_cast<double>(best.size());
  auto b = open_alert(config_, e, slot, rule.name, rule.cooldown, rule.escalation_step, v.type,
                      v.key, at, score, v.now, v.alerts);
  if (!b) return;
  linking::fill_network_alert(config_, e, v.type, slot, rule, at, best, *b);
  linking::tell_participants(b->alert(), v.notices, v.c.counters.notices_sent);
}

void LinkTracker::on_signal(State& state, ConvergenceScorer::State& scores, const RoutedSignal& sig,
                            double own_score, ProcTime now, std::vector<Alert>& alerts,
                            std::vector<EntityNotice>& notices) const {
  const LinkingConfig& cfg = config_.linking;
  if (!cfg.enabled || sig.subject_key.empty() || sig.source >= config_.sources.size() ||
      sig.indicator >= config_.catalogue.size()) {
    return;
  }
  Cache& c = *state.cache_;
  const bool location = sig.subject_type == SubjectType::location;
  // Reception centres keep no links of their own: hundreds of residents
  // pass through each, no network rule is evaluated on them (pickup_van
  // counts them from the vehicle's side), and their links would be the
  // largest and busiest state entries. The residents' and vehicles' ends
  // still hold the links.
  if (location && (sig.subject_reception || cfg.is_reception(sig.subject_key))) return;
  // A lone signal on an unlinked person or vehicle changes nothing here.
  const std::string_view store_key = c.make_key(sig.subject_type, sig.subject_key);
  const std::uint64_t h = Cache::Entities::hash(store_key);
  if (sig.co_subjects.empty() && !location && !c.entities.may_contain(h)) return;
  Cache::Node& node = c.entities.load(store_key, h);
  EntityLinks& e = node.value.value;
  if (sig.co_subjects.empty() && !location && e.links.empty()) return;

  Visit v{c, scores, e, sig.subject_type, sig.subject_key, now, alerts, notices};
  bool changed = link_co_subjects(v, sig);
  if (location) changed = note_organisation(e, sig) || changed;
  if (!e.links.empty()) changed = tell_linked(v, sig, own_score) || changed;
  const std::size_t alerts_before = alerts.size();
  evaluate_rules(v, sig);
  if (alerts.size() != alerts_before) changed = true;
  bound_links(v);
  if (changed) c.entities.mark_dirty(node);
}

// Links the entity to every other subject the signal names (new ones are
// listed in c.fresh). Returns whether anything changed.
bool LinkTracker::link_co_subjects(Visit& v, const RoutedSignal& sig) const {
  const LinkingConfig& cfg = config_.linking;
  const std::int64_t t = to_ms(sig.observed_at);
  bool changed = false;
  v.c.fresh.clear();
  for (std::size_t i = 0; i < sig.co_subjects.size(); ++i) {
    const auto& [type, key] = sig.co_subjects[i];
    if (type == sig.subject_type && key == sig.subject_key) continue;
    const bool marked = sig.co_is_reception(i);
    Link* link = find_link(v.e, type, key);
    if (link == nullptr) {
      v.c.fresh.push_back(v.e.links.size());
      link = &v.e.links.emplace_back();
      link->type = type;
      link->key = key;
      link->first_ms = t;
      link->last_ms = t;
      if (counted_here(cfg, sig.subject_type, sig.subject_key, type, key, marked)) {
        ++v.c.counters.created[linking::link_type_index(sig.subject_type, type)];
      }
    }
    if (marked) link->reception = true;
    add_signal(*link, sig, t, cfg.max_link_signals);
    changed = true;
  }
  return changed;
}

// A location keeps the newest signal per organisation (the hot-spot rule).
bool LinkTracker::note_organisation(EntityLinks& e, const RoutedSignal& sig) {
  const std::int64_t t = to_ms(sig.observed_at);
  auto it = std::find_if(e.sources_seen.begin(), e.sources_seen.end(),
                         [&](const LinkSignal& s) { return s.source == sig.source; });
  if (it == e.sources_seen.end()) it = e.sources_seen.emplace(e.sources_seen.end());
  if (!it->signal_id.empty() && t < it->observed_ms) return false;
  it->signal_id.assign(sig.signal_id);
  it->source = sig.source;
  it->indicator = sig.indicator;
  it->observed_ms = t;
  it->reported_ms = to_ms(sig.reported_at);
  return true;
}

// Tells linked entities what changed for them: a moved own score; a new
// link, when this entity has signals besides the one linking them; and,
// once, that it has signals of its own (a signal not naming them).
bool LinkTracker::tell_linked(Visit& v, const RoutedSignal& sig, double own_score) const {
  const LinkingConfig& cfg = config_.linking;
  EntityLinks& e = v.e;
  const double threshold = config_.rule_for(sig.subject_type).threshold;
  const bool moved = std::fabs(own_score - e.noticed_score) >= cfg.notice_step ||
                     convergence::reaches(own_score, threshold) !=
                         convergence::reaches(e.noticed_score, threshold);
  const bool others = own_score > config_.catalogue.at(sig.indicator).weight + 1e-9;
  bool changed = false;
  if (choose_receivers(v, sig, moved, others)) {
    send_score_notices(v, sig);
    changed = true;
  }
  if (moved) {
    e.noticed_score = own_score;
    changed = true;
  }
  return changed;
}

// Only what the receiver uses: a person its lifters' scores; a vehicle or
// location whether a linked person has signals of its own (once). Fills
// c.chosen; false when nobody is to be told.
bool LinkTracker::choose_receivers(Visit& v, const RoutedSignal& sig, bool moved,
                                   bool others) const {
  const LinkingConfig& cfg = config_.linking;
  const EntityLinks& e = v.e;
  const std::int64_t t = to_ms(sig.observed_at);
  auto named = [&](const Link& l) {
    for (const auto& [type, key] : sig.co_subjects) {
      if (type == l.type && key == l.key) return true;
    }
    return false;
  };
  const bool lifts = cfg.person_lift.enabled &&
                     (lift_from_mask_ & (1u << static_cast<unsigned>(sig.subject_type))) != 0;
  const bool counts = sig.subject_type == SubjectType::person && cfg.linked_persons.enabled;
  auto wanted = [&](std::size_t i) {
    const Link& l = e.links[i];
    if (!has_signal_in(l, t, cfg.link_window)) return false;
    if (to_reception(cfg, l)) return false;
    const bool fresh = std::find(v.c.fresh.begin(), v.c.fresh.end(), i) != v.c.fresh.end();
    if (l.type == SubjectType::person) {
      if (!lifts) return false;
      return moved || (!l.told_own && !named(l)) || (others && fresh);
    }
    return counts && !l.told_own && (!named(l) || (others && fresh));
  };
  v.c.chosen.clear();
  for (std::size_t i = 0; i < e.links.size(); ++i) {
    if (wanted(i)) v.c.chosen.push_back(i);
  }
  return !v.c.chosen.empty();
}

// The entity's score notices to the links in c.chosen.
void LinkTracker::send_score_notices(Visit& v, const RoutedSignal& sig) const {
  auto view = scorer_.inspect(v.scores, sig.subject_type, sig.subject_key, sig.observed_at);
  if (view && view->newest > sig.observed_at) {
    // A late signal: a lifted person hears the score as of the signal's
    // own time too, as if it had come on time, and then (as for every
    // signal) the score as of this entity's newest signal, so a link that
    // arrives late still learns about signals after it.
    for (std::size_t i : v.c.chosen) {
      if (v.e.links[i].type == SubjectType::person) {
        send_score_notice(v, v.e.links[i], *view, sig.observed_at);
      }
    }
    view = scorer_.inspect(v.scores, sig.subject_type, sig.subject_key, view->newest);
  }
  if (!view) return;
  const EventTime notice_at = std::max(sig.observed_at, view->newest);
  for (std::size_t i : v.c.chosen) send_score_notice(v, v.e.links[i], *view, notice_at);
}

// The score without the signals the link itself carries (those the receiver
// holds already); false when there is nothing to say.
bool LinkTracker::send_score_notice(Visit& v, Link& l, const ConvergenceScorer::SubjectView& view,
                                    EventTime at) const {
  EntityNotice n;
  n.from_type = v.type;
  n.from_key = v.key;
  n.to_type = l.type;
  n.to_key = l.key;
  n.at = at;
  for (const auto& contribution : view.contributions) {
    const bool shared = std::any_of(l.signals.begin(), l.signals.end(), [&](const LinkSignal& s) {
      return s.source == contribution.source && s.signal_id == contribution.signal_id;
    });
    if (shared) continue;
    n.own_score += contribution.decayed_weight;
    n.has_own_signals = true;
    const std::string& name = config_.sources[contribution.source].name;
    if (std::find(n.sources.begin(), n.sources.end(), name) == n.sources.end()) {
      n.sources.push_back(name);
    }
  }
  // Nothing to say: no signals besides the shared ones, and nothing said before.
  if (!n.has_own_signals && !l.told_own && v.e.noticed_score <= 0) return false;
  l.told_own = n.has_own_signals;
  std::sort(n.sources.begin(), n.sources.end());
  v.notices.push_back(std::move(n));
  ++v.c.counters.notices_sent;
  return true;
}

// The network rules of the entity's type, and the person lift.
void LinkTracker::evaluate_rules(Visit& v, const RoutedSignal& sig) const {
  const LinkingConfig& cfg = config_.linking;
  const std::int64_t t = to_ms(sig.observed_at);
  if (sig.subject_type == SubjectType::vehicle) {
    evaluate_network_rule(v, linking::kPickupVan, cfg.pickup_van, t);
  }
  if (sig.subject_type != SubjectType::person) {
    evaluate_network_rule(v, linking::kLinkedPersons, cfg.linked_persons, t);
  }
  if (sig.subject_type == SubjectType::location) {
    evaluate_network_rule(v, linking::kHotspot, cfg.address_hotspot, t);
  }
  if (sig.subject_type != SubjectType::person || !cfg.person_lift.enabled) return;
  // At the signal's time and, for a late one, at each later time a linked
  // entity told its score: as if the signal had arrived on time.
  std::vector<std::int64_t>& times = v.c.times;
  times.assign(1, t);
  for (const auto& l : v.e.links) {
    if ((lift_from_mask_ & (1u << static_cast<unsigned>(l.type))) == 0) continue;
    if (l.peer_at_ms != kNever && l.peer_at_ms > t) times.push_back(l.peer_at_ms);
    for (const auto& p : l.earlier_notices) {
      if (p.at_ms > t) times.push_back(p.at_ms);
    }
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  for (std::int64_t at : times) {
    if (lift_at(v.e, at, config_, lift_from_mask_, nullptr) > 0) evaluate_lift(v, at);
  }
}

// Bounds the links per entity: the least recently refreshed go first.
void LinkTracker::bound_links(Visit& v) const {
  const LinkingConfig& cfg = config_.linking;
  std::vector<Link>& links = v.e.links;
  while (links.size() > cfg.max_links) {
    auto oldest = std::min_element(links.begin(), links.end(), [](const Link& x, const Link& y) {
      return x.last_ms < y.last_ms;
    });
    if (counted_here(cfg, v.type, v.key, oldest->type, oldest->key, oldest->reception)) {
      ++v.c.counters.expired[linking::link_type_index(v.type, oldest->type)];
    }
    links.erase(oldest);
  }
}

// Raises a lifted person alert when own + lift reaches the threshold at t.
void LinkTracker::evaluate_lift(Visit& v, std::int64_t t) const {
  const LiftRule& rule = config_.linking.person_lift;
  Cache& c = v.c;
  EntityLinks& e = v.e;
  const std::string& key = v.key;
  c.chosen.clear();
  const double lift = lift_at(e, t, config_, lift_from_mask_, &c.chosen);
  if (lift <= 0) return;
  const auto view = scorer_.inspect(v.scores, SubjectType::person, key, event_time_from_ms(t));
  const double own = view ? view->score : 0.0;
  // A lifted alert is for persons the network lifts over the threshold; on
  // their own they are below it (or the convergence rule speaks for them).
  if (convergence::reaches(own, rule.threshold) ||
      !convergence::reaches(own + lift, rule.threshold)) {
    return;
  }
  auto b = open_alert(config_, e, linking::kLift, rule.name, rule.cooldown, rule.escalation_step,
                      SubjectType::person, key, t, own + lift, v.now, v.alerts);
  if (!b) return;
  static const std::vector<Contribution> kNone;
  linking::fill_lift_alert(config_, e, rule.name, view ? view->contributions : kNone, c.chosen, *b);
  linking::tell_participants(b->alert(), v.notices, c.counters.notices_sent);
}

void LinkTracker::on_notice(State& state, ConvergenceScorer::State& scores, const EntityNotice& n,
                            ProcTime now, std::vector<Alert>& alerts,
                            std::vector<EntityNotice>& notices,
                            std::vector<AlertWithdrawal>& withdrawals) const {
  const LinkingConfig& cfg = config_.linking;
  if (!cfg.enabled || n.to_key.empty()) return;
  Cache& c = *state.cache_;
  ++c.counters.notices_received;
  const std::string_view store_key = c.make_key(n.to_type, n.to_key);
  const std::uint64_t h = Cache::Entities::hash(store_key);
  // Only an entity this partition ever gave links can hold one; an erasure
  // notice for a reception location (sent for its departures) finds none,
  // and no empty entry is cached for it.
  if (n.erased && !c.entities.may_contain(h)) return;
  Cache::Node& node = c.entities.load(store_key, h);
  EntityLinks& e = node.value.value;
  Link* link = find_link(e, n.from_type, n.from_key);
  if (link == nullptr) {
    if (!n.erased) ++c.counters.notices_unmatched;  // expired or bounded out at this end
    return;
  }
  if (n.erased) {
    if (counted_here(cfg, n.to_type, n.to_key, n.from_type, n.from_key, link->reception)) {
      ++c.counters.expired[linking::link_type_index(n.to_type, n.from_type)];
    }
    linking::OwnScoreAt own_at = [&](std::int64_t at) {
      return scorer_.inspect(scores, n.to_type, n.to_key, event_time_from_ms(at));
    };
    linking::ErasureOutputs out{alerts, notices, withdrawals, c.counters.notices_sent};
    const std::string key = n.to_key;
    linking::drop_erased_link(config_, lift_from_mask_, kMaxAlertIds, e, n.to_type, key,
                              static_cast<std::size_t>(link - e.links.data()), own_at, now,
                              ProcTime{Millis{to_ms(n.at)}}, out);
    c.entities.mark_dirty(node);
    return;
  }
  const std::string key = n.to_key;
  Visit v{c, scores, e, n.to_type, key, now, alerts, notices};
  if (n.participation) {
    remember(e.alert_ids, n.alert_id, kMaxAlertIds);
    c.entities.mark_dirty(node);
    return;
  }
  const std::int64_t at = to_ms(n.at);
  const bool lifts = n.to_type == SubjectType::person && cfg.person_lift.enabled &&
                     (lift_from_mask_ & (1u << static_cast<unsigned>(n.from_type))) != 0;
  const bool newest = at >= link->peer_at_ms;
  // A person keeps earlier scores too, so lifts do not depend on the order
  // notices and signals came in; elsewhere only the newest counts.
  if (!linking::record_peer_notice(*link, linking::PeerNotice{at, n.own_score}, lifts)) return;
  if (!newest) {
    // A notice from before the newest (late, or delivered again): it may
    // complete a lift at its own time.
    evaluate_lift(v, at);
    c.entities.mark_dirty(node);
    return;
  }
  link->peer_has_own = n.has_own_signals;
  link->peer_sources.clear();
  for (const auto& name : n.sources) {
    if (auto s = config_.find_source(name)) link->peer_sources.push_back(*s);
  }
  if (n.to_type == SubjectType::person) {
    if (lifts) evaluate_lift(v, at);
  } else if (n.from_type == SubjectType::person) {
    evaluate_network_rule(v, linking::kLinkedPersons, cfg.linked_persons, at);
  }
  c.entities.mark_dirty(node);
}

std::size_t LinkTracker::expire(State& state, EventTime watermark) const {
  Cache& c = *state.cache_;
  const LinkingConfig& cfg = config_.linking;
  const std::int64_t wm = to_ms(watermark);
  const std::int64_t link_horizon = wm - cfg.link_window.count();
  const std::int64_t source_horizon = wm -
                                      std::max(cfg.address_hotspot.window, cfg.link_window).count();
  const std::int64_t alert_horizon = wm - config_.retention.count();
  using Verdict = Cache::Entities::Verdict;
  std::size_t dropped = 0;
  auto expire_entity = [&](std::string_view k, EntityLinks& e) {
    const auto colon = k.find(':');
    const auto type = subject_type_from(k.substr(0, colon));
    if (!type || colon == std::string_view::npos) return Verdict::unchanged;
    const std::string_view own_key = k.substr(colon + 1);
    bool changed = false;
    for (auto it = e.links.begin(); it != e.links.end();) {
      if (it->last_ms > link_horizon) {
        ++it;
        continue;
      }
      if (counted_here(cfg, *type, own_key, it->type, it->key, it->reception)) {
        ++c.counters.expired[linking::link_type_index(*type, it->type)];
      }
      it = e.links.erase(it);
      ++dropped;
      changed = true;
    }
    const auto stale = std::remove_if(e.sources_seen.begin(), e.sources_seen.end(),
                                      [&](const LinkSignal& s) {
                                        return s.observed_ms <= source_horizon;
                                      });
    if (stale != e.sources_seen.end()) {
      e.sources_seen.erase(stale, e.sources_seen.end());
      changed = true;
    }
    bool alerted = false;
    for (auto& r : e.rules) {
      if (r.alerted && r.last_alert_ms <= alert_horizon) {
        r = RuleAlertState{};
        changed = true;
      }
      alerted = alerted || r.alerted;
    }
    if (!alerted && !e.alert_ids.empty() && e.links.empty()) {
      e.alert_ids.clear();
      changed = true;
    }
    if (!changed) return Verdict::unchanged;
    return e.empty() && !alerted ? Verdict::remove : Verdict::changed;
  };
  auto stored = [&](std::string_view k, std::string_view v, std::string& rewritten) {
    // Undecodable ones stay: load() replaces them.
    if (!c.entities.codec().decode(v, c.scratch)) return Verdict::unchanged;
    const Verdict verdict = expire_entity(k, c.scratch);
    if (verdict == Verdict::changed) c.entities.codec().encode(c.scratch, rewritten);
    return verdict;
  };
  c.entities.expire(expire_entity, stored);
  return dropped;
}

Status LinkTracker::flush(State& state) const {
  Cache& c = *state.cache_;
  c.entities.write_dirty();
  return c.entities.store().flush();
}

std::size_t LinkTracker::erase(State& state, SubjectType type, std::string_view key,
                               ProcTime requested_at, std::vector<EntityNotice>& notices) const {
  Cache& c = *state.cache_;
  const LinkingConfig& cfg = config_.linking;
  const std::string_view store_key = c.make_key(type, key);
  const EntityLinks& e = c.entities.load(store_key).value.value;
  const std::size_t removed = e.links.size();
  for (const Link& l : e.links) {
    if (counted_here(cfg, type, key, l.type, l.key, l.reception)) {
      ++c.counters.expired[linking::link_type_index(type, l.type)];
    }
    if (to_reception(cfg, l)) continue;  // holds none
    EntityNotice& n = notices.emplace_back();
    n.from_type = type;
    n.from_key.assign(key);
    n.to_type = l.type;
    n.to_key = l.key;
    n.erased = true;
    n.at = event_time_from_ms(to_ms(requested_at));
    ++c.counters.notices_sent;
  }
  c.entities.erase(store_key);
  return removed;
}

std::optional<LinkTracker::EntityView> LinkTracker::inspect(State& state, SubjectType type,
                                                            std::string_view key,
                                                            EventTime at) const {
  Cache& c = *state.cache_;
  const EntityLinks* entity = c.entities.peek(c.make_key(type, key), c.scratch);
  if (entity == nullptr || entity->empty()) return std::nullopt;
  const EntityLinks& e = *entity;
  const std::int64_t t = to_ms(at);
  const LinkingConfig& cfg = config_.linking;
  EntityView view;
  for (const auto& l : e.links) {
    LinkView& lv = view.links.emplace_back();
    lv.type = l.type;
    lv.key = l.key;
    lv.first_seen = event_time_from_ms(l.first_ms);
    lv.last_seen = event_time_from_ms(l.last_ms);
    for (const auto& s : l.signals) {
      lv.via.push_back(s.signal_id);
      const std::string& name = config_.sources[s.source].name;
      if (std::find(lv.sources.begin(), lv.sources.end(), name) == lv.sources.end()) {
        lv.sources.push_back(name);
      }
    }
    std::sort(lv.sources.begin(), lv.sources.end());
    lv.live = has_signal_in(l, t, cfg.link_window);
    if (l.peer_at_ms != kNever) {
      lv.their_score = convergence::round_score(
          linking::decay(l.peer_score, t - l.peer_at_ms, config_.rule_for(l.type).half_life));
      lv.they_have_own_signals = l.peer_has_own;
    }
  }
  if (type == SubjectType::person)
    view.lift = convergence::round_score(lift_at(e, t, config_, lift_from_mask_, nullptr));
  for (const auto& s : e.sources_seen) {
    if (in_window(s.observed_ms, t, cfg.address_hotspot.window)) {
      view.organisations.push_back(config_.sources[s.source].name);
    }
  }
  std::sort(view.organisations.begin(), view.organisations.end());
  view.alert_ids = e.alert_ids;
  return view;
}

}  // namespace mozaiek
