// The same answer whatever the delivery order (issue 14 item 7): one
// backlog of generated partner records on the real broker, drained three
// times by `mozaiek run` under fresh group ids, dead-letters exactly the
// records `mozaiek replay` over the same file dead-letters (too_late
// included) and raises its alerts but for a few dozen (cause not found yet). Before the stages
// merged their partitions by event time, a partition fetched first pushed the watermark ahead and
// drains differed from replay and from each other by hundreds of too_late
// rejections and alerts.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "tests/support/backlog_run.h"

namespace mozaiek::test {
namespace {

constexpr std::size_t kSignals = 100000;
constexpr std::uint64_t kSeed = 14;

std::size_t count_differences(const std::set<std::string>& want, const std::set<std::string>& got) {
  std::vector<std::string> both;
  std::set_symmetric_difference(want.begin(), want.end(), got.begin(), got.end(),
                                std::back_inserter(both));
  return both.size();
}

class DeliveryOrderTest : public RealKafkaTest {};

TEST_F(DeliveryOrderTest, ThreeDrainsOfOneBacklogDeadLetterExactlyAsReplayAndKeepItsAlerts) {
  Backlog backlog(kafka(), kSignals, kSeed);
  ASSERT_FALSE(HasFatalFailure());
  const BacklogOutcome replay = backlog.replay();
  ASSERT_TRUE(replay.counted.has_value());
  ASSERT_EQ(replay.counted->in, backlog.records());
  ASSERT_EQ(replay.counted->in, replay.counted->processed + replay.counted->dlq);
  ASSERT_GT(replay.alert_ids.size(), 1000u) << "too few alerts to compare";
  ASSERT_GT(replay.dlq_by_reason.count("too_late"), 0u) << "no too_late rejection to compare";

  for (int drain = 1; drain <= 3; ++drain) {
    SCOPED_TRACE("drain " + std::to_string(drain));
    const std::string name = "drain" + std::to_string(drain);
    const std::string log = backlog.dir() + "/" + name + ".log";
    ServiceChild service(backlog.write_config(name), log, Backlog::kKey);
    ASSERT_TRUE(backlog.drained(name, std::chrono::seconds(300)))
        << "the backlog was not drained; service log: " << log;
    const int status = service.stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop failed: " << log;

    const BacklogOutcome drained = backlog.outcome(name);
    // Intake's decisions (too_late and every other rejection) are exactly
    // those of replay: the partner partitions are merged by reported_at.
    EXPECT_EQ(drained.dlq_by_reason, replay.dlq_by_reason) << "service log: " << log;
    EXPECT_EQ(drained.dlq_records, replay.dlq_records);
    // Alerts: a drain still moves a few dozen of ~2,500 alert ids against
    // replay, cause not found yet (README, "Fault testing"); a watermark
    // pushed ahead by a partition read first moved hundreds.
    const std::size_t off = count_differences(replay.alert_ids, drained.alert_ids);
    std::printf("drain %d: %zu alert ids (replay %zu), %s; dead letters %zu as replay\n", drain,
                drained.alert_ids.size(), replay.alert_ids.size(),
                alert_differences(replay, drained).c_str(), drained.dlq());
    EXPECT_LE(off * 20, replay.alert_ids.size())
        << alert_differences(replay, drained) << "; service log: " << log;
  }
}

}  // namespace
}  // namespace mozaiek::test
