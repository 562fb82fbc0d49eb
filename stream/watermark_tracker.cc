#include "stream/watermark_tracker.h"

#include <algorithm>

namespace mozaiek {

WatermarkTracker::WatermarkTracker(std::vector<Millis> idle_timeout_per_source) {
  sources_.resize(idle_timeout_per_source.size());
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    sources_[i].idle_timeout = idle_timeout_per_source[i];
  }
}

void WatermarkTracker::observe(std::size_t source, EventTime observed_at, ProcTime now) {
  if (source >= sources_.size()) return;
  const EventTime limit = event_time_from_ms(to_ms(now)) + kMaxAhead;
  Source& s = sources_[source];
  s.max_observed = std::max(s.max_observed, std::min(observed_at, limit));
  s.last_seen = s.seen ? std::max(s.last_seen, now) : now;
  s.seen = true;
}

void WatermarkTracker::observe_upstream(EventTime watermark) {
  upstream_ = std::max(upstream_, watermark);
}

Watermark WatermarkTracker::current(ProcTime now) const {
  EventTime active_min = kMaxEventTime;
  EventTime idle_max = kMinEventTime;
  bool any_active = false;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const Source& s = sources_[i];
    if (!s.seen) continue;
    if (is_idle(i, now)) {
      idle_max = std::max(idle_max, s.max_observed);
    } else {
      active_min = std::min(active_min, s.max_observed);
      any_active = true;
    }
  }
  const EventTime local = any_active ? active_min : idle_max;
  floor_ = std::max({floor_, local, upstream_});
  return Watermark{floor_};
}

std::vector<EventTime> WatermarkTracker::maxima() const {
  std::vector<EventTime> out;
  out.reserve(sources_.size());
  for (const Source& s : sources_) out.push_back(s.seen ? s.max_observed : kMinEventTime);
  return out;
}

void WatermarkTracker::restore(std::size_t source, EventTime max_observed, ProcTime now) {
  if (source >= sources_.size() || max_observed == kMinEventTime) return;
  Source& s = sources_[source];
  s.max_observed = std::max(s.max_observed, max_observed);
  s.last_seen = s.seen ? std::max(s.last_seen, now) : now;
  s.seen = true;
}

void WatermarkTracker::restore_floor(EventTime floor) { floor_ = std::max(floor_, floor); }

Watermark WatermarkTracker::source_watermark(std::size_t source) const {
  if (source >= sources_.size()) return Watermark{};
  return Watermark{sources_[source].max_observed};
}

bool WatermarkTracker::is_idle(std::size_t source, ProcTime now) const {
  if (source >= sources_.size()) return true;
  return silence(source, now) > sources_[source].idle_timeout;
}

Millis WatermarkTracker::silence(std::size_t source, ProcTime now) const {
  if (source >= sources_.size() || !sources_[source].seen) return Millis::max();
  return std::max(Millis{0}, now - sources_[source].last_seen);
}

void WatermarkTracker::set_idle_timeouts(const std::vector<Millis>& idle_timeout_per_source) {
  if (idle_timeout_per_source.size() != sources_.size()) return;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    sources_[i].idle_timeout = idle_timeout_per_source[i];
  }
}

}  // namespace mozaiek
