// SseReader: reads a Server-Sent Events route of a test server on its own
// thread, so a test can wait (with a deadline, no sleeps) for text to arrive
// or for the server to end the stream. The thread ends when `stop_when`
// holds for what arrived so far; the destructor joins it.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace mozaiek::test {

class SseReader {
 public:
  static constexpr auto kDeadline = std::chrono::seconds(10);

  // `headers` go with the request (e.g. who the test client is).
  SseReader(int port, std::string path, std::function<bool(const std::string&)> stop_when,
            httplib::Headers headers = {})
      : thread_([this, port, path = std::move(path), stop_when = std::move(stop_when),
                 headers = std::move(headers)] {
          httplib::Client c("127.0.0.1", port);
          c.set_read_timeout(std::chrono::seconds(30));
          c.Get(path, headers, [&](const char* data, std::size_t len) {
            std::lock_guard lock(mu_);
            received_.append(data, len);
            cv_.notify_all();
            return !stop_when(received_);
          });
          std::lock_guard lock(mu_);
          done_ = true;
          cv_.notify_all();
        }) {}
  ~SseReader() { thread_.join(); }
  SseReader(const SseReader&) = delete;
  SseReader& operator=(const SseReader&) = delete;

  bool wait_for_text(std::string_view text) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return received_.find(text) != std::string::npos; });
  }
  bool wait_until_done() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return done_; });
  }
  std::string received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string received_;
  bool done_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace mozaiek::test
