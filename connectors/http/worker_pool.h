// WorkerPool: a fixed number of threads running jobs from a bounded queue.
// try_submit() refuses a job when every worker is busy and `max_queued` jobs
// already wait, so a burst of requests
// is answered 503 instead of piling up without bound. stop() lets running
// jobs finish, drops the queued ones and joins. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mozaiek {

class WorkerPool {
 public:
  WorkerPool(int threads, std::size_t max_queued)
      : max_queued_(max_queued), size_(static_cast<std::size_t>(threads)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~WorkerPool() { stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when max_queued jobs already wait beyond the idle workers, or the
  // pool stopped.
  [[nodiscard]] bool try_submit(std::function<void()> job) {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_ + (size_ - busy_)) return false;
    queue_.push_back(std::move(job));
    cv_.notify_one();
    return true;
  }

  void stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      dropped.swap(queue_);
      cv_.notify_all();
    }
    dropped.clear();  // outside the lock: a job's captures may take time to destroy
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      job();
      job = nullptr;  // its captures go before the worker counts as free
      std::lock_guard lock(mu_);
      --busy_;
    }
  }

  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  const std::size_t size_;
  std::size_t busy_ = 0;  // workers running a job
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace mozaiek
