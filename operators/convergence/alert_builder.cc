#include "operators/convergence/alert_builder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "operators/convergence/alert_id.h"

namespace mozaiek::convergence {

double round_score(double v) { return std::round(v * 1000.0) / 1000.0; }

AlertBuilder& AlertBuilder::open(std::string_view rule, SubjectType type, std::string_view key,
                                 std::int64_t episode_start_ms, int level, ProcTime raised_at) {
  const AlertIdText id = make_alert_id(rule, type, key, episode_start_ms, level);
  a_.alert_id.assign(id.data(), id.size());
  a_.rule = rule;
  a_.purpose = Purpose::investigation;
  a_.subject_type = type;
  a_.subject_key = key;
  a_.raised_at = raised_at;
  a_.level = level;
  a_.status = level == 0 ? "new" : "escalated";
  return *this;
}

AlertBuilder& AlertBuilder::open(std::string_view rule, std::string_view kind, std::string_view key,
                                 std::int64_t episode_start_ms, ProcTime raised_at) {
  const AlertIdText id = make_alert_id(rule, kind, key, episode_start_ms, 0);
  a_.alert_id.assign(id.data(), id.size());
  a_.rule = rule;
  a_.purpose = Purpose::investigation;
  a_.subject_kind = kind;
  a_.subject_key = key;
  a_.raised_at = raised_at;
  return *this;
}

AlertBuilder& AlertBuilder::reported(EventTime latest) {
  const std::int64_t delay_ms = to_ms(latest) - to_ms(a_.last_seen);
  a_.detection_delay_seconds = delay_ms > 0 ? static_cast<double>(delay_ms) / 1000.0 : 0.0;
  return *this;
}

AlertBuilder& AlertBuilder::source(std::string_view name) {
  if (std::find(a_.sources.begin(), a_.sources.end(), name) == a_.sources.end()) {
    a_.sources.emplace_back(name);
  }
  return *this;
}

AlertBuilder& AlertBuilder::event(AlertEvent e) {
  a_.events.push_back(std::move(e));
  return *this;
}

bool AlertBuilder::has_contribution(SourceId source, std::string_view signal_id) const {
  return std::any_of(a_.contributions.begin(), a_.contributions.end(), [&](const Contribution& c) {
    return c.source == source && c.signal_id == signal_id;
  });
}

AlertBuilder& AlertBuilder::sort_contributions() {
  std::sort(a_.contributions.begin(), a_.contributions.end(),
            [](const Contribution& x, const Contribution& y) {
              if (x.observed_at != y.observed_at) return x.observed_at < y.observed_at;
              return x.signal_id < y.signal_id;
            });
  return *this;
}

AlertBuilder& AlertBuilder::summarise_contributions() {
  if (a_.contributions.empty()) return *this;
  EventTime latest_reported = a_.contributions.front().reported_at;
  for (const auto& c : a_.contributions) {
    source(config_.sources[c.source].name);
    latest_reported = std::max(latest_reported, c.reported_at);
  }
  seen(a_.contributions.front().observed_at, a_.contributions.back().observed_at);
  return reported(latest_reported);
}

Alert& AlertBuilder::finish() {
  std::sort(a_.sources.begin(), a_.sources.end());
  return a_;
}

}  // namespace mozaiek::convergence
