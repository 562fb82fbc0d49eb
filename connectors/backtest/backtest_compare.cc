#include "connectors/backtest/backtest_compare.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace mozaiek {
namespace {

bool same_score(double a, double b) { return std::fabs(a - b) < 1e-6; }

// The persons an alert names: its subject and the persons it links.
std::vector<const std::string*> persons_named(const Alert& a) {
  std::vector<const std::string*> out;
  if (a.subject_type == SubjectType::person && a.subject_kind.empty()) {
    out.push_back(&a.subject_key);
  }
  for (const auto& l : a.linked) {
    if (l.type == SubjectType::person) out.push_back(&l.key);
  }
  return out;
}

// Thresholds of the sweep: every quarter point up to 15, and the side's own.
std::vector<double> sweep(double own) {
  std::vector<double> t;
  for (int q = 2; q <= 60; ++q) t.push_back(q / 4.0);
  if (std::find_if(t.begin(), t.end(), [&](double x) { return same_score(x, own); }) == t.end()) {
    t.push_back(own);
  }
  std::sort(t.begin(), t.end());
  return t;
}

}  // namespace

std::string_view to_string(DiffKind k) {
  switch (k) {
    case DiffKind::only_baseline: return "only_baseline";
    case DiffKind::only_candidate: return "only_candidate";
    case DiffKind::changed: return "changed";
    case DiffKind::same: return "same";
  }
  return "same";
}

std::size_t BacktestReport::count(DiffKind k) const {
  return static_cast<std::size_t>(
      std::count_if(diffs.begin(), diffs.end(), [k](const EpisodeDiff& d) { return d.kind == k; }));
}

std::map<EpisodeKey, Episode> episodes_of(const std::vector<Alert>& alerts) {
  std::map<EpisodeKey, Episode> out;
  std::map<EpisodeKey, std::size_t> next;  // n = 0: episodes so far per (rule, subject)
  for (const Alert& a : alerts) {
    EpisodeKey base{a.rule, a.subject_type,
                    a.subject_kind.empty() ? a.subject_key : a.subject_kind + ":" + a.subject_key,
                    0};
    std::size_t& n = next[base];
    if (a.level == 0 || n == 0) {  // a new episode (an escalation without one starts one)
      base.n = n++;
      out.emplace(base, Episode{a, a.level, a.score, 1});
      continue;
    }
    base.n = n - 1;
    Episode& e = out[base];
    e.max_level = std::max(e.max_level, a.level);
    e.max_score = std::max(e.max_score, a.score);
    ++e.alerts;
  }
  return out;
}

BacktestReport compare_sides(const SideResult& baseline, const SideResult& candidate,
                             KnownCases cases) {
  BacktestReport r;
  r.baseline = &baseline;
  r.candidate = &candidate;
  for (const Alert& a : baseline.alerts) ++r.rules[a.rule].baseline_alerts;
  for (const Alert& a : candidate.alerts) ++r.rules[a.rule].candidate_alerts;
  const auto b = episodes_of(baseline.alerts);
  const auto c = episodes_of(candidate.alerts);
  for (const auto& [k, e] : b) ++r.rules[k.rule].baseline_episodes;
  for (const auto& [k, e] : c) ++r.rules[k.rule].candidate_episodes;
  auto bi = b.begin();
  auto ci = c.begin();
  while (bi != b.end() || ci != c.end()) {
    EpisodeDiff& d = r.diffs.emplace_back();
    if (ci == c.end() || (bi != b.end() && bi->first < ci->first)) {
      d.kind = DiffKind::only_baseline;
      d.key = bi->first;
      d.baseline = (bi++)->second;
      ++r.rules[d.key.rule].only_baseline;
      continue;
    }
    if (bi == b.end() || ci->first < bi->first) {
      d.kind = DiffKind::only_candidate;
      d.key = ci->first;
      d.candidate = (ci++)->second;
      ++r.rules[d.key.rule].only_candidate;
      continue;
    }
    d.key = bi->first;
    d.baseline = (bi++)->second;
    d.candidate = (ci++)->second;
    const Alert& x = d.baseline->first;
    const Alert& y = d.candidate->first;
    if (!same_score(x.score, y.score)) d.changes.emplace_back("score");
    if (d.baseline->max_level != d.candidate->max_level) d.changes.emplace_back("level");
    if (alert_known_at_ms(x) != alert_known_at_ms(y) || x.last_seen != y.last_seen) {
      d.changes.emplace_back("raised_at");
    }
    if (!same_score(x.detection_delay_seconds, y.detection_delay_seconds)) {
      d.changes.emplace_back("detection_delay");
    }
    d.kind = d.changes.empty() ? DiffKind::same : DiffKind::changed;
    if (d.kind == DiffKind::changed) ++r.rules[d.key.rule].changed;
  }
  if (!cases.empty()) {
    r.baseline_quality = measure_quality(baseline, cases);
    r.candidate_quality = measure_quality(candidate, cases);
  }
  r.cases = std::move(cases);
  return r;
}

