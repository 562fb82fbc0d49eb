#include "stream/watermark_tracker.h"

#include <gtest/gtest.h>

namespace mozaiek {
namespace {

constexpr EventTime kDay0 = event_time_from_ms(1'704'067'200'000);  // 2024-01-01

EventTime day(int d) { return kDay0 + days(d); }

class WatermarkTrackerTest : public ::testing::Test {
 protected:
  // Wall clock well after the event times used, so none is "in the future".
  WatermarkTrackerTest() { clock_.set(ProcTime{Millis{to_ms(day(100))}}); }

  // Source 0 and 1 idle after an hour, source 2 after a day.
  WatermarkTracker tracker_{{hours(1), hours(1), days(1)}};
  ManualClock clock_;
};

TEST_F(WatermarkTrackerTest, IsUnknownUntilTheFirstRecord) {
  EXPECT_FALSE(tracker_.current(clock_.now()).known());
  EXPECT_FALSE(tracker_.source_watermark(0).known());
  EXPECT_EQ(tracker_.silence(0, clock_.now()), Millis::max());
  EXPECT_TRUE(tracker_.is_idle(0, clock_.now()));
}

TEST_F(WatermarkTrackerTest, SourceWatermarkIsTheLargestObservedTime) {
  tracker_.observe(0, day(5), clock_.now());
  tracker_.observe(0, day(3), clock_.now());  // out of order
  EXPECT_EQ(tracker_.source_watermark(0).time, day(5));
}

TEST_F(WatermarkTrackerTest, GlobalIsTheMinimumOverActiveSources) {
  tracker_.observe(0, day(10), clock_.now());
  tracker_.observe(1, day(4), clock_.now());
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(4));
  tracker_.observe(1, day(12), clock_.now());
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(10));
}

TEST_F(WatermarkTrackerTest, QuietSourceStopsStallingAfterItsIdleTimeout) {
  tracker_.observe(0, day(1), clock_.now());  // the slow partner, then silence
  clock_.advance(Millis{1});
  tracker_.observe(1, day(20), clock_.now());
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(1));

  clock_.advance(hours(1));  // source 0 silent for 1h + 1ms; source 1 keeps sending
  tracker_.observe(1, day(21), clock_.now());
  EXPECT_TRUE(tracker_.is_idle(0, clock_.now()));
  EXPECT_FALSE(tracker_.is_idle(1, clock_.now()));
  EXPECT_EQ(tracker_.silence(0, clock_.now()), hours(1) + Millis{1});
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(21));
}

TEST_F(WatermarkTrackerTest, ReturningSourceRejoinsWithoutMakingTheWatermarkRegress) {
  tracker_.observe(0, day(1), clock_.now());
  tracker_.observe(1, day(20), clock_.now());
  clock_.advance(hours(2));
  tracker_.observe(1, day(21), clock_.now());
  ASSERT_EQ(tracker_.current(clock_.now()).time, day(21));

  tracker_.observe(0, day(2), clock_.now());  // back, still far behind
  EXPECT_FALSE(tracker_.is_idle(0, clock_.now()));
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(21));  // floor holds

  tracker_.observe(0, day(25), clock_.now());
  tracker_.observe(1, day(30), clock_.now());
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(25));  // min again, once it caught up
}

TEST_F(WatermarkTrackerTest, WhenEverySourceIsIdleTheMaximumIsUsed) {
  tracker_.observe(0, day(3), clock_.now());
  tracker_.observe(1, day(9), clock_.now());
  clock_.advance(hours(3));
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(9));
}

TEST_F(WatermarkTrackerTest, IdleTimeoutIsPerSource) {
  tracker_.observe(2, day(1), clock_.now());
  tracker_.observe(0, day(8), clock_.now());
  clock_.advance(hours(2));
  tracker_.observe(0, day(9), clock_.now());
  EXPECT_FALSE(tracker_.is_idle(2, clock_.now()));  // a day's patience
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(1));
}

TEST_F(WatermarkTrackerTest, FarFutureTimesAreClampedToOneDayAhead) {
  const EventTime now_as_event = event_time_from_ms(to_ms(clock_.now()));
  tracker_.observe(0, now_as_event + days(400), clock_.now());
  EXPECT_EQ(tracker_.source_watermark(0).time, now_as_event + days(1));
  EXPECT_EQ(tracker_.current(clock_.now()).time, now_as_event + days(1));
}

TEST_F(WatermarkTrackerTest, UpstreamWatermarkRaisesButNeverLowersTheGlobal) {
  tracker_.observe(0, day(5), clock_.now());
  tracker_.observe_upstream(day(8));
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(8));
  tracker_.observe_upstream(day(2));
  EXPECT_EQ(tracker_.current(clock_.now()).time, day(8));
}

TEST_F(WatermarkTrackerTest, UnknownSourcesAreIgnored) {
  tracker_.observe(7, day(5), clock_.now());
  EXPECT_FALSE(tracker_.current(clock_.now()).known());
  EXPECT_FALSE(tracker_.source_watermark(7).known());
  EXPECT_EQ(tracker_.sources(), 3u);
}

}  // namespace
}  // namespace mozaiek
