#include "operators/convergence/convergence_scorer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "operators/convergence/alert_builder.h"
#include "operators/convergence/episode.h"
#include "operators/convergence/subject_codec.h"
#include "operators/convergence/subject_state.h"
#include "stream/cached_store.h"

namespace mozaiek {

using convergence::Entry;
using convergence::Range;
using convergence::RuleParams;
using convergence::Subject;

namespace {

using convergence::reaches;

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
                std::string_view rule_name, Purpose purpose, const RoutedSignal& sig, ProcTime now,
                const OperatorConfig& config, Alert& a) {
  convergence::AlertBuilder b(config, a);
  b.open(rule_name, sig.subject_type, sig.subject_key, c.episode_start_ms, c.level, now)
      .purpose(purpose)
      .score(convergence::round_score(c.score));
  a.contributions.reserve(c.range.hi - c.range.lo);
  for (std::size_t i = c.range.lo; i < c.range.hi; ++i) {
    const Entry& e = s.entries[i];
    Contribution& out = b.contribution();
    out.signal_id = e.signal_id;
    out.source = e.source;
    out.indicator = e.indicator;
    out.observed_at = event_time_from_ms(e.observed_ms);
    out.reported_at = event_time_from_ms(e.reported_ms);
    out.weight = e.weight;
    out.decayed_weight = convergence::decayed_weight(e, c.at_ms, p);
  }
  b.summarise_contributions().finish();
}

// Adds the signal's contribution in sort order, after dropping those at or
// before the horizon; returns its index.
std::size_t add_entry(Subject& s, const RoutedSignal& sig, std::int64_t t, std::int64_t horizon,
                      double weight, const RuleParams& p) {
  auto stale = std::partition_point(s.entries.begin(), s.entries.end(),
                                    [horizon](const Entry& e) { return e.observed_ms <= horizon; });
  s.entries.erase(s.entries.begin(), stale);
  convergence::maybe_rebase(s, t, p);
  auto pos = std::partition_point(s.entries.begin(), s.entries.end(), [&](const Entry& e) {
    return entry_before(e, t, sig.signal_id, sig.source);
  });
  const std::size_t idx = static_cast<std::size_t>(pos - s.entries.begin());
  Entry& e = *s.entries.emplace(pos);
  e.signal_id.assign(sig.signal_id);
  e.observed_ms = t;
  e.reported_ms = to_ms(sig.reported_at);
  e.source = sig.source;
  e.indicator = sig.indicator;
  e.strength = sig.strength;
  e.weight = weight;
  e.scaled = convergence::scaled_weight(e.weight, t, s.anchor_ms, p);
  return idx;
}

// Over the bound: drops the weakest contribution at the newest time (those
// already out of its window first, then the oldest among equals) and keeps
// idx on the new one; false when the new one was dropped.
bool keep_bound(Subject& s, std::size_t& idx, const ConvergenceRule& rule, const RuleParams& p) {
  if (s.entries.size() <= std::max<std::size_t>(1, rule.max_contributions)) return true;
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
  if (victim == idx) return false;
  if (victim < idx) --idx;
  return true;
}

// The alert bookkeeping, in event time. An episode completed long before the
// current one (very late data) is reported but does not move it back.
void note_alert(Subject& s, const Candidate& best) {
  if (best.level == 0) {
    if (!s.alerted || best.at_ms >= s.last_alert_ms) {
      s.alerted = true;
      s.level = 0;
      s.episode_start_ms = best.at_ms;
      s.last_alert_ms = best.at_ms;
      s.last_alert_score = best.score;
    }
  } else {
    s.level = best.level;
    s.last_alert_score = best.score;
    s.last_alert_ms = std::max(s.last_alert_ms, best.at_ms);
  }
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

namespace {

// The subject codec as the cache uses it: decoding needs the rule of the
// subject's type.
struct SubjectStoreCodec {
  explicit SubjectStoreCodec(const OperatorConfig& config) : codec(config) {}
  void encode(const Subject& s, std::string& out) { codec.encode(s, out); }
  bool decode(std::string_view in, Subject& s, const RuleParams& p) {
    return codec.decode(in, p, s);
  }
  void reset(Subject& s) { reset_subject(s); }
  bool erases(const Subject&) const { return false; }
  convergence::SubjectCodec codec;
};

}  // namespace

// The per-partition state: decoded subjects cached over the store, keyed
// "<type>:<key>" as on the internal topic.
struct ConvergenceScorer::SubjectCache {
  using Subjects = CachedStore<Subject, SubjectStoreCodec>;
  using Node = Subjects::Node;

  SubjectCache(StateStore& store, const OperatorConfig& config, std::size_t max_cached_subjects)
      : subjects(store, "convergence", max_cached_subjects, "", config),
        source_stamp(config.sources.size(), 0) {}

  std::string_view make_key(SubjectType type, std::string_view key_part) {
    return subjects.make_key(to_string(type), std::string_view(":"), key_part);
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

  Subjects subjects;
  std::vector<std::uint32_t> source_stamp;
  std::uint32_t stamp_generation = 0;
  Subject scratch;  // uncached subjects during inspect/expire
};

namespace {

// Evaluates at every contribution time from idx on, so a late signal counts
// as if it had arrived on time; of the times where an alert may be raised,
// the one with the highest score. max_score: the highest score evaluated;
// eligible (when not null): raised to the highest score evaluated at a time
// the rule's source condition holds, whatever the threshold;
// distinct_sources(s, range) counts the organisations in a range.
template <class DistinctSources>
std::optional<Candidate> best_candidate(DistinctSources&& distinct_sources, const Subject& s,
                                        std::size_t idx, const ConvergenceRule& rule,
                                        const RuleParams& p, double& max_score, double* eligible) {
  std::optional<Candidate> best;
  for (std::size_t j = idx; j < s.entries.size();) {
    const std::int64_t at = s.entries[j].observed_ms;
    const Range r = convergence::window_at(s, at, p);
    const double score = convergence::score_at(s, r, at, p);
    max_score = std::max(max_score, score);
    const bool high = reaches(score, rule.threshold) && (!best || score > best->score);
    const bool higher_eligible = eligible != nullptr && score > *eligible;
    if ((high || higher_eligible) && ((rule.concrete_alone && has_concrete(s, r)) ||
                                      distinct_sources(s, r) >= rule.min_sources)) {
      if (higher_eligible) *eligible = score;
      if (high) {
        if (auto c = alertable(s, at, score, r, rule, p)) best = c;
      }
    }
    j = r.hi;  // the next distinct time
  }
  return best;
}

}  // namespace

ConvergenceScorer::ConvergenceScorer(const OperatorConfig& config, Purpose purpose)
    : config_(config), purpose_(purpose) {
  Millis max_lateness{0};
  for (const auto& source : config.sources) {
    max_lateness = std::max(max_lateness, source.allowed_lateness);
  }
  for (std::size_t i = 0; i < kSubjectTypeCount; ++i) {
    params_[i] = std::make_unique<RuleParams>(
        RuleParams::from(config.rules[i], max_lateness, config.retention));
    rule_names_[i] = rule_name(config.rules[i].name, purpose);
  }
}

ConvergenceScorer::~ConvergenceScorer() = default;

ConvergenceScorer::State::State(std::unique_ptr<SubjectCache> cache) : cache_(std::move(cache)) {}

ConvergenceScorer::State::~State() = default;

std::unique_ptr<ConvergenceScorer::State> ConvergenceScorer::make_state(
    StateStore& store, std::size_t max_cached_subjects) const {
  return std::unique_ptr<State>(
      new State(std::make_unique<SubjectCache>(store, config_, max_cached_subjects)));
}

std::size_t ConvergenceScorer::cached_subjects(const State& state) const {
  return state.cache_->subjects.size();
}

ConvergenceScorer::Result ConvergenceScorer::process(State& state, const RoutedSignal& sig,
                                                     ProcTime now, std::vector<Alert>& alerts,
                                                     bool track_eligible) const {
  SubjectCache& st = *state.cache_;
  using Kind = Result::Kind;
  const auto type_index = static_cast<std::size_t>(sig.subject_type);
  if (type_index >= kSubjectTypeCount || sig.subject_key.empty() ||
      sig.source >= config_.sources.size() || sig.indicator >= config_.catalogue.size()) {
    return {Kind::ignored, 0, 0};
  }
  const ConvergenceRule& rule = config_.rules[type_index];
  if (rule.skip_reception && sig.subject_type == SubjectType::location &&
      (sig.subject_reception || config_.linking.is_reception(sig.subject_key))) {
    return {Kind::ignored, 0, 0};  // a reception site: its score would measure occupancy
  }
  const RuleParams& p = *params_[type_index];
  const std::int64_t t = to_ms(sig.observed_at);
  // Contributions at or before the horizon can never be in a window again:
  // every signal still accepted is at most the allowed lateness behind the
  // watermark the intake stage stamped on this one.
  const std::int64_t horizon = sig.watermark > kMinEventTime
                                   ? to_ms(sig.watermark) - p.keep_ms
                                   : std::numeric_limits<std::int64_t>::min();
  if (t <= horizon) return {Kind::ignored, 0, 0};

  SubjectCache::Node& node = st.subjects.load(st.make_key(sig.subject_type, sig.subject_key), p);
  Subject& s = node.value.value;
  for (const Entry& e : s.entries) {
    if (e.source == sig.source && e.signal_id == sig.signal_id) return {Kind::duplicate, 0, 0};
  }

  std::size_t idx = add_entry(s, sig, t, horizon, config_.catalogue.at(sig.indicator).weight, p);
  st.subjects.mark_dirty(node);
  if (!keep_bound(s, idx, rule, p)) {  // the new contribution was the weakest
    const std::int64_t newest = s.entries.back().observed_ms;
    return {Kind::scored, convergence::score_at(s, convergence::window_at(s, newest, p), newest, p),
            0};
  }
  double max_score = 0;
  auto distinct = [&st](const Subject& subject, Range r) {
    return st.distinct_sources(subject, r);
  };
  double eligible = 0;
  const std::optional<Candidate> best = best_candidate(distinct, s, idx, rule, p, max_score,
                                                       track_eligible ? &eligible : nullptr);
  if (!best) return {Kind::scored, max_score, eligible};
  note_alert(s, *best);
  Alert& alert = alerts.emplace_back();
  fill_alert(s, *best, p, rule_names_[static_cast<std::size_t>(sig.subject_type)], purpose_, sig,
             now, config_, alert);
  convergence::AlertIdText id;
  std::copy(alert.alert_id.begin(), alert.alert_id.end(), id.begin());
  convergence::remember_alert_id(s, id);
  return {Kind::alerted, max_score, eligible};
}

Status ConvergenceScorer::flush(State& state) const {
  SubjectCache& st = *state.cache_;
  st.subjects.write_dirty();
  return st.subjects.store().flush();
}

void ConvergenceScorer::erase(State& state, SubjectType type, std::string_view key) const {
  SubjectCache& st = *state.cache_;
  st.subjects.erase(st.make_key(type, key));
}

std::size_t ConvergenceScorer::expire(State& state, EventTime watermark) const {
  SubjectCache& st = *state.cache_;
  if (watermark <= kMinEventTime) return 0;
  const std::int64_t wm = to_ms(watermark);
  using Verdict = SubjectCache::Subjects::Verdict;
  auto verdict = [](Expiry e) {
    switch (e) {
      case Expiry::remove: return Verdict::remove;
      case Expiry::changed: return Verdict::changed;
      case Expiry::unchanged: break;
    }
    return Verdict::unchanged;
  };
  auto cached = [&](std::string_view key, Subject& s) {
    const auto type = type_of_key(key);
    if (!type) return Verdict::unchanged;
    return verdict(expire_subject(s, wm, *params_[static_cast<std::size_t>(*type)]));
  };
  // Subjects not in the cache: the fixed header says whether decoding is needed.
  auto stored = [&](std::string_view key, std::string_view value, std::string& rewritten) {
    const auto type = type_of_key(key);
    convergence::SubjectHeader header;
    if (!type || !convergence::SubjectCodec::read_header(value, header)) {
      return Verdict::remove;  // not ours or unreadable
    }
    const RuleParams& p = *params_[static_cast<std::size_t>(*type)];
    const bool no_entries = header.min_observed_ms == std::numeric_limits<std::int64_t>::max();
    const bool never_alerted = header.last_alert_ms == std::numeric_limits<std::int64_t>::min();
    if (!no_entries && header.min_observed_ms > wm - p.keep_ms &&
        (never_alerted || header.last_alert_ms > wm - p.retention_ms)) {
      return Verdict::unchanged;  // nothing in it has expired yet
    }
    SubjectStoreCodec& codec = st.subjects.codec();
    if (!codec.decode(value, st.scratch, p)) return Verdict::remove;
    const Verdict v = verdict(expire_subject(st.scratch, wm, p));
    if (v == Verdict::changed) codec.encode(st.scratch, rewritten);
    return v;
  };
  return st.subjects.expire(cached, stored);
}

std::optional<ConvergenceScorer::SubjectView> ConvergenceScorer::inspect(State& state,
                                                                         SubjectType type,
                                                                         std::string_view key,
                                                                         EventTime at) const {
  SubjectCache& st = *state.cache_;
  const auto type_index = static_cast<std::size_t>(type);
  if (type_index >= kSubjectTypeCount) return std::nullopt;
  const RuleParams& p = *params_[type_index];
  const Subject* s = st.subjects.peek(st.make_key(type, key), st.scratch, p);
  if (s == nullptr) return std::nullopt;

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
