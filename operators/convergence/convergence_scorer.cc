#include "operators/convergence/convergence_scorer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "operators/convergence/alert_id.h"
#include "operators/convergence/episode.h"
#include "stream/known_keys.h"
#include "operators/convergence/subject_codec.h"
#include "operators/convergence/subject_state.h"
#include "stream/string_table.h"

namespace mozaiek {

using convergence::Entry;
using convergence::Range;
using convergence::RuleParams;
using convergence::Subject;

using SubjectTable = StringTable<Subject>;
using SubjectNode = SubjectTable::Node;

namespace {

using convergence::reaches;
using convergence::round3;

// Sort order of entries: (observed_ms, signal_id, source).
bool entry_before(const Entry& e, std::int64_t observed_ms, std::string_view signal_id,
                  SourceId source) {
  if (e.observed_ms != observed_ms) return e.observed_ms < observed_ms;
  const int c = std::string_view(e.signal_id).compare(signal_id);
  if (c != 0) return c < 0;
  return e.source < source;
}

// "person:<key>" -> person.
std::optional<SubjectType> type_of_key(std::string_view key) {
  const auto colon = key.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return subject_type_from(key.substr(0, colon));
}

bool has_concrete(const Subject& s, Range r) {
  for (std::size_t i = r.lo; i < r.hi; ++i) {
    if (s.entries[i].strength == Strength::concrete) return true;
  }
  return false;
}

// A time at which the subject may alert, and as what.
struct Candidate {
  std::int64_t at_ms = 0;
  double score = 0;
  Range range;
  int level = 0;  // 0: the first alert of a new episode
  std::int64_t episode_start_ms = 0;
};

// Whether crossing the threshold at `at` raises an alert: always outside the
// cooldown of the last alert (a new episode), within it only as an
// escalation by the rule's step.
std::optional<Candidate> alertable(const Subject& s, std::int64_t at, double score, Range r,
                                   const ConvergenceRule& rule, const RuleParams& p) {
  const convergence::EpisodeHistory h{s.alerted, s.last_alert_ms, s.last_alert_score, s.level,
                                     s.episode_start_ms};
  const auto step = convergence::next_alert(h, at, score, p.cooldown_ms, rule.escalation_step);
  if (!step) return std::nullopt;
  return Candidate{at, score, r, step->level, step->episode_start_ms};
}

// The alert explains itself: every contribution in the window at the alert's
// time, with its weight then.
void fill_alert(const Subject& s, const Candidate& c, const RuleParams& p,
                const convergence::AlertIdText& id, const ConvergenceRule& rule,
                const RoutedSignal& sig, ProcTime now, const OperatorConfig& config, Alert& a) {
  a.alert_id.assign(id.data(), id.size());
  a.rule = rule.name;
  a.subject_type = sig.subject_type;
  a.subject_key = sig.subject_key;
  a.score = round3(c.score);
  a.first_seen = event_time_from_ms(s.entries[c.range.lo].observed_ms);
  a.last_seen = event_time_from_ms(s.entries[c.range.hi - 1].observed_ms);
  a.raised_at = now;
  a.level = c.level;
  a.status = c.level == 0 ? "new" : "escalated";
  std::int64_t max_reported = std::numeric_limits<std::int64_t>::min();
  a.contributions.reserve(c.range.hi - c.range.lo);
  for (std::size_t i = c.range.lo; i < c.range.hi; ++i) {
    const Entry& e = s.entries[i];
    max_reported = std::max(max_reported, e.reported_ms);
    Contribution& out = a.contributions.emplace_back();
    out.signal_id = e.signal_id;
    out.source = e.source;
    out.indicator = e.indicator;
    out.observed_at = event_time_from_ms(e.observed_ms);
    out.reported_at = event_time_from_ms(e.reported_ms);
    out.weight = e.weight;
    out.decayed_weight = convergence::decayed_weight(e, c.at_ms, p);
    const std::string& name = config.sources[e.source].name;
    if (std::find(a.sources.begin(), a.sources.end(), name) == a.sources.end()) {
      a.sources.push_back(name);
    }
  }
  std::sort(a.sources.begin(), a.sources.end());
  // How much later than event time the pieces arrived.
  const std::int64_t delay_ms = max_reported - to_ms(a.last_seen);
  a.detection_delay_seconds = delay_ms > 0 ? static_cast<double>(delay_ms) / 1000.0 : 0.0;
}

// An empty subject that keeps the capacity of a recycled cache node's
// vectors, so a new subject after an eviction allocates less.
void reset_subject(Subject& s) {
  auto entries = std::move(s.entries);
  auto alert_ids = std::move(s.alert_ids);
  entries.clear();
  alert_ids.clear();
  s = Subject{};
  s.entries = std::move(entries);
  s.alert_ids = std::move(alert_ids);
}

enum class Expiry { unchanged, changed, remove };

// Drops what can no longer matter at watermark wm; says whether the subject
// as a whole can go.
Expiry expire_subject(Subject& s, std::int64_t wm, const RuleParams& p) {
  bool changed = false;
  const std::int64_t horizon = wm - p.keep_ms;
  auto stale = std::partition_point(s.entries.begin(), s.entries.end(),
                                    [horizon](const Entry& e) { return e.observed_ms <= horizon; });
  if (stale != s.entries.begin()) {
    s.entries.erase(s.entries.begin(), stale);
    changed = true;
  }
  if (s.alerted && s.last_alert_ms <= wm - p.retention_ms) {
    s.alerted = false;  // retention also bounds the alert history
    s.alert_ids.clear();
    changed = true;
  }
  if (s.entries.empty() && (!s.alerted || wm >= s.last_alert_ms + p.cooldown_ms)) {
    return Expiry::remove;
  }
  return changed ? Expiry::changed : Expiry::unchanged;
}

}  // namespace

// The per-partition state: decoded subjects cached over the store. Keys are
// "<type>:<key>", as on the internal topic. Changed subjects are listed in
// `dirty` and written to the store on flush, or before being evicted.
struct ConvergenceScorer::SubjectCache {
  SubjectCache(StateStore& s, const OperatorConfig& config, std::size_t max_cached_subjects)
      : store(s),
        codec(config),
        max_cached(std::max<std::size_t>(1, max_cached_subjects)),
        source_stamp(config.sources.size(), 0) {
    // Whatever the store holds now (a restart, a restored changelog) is known.
    store.scan("", [this](std::string_view k, std::string_view) {
      known.add(SubjectTable::hash(k));
      return true;
    });
  }

