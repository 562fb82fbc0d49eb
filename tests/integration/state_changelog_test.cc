// Operator state follows its partition: an instance with an empty state
// directory that takes over the partitions rebuilds their state from the
// changelog topic of the real broker, and a later signal converges with one
// the first instance scored.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "connectors/app/service.h"
#include "connectors/kafka/kafka_sink.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

std::string signal_json(const std::string& id, const std::string& source,
                        const std::string& indicator) {
  return R"({"schema":"mozaiek.signal/v1","signal_id":")" + id + R"(","source":")" + source +
         R"(","observed_at":"2026-11-01T10:00:00Z","reported_at":"2026-11-01T12:00:00Z",)" +
         R"("indicator":")" + indicator +
         R"(","subjects":[{"type":"person","id":"V-2231-887","id_scheme":"v-number"}]})";
}

bool has_signal(const Alert& a, const std::string& signal_id) {
  return std::any_of(a.contributions.begin(), a.contributions.end(),
                     [&](const Contribution& c) { return c.signal_id == signal_id; });
}

class StateChangelogTest : public RealKafkaTest {};

TEST_F(StateChangelogTest, AnInstanceWithEmptyStateRebuildsItFromTheChangelog) {
  const std::string ns = kafka().unique_name("changelog");
  Settings settings = shipped_settings();
  settings.brokers = kafka().bootstrap();
  use_namespace(settings, ns);  // the changelog defaults to <group_id>.internal.changelog
  settings.http_listen = "127.0.0.1:0";
  const auto root = std::filesystem::temp_directory_path() / ns;
  std::filesystem::remove_all(root);

  KafkaSettings kafka_settings;
  kafka_settings.brokers = kafka().bootstrap();
  Status s = Status::ok();
  auto producer = KafkaSink::create(kafka_settings, s);
  ASSERT_TRUE(producer) << s.message();

  // Instance A scores a concrete signal that does not alert alone (5 < 6).
  {
    settings.state_dir = (root / "a").string();
    Service a(settings, ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
    ASSERT_TRUE(a.start()) << "instance a";
    ASSERT_TRUE(producer->produce(ns + ".signals.coa", "cl-1",
                                  signal_json("cl-1", "coa", "self_identifies_victim")));
    ASSERT_TRUE(producer->flush(seconds(30)));
    ASSERT_TRUE(wait_until([&] { return a.progress().convergence_in >= 1; }, seconds(60)));
    EXPECT_EQ(a.progress().alerts, 0u);
    a.stop();
  }

  // Instance B starts with an empty state directory and takes every
  // partition; a soft signal from a second organisation completes the case.
  settings.state_dir = (root / "b").string();
  Service b(settings, ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
  ASSERT_TRUE(b.start()) << "instance b";
  ASSERT_TRUE(producer->produce(ns + ".signals.police", "cl-2",
                                signal_json("cl-2", "police", "unexplained_money")));
  ASSERT_TRUE(producer->flush(seconds(30)));

  AlertCollector collector(kafka_settings, settings.topics.alerts, ns + ".test-alerts");
  const bool found = collector.collect_until(
      [](const std::vector<Alert>& alerts) {
        return std::any_of(alerts.begin(), alerts.end(), [](const Alert& a) {
          return has_signal(a, "cl-1") && has_signal(a, "cl-2");
        });
      },
      std::chrono::seconds(90));
  EXPECT_TRUE(found) << "no alert combining the signal scored by instance a with the new one ("
                     << collector.alerts().size() << " alerts seen)";
  for (const auto& alert : collector.alerts()) {
    EXPECT_EQ(alert.rule, "person_convergence");
    EXPECT_EQ(alert.sources, (std::vector<std::string>{"coa", "police"}));
  }
  b.stop();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace mozaiek::test
