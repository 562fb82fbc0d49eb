#include "operators/convergence/subject_state.h"

#include <algorithm>
#include <cmath>

namespace mozaiek::convergence {
namespace {

// Scaled weights stay within 2^+-kRebaseHalfLives of the anchor's scale for
// in-order data; a prefactor beyond kFastPathLimit falls back to the direct
// formula (only reachable with very short half-lives and very late data).
constexpr double kRebaseHalfLives = 128;
constexpr double kFastPathLimit = 256;

}  // namespace

RuleParams RuleParams::from(const ConvergenceRule& rule, Millis max_lateness, Millis retention) {
  RuleParams p;
  p.half_life_ms = static_cast<double>(rule.half_life.count());
  p.window_ms = rule.window.count() > 0 ? rule.window.count()
                                        : days(std::int64_t{365} * 100).count();
  p.cooldown_ms = std::max<std::int64_t>(0, rule.cooldown.count());
  p.retention_ms = retention.count() > 0 ? retention.count()
                                         : days(std::int64_t{365} * 100).count();
  p.keep_ms = std::min(p.window_ms + std::max<std::int64_t>(0, max_lateness.count()),
                       p.retention_ms);
  return p;
}

double scaled_weight(double weight, std::int64_t observed_ms, std::int64_t anchor_ms,
                     const RuleParams& p) {
  if (p.half_life_ms <= 0) return weight;
  return weight * std::exp2(static_cast<double>(observed_ms - anchor_ms) / p.half_life_ms);
}

void rescale(Subject& s, const RuleParams& p) {
  for (auto& e : s.entries) e.scaled = scaled_weight(e.weight, e.observed_ms, s.anchor_ms, p);
}

bool maybe_rebase(Subject& s, std::int64_t to, const RuleParams& p) {
  if (s.entries.empty()) {
    s.anchor_ms = to;
    return true;
  }
  if (p.half_life_ms <= 0) return false;
  if (static_cast<double>(to - s.anchor_ms) <= kRebaseHalfLives * p.half_life_ms) return false;
  s.anchor_ms = to;
  rescale(s, p);
  return true;
}

Range window_at(const Subject& s, std::int64_t t_ms, const RuleParams& p) {
  const auto& v = s.entries;
  const std::int64_t from = t_ms - p.window_ms;
  auto hi = std::partition_point(v.begin(), v.end(),
                                 [t_ms](const Entry& e) { return e.observed_ms <= t_ms; });
  auto lo = std::partition_point(v.begin(), hi,
                                 [from](const Entry& e) { return e.observed_ms <= from; });
  return Range{static_cast<std::size_t>(lo - v.begin()), static_cast<std::size_t>(hi - v.begin())};
}

double score_at(const Subject& s, Range r, std::int64_t t_ms, const RuleParams& p) {
  double sum = 0;
  if (p.half_life_ms <= 0) {
    for (std::size_t i = r.lo; i < r.hi; ++i) sum += s.entries[i].weight;
    return sum;
  }
  const double e = static_cast<double>(s.anchor_ms - t_ms) / p.half_life_ms;
  if (std::fabs(e) > kFastPathLimit) {
    for (std::size_t i = r.lo; i < r.hi; ++i) sum += decayed_weight(s.entries[i], t_ms, p);
    return sum;
  }
  for (std::size_t i = r.lo; i < r.hi; ++i) sum += s.entries[i].scaled;
  return sum * std::exp2(e);
}

double decayed_weight(const Entry& e, std::int64_t t_ms, const RuleParams& p) {
  if (p.half_life_ms <= 0) return e.weight;
  return e.weight * std::exp2(static_cast<double>(e.observed_ms - t_ms) / p.half_life_ms);
}

void remember_alert_id(Subject& s, const AlertIdText& id) {
  if (s.alert_ids.size() >= kMaxAlertIds) s.alert_ids.erase(s.alert_ids.begin());
  s.alert_ids.push_back(id);
}

}  // namespace mozaiek::convergence