  void make_key(SubjectType type, std::string_view key_part) {
    key.clear();
    key.append(to_string(type));
    key.push_back(':');
    key.append(key_part);
  }

  void mark_dirty(SubjectNode& node) {
    if (node.value.dirty) return;
    node.value.dirty = true;
    dirty.push_back(&node);
  }

  void write_dirty() {
    for (SubjectNode* node : dirty) {
      codec.encode(node->value, value);
      store.put(node->key, value);
      node->value.dirty = false;
    }
    dirty.clear();
  }

  void forget_dirty(SubjectNode& node) {
    if (!node.value.dirty) return;
    dirty.erase(std::find(dirty.begin(), dirty.end(), &node));
    node.value.dirty = false;
  }

  // Reads `key` from the store into s; false if absent or unreadable.
  bool read(const RuleParams& p, Subject& s) {
    if (!store.get(key, value)) return false;
    if (codec.decode(value, p, s)) return true;
    // Unreadable state is replaced rather than failing the partition forever.
    // No key in the log: keys are pseudonyms of persons.
    ++undecodable;
    spdlog::warn("convergence: replacing an undecodable state entry ({} so far)", undecodable);
    return false;
  }

  // The subject for `key`, from the cache, the store, or new.
  SubjectNode& load(const RuleParams& p) {
    ++tick;
    const std::uint64_t h = SubjectTable::hash(key);
    if (SubjectNode* node = cache.find(key, h)) {
      node->value.last_used = tick;
      return *node;
    }
    if (cache.size() >= max_cached) evict();
    SubjectNode& node = cache.insert(key, h);  // possibly a recycled node
    reset_subject(node.value);
    // A key never written needs no store lookup.
    if (known.may_contain(h)) {
      if (!read(p, node.value)) reset_subject(node.value);  // absent, or partly decoded
    } else {
      known.add(h);  // it will be written once it changes
    }
    node.value.last_used = tick;
    return node;
  }

  // Drops the least recently used eighth of the cache, after writing every
  // changed subject to the store (so nothing is lost and `dirty` holds no
  // pointer to an evicted node).
  void evict() {
    write_dirty();
    ticks.clear();
    cache.for_each([&](const SubjectNode& n) { ticks.push_back(n.value.last_used); });
    if (ticks.empty()) return;
    const std::size_t drop = std::max<std::size_t>(1, ticks.size() / 8);
    std::nth_element(ticks.begin(), ticks.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                     ticks.end());
    const std::uint64_t cutoff = ticks[drop - 1];
    doomed.clear();
    cache.for_each([&](SubjectNode& n) {
      if (n.value.last_used <= cutoff) doomed.push_back(&n);
    });
    for (SubjectNode* n : doomed) cache.recycle(n);
  }

