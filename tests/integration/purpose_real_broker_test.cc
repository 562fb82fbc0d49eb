// Purpose binding through a real Apache Kafka broker: two care parties'
// convergence on a boy reaches mozaiek.alerts.care and never
// mozaiek.alerts, while an investigation alert on a car goes the other
// way; a consent-less signal naming the car adds nothing to it.
#include <gtest/gtest.h>

#include <algorithm>

#include "connectors/app/service.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"

namespace mozaiek::test {
namespace {

class PurposeRealBrokerTest : public RealKafkaTest {};

bool names(const Alert& a, const std::string& signal_id) {
  return std::any_of(a.contributions.begin(), a.contributions.end(),
                     [&](const Contribution& c) { return c.signal_id == signal_id; });
}

TEST_F(PurposeRealBrokerTest, CareConvergenceReachesTheCareTopicOnly) {
  const std::string ns = kafka().unique_name("purpose");
  Settings settings = service_settings_for(kafka().bootstrap(), ns);
  ASSERT_EQ(settings.topics.alerts_care, ns + ".alerts.care");

  const std::string boy = R"({"type":"person","id":"2213456789","id_scheme":"v-number"})";
  const std::string car = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
  auto consented = [](OutRecord r) {
    r.value.insert(r.value.size() - 1, R"(,"consent":true)");
    return r;
  };
  const std::vector<OutRecord> records = {
      consented(
          signal_record("care_coordinator", "cc-1", "sleeps_at_workplace", "2025-03-01", boy)),
      consented(signal_record("veilig_thuis", "vt-1", "sleeps_at_workplace", "2025-03-01", boy)),
      signal_record("police", "pol-1", "transports_persons_with_documents", "2025-03-02", car),
      signal_record("kmar", "kmar-1", "foreign_plate_recurring", "2025-03-02", car),
      // fairwork without consent: would lift the car's score, must not.
      signal_record("fairwork", "fw-1", "visitor_vehicle", "2025-03-02", car + "," + boy),
  };

  Service service(settings,
                  ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
  Status s = service.start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  KafkaSettings k;
  k.brokers = service.bootstrap_servers();
  produce_all(k, records, settings.topics.signals_prefix);

  AlertCollector care(k, settings.topics.alerts_care, ns + ".test-care");
  ASSERT_TRUE(care.collect_until([](const std::vector<Alert>& a) { return !a.empty(); },
                                 std::chrono::seconds(90)));
  AlertCollector investigation(k, settings.topics.alerts, ns + ".test-alerts");
  auto car_alert = [](const std::vector<Alert>& alerts) {
    return std::any_of(alerts.begin(), alerts.end(),
                       [](const Alert& a) { return a.rule == "vehicle_convergence"; });
  };
  ASSERT_TRUE(investigation.collect_until(car_alert, std::chrono::seconds(90)));
  service.stop();

  ASSERT_EQ(care.alerts().size(), 1u);
  const Alert& c = care.alerts()[0];
  EXPECT_EQ(c.purpose, Purpose::care);
  EXPECT_EQ(c.rule, "care_person_convergence");
  EXPECT_TRUE(names(c, "cc-1") && names(c, "vt-1"));
  EXPECT_FALSE(names(c, "fw-1"));
  for (const auto& a : investigation.alerts()) {
    EXPECT_EQ(a.purpose, Purpose::investigation) << a.rule;
    EXPECT_FALSE(names(a, "cc-1") || names(a, "vt-1") || names(a, "fw-1")) << a.rule;
  }
  EXPECT_EQ(care.unreadable(), 0u);
}

}  // namespace
}  // namespace mozaiek::test
