#include "operators/oversight/oversight_tracker.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "operators/convergence/alert_builder.h"
#include "operators/oversight/oversight_records.h"
#include "operators/oversight/spike_rule.h"
#include "stream/cached_store.h"
#include "stream/metric_labels.h"

namespace mozaiek {
namespace {

using oversight::Departure;
using oversight::LocationState;
using oversight::Melding;
using oversight::Person;
using oversight::PersonStatus;

constexpr double kDayMs = 86'400'000.0;
constexpr std::string_view kMeldingPrefix = "m:";
constexpr std::string_view kPersonPrefix = "p:";
constexpr std::string_view kLocationPrefix = "l:";
constexpr std::string_view kErasedCountsKey = "a:erased";

bool known(EventTime t) { return t != kMinEventTime; }

// A label's index in a configured set; the set's size ("other") when absent.
constexpr auto index_in = metric_labels::find_index;

double days_between(EventTime from, EventTime to) {
  return static_cast<double>((to - from).count()) / kDayMs;
}

}  // namespace

// An oversight record's binary form as the cache uses it.
template <class Entity>
struct RecordCodec {
  void encode(const Entity& v, std::string& out) { oversight::encode(v, out); }
  bool decode(std::string_view in, Entity& v) { return oversight::decode(in, v); }
  void reset(Entity& v) { v = Entity{}; }
  bool erases(const Entity&) const { return false; }
};

template <class Entity>
using Entities = CachedStore<Entity, RecordCodec<Entity>>;

// Every entity of the partition stays in memory (the caches never evict):
// deadlines and gauges need them all, and chain events are rare.
struct OversightTracker::Data {
  explicit Data(StateStore& s)
      : store(s),
        meldingen(s, "oversight", Entities<Melding>::kUnbounded, kMeldingPrefix),
        persons(s, "oversight", Entities<Person>::kUnbounded, kPersonPrefix),
        locations(s, "oversight", Entities<LocationState>::kUnbounded, kLocationPrefix) {}

  Entities<Melding>::Node& melding(std::string_view id) {
    return meldingen.load(meldingen.make_key(kMeldingPrefix, id));
  }
  Entities<Person>::Node& person(std::string_view key) {
    return persons.load(persons.make_key(kPersonPrefix, key));
  }
  Entities<LocationState>::Node& location(std::string_view key) {
    return locations.load(locations.make_key(kLocationPrefix, key));
  }

