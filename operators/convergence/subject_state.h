// The convergence state of one subject (person, vehicle, location) and the
// decayed-score arithmetic over it. Internal to the convergence scorer.
//
// Decay trick: the decayed weight at T is w * 2^((t - T) / h). Each entry
// keeps w * 2^((t - anchor) / h) for a per-subject anchor, so a score is one
// exp2() plus a sum instead of one exp2() per contribution. The anchor is
// part of the persisted state, so a restored subject computes bit-identical
// scores, and it is moved forward before the factors could overflow.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "operators/model/model.h"

namespace mozaiek::convergence {

using AlertIdText = std::array<char, 32>;  // 32 lower-case hex digits
inline constexpr std::size_t kMaxAlertIds = 8;

// Rule durations as plain numbers, derived once from a ConvergenceRule.
struct RuleParams {
  double half_life_ms = 0;  // <= 0: no decay
  std::int64_t window_ms = 0;
  std::int64_t cooldown_ms = 0;
  // How far behind the watermark contributions can still matter: window plus
  // the largest allowed lateness, capped by the retention.
  std::int64_t keep_ms = 0;
  std::int64_t retention_ms = 0;

  static RuleParams from(const ConvergenceRule& rule, Millis max_lateness, Millis retention);
};

// One contribution of one signal to one subject.
struct Entry {
  std::string signal_id;
  std::int64_t observed_ms = 0;
  std::int64_t reported_ms = 0;
  double weight = 0;  // catalogue weight of the indicator
  double scaled = 0;  // weight * 2^((observed_ms - anchor_ms) / half_life)
  SourceId source = 0;
  IndicatorId indicator = 0;
  Strength strength = Strength::soft;
};

struct Subject {
  // Sorted by (observed_ms, signal_id, source): a total order, since
  // (source, signal_id) is unique per subject.
  std::vector<Entry> entries;
  std::int64_t anchor_ms = 0;

  // Alert bookkeeping, in event time.
  bool alerted = false;
  int level = 0;
  std::int64_t episode_start_ms = 0;
  std::int64_t last_alert_ms = 0;
  double last_alert_score = 0;
  std::vector<AlertIdText> alert_ids;  // oldest first, at most kMaxAlertIds
};

// w * 2^((t - anchor) / h).
double scaled_weight(double weight, std::int64_t observed_ms, std::int64_t anchor_ms,
                     const RuleParams& p);

// Recomputes every entry's scaled weight for the subject's anchor.
void rescale(Subject& s, const RuleParams& p);

// Moves the anchor to `to` when contributions at `to` would push the scaled
// weights out of comfortable double range; returns true if it moved.
bool maybe_rebase(Subject& s, std::int64_t to, const RuleParams& p);

// Half-open index range [lo, hi) of the entries inside the window at T:
// T - window < observed <= T.
struct Range {
  std::size_t lo = 0;
  std::size_t hi = 0;
  bool empty() const { return lo >= hi; }
};
Range window_at(const Subject& s, std::int64_t t_ms, const RuleParams& p);

// Sum of decayed weights of entries in r at T.
double score_at(const Subject& s, Range r, std::int64_t t_ms, const RuleParams& p);

// The decayed weight of one entry at T (exact formula; for explanations).
double decayed_weight(const Entry& e, std::int64_t t_ms, const RuleParams& p);

// Records an alert id, keeping only the newest kMaxAlertIds.
void remember_alert_id(Subject& s, const AlertIdText& id);

}  // namespace mozaiek::convergence
