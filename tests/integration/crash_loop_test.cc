// Crash loop (issue 14 item 3): a fixed history of 200,000 generated signals
// (and chain events) on the real broker, drained by `mozaiek run` processes
// killed with SIGKILL at random points at least 20 times, then by one that
// runs to the end. No alert may carry two ids; every record is
// dead-lettered exactly as in `mozaiek replay` of the same file (counting
// each record once: a dead letter written again after a crash carries the
// same origin), and in = processed + dlq; the alert ids are replay's but for
// the few dozen a drain still moves (see delivery_order_test.cc).
//
// MOZAIEK_CRASH_LOOP_KILLS=N sets the number of kills (README, "Fault
// testing": the recorded longer run); MOZAIEK_CRASH_LOOP_SEED the seed of
// the kill times (printed).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <random>
#include <thread>

#include "tests/support/backlog_run.h"

namespace mozaiek::test {
namespace {

constexpr std::size_t kSignals = 200000;
constexpr std::uint64_t kHistorySeed = 3;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

class CrashLoopTest : public RealKafkaTest {};

TEST_F(CrashLoopTest, TwentySigkillsAtRandomPointsLeaveNoAlertUnderTwoIdsAndDeadLetterAsReplay) {
  Backlog backlog(kafka(), kSignals, kHistorySeed);
  ASSERT_FALSE(HasFatalFailure());
  const BacklogOutcome replay = backlog.replay();
  ASSERT_TRUE(replay.counted.has_value());
  ASSERT_EQ(replay.counted->in, backlog.records());
  ASSERT_EQ(replay.counted->in, replay.counted->processed + replay.counted->dlq);
  ASSERT_GT(replay.alert_ids.size(), 1000u);

  const int kills = std::max(20, env_int("MOZAIEK_CRASH_LOOP_KILLS", 20));
  const auto seed = static_cast<std::uint32_t>(
      env_int("MOZAIEK_CRASH_LOOP_SEED", static_cast<int>(std::random_device{}() & 0x7fffffff)));
  std::printf("crash loop: %d kills, seed %u (MOZAIEK_CRASH_LOOP_SEED)\n", kills, seed);
  std::mt19937 rng(seed);
  // Each run lives past the session timeout (6 s) of the one killed before
  // it, so it owns every partition when it is killed: a run killed while a
  // dead member still held half the partitions would have aligned only its
  // own half (each instance aligns and keeps watermarks for the partitions
  // it owns; README, "Fault testing"). The kill lands anywhere from its
  // first fetch to the end of the backlog.
  std::uniform_int_distribution<int> lifetime_ms(7000, 10000);

  const std::string config = backlog.write_config("loop");
  const std::string log = backlog.dir() + "/loop.log";
  for (int k = 1; k <= kills; ++k) {
    ServiceChild service(config, log, Backlog::kKey);
    std::this_thread::sleep_for(std::chrono::milliseconds(lifetime_ms(rng)));  // the random point
    const int status = service.stop(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the service ended before kill " << k << "; log: " << log;
  }
  {
    ServiceChild last(config, log, Backlog::kKey);
    ASSERT_TRUE(backlog.drained("loop", std::chrono::seconds(400)))
        << "not drained after the kills; service log: " << log;
    const int status = last.stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop failed: " << log;
  }

  const BacklogOutcome crashed = backlog.outcome("loop");
  std::vector<std::string> off;
  std::set_symmetric_difference(replay.alert_ids.begin(), replay.alert_ids.end(),
                                crashed.alert_ids.begin(), crashed.alert_ids.end(),
                                std::back_inserter(off));
  // As in DeliveryOrderTest: a drain's alerts still differ from replay's by
  // a few dozen ids, cause not found yet (README, "Fault testing").
  EXPECT_LE(off.size() * 20, replay.alert_ids.size())
      << alert_differences(replay, crashed) << " of replay's " << replay.alert_ids.size()
      << "; log: " << log;
  for (const auto& [identity, ids] : crashed.ids_by_identity) {
    EXPECT_EQ(ids.size(), 1u) << "one alert under " << ids.size() << " ids: " << identity;
  }
  EXPECT_EQ(crashed.dlq_by_reason, replay.dlq_by_reason);
  EXPECT_EQ(crashed.dlq(), replay.counted->dlq);
  std::printf("crash loop: %zu alert ids (%zu alert records; against replay's %zu: %s), %zu dead "
              "letters (%zu written) after %d kills\n",
              crashed.alert_ids.size(), crashed.alert_records, replay.alert_ids.size(),
              alert_differences(replay, crashed).c_str(), crashed.dlq(), crashed.dlq_records,
              kills);
}

}  // namespace
}  // namespace mozaiek::test
