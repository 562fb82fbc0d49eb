// What a backtest reports about two sides run over the same history: the
// alerts per rule, the alert episodes only one side raised or both raised
// differently, and, when cases are known (labels, victim.registered events),
// the detection quality per rule and a precision-recall curve over the
// person threshold. Pure functions over SideResults; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/backtest/backtest_run.h"

namespace mozaiek {

// One alert episode: the first alert of a rule on a subject and the
// escalations that followed it, as one comparable unit.
struct Episode {
  Alert first;
  int max_level = 0;
  double max_score = 0;
  std::size_t alerts = 0;  // the first and its escalations
};

// (rule, subject type, subject key, n-th episode of that rule on it)
struct EpisodeKey {
  std::string rule;
  SubjectType type = SubjectType::person;
  std::string key;
  std::size_t n = 0;
  auto operator<=>(const EpisodeKey&) const = default;
};

enum class DiffKind : std::uint8_t { only_baseline, only_candidate, changed, same };
std::string_view to_string(DiffKind k);

struct EpisodeDiff {
  DiffKind kind = DiffKind::same;
  EpisodeKey key;
  std::optional<Episode> baseline, candidate;
  // For changed: which of "score", "level", "raised_at", "detection_delay".
  std::vector<std::string> changes;
};

struct RuleCounts {
  std::size_t baseline_alerts = 0, candidate_alerts = 0;
  std::size_t baseline_episodes = 0, candidate_episodes = 0;
  std::size_t only_baseline = 0, only_candidate = 0, changed = 0;
};

// A person known to be a case, and when the outcome came (0: not known).
struct KnownCase {
  std::int64_t outcome_at_ms = 0;
  std::string outcome;  // "victim.registered", "person.departed_unknown", "label"
  std::string shape;    // from the labels file, if it says
};
using KnownCases = std::map<std::string, KnownCase>;  // by pseudonym

struct RuleQuality {
  std::string rule;
  SubjectType subject_type = SubjectType::person;
  std::size_t cases = 0;
  std::size_t caught = 0;          // alerted (subject or linked) before the outcome
  std::vector<double> lead_days;   // outcome - raised, per caught case with an outcome time
  std::size_t false_subjects = 0;  // alerted subjects naming no case
  std::size_t subjects_seen = 0;   // of the rule's subject type
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_shape;  // caught, cases
  double false_per_10k() const {
    return subjects_seen == 0
               ? 0.0
               : 10000.0 * static_cast<double>(false_subjects) / static_cast<double>(subjects_seen);
  }
};

struct PrPoint {
  double threshold = 0;
  std::size_t tp = 0, fp = 0;
  double precision = 1, recall = 0, false_per_10k = 0;
};

struct SideQuality {
  std::vector<RuleQuality> rules;  // by rule name; "any" last: any alert naming the person
  std::vector<PrPoint> pr;         // person rule, threshold ascending
  double threshold = 0;            // the side's person threshold
};

struct BacktestReport {
  const SideResult* baseline = nullptr;
  const SideResult* candidate = nullptr;
  std::map<std::string, RuleCounts> rules;
  std::vector<EpisodeDiff> diffs;  // every episode of either side, in key order
  KnownCases cases;
  std::optional<SideQuality> baseline_quality, candidate_quality;
  std::size_t count(DiffKind k) const;
};

std::map<EpisodeKey, Episode> episodes_of(const std::vector<Alert>& alerts);

// The comparison; quality only when cases is not empty.
BacktestReport compare_sides(const SideResult& baseline, const SideResult& candidate,
                             KnownCases cases);

// Cases from the history's victim.registered events (the earliest each).
void add_registered_cases(const SideResult& side, KnownCases& cases);

// Detection quality of one side against known cases; the PR curve sweeps
// the person threshold over each person's highest eligible score before
// their outcome (one run, no rerun per point).
SideQuality measure_quality(const SideResult& side, const KnownCases& cases);

}  // namespace mozaiek
