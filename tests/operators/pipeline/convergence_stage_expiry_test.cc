// State expiry on the wall clock as well as event time: a feed that goes
// quiet stops the watermark, and without the wall clock its state would be
// kept forever. A backfill of old records, on the other hand, keeps its own
// event time.
#include <gtest/gtest.h>

#include "connectors/app/local_pipeline.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

class ConvergenceStageExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string value =
        signal_json("coa", "s-1", "self_identifies_victim", "2025-03-01",
                    R"({"type":"person","id":"V-2231-887","id_scheme":"v-number"})");
    RecordView view;
    view.value = value;
    pipeline_.process(view);
    ASSERT_EQ(pipeline_.intake().counters().total_processed(), 1u);
    ASSERT_TRUE(pipeline_.finish().is_ok());
    before_ = stage().state_entries();
    ASSERT_GT(before_, 0u);
  }
  ConvergenceStage& stage() { return pipeline_.convergence(); }
  // The wall-clock sweep of the service's expiry job.
  std::size_t sweep() {
    const std::size_t n = stage().expire(stage().wall_clock_floor(kGrace));
    EXPECT_TRUE(pipeline_.finish().is_ok());
    return n;
  }

  static constexpr Millis kGrace = days(2);
  Settings settings_ = shipped_settings();
  Pseudonymiser pseudonymiser_{"expiry-test-key-0123456789"};
  // Long after the signal's event time: a backfill of 2025 records.
  ManualClock clock_{ProcTime{Millis{1'796'000'000'000}}};  // 2026-11
  std::unique_ptr<StateStoreFactory> stores_ = make_memory_store_factory();
  LocalPipeline pipeline_{settings_.operators, pseudonymiser_, clock_, *stores_, nullptr, nullptr};
  std::size_t before_ = 0;
};

TEST_F(ConvergenceStageExpiryTest, BackfilledStateIsKeptWhileTheFeedIsNotQuiet) {
  EXPECT_FALSE(stage().wall_clock_floor(kGrace));
  EXPECT_EQ(sweep(), 0u);
  clock_.advance(kGrace);
  EXPECT_EQ(sweep(), 0u);
  EXPECT_EQ(stage().state_entries(), before_);
}

TEST_F(ConvergenceStageExpiryTest, QuietFeedLosesItsStateOnTheWallClock) {
  // Quiet for a day past the grace: the wall clock carries the watermark
  // one day on, well inside every window, and the state is kept ...
  clock_.advance(kGrace + days(1));
  ASSERT_TRUE(stage().wall_clock_floor(kGrace));
  EXPECT_EQ(sweep(), 0u);
  EXPECT_EQ(stage().state_entries(), before_);
  // ... and expires once it has carried it past the retention, although no
  // record has arrived and the watermark itself never moved.
  clock_.advance(settings_.operators.retention);
  EXPECT_GT(sweep(), 0u);
  EXPECT_EQ(stage().state_entries(), 0u);
  // Without the wall clock nothing would have expired.
  EXPECT_EQ(stage().expire(), 0u);
}

}  // namespace
}  // namespace mozaiek::test