  StateStore& store;
  Entities<Melding> meldingen;        // "m:<melding id>"
  Entities<Person> persons;           // "p:<pseudonym>"
  Entities<LocationState> locations;  // "l:<location id>"
  // Meldingen sent, not breached and without feedback within the deadline,
  // by deadline: advance() pops what the watermark has passed.
  std::set<std::pair<EventTime, std::string>> deadlines;
  oversight::ErasedCounts erased;  // registration counts of erased persons
  bool erased_dirty = false;
  std::string scratch;
};

OversightTracker::State::State(std::unique_ptr<Data> data) : data_(std::move(data)) {}
OversightTracker::State::~State() = default;

OversightTracker::OversightTracker(const OperatorConfig& config, const ConvergenceScorer& scorer)
    : config_(config), scorer_(scorer) {}

std::unique_ptr<OversightTracker::State> OversightTracker::make_state(StateStore& store) const {
  auto d = std::make_unique<Data>(store);
  // Entities that no longer decode (a newer format) are left alone, not lost.
  d->meldingen.load_all(kMeldingPrefix, [&](Entities<Melding>::Node& node) {
    const Melding& m = node.value.value;
    if (known(m.sent_at) && !m.breached &&
        (!known(m.feedback_at) || m.feedback_at > m.sent_at + config_.oversight.melding_deadline)) {
      d->deadlines.emplace(m.sent_at + config_.oversight.melding_deadline,
                           node.key.substr(kMeldingPrefix.size()));
    }
  });
  d->persons.load_all(kPersonPrefix, [](auto&) {});
  d->locations.load_all(kLocationPrefix, [](auto&) {});
  std::string value;
  if (store.get(kErasedCountsKey, value) && !oversight::decode(value, d->erased)) {
    d->erased.clear();  // a newer format: left in the store until counts change
  }
  return std::unique_ptr<State>(new State(std::move(d)));
}

OversightTracker::Result OversightTracker::process(State& state, const RoutedChainEvent& r,
                                                   ConvergenceScorer::State* convergence,
                                                   ProcTime now, std::vector<Alert>& alerts,
                                                   OversightMetrics* metrics) const {
  Data& d = *state.data_;
  const std::string_view id = r.event.event_id;
  switch (r.entity) {
    case ChainEntity::melding: {
      auto& node = d.melding(r.entity_key);
      Melding& m = node.value.value;
      if (m.seen.contains(id)) return Result::duplicate;
      m.seen.add(id);
      on_melding(d, m, r, metrics);
      d.meldingen.mark_dirty(node);
      return Result::applied;
    }
    case ChainEntity::person: {
      auto& node = d.person(r.entity_key);
      Person& p = node.value.value;
      if (p.seen.contains(id)) return Result::duplicate;
      p.seen.add(id);
      on_person(p, r, convergence, now, alerts, metrics);
      d.persons.mark_dirty(node);
      return Result::applied;
    }
    case ChainEntity::location: {
      auto& node = d.location(r.entity_key);
      LocationState& l = node.value.value;
      for (const auto& dep : l.departures) {
        if (dep.event_id == id) return Result::duplicate;
      }
      on_location(l, r, now, alerts, metrics);
      d.locations.mark_dirty(node);
      return Result::applied;
    }
  }
  return Result::applied;
}

void OversightTracker::on_melding(Data& d, Melding& m, const RoutedChainEvent& r,
                                  OversightMetrics* metrics) const {
  const ChainEvent& e = r.event;
  const Millis deadline = config_.oversight.melding_deadline;
  if (known(m.sent_at)) d.deadlines.erase({m.sent_at + deadline, r.entity_key});
  switch (e.type) {
    case ChainEventType::melding_sent:
      // The first melding.sent (by event time) defines the melding.
      if (!known(m.sent_at) || e.at < m.sent_at) {
        m.sent_at = e.at;
        m.sent_event_id = e.event_id;
        m.from = e.org;
        m.to = e.to;
      }
      break;
    case ChainEventType::melding_acknowledged:
    case ChainEventType::melding_feedback: {
      EventTime& at = e.type == ChainEventType::melding_acknowledged ? m.ack_at : m.feedback_at;
      if (!known(at) || e.at < at) at = e.at;
      // The answering organisation is the receiver; `to` names the sender.
      if (!known(m.sent_at)) {
        m.from = e.to;
        m.to = e.org;
      }
      break;
    }
    default: break;
  }
  // Each latency is observed once, as soon as both ends are known.
  if (known(m.sent_at)) {
    const bool ack_due = known(m.ack_at) && !m.ack_observed;
    const bool feedback_due = known(m.feedback_at) && !m.feedback_observed;
    m.ack_observed = m.ack_observed || ack_due;
    m.feedback_observed = m.feedback_observed || feedback_due;
    if (metrics != nullptr && (ack_due || feedback_due)) {
      const std::size_t from = metrics->org_index(m.from);
      const std::size_t to = metrics->org_index(m.to);
      if (ack_due) {
        metrics->observe_feedback_latency(from, to, FeedbackStage::ack,
                                          std::max(0.0, to_seconds(m.ack_at - m.sent_at)));
      }
      if (feedback_due) {
        metrics->observe_feedback_latency(from, to, FeedbackStage::feedback,
                                          std::max(0.0, to_seconds(m.feedback_at - m.sent_at)));
      }
    }
  }
  if (known(m.sent_at) && !m.breached &&
      (!known(m.feedback_at) || m.feedback_at > m.sent_at + deadline)) {
    d.deadlines.emplace(m.sent_at + deadline, r.entity_key);
  }
}

void OversightTracker::on_person(Person& p, const RoutedChainEvent& r,
                                 ConvergenceScorer::State* convergence, ProcTime now,
                                 std::vector<Alert>& alerts, OversightMetrics* metrics) const {
  const ChainEvent& e = r.event;
  // The latest specific labels win; "unknown" never overwrites a known value.
  if (e.has_person) {
    const auto& ages = config_.age_groups;
    const auto& regions = config_.nationality_regions;
    if (e.person.age_group < ages.size() && ages[e.person.age_group] != "unknown") {
      p.age_group = ages[e.person.age_group];
    }
    if (e.person.region < regions.size() && regions[e.person.region] != "unknown") {
      p.region = regions[e.person.region];
    }
  }
  const std::size_t age = index_in(config_.age_groups, p.age_group);
  p.last_at = std::max(p.last_at, e.at);
  switch (e.type) {
    case ChainEventType::person_arrived:
      // The arrival before a departure already counted without one: the
      // days between them are known now.
      if (p.departure_unmatched && e.at <= p.departed_at) {
        p.departure_unmatched = false;
        if (metrics != nullptr) {
          metrics->observe_days_since_arrival(age, days_between(e.at, p.departed_at));
          metrics->add_arrival_matched_late(age);
        }
      }
      if (!known(p.arrived_at) || e.at >= p.arrived_at) {
        p.arrived_at = e.at;
        if (!known(p.departed_at) || e.at >= p.departed_at) {
          p.status = PersonStatus::present;
          p.location = e.location;
        }
      }
      break;
    case ChainEventType::person_transferred:
      if (p.status != PersonStatus::missing) {
        p.status = PersonStatus::present;
        p.location = e.to_location;
      }
      break;
    case ChainEventType::person_departed_unknown: {
      const bool arrival_known = known(p.arrived_at) && p.arrived_at <= e.at;
      if (metrics != nullptr) {
        metrics->add_mob_departure(metrics->location_index(e.location), age,
                                   index_in(config_.nationality_regions, p.region));
        if (arrival_known) {
          metrics->observe_days_since_arrival(age, days_between(p.arrived_at, e.at));
        } else {
          metrics->add_departure_without_arrival(age);
        }
      }
      if (e.at >= p.departed_at) p.departure_unmatched = !arrival_known;
      if (!e.location.empty()) {
        auto& from = p.departed_from;
        from.erase(std::remove(from.begin(), from.end(), e.location), from.end());
        from.push_back(e.location);
        if (from.size() > Person::kMaxDepartedFrom) from.erase(from.begin());
      }
      p.status = PersonStatus::missing;
      p.departed_at = std::max(p.departed_at, e.at);
      p.location = e.location;
      if (convergence == nullptr) break;
      auto view = scorer_.inspect(*convergence, SubjectType::person, r.entity_key, e.at);
      if (!view || view->contributions.empty()) break;
      if (metrics != nullptr) metrics->add_departure_with_prior_signals(age);
      raise_worrying_departure(r, *view, now, alerts);
      break;
    }
    case ChainEventType::person_reappeared:
      if (metrics != nullptr) metrics->add_reappearance(metrics->where_index(e.where));
      if (p.status == PersonStatus::missing) p.status = PersonStatus::present;
      break;
    case ChainEventType::victim_registered:
      p.registrations.push_back(
          Registration{e.event_id, utc_year(e.at), e.forms, e.reporter, e.registry});
      break;
    default: break;
  }
}

void OversightTracker::on_location(LocationState& l, const RoutedChainEvent& r, ProcTime now,
                                   std::vector<Alert>& alerts, OversightMetrics* metrics) const {
  const ChainEvent& e = r.event;
  if (e.type != ChainEventType::person_departed_unknown) return;
  const auto pos = std::upper_bound(l.departures.begin(), l.departures.end(), e.at,
                                    [](EventTime t, const Departure& dep) { return t < dep.at; });
  l.departures.insert(pos, Departure{e.at, e.event_id, e.org, e.person.key});
  const OversightConfig& o = config_.oversight;
  // Older than the baseline of the newest departure: no longer needed.
  const EventTime horizon = l.departures.back().at - o.spike_window - o.spike_baseline;
  while (l.departures.size() > LocationState::kMaxDepartures ||
         (!l.departures.empty() && l.departures.front().at <= horizon)) {
    l.departures.erase(l.departures.begin());
  }

  // Test the window ending at this departure.
  const EventTime window_start = e.at - o.spike_window;
  const EventTime baseline_start = window_start - o.spike_baseline;
  SpikeTest t;
  t.window_days = days_between(window_start, e.at);
  t.baseline_days = days_between(baseline_start, window_start);
  t.floor_per_day = o.spike_floor_per_day;
  t.p_value = o.spike_p_value;
  t.min_departures = static_cast<std::size_t>(o.spike_min_departures);
  std::vector<const Departure*> in_window;
  for (const auto& dep : l.departures) {
    if (dep.at > window_start && dep.at <= e.at) {
      in_window.push_back(&dep);
    } else if (dep.at > baseline_start && dep.at <= window_start) {
      ++t.baseline_count;
    }
  }
  t.window_count = in_window.size();
  const SpikeVerdict v = test_spike(t);
  if (!v.spike) return;
  if (known(l.last_spike_at) && e.at - l.last_spike_at < o.spike_window) return;  // same episode
  l.last_spike_at = e.at;
  if (metrics != nullptr) metrics->add_mob_spike(metrics->location_index(r.entity_key));
  convergence::AlertBuilder b(config_, alerts.emplace_back());
  b.open(kMobSpikeRule, SubjectType::location, r.entity_key, to_ms(in_window.front()->at), 0, now)
      // How surprising the window is: -log10 of its Poisson tail probability.
      .score(v.tail > 0 ? -std::log10(v.tail) : 300.0)
      .seen(in_window.front()->at, e.at)
      .reported(e.reported_at);
  for (const Departure* dep : in_window) {
    b.source(dep->org).event(AlertEvent{dep->event_id, std::string(to_string(e.type)), dep->at,
                                        dep->org, dep->person_key});
  }
  b.finish();
}

// A person with convergence contributions departed to an unknown place.
void OversightTracker::raise_worrying_departure(const RoutedChainEvent& r,
                                                const ConvergenceScorer::SubjectView& view,
                                                ProcTime now, std::vector<Alert>& alerts) const {
  const ChainEvent& e = r.event;
  convergence::AlertBuilder b(config_, alerts.emplace_back());
  b.open(kWorryingDepartureRule, SubjectType::person, r.entity_key, to_ms(e.at), 0, now)
      .score(view.score);
  EventTime first_seen = e.at;
  for (const auto& c : view.contributions) {
    if (c.source < config_.sources.size()) b.source(config_.sources[c.source].name);
    first_seen = std::min(first_seen, c.observed_at);
  }
  b.source(e.org).seen(first_seen, e.at).reported(e.reported_at);
  b.alert().contributions = view.contributions;
  b.event(AlertEvent{e.event_id, std::string(to_string(e.type)), e.at, e.org, r.entity_key});
  b.finish();
}

void OversightTracker::note_person_alert(State& state, std::string_view person_key,
                                         EventTime at) const {
  Data& d = *state.data_;
  auto& node = d.person(person_key);
  Person& p = node.value.value;
  if (p.converging && p.last_at >= at) return;
  p.converging = true;
  p.last_at = std::max(p.last_at, at);
  d.persons.mark_dirty(node);
}

void OversightTracker::advance(State& state, EventTime watermark, ProcTime now,
                               std::vector<Alert>& alerts, OversightMetrics* metrics) const {
  Data& d = *state.data_;
  const Millis deadline = config_.oversight.melding_deadline;
  while (!d.deadlines.empty() && d.deadlines.begin()->first <= watermark) {
    const auto [due, id] = *d.deadlines.begin();
    d.deadlines.erase(d.deadlines.begin());
    auto* node = d.meldingen.find(d.meldingen.make_key(kMeldingPrefix, id));
    if (node == nullptr) continue;
    Melding& m = node->value.value;
    if (m.breached || !known(m.sent_at) ||
        (known(m.feedback_at) && m.feedback_at <= m.sent_at + deadline)) {
      continue;
    }
    m.breached = true;
    d.meldingen.mark_dirty(*node);
    if (metrics != nullptr) {
      metrics->add_unanswered(metrics->org_index(m.from), metrics->org_index(m.to));
    }
    convergence::AlertBuilder b(config_, alerts.emplace_back());
    b.open(kSlaBreachRule, "melding", id, to_ms(m.sent_at), now)
        .score(days_between(m.sent_at, due))  // days without feedback
        .seen(m.sent_at, due)
        .event(AlertEvent{m.sent_event_id, "melding.sent", m.sent_at, m.from, id});
    for (const std::string& org : {m.from, m.to}) {
      if (!org.empty()) b.source(org);
    }
    b.finish();
  }
}

std::size_t OversightTracker::expire(State& state, EventTime watermark) const {
  Data& d = *state.data_;
  const EventTime horizon = watermark - config_.retention;
  std::vector<std::string> gone;
  // Erases the gathered keys: from the cache and, by a tombstone, the store.
  auto drop = [&gone](auto& entities) {
    for (const auto& key : gone) entities.erase(key);
    const std::size_t n = gone.size();
    gone.clear();
    return n;
  };
  d.meldingen.for_each([&](Entities<Melding>::Node& node) {
    const Melding& m = node.value.value;
    const EventTime last = std::max({m.sent_at, m.ack_at, m.feedback_at});
    const bool settled = known(m.feedback_at) || m.breached;
    if (!settled || last >= horizon) return;
    if (known(m.sent_at)) {
      d.deadlines.erase(
          {m.sent_at + config_.oversight.melding_deadline, node.key.substr(kMeldingPrefix.size())});
    }
    gone.push_back(node.key);
  });
  std::size_t n = drop(d.meldingen);
  d.persons.for_each([&](Entities<Person>::Node& node) {
    const Person& p = node.value.value;
    if (p.last_at < horizon && p.status != PersonStatus::missing && p.registrations.empty()) {
      gone.push_back(node.key);
    }
  });
  n += drop(d.persons);
  d.locations.for_each([&](Entities<LocationState>::Node& node) {
    const LocationState& l = node.value.value;
    if (l.departures.empty() || l.departures.back().at < horizon) gone.push_back(node.key);
  });
  n += drop(d.locations);
  return n;
}

Status OversightTracker::flush(State& state) const {
  Data& d = *state.data_;
  d.meldingen.write_dirty();
  d.persons.write_dirty();
  d.locations.write_dirty();
  if (d.erased_dirty) {
    oversight::encode(d.erased, d.scratch);
    d.store.put(kErasedCountsKey, d.scratch);
    d.erased_dirty = false;
  }
  return d.store.flush();
}

void OversightTracker::tally(const State& state, EventTime watermark,
                             const OversightMetrics& metrics, Gauges& out,
                             RegistrationTally& registrations) const {
  const Data& d = *state.data_;
  const std::size_t orgs = metrics.labels().orgs.size() + 1;
  out.open.resize(orgs * orgs * kOpenAgeBuckets, 0);
  out.missing.resize(config_.age_groups.size() + 1, 0);
  d.meldingen.for_each([&](const Entities<Melding>::Node& node) {
    const Melding& m = node.value.value;
    if (!known(m.sent_at) || known(m.feedback_at)) return;
    const double age = known(watermark) ? std::max(0.0, days_between(m.sent_at, watermark)) : 0.0;
    const std::size_t i = (std::min(metrics.org_index(m.from), orgs - 1) * orgs +
                           std::min(metrics.org_index(m.to), orgs - 1)) *
                              kOpenAgeBuckets +
                          open_age_bucket(age);
    ++out.open[i];
  });
  registrations.add_counts(d.erased);
  d.persons.for_each([&](const Entities<Person>::Node& node) {
    const Person& p = node.value.value;
    if (p.status == PersonStatus::missing) {
      ++out.missing[std::min(index_in(config_.age_groups, p.age_group), out.missing.size() - 1)];
    }
    if (p.converging) {
      ++out.converging;
      if (p.registrations.empty()) ++out.converging_unregistered;
    }
    if (!p.registrations.empty()) {
      registrations.add_person(p.registrations,
                               static_cast<std::uint8_t>(std::min<std::size_t>(
                                   index_in(config_.nationality_regions, p.region), 255)));
    }
  });
}

void OversightTracker::erase(State& state, SubjectType type, std::string_view key,
                             std::vector<std::string>& tell) const {
  Data& d = *state.data_;
  switch (type) {
    case SubjectType::person: {
      const std::string_view store_key = d.persons.make_key(kPersonPrefix, key);
      if (const auto* node = d.persons.find(store_key)) {
        const Person& p = node->value.value;
        if (!p.registrations.empty()) {
          RegistrationTally share(config_);
          share.add_person(p.registrations,
                           static_cast<std::uint8_t>(std::min<std::size_t>(
                               index_in(config_.nationality_regions, p.region), 255)));
          for (const auto& [k, n] : share.counts()) d.erased[k] += n;
          d.erased_dirty = true;
        }
        // Every location whose departures name them (the last one too, for
        // a person recorded before departed_from was kept).
        tell.insert(tell.end(), p.departed_from.begin(), p.departed_from.end());
        if (known(p.departed_at) && !p.location.empty() &&
            std::find(tell.begin(), tell.end(), p.location) == tell.end()) {
          tell.push_back(p.location);
        }
      }
      d.persons.erase(store_key);  // a tombstone, also when nothing was stored
      return;
    }
    case SubjectType::location:
      d.locations.erase(d.locations.make_key(kLocationPrefix, key));
      return;
    case SubjectType::vehicle: return;
  }
}

void OversightTracker::forget_person_at(State& state, std::string_view location_key,
                                        std::string_view person_key) const {
  Data& d = *state.data_;
  auto* node = d.locations.find(d.locations.make_key(kLocationPrefix, location_key));
  if (node == nullptr) return;
  bool changed = false;
  for (auto& dep : node->value.value.departures) {
    if (dep.person_key == person_key) {
      dep.person_key.clear();
      changed = true;
    }
  }
  if (changed) d.locations.mark_dirty(*node);
}

std::size_t OversightTracker::meldingen(const State& state) const {
  return state.data_->meldingen.size();
}
std::size_t OversightTracker::persons(const State& state) const {
  return state.data_->persons.size();
}

}  // namespace mozaiek
