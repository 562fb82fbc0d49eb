// Strong types for time, offsets and partitions used across mozaiek.
//
// Event time (when a partner observed something) and processing time (when
// mozaiek handled it) are different clocks; mixing them up is the classic
// streaming bug, so they are different types here.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace mozaiek {

using Millis = std::chrono::milliseconds;

// A clock tag for event time: time points of this clock never compare with
// wall-clock time points by accident.
struct EventClock {
  using rep = std::int64_t;
  using period = std::milli;
  using duration = Millis;
  using time_point = std::chrono::time_point<EventClock, Millis>;
  static constexpr bool is_steady = false;
};

using EventTime = EventClock::time_point;
using ProcTime = std::chrono::time_point<std::chrono::system_clock, Millis>;

constexpr EventTime kMinEventTime{Millis{std::numeric_limits<std::int64_t>::min() / 2}};
constexpr EventTime kMaxEventTime{Millis{std::numeric_limits<std::int64_t>::max() / 2}};

constexpr EventTime event_time_from_ms(std::int64_t ms) { return EventTime{Millis{ms}}; }
constexpr std::int64_t to_ms(EventTime t) { return t.time_since_epoch().count(); }
constexpr std::int64_t to_ms(ProcTime t) { return t.time_since_epoch().count(); }
constexpr Millis days(std::int64_t d) { return Millis{d * 86'400'000}; }
constexpr Millis hours(std::int64_t h) { return Millis{h * 3'600'000}; }
constexpr Millis seconds(std::int64_t s) { return Millis{s * 1'000}; }
inline double to_seconds(Millis d) { return static_cast<double>(d.count()) / 1000.0; }

// The event-time progress of a stream: no record with an event time at or
// before the watermark is expected any more (except within allowed lateness).
struct Watermark {
  EventTime time = kMinEventTime;
  auto operator<=>(const Watermark&) const = default;
  bool known() const { return time != kMinEventTime; }
};

enum class Partition : std::int32_t {};
enum class Offset : std::int64_t {};
constexpr std::int32_t raw(Partition p) { return static_cast<std::int32_t>(p); }
constexpr std::int64_t raw(Offset o) { return static_cast<std::int64_t>(o); }

// Parses an RFC 3339 timestamp ("2024-03-01T12:00:00Z", "...T12:00:00.250+01:00").
// Returns nullopt for anything else, including out-of-range fields.
std::optional<EventTime> parse_rfc3339(std::string_view text);

// Formats as RFC 3339 UTC with millisecond precision when non-zero.
std::string format_rfc3339(EventTime t);
std::string format_rfc3339(ProcTime t);

// A source of processing time; tests drive a manual one.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual ProcTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  ProcTime now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(ProcTime start = ProcTime{Millis{1'700'000'000'000}}) : now_(start) {}
  ProcTime now() const override { return now_; }
  void advance(Millis d) { now_ += d; }
  void set(ProcTime t) { now_ = t; }

 private:
  ProcTime now_;
};

}  // namespace mozaiek