void add_registered_cases(const SideResult& side, KnownCases& cases) {
  for (const auto& [person, at] : side.registered) {
    auto [it, fresh] = cases.emplace(person, KnownCase{at, "victim.registered", ""});
    if (!fresh && it->second.outcome_at_ms == 0) {
      it->second.outcome_at_ms = at;
      it->second.outcome = "victim.registered";
    }
  }
}

SideQuality measure_quality(const SideResult& side, const KnownCases& cases) {
  SideQuality q;
  q.threshold = side.config.rule_for(SubjectType::person).threshold;
  auto caught_in_time = [&](const KnownCase& k, std::int64_t known) {
    return k.outcome_at_ms == 0 || known <= k.outcome_at_ms;
  };
  std::map<std::string, std::vector<const Alert*>> by_rule;
  for (const Alert& a : side.alerts) by_rule[a.rule].push_back(&a);
  by_rule["any"];  // every alert that names a person
  for (auto& [rule, alerts] : by_rule) {
    const bool any = rule == "any";
    const std::vector<const Alert*>* list = &alerts;
    std::vector<const Alert*> all;
    if (any) {
      for (const Alert& a : side.alerts) all.push_back(&a);
      list = &all;
    }
    RuleQuality& rq = q.rules.emplace_back();
    rq.rule = rule;
    rq.subject_type = any || list->empty() ? SubjectType::person : list->front()->subject_type;
    rq.cases = cases.size();
    rq.subjects_seen = side.subjects_seen(rq.subject_type);
    std::map<std::string, std::int64_t> first_known;  // case -> earliest catching alert
    std::set<std::string> subjects, true_subjects;
    for (const Alert* a : *list) {
      const std::vector<const std::string*> named = persons_named(*a);
      if (any && named.empty()) continue;
      const std::string subject = any ? *named.front()
                                      : std::string(to_string(a->subject_type)) + ":" +
                                            a->subject_kind + a->subject_key;
      subjects.insert(subject);
      const std::int64_t known = alert_known_at_ms(*a);
      for (const std::string* p : named) {
        auto it = cases.find(*p);
        if (it == cases.end()) continue;
        if (!any || p == named.front()) true_subjects.insert(subject);
        if (!caught_in_time(it->second, known)) continue;
        auto [f, fresh] = first_known.emplace(*p, known);
        if (!fresh) f->second = std::min(f->second, known);
      }
      if (any) {
        for (const std::string* p : named) subjects.insert(*p);
        for (const std::string* p : named) {
          if (cases.count(*p) != 0) true_subjects.insert(*p);
        }
      }
    }
    rq.caught = first_known.size();
    for (const auto& [person, known] : first_known) {
      const KnownCase& k = cases.at(person);
      if (k.outcome_at_ms != 0) {
        rq.lead_days.push_back(static_cast<double>(k.outcome_at_ms - known) / 86'400'000.0);
      }
    }
    std::sort(rq.lead_days.begin(), rq.lead_days.end());
    rq.false_subjects = subjects.size() - true_subjects.size();
    for (const auto& [person, k] : cases) {
      auto& [caught, total] = rq.by_shape[k.shape.empty() ? k.outcome : k.shape];
      ++total;
      caught += first_known.count(person);
    }
  }
  // "any" last, the rules before it by name.
  std::stable_partition(q.rules.begin(), q.rules.end(),
                        [](const RuleQuality& r) { return r.rule != "any"; });

  // The sweep: each person's highest eligible score before the outcome.
  std::vector<double> case_scores, other_scores;
  for (const auto& [person, steps] : side.persons) {
    auto it = cases.find(person);
    double best = 0;
    for (const auto& [known, score] : steps) {
      if (it != cases.end() && !caught_in_time(it->second, known)) break;
      best = score;
    }
    (it != cases.end() ? case_scores : other_scores).push_back(best);
  }
  const std::size_t persons = side.persons.size();
  for (const double t : sweep(q.threshold)) {
    PrPoint p;
    p.threshold = t;
    auto at_least = [t](double s) { return s >= t - 1e-9; };
    p.tp = static_cast<std::size_t>(
        std::count_if(case_scores.begin(), case_scores.end(), at_least));
    p.fp = static_cast<std::size_t>(
        std::count_if(other_scores.begin(), other_scores.end(), at_least));
    p.precision = p.tp + p.fp == 0 ? 1.0
                                   : static_cast<double>(p.tp) / static_cast<double>(p.tp + p.fp);
    p.recall = cases.empty() ? 0.0 : static_cast<double>(p.tp) / static_cast<double>(cases.size());
    p.false_per_10k = persons == 0
                          ? 0.0
                          : 10000.0 * static_cast<double>(p.fp) / static_cast<double>(persons);
    q.pr.push_back(p);
  }
  return q;
}

}  // namespace mozaiek
