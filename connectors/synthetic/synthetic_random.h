// The randomness both synthetic generators draw from (SyntheticTraffic and
// SyntheticChain): splitmix64 to spread seeds and hash indices, xoshiro256**
// as the stream, weighted tables, and the millisecond time helpers they share.
// Our own generators rather than <random>'s distributions, so the same seed
// gives the same bytes with every standard library.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>

#include "stream/time.h"

namespace mozaiek::synthetic {

// The splitmix64 step: a good 64-bit mix of x, also used to derive seeds.
constexpr std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A hash spread over [0, 1), with the 53 bits a double holds.
constexpr double unit_interval(std::uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

// xoshiro256**, its four words seeded by chained splitmix64 steps.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& s : s_) s = seed = mix(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return unit_interval(next()); }
  // [0, n); 0 when n is 0. Lemire's multiply-high: the bias is negligible here.
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  bool chance(double p) { return uniform() < p; }
  std::int64_t below_ms(std::int64_t n) {
    return static_cast<std::int64_t>(below(static_cast<std::uint64_t>(n)));
  }
  std::int64_t exponential_ms(Millis mean) {
    return static_cast<std::int64_t>(-static_cast<double>(mean.count()) * std::log1p(-uniform()));
  }
  // Log-uniform between lo and hi: many short, some long.
  double log_uniform(double lo, double hi) {
    return std::exp(std::log(lo) + uniform() * (std::log(hi) - std::log(lo)));
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// One entry of a weighted table: value drawn with probability weight / sum.
struct Weighted {
  const char* value;
  double weight;
};

// The entry of table that u in [0, 1) falls on.
inline const char* pick(std::span<const Weighted> table, double u) {
  double total = 0;
  for (const auto& w : table) total += w.weight;
  double x = u * total;
  for (const auto& w : table) {
    if (x < w.weight) return w.value;
    x -= w.weight;
  }
  return table.back().value;
}

inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 86'400'000;

// Division rounding towards minus infinity (days before 1970 stay whole).
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}
// ms truncated to its whole second: partners report seconds.
constexpr std::int64_t to_second(std::int64_t ms) { return floor_div(ms, 1000) * 1000; }

}  // namespace mozaiek::synthetic