  // Distinct sources among the entries in r (stamping, no allocation).
  int distinct_sources(const Subject& s, Range r) {
    if (++stamp_generation == 0) {
      std::fill(source_stamp.begin(), source_stamp.end(), 0);
      stamp_generation = 1;
    }
    int n = 0;
    for (std::size_t i = r.lo; i < r.hi; ++i) {
      auto& stamp = source_stamp[s.entries[i].source];
      if (stamp != stamp_generation) {
        stamp = stamp_generation;
        ++n;
      }
    }
    return n;
  }

  StateStore& store;
  convergence::SubjectCodec codec;
  // Every key in the store or the cache is in here (plus some erased ones).
  KnownKeys known;
  SubjectTable cache;
  std::vector<SubjectNode*> dirty;  // changed since written to the store
  std::size_t max_cached;
  std::uint64_t tick = 0;
  std::uint64_t undecodable = 0;
  std::string key;    // scratch: "<type>:<key>" of the current subject
  std::string value;  // scratch: encoded subject
  std::vector<std::uint32_t> source_stamp;
  std::uint32_t stamp_generation = 0;
  std::vector<std::uint64_t> ticks;     // scratch for eviction
  std::vector<SubjectNode*> doomed;     // scratch for eviction and expiry
  Subject scratch;                   // uncached subjects during inspect/expire
};

ConvergenceScorer::ConvergenceScorer(const OperatorConfig& config) : config_(config) {
  Millis max_lateness{0};
  for (const auto& source : config.sources) {
    max_lateness = std::max(max_lateness, source.allowed_lateness);
  }
  for (std::size_t i = 0; i < kSubjectTypeCount; ++i) {
    params_[i] = std::make_unique<RuleParams>(
        RuleParams::from(config.rules[i], max_lateness, config.retention));
  }
}

ConvergenceScorer::~ConvergenceScorer() = default;

ConvergenceScorer::State::State(std::unique_ptr<SubjectCache> cache)
    : cache_(std::move(cache)) {}

ConvergenceScorer::State::~State() = default;

std::unique_ptr<ConvergenceScorer::State> ConvergenceScorer::make_state(
    StateStore& store, std::size_t max_cached_subjects) const {
  return std::unique_ptr<State>(
      new State(std::make_unique<SubjectCache>(store, config_, max_cached_subjects)));
}

std::size_t ConvergenceScorer::cached_subjects(const State& state) const {
  return state.cache_->cache.size();
}

ConvergenceScorer::Result ConvergenceScorer::process(State& state, const RoutedSignal& sig,
                                                     ProcTime now,
                                                     std::vector<Alert>& alerts) const {
  SubjectCache& st = *state.cache_;
  using Kind = Result::Kind;
  const auto type_index = static_cast<std::size_t>(sig.subject_type);
  if (type_index >= kSubjectTypeCount || sig.subject_key.empty() ||
      sig.source >= config_.sources.size() || sig.indicator >= config_.catalogue.size()) {
    return {Kind::ignored, 0};
  }
  const ConvergenceRule& rule = config_.rules[type_index];
  if (rule.skip_reception && sig.subject_type == SubjectType::location &&
      config_.linking.is_reception(sig.subject_key)) {
    return {Kind::ignored, 0};  // a reception site: its score would measure occupancy
  }
  const RuleParams& p = *params_[type_index];
  const std::int64_t t = to_ms(sig.observed_at);
  // Contributions at or before the horizon can never be in a window again:
  // every signal still accepted is at most the allowed lateness behind the
  // watermark the intake stage stamped on this one.
  const std::int64_t horizon = sig.watermark > kMinEventTime
                                   ? to_ms(sig.watermark) - p.keep_ms
                                   : std::numeric_limits<std::int64_t>::min();
  if (t <= horizon) return {Kind::ignored, 0};

  st.make_key(sig.subject_type, sig.subject_key);
  SubjectNode& node = st.load(p);
  Subject& s = node.value;
  for (const Entry& e : s.entries) {
    if (e.source == sig.source && e.signal_id == sig.signal_id) return {Kind::duplicate, 0};
  }

  // Add the contribution in sort order.
  auto stale = std::partition_point(s.entries.begin(), s.entries.end(),
                                    [horizon](const Entry& e) { return e.observed_ms <= horizon; });
  s.entries.erase(s.entries.begin(), stale);
  convergence::maybe_rebase(s, t, p);
  auto pos = std::partition_point(s.entries.begin(), s.entries.end(), [&](const Entry& e) {
    return entry_before(e, t, sig.signal_id, sig.source);
  });
  std::size_t idx = static_cast<std::size_t>(pos - s.entries.begin());
  {
    Entry& e = *s.entries.emplace(pos);
    e.signal_id.assign(sig.signal_id);
    e.observed_ms = t;
    e.reported_ms = to_ms(sig.reported_at);
    e.source = sig.source;
    e.indicator = sig.indicator;
    e.strength = sig.strength;
    e.weight = config_.catalogue.at(sig.indicator).weight;
    e.scaled = convergence::scaled_weight(e.weight, t, s.anchor_ms, p);
  }
  st.mark_dirty(node);

  // Over the bound: drop the weakest contribution at the newest time (those
  // already out of its window first, then the oldest among equals).
  if (s.entries.size() > std::max<std::size_t>(1, rule.max_contributions)) {
    const std::int64_t out_of_window = s.entries.back().observed_ms - p.window_ms;
    std::size_t victim = 0;
    double weakest = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < s.entries.size(); ++i) {
      const double w = s.entries[i].observed_ms <= out_of_window ? 0.0 : s.entries[i].scaled;
      if (w < weakest) {
        weakest = w;
        victim = i;
      }
    }
    s.entries.erase(s.entries.begin() + static_cast<std::ptrdiff_t>(victim));
    if (victim == idx) {
      const std::int64_t newest = s.entries.back().observed_ms;
      return {Kind::scored, convergence::score_at(s, convergence::window_at(s, newest, p),
                                                  newest, p)};
    }
    if (victim < idx) --idx;
  }

