// AlertFeed: the recent alerts (as alert v1 JSON) kept in memory for the
// HTTP API, and a wake-up for live streams.
//
// Thread-safe. The convergence loop publishes; HTTP handler threads read
// recent() and block in wait_after() for the Server-Sent Events stream. Each
// alert gets a sequence number (1, 2, ...) so a stream can resume where it
// left off (the SSE event id).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace mozaiek {

class AlertFeed {
 public:
  struct Entry {
    std::uint64_t sequence = 0;
    std::string json;
  };

  explicit AlertFeed(std::size_t capacity = 1000);
  AlertFeed(const AlertFeed&) = delete;
  AlertFeed& operator=(const AlertFeed&) = delete;

  // Keeps the alert (dropping the oldest beyond capacity) and wakes streams.
  void publish(std::string alert_json);

  // Up to `limit` most recent alerts, newest first.
  std::vector<std::string> recent(std::size_t limit) const;

  // Sequence number of the newest alert; 0 before the first.
  std::uint64_t last_sequence() const;

  // Alerts with a sequence number > `after`, oldest first (only those still
  // held). Waits up to `timeout` for one when there is none yet; returns
  // early, possibly empty, after wake_all().
  std::vector<Entry> wait_after(std::uint64_t after, std::chrono::milliseconds timeout) const;

  // Makes every waiting reader return now (used when the server stops).
  void wake_all();

  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<Entry> entries_;
  std::uint64_t last_sequence_ = 0;
  std::uint64_t wake_epoch_ = 0;
};

}  // namespace mozaiek
