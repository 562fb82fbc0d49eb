// The whole service, end to end: synthetic partner traffic produced to
// signals.* topics, alerts consumed from mozaiek.alerts. Once through the
// embedded cluster and once through a real Apache Kafka broker.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "connectors/app/service.h"
#include "tests/support/fake_gate.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

bool has_alert_on(const std::vector<Alert>& alerts, const std::string& subject) {
  for (const auto& a : alerts) {
    if (subject_of(a) == subject) return true;
  }
  return false;
}

// Runs the service over the traffic and checks the planted cases, the DLQ and
// the record accounting. `settings` names the brokers and topics to use.
void check_pipeline(Settings settings, const std::string& tag) {
  const Traffic traffic = make_traffic(settings, 3000, 5);
  ASSERT_EQ(traffic.planted.size(), 3u);
  settings.state_dir = (std::filesystem::temp_directory_path() / ("mozaiek-it-" + tag)).string();
  std::filesystem::remove_all(settings.state_dir);
  settings.http_listen = "127.0.0.1:0";
  Service service(settings, ServiceOptions{.demo = true,
                                           .print_alerts = false,
                                           .serve_http = true,
                                           .access_gate = test::FakeGate::granting_all_roles()});
  Status s = service.start();
  ASSERT_TRUE(s.is_ok()) << s.message();

  KafkaSettings kafka;
  kafka.brokers = service.bootstrap_servers();
  produce_all(kafka, traffic.records, settings.topics.signals_prefix);

  std::vector<std::string> expected;
  for (const auto& c : traffic.planted) expected.push_back(planted_subject(c, kDemoPseudonymKey));
  AlertCollector collector(kafka, settings.topics.alerts, settings.group_id + ".test-alerts");
  // James converges from several organisations. Through Kafka the sources
  // are read in any order, so his first alert may come from one organisation
  // alone (a concrete signal); collect until the multi-source one is there too.
  auto james_multi_source = [&](const std::vector<Alert>& alerts) {
    std::size_t n = 0;
    for (const auto& a : alerts) {
      if (subject_of(a) == expected[0] && a.sources.size() >= 2) ++n;
    }
    return n;
  };
  const bool all = collector.collect_until(
      [&](const std::vector<Alert>& alerts) {
        for (const auto& e : expected) {
          if (!has_alert_on(alerts, e)) return false;
        }
        return james_multi_source(alerts) >= 1;
      },
      std::chrono::seconds(120));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_TRUE(has_alert_on(collector.alerts(), expected[i]))
        << "no alert for planted case " << traffic.planted[i].name;
  }
  ASSERT_TRUE(all);
  EXPECT_EQ(collector.unreadable(), 0u);

  // Every record is accounted for: processed or dead-lettered, and the DLQ
  // topic holds exactly the malformed ones.
  ASSERT_TRUE(wait_until([&] { return service.progress().intake_in >= traffic.records.size(); },
                         seconds(60)));
  const auto progress = service.progress();
  EXPECT_EQ(progress.intake_in, traffic.records.size());
  // Malformed records plus signals reported later than their source may be.
  EXPECT_GE(progress.intake_dlq, traffic.malformed);
  EXPECT_LT(progress.intake_dlq, traffic.malformed + traffic.records.size() / 20);
  EXPECT_EQ(count_records(kafka, settings.topics.dlq, settings.group_id + ".test-dlq",
                          progress.intake_dlq, std::chrono::seconds(60)),
            progress.intake_dlq);

  // (That James's alert comes well before his departure is checked in
  // reporting order by the replay test.)
  EXPECT_GE(james_multi_source(collector.alerts()), 1u);

  // Persons appear only by pseudonym; alerts on one subject/rule/level share an id.
  std::map<std::string, std::set<std::string>> ids;
  for (const auto& a : collector.alerts()) {
    if (a.subject_type == SubjectType::person) {
      EXPECT_EQ(a.subject_key.size(), 64u);
      EXPECT_EQ(a.subject_key.find_first_not_of("0123456789abcdef"), std::string::npos);
    }
    ids[alert_identity(a)].insert(a.alert_id);
  }
  for (const auto& [k, v] : ids) EXPECT_EQ(v.size(), 1u) << k;
  service.stop();
  std::filesystem::remove_all(settings.state_dir);
}

TEST(ServicePipelineTest, EmbeddedClusterRaisesThePlantedAlertsAndDeadLettersTheRest) {
  Settings settings = shipped_settings();
  settings.brokers = "embedded";
  check_pipeline(settings, "embedded");
}

class ServicePipelineRealKafkaTest : public RealKafkaTest {};

TEST_F(ServicePipelineRealKafkaTest, RealBrokerRaisesThePlantedAlertsAndDeadLettersTheRest) {
  Settings settings = shipped_settings();
  settings.brokers = kafka().bootstrap();
  const std::string ns = kafka().unique_name("pipe");
  use_namespace(settings, ns);
  check_pipeline(settings, ns);
}

}  // namespace
}  // namespace mozaiek::test
