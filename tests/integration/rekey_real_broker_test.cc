// Pseudonym key rotation on a real broker: state scored under key 1 by a
// service with four partitions, rekeyed through the changelog, is restored
// by an instance with an empty state directory under key 2, and a later
// signal converges with the one scored before the rotation, under the
// person's new pseudonym. The old directory, and an empty one restoring the
// old changelog, refuse key 2 until it is rekeyed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <future>

#include "connectors/app/pseudonym_state.h"
#include "connectors/app/service.h"
#include "connectors/kafka/kafka_sink.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

const std::string kKeys1 = "mozaiek-pseudonym-keys\n1:rekey-broker-first-key-0123456789\n";
const std::string kKeys2 = kKeys1 + "2:rekey-broker-second-key-0123456789\n";

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

class RekeyRealBrokerTest : public RealKafkaTest {
 protected:
  void TearDown() override { ::unsetenv(kPseudonymKeyEnv); }
};

TEST_F(RekeyRealBrokerTest, ARestoreAfterRekeyGivesTheNewPseudonymsWithTheirScores) {
  const std::string ns = kafka().unique_name("rekey");
  Settings settings = shipped_settings();
  settings.brokers = kafka().bootstrap();
  use_namespace(settings, ns);
  settings.http_listen = "127.0.0.1:0";
  const auto root = std::filesystem::temp_directory_path() / ns;
  std::filesystem::remove_all(root);
  KafkaSettings kafka_settings;
  kafka_settings.brokers = kafka().bootstrap();
  Status s = Status::ok();
  auto producer = KafkaSink::create(kafka_settings, s);
  ASSERT_TRUE(producer) << s.message();
  const ServiceOptions quiet{.demo = false, .print_alerts = false, .serve_http = false};

  // Key 1: a concrete signal that does not alert alone (5 < 6).
  ::setenv(kPseudonymKeyEnv, kKeys1.c_str(), 1);
  settings.state_dir = (root / "a").string();
  {
    Service a(settings, quiet);
    ASSERT_TRUE(a.start()) << "instance a";
    ASSERT_TRUE(producer->produce(ns + ".signals.coa", "rk-1",
                                  signal_json("rk-1", "coa", "self_identifies_victim")));
    ASSERT_TRUE(producer->flush(seconds(30)));
    ASSERT_TRUE(wait_until([&] { return a.progress().convergence_in >= 1; }, seconds(60)));
    a.stop();
  }

  // Key 2 on the old directory: refused, naming rekey.
  ::setenv(kPseudonymKeyEnv, kKeys2.c_str(), 1);
  {
    Service stale(settings, quiet);
    const Status refused = stale.start();
    ASSERT_FALSE(refused.is_ok());
    EXPECT_NE(refused.message().find("mozaiek rekey"), std::string::npos) << refused.message();
  }
  // Key 2 on an empty directory, restoring key 1's changelog: the partition
  // holding the person is refused, and the instance stops saying why.
  {
    Settings fresh = settings;
    fresh.state_dir = (root / "c").string();
    Service c(fresh, quiet);
    ASSERT_TRUE(c.start()) << "instance c";
    auto stopped = std::async(std::launch::async, [&c] { return c.wait(); });
    ASSERT_EQ(stopped.wait_for(std::chrono::seconds(90)), std::future_status::ready)
        << "an instance under key 2 kept running on key 1's changelog";
    const Status why = stopped.get();
    EXPECT_FALSE(why.is_ok());
    EXPECT_NE(why.message().find("mozaiek rekey"), std::string::npos) << why.message();
    c.stop();
  }
  // Rekey it, through the changelog.
  const Pseudonymiser keys2(kKeys2);
  RekeyReport report;
  bool changelog_written = false;
  ASSERT_TRUE(
      rekey_state_dir(settings, settings.state_dir, false, keys2, {}, report, changelog_written)
          .is_ok());
  EXPECT_EQ(report.from, 1);
  EXPECT_EQ(report.to, 2);
  EXPECT_GE(report.persons, 1U);
  EXPECT_TRUE(changelog_written);

  // An instance with an empty directory restores from the changelog under
  // key 2; a second organisation completes the case.
  settings.state_dir = (root / "b").string();
  Service b(settings, quiet);
  ASSERT_TRUE(b.start()) << "instance b";
  ASSERT_TRUE(producer->produce(ns + ".signals.police", "rk-2",
                                signal_json("rk-2", "police", "unexplained_money")));
  ASSERT_TRUE(producer->flush(seconds(30)));
  std::string person;
  keys2.pseudonymise("v-number", normalise_person_id("V-2231-887"), person);
  AlertCollector collector(kafka_settings, settings.topics.alerts, ns + ".test-alerts");
  const bool found = collector.collect_until(
      [](const std::vector<Alert>& alerts) {
        return std::any_of(alerts.begin(), alerts.end(), [](const Alert& a) {
          return has_signal(a, "rk-1") && has_signal(a, "rk-2");
        });
      },
      std::chrono::seconds(90));
  EXPECT_TRUE(found) << "no alert combining the signal scored under key 1 with the new one ("
                     << collector.alerts().size() << " alerts seen)";
  for (const auto& alert : collector.alerts()) {
    EXPECT_EQ(alert.subject_key, person);
  }
  b.stop();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace mozaiek::test
