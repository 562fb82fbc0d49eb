// The task loop's contract: commit cadence, outputs before offsets, errors
// and exceptions that stop the loop with a reason, periodic jobs. Time is a
// ManualClock advanced by the fake source; nothing sleeps.
#include "stream/task_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "tests/support/fake_io.h"

namespace mozaiek {
namespace {

using test::EventLog;
using test::FakeSink;
using test::FakeSource;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Produces every record to a sink; flush() flushes the sink. Logs each step.
class EchoTask final : public Task {
 public:
  EchoTask(FakeSink& sink, EventLog& log) : sink_(sink), log_(log) {}
  Status process(const RecordBatch& batch) override {
    if (throw_on_batch && ++batches_ == throw_on_batch) throw std::runtime_error("bad record");
    log_.push_back("process " + std::to_string(batch.records.size()));
    for (const auto& r : batch.records) (void)sink_.produce("out", r.key, r.value);
    return Status::ok();
  }
  Status flush() override { return sink_.flush(seconds(1)); }
  void committed() override { log_.push_back("committed"); }
  bool commit_on_stop() const override { return commit_when_stopping; }
  void on_stop(bool final_commit) override {
    log_.push_back(final_commit ? "stop after commit" : "stop");
  }
  std::size_t throw_on_batch = 0;  // 1-based; 0: never
  bool commit_when_stopping = true;

 private:
  FakeSink& sink_;
  EventLog& log_;
  std::size_t batches_ = 0;
};

class TaskLoopTest : public ::testing::Test {
 protected:
  TaskLoopTest() : source_(&log_), sink_(&log_), task_(sink_, log_) {}
  // Every poll first advances the clock by step.
  void advance_per_poll(Millis step) {
    source_.on_poll([this, step](std::size_t) { clock_.advance(step); });
  }
  Status run() {
    TaskLoop loop(TaskLoopOptions{.name = "test", .commit_interval = Millis{1000}}, source_, task_,
                  clock_);
    Status s = loop.run(stop_);
    stats_ = loop.stats();
    return s;
  }

  EventLog log_;
  ManualClock clock_;
  FakeSource source_;
  FakeSink sink_;
  EchoTask task_;
  std::atomic<bool> stop_{false};
  TaskLoopStats stats_;
};

TEST_F(TaskLoopTest, BatchesShareOneCommitWithinTheInterval) {
  advance_per_poll(Millis{300});
  source_.then_records(2).then_records(3).then_records(1).then_records(4);
  ASSERT_TRUE(run());
  // Polls at 300, 600, 900 ms: not due; at 1200 ms the interval has passed.
  EXPECT_THAT(log_, ElementsAre("process 2", "process 3", "process 1", "process 4", "sink flush",
                                "commit", "committed", "stop"));
  EXPECT_EQ(stats_.batches, 4u);
  EXPECT_EQ(stats_.records, 10u);
  EXPECT_EQ(stats_.commits, 1u);
}

TEST_F(TaskLoopTest, QuietInputCommitsBeforeTheInterval) {
  advance_per_poll(Millis{10});
  source_.then_records(2).then_idle().then_idle().then_records(1);
  ASSERT_TRUE(run());
  // The empty poll commits at once; the second one has nothing to commit;
  // the poll that ends the input is empty too.
  EXPECT_THAT(log_, ElementsAre("process 2", "sink flush", "commit", "committed", "process 1",
                                "sink flush", "commit", "committed", "stop"));
  EXPECT_EQ(sink_.delivered().size(), 3u);
}

TEST_F(TaskLoopTest, FailedFlushCommitsNothingAndStopsWithTheReason) {
  sink_.fail_flush = Status::error("broker gone");
  source_.then_records(2).then_idle().then_records(5);
  const Status s = run();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "test: broker gone");
  EXPECT_EQ(source_.commits(), 0u);
  EXPECT_EQ(source_.polls(), 2u);  // nothing polled after the failure
  EXPECT_THAT(log_, ElementsAre("process 2", "sink flush", "stop"));
}

TEST_F(TaskLoopTest, SourceErrorStopsWithoutCommitting) {
  source_.then_records(2).then_error("not authorised");
  const Status s = run();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "test source: not authorised");
  EXPECT_EQ(source_.commits(), 0u);
}

TEST_F(TaskLoopTest, ThrowingTaskStopsTheLoopWithTheReasonOnItsOwnThread) {
  task_.throw_on_batch = 2;
  source_.then_records(2).then_records(3).then_records(1);
  Status s = Status::ok();
  // The exception must not leave the loop's thread (it would terminate).
  std::thread t([&] { s = run(); });
  t.join();
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("test: exception in process: bad record"));
  EXPECT_EQ(stats_.exceptions, 1u);
  EXPECT_EQ(source_.commits(), 0u);
  EXPECT_THAT(log_, ElementsAre("process 2", "stop"));
}

TEST_F(TaskLoopTest, StopFlushesAndCommitsWhatIsPending) {
  source_.on_poll([this](std::size_t poll) {
    if (poll == 1) stop_ = true;
  });
  source_.then_records(2).then_records(3);
  ASSERT_TRUE(run());
  EXPECT_THAT(log_, ElementsAre("process 2", "process 3", "sink flush", "commit", "committed",
                                "stop after commit"));
}

TEST_F(TaskLoopTest, StopAfterASupervisorFailureCommitsNothing) {
  task_.commit_when_stopping = false;
  source_.on_poll([this](std::size_t) { stop_ = true; });
  source_.then_records(2);
  ASSERT_TRUE(run());
  EXPECT_EQ(source_.commits(), 0u);
  EXPECT_THAT(log_, ElementsAre("process 2", "stop"));
}

TEST_F(TaskLoopTest, PeriodicJobsRunOncePerIntervalAfterTheCommitCheck) {
  advance_per_poll(Millis{400});
  for (int i = 0; i < 6; ++i) source_.then_idle();
  std::vector<std::size_t> every_poll;
  int slow = 0;
  TaskLoop loop(TaskLoopOptions{.name = "test"}, source_, task_, clock_);
  loop.every(Millis{0}, "between batches", [&](std::size_t uncommitted) {
    every_poll.push_back(uncommitted);
    return Status::ok();
  });
  loop.every(Millis{1000}, "maintenance", [&](std::size_t) {
    ++slow;
    return Status::ok();
  });
  ASSERT_TRUE(loop.run(stop_));
  EXPECT_EQ(every_poll.size(), 7u);  // six idle polls and the one that ends the input
  EXPECT_EQ(slow, 2);                // at 1200 and 2400 ms of 2800
}

TEST_F(TaskLoopTest, FailingPeriodicJobStopsTheLoop) {
  source_.then_records(1).then_records(1);
  TaskLoop loop(TaskLoopOptions{.name = "test"}, source_, task_, clock_);
  loop.every(Millis{0}, "lookups",
             [](std::size_t) -> Status { throw std::runtime_error("audit topic missing"); });
  const Status s = loop.run(stop_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message(), "test: exception in lookups: audit topic missing");
  EXPECT_EQ(source_.commits(), 0u);
}

}  // namespace
}  // namespace mozaiek
