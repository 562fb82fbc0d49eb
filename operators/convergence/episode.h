// Alert episodes, shared by the convergence rules and the network rules:
// a first alert opens an episode; within the cooldown (event time) of the
// last alert only an escalation by the rule's step is raised.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

namespace mozaiek::convergence {

// Scores are sums of exp2() terms; a threshold met exactly in decimal must
// not be missed by a rounding error in the last bit.
inline bool reaches(double score, double target) {
  return score + 1e-9 * std::max(1.0, std::fabs(target)) >= target;
}

struct EpisodeHistory {
  bool alerted = false;
  std::int64_t last_alert_ms = 0;
  double last_alert_score = 0;
  int level = 0;
  std::int64_t episode_start_ms = 0;
};

struct EpisodeStep {
  int level = 0;  // 0: the first alert of a new episode
  std::int64_t episode_start_ms = 0;
};

// Whether a score reaching the threshold at `at` raises an alert, and as what.
inline std::optional<EpisodeStep> next_alert(const EpisodeHistory& h, std::int64_t at, double score,
                                             std::int64_t cooldown_ms, double escalation_step) {
  const bool in_cooldown = h.alerted && at < h.last_alert_ms + cooldown_ms &&
                           at > h.last_alert_ms - cooldown_ms;
  if (!in_cooldown) return EpisodeStep{0, at};
  if (reaches(score, h.last_alert_score + escalation_step)) {
    return EpisodeStep{h.level + 1, h.episode_start_ms};
  }
  return std::nullopt;
}

}  // namespace mozaiek::convergence
