// Fakes of the narrow I/O interfaces (stream/io.h) for tests of task loops:
// a scripted source and a recording sink, both writing what happens to them
// into an optional shared event log so tests can check the order of steps.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "stream/io.h"

namespace mozaiek::test {

using EventLog = std::vector<std::string>;

// Hands out scripted polls in order; once the script is spent every poll is
// empty and says end_of_input. commit() is logged as "commit".
class FakeSource final : public RecordSource {
 public:
  explicit FakeSource(EventLog* log = nullptr) : log_(log) {}

  // A poll returning n records (values "r0", "r1", ... across the script).
  FakeSource& then_records(std::size_t n) { return then(Step{n, Status::ok()}); }
  // A poll returning nothing (the input went quiet).
  FakeSource& then_idle() { return then(Step{0, Status::ok()}); }
  FakeSource& then_error(std::string message) {
    return then(Step{0, Status::error(std::move(message))});
  }
  // Called at the start of every poll (advance a manual clock, set a stop flag).
  void on_poll(std::function<void(std::size_t poll)> hook) { on_poll_ = std::move(hook); }

  Status poll(RecordBatch& batch, std::size_t max_records, Millis) override {
    if (on_poll_) on_poll_(polls_);
    ++polls_;
    batch.records.clear();
    batch.end_of_input = script_.empty();
    if (script_.empty()) return Status::ok();
    Step step = std::move(script_.front());
    script_.pop_front();
    if (!step.status) return step.status;
    const std::size_t first = values_.size();
    const std::size_t n = std::min(step.records, max_records);
    for (std::size_t i = 0; i < n; ++i) values_.push_back("r" + std::to_string(first + i));
    for (std::size_t i = first; i < first + n; ++i) {
      RecordView view;
      view.topic = "in";
      view.value = values_[i];
      batch.records.push_back(view);
    }
    return Status::ok();
  }
  Status commit() override {
    ++commits_;
    if (log_) log_->push_back("commit");
    return Status::ok();
  }
  std::size_t commits() const { return commits_; }
  std::size_t polls() const { return polls_; }

 private:
  struct Step {
    std::size_t records;
    Status status;
  };
  FakeSource& then(Step step) {
    script_.push_back(std::move(step));
    return *this;
  }
  EventLog* log_;
  std::deque<Step> script_;
  std::deque<std::string> values_;  // stable addresses for the views
  std::function<void(std::size_t)> on_poll_;
  std::size_t polls_ = 0;
  std::size_t commits_ = 0;
};

// Keeps what was produced; flush() is logged as "sink flush" and fails with
// fail_flush when that is set.
class FakeSink final : public RecordSink {
 public:
  explicit FakeSink(EventLog* log = nullptr) : log_(log) {}
  Status produce(std::string_view, std::string_view, std::string_view value) override {
    pending_.emplace_back(value);
    return Status::ok();
  }
  Status flush(Millis) override {
    if (log_) log_->push_back("sink flush");
    if (!fail_flush.is_ok()) return fail_flush;
    for (auto& v : pending_) delivered_.push_back(std::move(v));
    pending_.clear();
    return Status::ok();
  }
  const std::vector<std::string>& delivered() const { return delivered_; }
  Status fail_flush = Status::ok();

 private:
  EventLog* log_;
  std::vector<std::string> pending_;
  std::vector<std::string> delivered_;
};

}  // namespace mozaiek::test
