#include "connectors/alert_feed.h"

#include <algorithm>

namespace mozaiek {

AlertFeed::AlertFeed(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void AlertFeed::publish(std::string alert_json) {
  {
    std::lock_guard lock(mu_);
    entries_.push_back(Entry{++last_sequence_, std::move(alert_json)});
    if (entries_.size() > capacity_) entries_.pop_front();
  }
  cv_.notify_all();
}

std::vector<std::string> AlertFeed::recent(std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(std::min(limit, entries_.size()));
  for (auto it = entries_.rbegin(); it != entries_.rend() && out.size() < limit; ++it) {
    out.push_back(it->json);
  }
  return out;
}

std::uint64_t AlertFeed::last_sequence() const {
  std::lock_guard lock(mu_);
  return last_sequence_;
}

std::vector<AlertFeed::Entry> AlertFeed::wait_after(std::uint64_t after,
                                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const std::uint64_t epoch = wake_epoch_;
  cv_.wait_for(lock, timeout, [&] { return last_sequence_ > after || wake_epoch_ != epoch; });
  std::vector<Entry> out;
  for (const auto& e : entries_) {
    if (e.sequence > after) out.push_back(e);
  }
  return out;
}

void AlertFeed::wake_all() {
  {
    std::lock_guard lock(mu_);
    ++wake_epoch_;
  }
  cv_.notify_all();
}

}  // namespace mozaiek