  // Evaluate at every contribution time from the new one on, so a late
  // signal counts as if it had arrived on time; of the times where an alert
  // may be raised, take the highest score.
  double max_score = 0;
  std::optional<Candidate> best;
  for (std::size_t j = idx; j < s.entries.size();) {
    const std::int64_t at = s.entries[j].observed_ms;
    const Range r = convergence::window_at(s, at, p);
    const double score = convergence::score_at(s, r, at, p);
    max_score = std::max(max_score, score);
    if (reaches(score, rule.threshold) && (!best || score > best->score) &&
        ((rule.concrete_alone && has_concrete(s, r)) ||
         st.distinct_sources(s, r) >= rule.min_sources)) {
      if (auto c = alertable(s, at, score, r, rule, p)) best = c;
    }
    j = r.hi;  // the next distinct time
  }
  if (!best) return {Kind::scored, max_score};

  // Bookkeeping, in event time. An episode completed long before the current
  // one (very late data) is reported but does not move the bookkeeping back.
  if (best->level == 0) {
    if (!s.alerted || best->at_ms >= s.last_alert_ms) {
      s.alerted = true;
      s.level = 0;
      s.episode_start_ms = best->at_ms;
      s.last_alert_ms = best->at_ms;
      s.last_alert_score = best->score;
    }
  } else {
    s.level = best->level;
    s.last_alert_score = best->score;
    s.last_alert_ms = std::max(s.last_alert_ms, best->at_ms);
  }
  const convergence::AlertIdText id = convergence::make_alert_id(
      rule.name, sig.subject_type, sig.subject_key, best->episode_start_ms, best->level);
  convergence::remember_alert_id(s, id);
  fill_alert(s, *best, p, id, rule, sig, now, config_, alerts.emplace_back());
  return {Kind::alerted, max_score};
}

Status ConvergenceScorer::flush(State& state) const {
  SubjectCache& st = *state.cache_;
  st.write_dirty();
  return st.store.flush();
}

void ConvergenceScorer::erase(State& state, SubjectType type, std::string_view key) const {
  SubjectCache& st = *state.cache_;
  st.make_key(type, key);
  if (SubjectNode* node = st.cache.find(st.key)) {
    st.forget_dirty(*node);
    st.cache.erase(node);
  }
  st.store.erase(st.key);
}

