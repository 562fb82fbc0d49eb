#include "stream/task_loop.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace mozaiek {

TaskLoop::TaskLoop(TaskLoopOptions options, RecordSource& source, Task& task, const Clock& clock)
    : options_(std::move(options)), source_(source), task_(task), clock_(clock) {}

void TaskLoop::every(Millis interval, std::string name, PeriodicJob job) {
  periodic_.push_back(Periodic{std::move(name), interval, std::move(job), ProcTime{}});
}

Status TaskLoop::run(const std::atomic<bool>& stop) {
  Status result = guarded([&] { return loop(stop); });
  return finish(std::move(result));
}

Status TaskLoop::loop(const std::atomic<bool>& stop) {
  last_commit_ = clock_.now();
  for (auto& p : periodic_) p.last = last_commit_;
  while (!stop) {
    step_ = "poll";
    if (Status p = source_.poll(batch_, options_.batch_records, options_.poll_timeout); !p) {
      return failure("source", p);
    }
    const bool idle = batch_.records.empty();
    if (!idle) {
      if (Status s = process_batch(); !s) return s;
    }
    if (commit_due(idle)) {
      if (Status c = commit(); !c) return c;
    }
    if (Status j = run_periodic(); !j) return j;
    if (batch_.end_of_input) break;
  }
  return Status::ok();
}

Status TaskLoop::process_batch() {
  step_ = "process";
  // Processing time is measured on the steady clock: the injected clock
  // drives decisions, and a manual one would time every batch as zero.
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = task_.process(batch_); !s) return failure("", s);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  const std::size_t n = batch_.records.size();
  uncommitted_ += n;
  ++stats_.batches;
  stats_.records += n;
  stats_.busy += took;
  task_.batch_done(n, took);
  return Status::ok();
}

bool TaskLoop::commit_due(bool input_idle) const {
  if (uncommitted_ == 0) return false;
  return input_idle || clock_.now() - last_commit_ >= options_.commit_interval;
}

Status TaskLoop::commit() {
  step_ = "flush";
  // Nothing is committed when the flush fails: the records are redelivered.
  if (Status f = task_.flush(); !f) return failure("", f);
  step_ = "commit";
  // The source reports only fatal errors here, and those surface on the
  // next poll; a commit that did not happen is redone by the next one.
  if (Status c = source_.commit(); !c) spdlog::warn("{} commit: {}", options_.name, c.message());
  uncommitted_ = 0;
  last_commit_ = clock_.now();
  ++stats_.commits;
  task_.committed();
  return Status::ok();
}

Status TaskLoop::run_periodic() {
  const ProcTime now = clock_.now();
  for (auto& p : periodic_) {
    if (now - p.last < p.interval) continue;
    p.last = now;
    step_ = p.name.c_str();
    if (Status s = p.job(uncommitted_); !s) return failure("", s);
  }
  return Status::ok();
}

Status TaskLoop::finish(Status result) {
  const bool final_commit = result.is_ok() && uncommitted_ > 0 && task_.commit_on_stop();
  if (final_commit) result = guarded([&] { return commit(); });
  Status stopped = guarded([&] {
    step_ = "stop";
    task_.on_stop(final_commit);
    return Status::ok();
  });
  if (result && !stopped) result = std::move(stopped);
  return result;  // the supervisor logs it
}

Status TaskLoop::failure(std::string_view step, const Status& cause) const {
  std::string reason = options_.name;
  if (!step.empty()) reason.append(" ").append(step);
  return Status::error(reason + ": " + cause.message());
}

Status TaskLoop::guarded(const std::function<Status()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    ++stats_.exceptions;
    spdlog::error("{} task: exception in {}: {}", options_.name, step_, e.what());
    return Status::error(options_.name + ": exception in " + step_ + ": " + e.what());
  } catch (...) {
    ++stats_.exceptions;
    spdlog::error("{} task: unknown exception in {}", options_.name, step_);
    return Status::error(options_.name + ": unknown exception in " + step_);
  }
}

}  // namespace mozaiek
