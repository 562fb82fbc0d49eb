// The MOB spike statistic: is the number of departures from one location in
// a short window improbably high given that location's own recent rate?
//
// Departures are modelled as a Poisson process. The baseline rate is the
// location's mean daily departures over the trailing baseline period that
// ends where the window starts (never below a configured floor, so a quiet
// or new location does not spike on one or two departures). With
// mu = rate * window, the window's count k is a spike when
// P(X >= k | mu) <= p_value and k >= min_departures. Pure functions.
#pragma once

#include <cstddef>

namespace mozaiek {

// P(X >= k) for X ~ Poisson(mu); 1 for k == 0. Summed from k upwards in
// log space, so tiny tails stay accurate.
double poisson_upper_tail(std::size_t k, double mu);

struct SpikeTest {
  std::size_t window_count = 0;    // departures in the window
  std::size_t baseline_count = 0;  // departures in the baseline period before it
  double window_days = 7;
  double baseline_days = 180;
  double floor_per_day = 0.05;
  double p_value = 0.001;
  std::size_t min_departures = 4;
};

struct SpikeVerdict {
  bool spike = false;
  double expected = 0;  // mu: departures expected in the window
  double tail = 1;      // P(X >= window_count | mu)
};

SpikeVerdict test_spike(const SpikeTest& t);

}  // namespace mozaiek
