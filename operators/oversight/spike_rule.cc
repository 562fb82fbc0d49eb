#include "operators/oversight/spike_rule.h"

#include <algorithm>
#include <cmath>

namespace mozaiek {

double poisson_upper_tail(std::size_t k, double mu) {
  if (k == 0) return 1.0;
  if (mu <= 0) return 0.0;
  const auto kd = static_cast<double>(k);
  // log P(X = k), then successive terms P(X = i + 1) = P(X = i) * mu / (i + 1).
  double term = std::exp(-mu + kd * std::log(mu) - std::lgamma(kd + 1.0));
  double sum = 0;
  for (double i = kd; term > 0; i += 1.0) {
    sum += term;
    if (i > mu && term < sum * 1e-17) break;  // terms only shrink beyond the mode
    term *= mu / (i + 1.0);
  }
  return std::min(1.0, sum);
}

SpikeVerdict test_spike(const SpikeTest& t) {
  SpikeVerdict v;
  const double rate = std::max(t.floor_per_day,
                               static_cast<double>(t.baseline_count) / t.baseline_days);
  v.expected = rate * t.window_days;
  v.tail = poisson_upper_tail(t.window_count, v.expected);
  v.spike = t.window_count >= t.min_departures && v.tail <= t.p_value;
  return v;
}

}  // namespace mozaiek
