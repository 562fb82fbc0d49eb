// Tracks event-time progress per source, with idleness.
//
// Each source's watermark is the largest observed_at it has sent. The global
// watermark is the minimum over sources that are not idle (sent something
// within their idle timeout, wall clock), so one quiet partner - COA sends
// every two weeks - does not stall everyone else. When every source that
// ever sent is idle, the maximum over them is used. The global watermark
// never goes back, also not when an idle source returns with old times.
//
// Owned by one task thread; not thread-safe. Cheap enough to call per record.
#pragma once

#include <cstddef>
#include <vector>

#include "stream/time.h"

namespace mozaiek {

class WatermarkTracker {
 public:
  // Far-future event times are clamped to now + this, so one bad clock
  // cannot push the watermark ahead (intake rejects them before this point).
  static constexpr Millis kMaxAhead = days(1);

  // One entry per source; sources are numbered 0..n-1.
  explicit WatermarkTracker(std::vector<Millis> idle_timeout_per_source);

  // Records that `source` sent a record observed at observed_at, at wall time
  // now. Out-of-range sources are ignored.
  void observe(std::size_t source, EventTime observed_at, ProcTime now);
  // A watermark carried on a record from an upstream stage.
  void observe_upstream(EventTime watermark);

  // The global watermark; unknown (kMinEventTime) until anything was seen.
  Watermark current(ProcTime now) const;
  Watermark source_watermark(std::size_t source) const;
  bool is_idle(std::size_t source, ProcTime now) const;
  // Wall time since the source's last record; Millis::max() if it never sent.
  Millis silence(std::size_t source, ProcTime now) const;
  std::size_t sources() const { return sources_.size(); }
  // A live reload: new idle timeouts for the same sources (what each has
  // seen is kept); a list of another length is ignored.
  void set_idle_timeouts(const std::vector<Millis>& idle_timeout_per_source);

  // The largest observed_at per source (kMinEventTime: none yet) and the
  // watermark handed out so far: what restore() needs to continue after a
  // restart from the same input position.
  std::vector<EventTime> maxima() const;
  EventTime floor() const { return floor_; }
  // Raises a source's largest observed_at (the source counts as seen at now)
  // and the floor; never lowers either.
  void restore(std::size_t source, EventTime max_observed, ProcTime now);
  void restore_floor(EventTime floor);

 private:
  struct Source {
    Millis idle_timeout{};
    EventTime max_observed = kMinEventTime;
    ProcTime last_seen{};
    bool seen = false;
  };

  std::vector<Source> sources_;
  EventTime upstream_ = kMinEventTime;
  // The highest watermark handed out; current() is const for callers but
  // must remember it so the watermark never regresses.
  mutable EventTime floor_ = kMinEventTime;
};

}  // namespace mozaiek
