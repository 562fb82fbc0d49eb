// TaskLoop: the one poll -> process -> flush -> commit loop that every task
// runs on (the service's intake and convergence loops, replay, the in-process
// bench). The loop owns the commit cadence and the exception boundary; the
// task owns its operators, outputs and state.
//
// Lifecycle: construct with a source, a task and a clock, add periodic jobs
// with every(), then call run() once on the task's own thread. run() returns
// when stop is set, when a finite source ends, or at the first error; it
// never throws. The loop, its source and its task belong to that thread; only
// the stop flag is shared.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/io.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

// What a task does at each step of its loop; called on the loop's thread only.
class Task {
 public:
  virtual ~Task() = default;
  // One polled, non-empty batch. An error stops the loop before any commit.
  [[nodiscard]] virtual Status process(const RecordBatch& batch) = 0;
  // After process() succeeded: the batch's size and processing time.
  virtual void batch_done(std::size_t /*records*/, std::chrono::duration<double> /*took*/) {}
  // Makes everything processed so far durable: outputs delivered, then state
  // flushed. The source commits only after this returned ok.
  [[nodiscard]] virtual Status flush() = 0;
  // After the source committed what flush() made durable.
  virtual void committed() {}
  // Whether the pending records are flushed and committed when the loop
  // stops without an error of its own (false once a supervisor has failed).
  virtual bool commit_on_stop() const { return true; }
  // The last call; final_commit: the stop flush and commit ran (ok or not).
  virtual void on_stop(bool /*final_commit*/) {}
};

struct TaskLoopOptions {
  std::string name;  // in logs and error reasons: "intake", "convergence", "replay"
  std::size_t batch_records = 20000;
  Millis poll_timeout{100};
  // Commit at most this often, and whenever a poll comes back empty:
  // flushing waits for acknowledgements, so several batches share one.
  Millis commit_interval{1000};
};

// Totals of one run, for the loop's thread or after run() returned.
struct TaskLoopStats {
  std::uint64_t batches = 0;
  std::uint64_t records = 0;
  std::uint64_t commits = 0;
  std::uint64_t exceptions = 0;           // thrown by the task or the source, caught by the loop
  std::chrono::duration<double> busy{0};  // time spent in process()
};

class TaskLoop {
 public:
  // uncommitted: records processed since the last commit.
  using PeriodicJob = std::function<Status(std::size_t uncommitted)>;

  // clock drives the cadence and the periodic jobs (tests pass a ManualClock).
  TaskLoop(TaskLoopOptions options, RecordSource& source, Task& task, const Clock& clock);
  TaskLoop(const TaskLoop&) = delete;
  TaskLoop& operator=(const TaskLoop&) = delete;

  // Runs job after the commit check once per interval (Millis{0}: after
  // every poll), in the order added. An error stops the loop.
  void every(Millis interval, std::string name, PeriodicJob job);

  // Loops until stop is set or the source ends, then flushes and commits
  // what is pending (if the task agrees) and calls on_stop(). Returns the
  // reason the loop stopped early, prefixed with the task's name.
  [[nodiscard]] Status run(const std::atomic<bool>& stop);

  const TaskLoopStats& stats() const { return stats_; }
  std::size_t uncommitted() const { return uncommitted_; }

 private:
  struct Periodic {
    std::string name;
    Millis interval;
    PeriodicJob job;
    ProcTime last;
  };
  Status loop(const std::atomic<bool>& stop);
  Status process_batch();
  bool commit_due(bool input_idle) const;
  Status commit();
  Status run_periodic();
  Status finish(Status result);
  Status failure(std::string_view step, const Status& cause) const;
  // Runs body, turning anything it throws into an error Status that names
  // the step it was in (step_).
  Status guarded(const std::function<Status()>& body);

  TaskLoopOptions options_;
  RecordSource& source_;
  Task& task_;
  const Clock& clock_;
  std::vector<Periodic> periodic_;
  RecordBatch batch_;
  std::size_t uncommitted_ = 0;
  ProcTime last_commit_{};
  const char* step_ = "start";  // what the loop is doing, for the error of an exception
  TaskLoopStats stats_;
};

}  // namespace mozaiek