std::size_t ConvergenceScorer::expire(State& state, EventTime watermark) const {
  SubjectCache& st = *state.cache_;
  if (watermark <= kMinEventTime) return 0;
  const std::int64_t wm = to_ms(watermark);
  std::size_t removed = 0;
  // The store must hold every subject the scan below could see, and `dirty`
  // must be empty before cache slots are erased.
  st.write_dirty();
  st.doomed.clear();
  st.cache.for_each([&](SubjectNode& node) {
    const auto type = type_of_key(node.key);
    if (!type) return;
    switch (expire_subject(node.value, wm, *params_[static_cast<std::size_t>(*type)])) {
      case Expiry::remove: st.doomed.push_back(&node); break;
      case Expiry::changed: st.mark_dirty(node); break;
      case Expiry::unchanged: break;
    }
  });
  for (SubjectNode* node : st.doomed) {
    st.store.erase(node->key);
    st.cache.erase(node);
    ++removed;
  }

  // Subjects not in the cache: the fixed header says whether decoding is needed.
  struct Update {
    std::string key;
    std::string value;
    bool erase;
  };
  std::vector<Update> updates;
  // The scan sees every key the store holds, so the known keys are rebuilt
  // from it, shedding the erased ones (those erased below are added too: a
  // false "maybe" is harmless).
  st.known.clear();
  st.cache.for_each([&](const SubjectNode& node) { st.known.add(SubjectTable::hash(node.key)); });
  st.store.scan("", [&](std::string_view key, std::string_view value) {
    const std::uint64_t h = SubjectTable::hash(key);
    st.known.add(h);
    if (st.cache.find(key, h)) return true;
    const auto type = type_of_key(key);
    convergence::SubjectHeader header;
    if (!type || !convergence::SubjectCodec::read_header(value, header)) {
      updates.push_back({std::string(key), {}, true});  // not ours or unreadable
      return true;
    }
    const RuleParams& p = *params_[static_cast<std::size_t>(*type)];
    const bool no_entries = header.min_observed_ms == std::numeric_limits<std::int64_t>::max();
    const bool never_alerted = header.last_alert_ms == std::numeric_limits<std::int64_t>::min();
    if (!no_entries && header.min_observed_ms > wm - p.keep_ms &&
        (never_alerted || header.last_alert_ms > wm - p.retention_ms)) {
      return true;  // nothing in it has expired yet
    }
    if (!st.codec.decode(value, p, st.scratch)) {
      updates.push_back({std::string(key), {}, true});
      return true;
    }
    switch (expire_subject(st.scratch, wm, p)) {
      case Expiry::remove: updates.push_back({std::string(key), {}, true}); break;
      case Expiry::changed: {
        Update& u = updates.emplace_back(Update{std::string(key), {}, false});
        st.codec.encode(st.scratch, u.value);
        break;
      }
      case Expiry::unchanged: break;
    }
    return true;
  });
  for (const auto& u : updates) {
    if (u.erase) {
      st.store.erase(u.key);
      ++removed;
    } else {
      st.store.put(u.key, u.value);
    }
  }
  return removed;
}

std::optional<ConvergenceScorer::SubjectView> ConvergenceScorer::inspect(State& state,
                                                                          SubjectType type,
                                                                          std::string_view key,
                                                                          EventTime at) const {
  SubjectCache& st = *state.cache_;
  const auto type_index = static_cast<std::size_t>(type);
  if (type_index >= kSubjectTypeCount) return std::nullopt;
  const RuleParams& p = *params_[type_index];
  st.make_key(type, key);
  const Subject* s = nullptr;
  const std::uint64_t h = SubjectTable::hash(st.key);
  if (const SubjectNode* node = st.cache.find(st.key, h)) {
    s = &node->value;
  } else if (st.known.may_contain(h) && st.read(p, st.scratch)) {
    s = &st.scratch;
  } else {
    return std::nullopt;
  }

  SubjectView view;
  view.type = type;
  view.key = std::string(key);
  const std::int64_t t = to_ms(at);
  const Range r = convergence::window_at(*s, t, p);
  view.score = convergence::score_at(*s, r, t, p);
  for (std::size_t i = r.lo; i < r.hi; ++i) {
    const Entry& e = s->entries[i];
    Contribution& c = view.contributions.emplace_back();
    c.signal_id = e.signal_id;
    c.source = e.source;
    c.indicator = e.indicator;
    c.observed_at = event_time_from_ms(e.observed_ms);
    c.reported_at = event_time_from_ms(e.reported_ms);
    c.weight = e.weight;
    c.decayed_weight = convergence::decayed_weight(e, t, p);
  }
  if (!s->entries.empty()) view.newest = event_time_from_ms(s->entries.back().observed_ms);
  for (const auto& id : s->alert_ids) view.alert_ids.emplace_back(id.data(), id.size());
  if (s->alerted) {
    view.level = s->level;
    view.last_alert_at = event_time_from_ms(s->last_alert_ms);
  }
  return view;
}

}  // namespace mozaiek
