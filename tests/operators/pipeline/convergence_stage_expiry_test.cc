// State expiry on the wall clock as well as event time: a feed that goes
// quiet stops the watermark, and without a wall-clock floor its state
// would be kept forever.
#include <gtest/gtest.h>

#include "connectors/app/local_pipeline.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

TEST(ConvergenceStageExpiryTest, QuietFeedKeepsStateOnEventTimeButLosesItOnTheWallClock) {
  Settings settings = shipped_settings();
  Pseudonymiser pseudonymiser("expiry-test-key-0123456789");
  ManualClock clock(SystemClock().now());
  auto stores = make_memory_store_factory();
  LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *stores, nullptr, nullptr);
  RecordView view;
  const std::string value =
      signal_json("coa", "s-1", "self_identifies_victim", "2025-03-01",
                  R"({"type":"person","id":"V-2231-887","id_scheme":"v-number"}})");
  view.value = value;
  pipeline.process(view);
  ASSERT_EQ(pipeline.intake().counters().total_processed(), 1u);
  ASSERT_TRUE(pipeline.finish().is_ok());
  ConvergenceStage& stage = pipeline.convergence();
  const std::size_t before = stage.state_entries();
  ASSERT_GT(before, 0u);

  // Nothing new arrives: the watermark stays at the signal, nothing expires.
  EXPECT_EQ(stage.expire(), 0u);
  ASSERT_TRUE(pipeline.finish().is_ok());
  EXPECT_EQ(stage.state_entries(), before);

  // A wall-clock floor within the retention keeps the state too ...
  const EventTime observed = *parse_rfc3339("2025-03-01T10:00:00Z");
  EXPECT_EQ(stage.expire(observed + days(1)), 0u);
  ASSERT_TRUE(pipeline.finish().is_ok());
  EXPECT_EQ(stage.state_entries(), before);

  // ... and one past it (retention, then the grace) drops it.
  const EventTime later = observed + settings.operators.retention + days(3);
  EXPECT_GT(stage.expire(later), 0u);
  ASSERT_TRUE(pipeline.finish().is_ok());
  EXPECT_LT(stage.state_entries(), before);
  EXPECT_EQ(stage.state_entries(), 0u);
}

}  // namespace
}  // namespace mozaiek::test
