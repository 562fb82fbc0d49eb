// Chain oversight end to end through a real Apache Kafka broker: partner
// signals on signals.*, chain events on the chain topic, the service in
// between; oversight alerts read from the alerts topic and the metrics from
// GET /metrics.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "connectors/app/service.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/synthetic/synthetic_chain.h"
#include "tests/support/fake_gate.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

double metric(const std::string& text, const std::string& name,
              const std::vector<std::string>& labels = {}) {
  return metric_sum(text, name, labels).value_or(-1);
}

class OversightRealKafkaTest : public RealKafkaTest {};

TEST_F(OversightRealKafkaTest, ChainEventsThroughTheBrokerRaiseOversightAlertsAndMetrics) {
  Settings settings = shipped_settings();
  settings.brokers = kafka().bootstrap();
  const std::string ns = kafka().unique_name("oversight");
  use_namespace(settings, ns);
  settings.state_dir = (std::filesystem::temp_directory_path() / ("mozaiek-it-" + ns)).string();
  std::filesystem::remove_all(settings.state_dir);
  settings.http_listen = "127.0.0.1:0";

  const Traffic traffic = make_traffic(settings, 2000, 9);
  ChainTrafficOptions chain_options;
  chain_options.seed = 9;
  chain_options.topic = settings.topics.chain_events;
  for (const auto& s : settings.operators.sources) chain_options.sources.push_back(s.name);
  chain_options.locations = settings.operators.locations;
  chain_options.planted = traffic.planted;
  SyntheticChain chain(chain_options);
  std::vector<OutRecord> chain_records;
  OutRecord rec;
  while (chain.next(rec)) chain_records.push_back(rec);
  ASSERT_GT(chain_records.size(), 1000u);

  Service service(settings, ServiceOptions{.demo = true,
                                           .print_alerts = false,
                                           .serve_http = true,
                                           .access_gate = test::FakeGate::granting_all_roles()});
  Status s = service.start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  KafkaSettings kafka_settings;
  kafka_settings.brokers = service.bootstrap_servers();
  // Signals first, so a departure finds the person's signals already scored
  // (a backfill through Kafka reads topics in any order).
  produce_all(kafka_settings, traffic.records, settings.topics.signals_prefix);
  ASSERT_TRUE(wait_until(
      [&] {
        return service.progress().convergence_in >= service.progress().routed &&
               service.progress().intake_in >= traffic.records.size();
      },
      seconds(90)));
  {
    Status c = Status::ok();
    auto sink = KafkaSink::create(kafka_settings, c);
    ASSERT_TRUE(sink != nullptr) << c.message();
    for (const auto& r : chain_records) ASSERT_TRUE(sink->produce(r.topic, r.key, r.value).is_ok());
    ASSERT_TRUE(sink->flush(seconds(60)).is_ok());
  }

  AlertCollector collector(kafka_settings, settings.topics.alerts, ns + ".test-alerts");
  const bool all = collector.collect_until(
      [](const std::vector<Alert>& alerts) {
        bool sla = false, worrying = false, spike = false;
        for (const auto& a : alerts) {
          sla = sla || a.rule == "sla_breach";
          worrying = worrying || (a.rule == "worrying_departure" && !a.contributions.empty());
          spike = spike || a.rule == "mob_spike";
        }
        return sla && worrying && spike;
      },
      std::chrono::seconds(120));
  EXPECT_TRUE(all) << collector.alerts().size() << " alerts";
  std::map<std::string, int> rules;
  std::set<std::string> person_keys;
  for (const auto& a : collector.alerts()) {
    ++rules[a.rule];
    if (a.rule == "sla_breach") {
      EXPECT_EQ(a.subject_kind, "melding");
      EXPECT_EQ(a.events.size(), 1u);
    }
    if (a.subject_type == SubjectType::person && a.subject_kind.empty()) {
      EXPECT_EQ(a.subject_key.size(), 64u);
      person_keys.insert(a.subject_key);
    }
    for (const auto& e : a.events) {
      if (e.type.rfind("person.", 0) == 0) person_keys.insert(e.subject_key);
    }
  }
  EXPECT_EQ(rules["mob_spike"], 1) << "the planted spike, once";

  // The registry's and the NRM's 2018 counts, and no person in /metrics.
  httplib::Client http(service.http_address());
  std::string text;
  const bool counted = wait_until(
      [&] {
        auto res = http.Get("/metrics");
        if (!res || res->status != 200) return false;
        text = res->body;
        return metric(text, "mozaiek_registrations_unique",
                      {"count=\"registry\"", "year=\"2018\"", "reporter=\"all\"", "form=\"all\"",
                       "region=\"all\""}) == 740;  // 742, in steps of 5
      },
      seconds(60));
  EXPECT_TRUE(counted);
  EXPECT_EQ(metric(text, "mozaiek_registrations_unique",
                   {"count=\"nrm\"", "year=\"2018\"", "reporter=\"all\"", "form=\"all\"",
                    "region=\"all\""}),
            665);  // 668, in steps of 5
  EXPECT_GT(metric(text, "mozaiek_mob_departures_total"), 0);
  EXPECT_GT(metric(text, "mozaiek_feedback_latency_seconds_count", {"stage=\"feedback\""}), 0);
  EXPECT_GT(metric(text, "mozaiek_meldingen_unanswered_total"), 0);
  EXPECT_GT(metric(text, "mozaiek_reporting_delay_seconds_count"), 0);
  EXPECT_EQ(metric(text, "mozaiek_mob_spikes_total"), 1);
  ASSERT_FALSE(person_keys.empty());
  for (const auto& k : person_keys) EXPECT_EQ(text.find(k), std::string::npos) << k;
  for (const auto& r : chain_records) {
    // Raw person ids as partners sent them ("id":"...") never reach /metrics.
    const auto pos = r.value.find(R"("id":")");
    if (pos == std::string::npos) continue;
    const std::string id = r.value.substr(pos + 6, r.value.find('"', pos + 6) - pos - 6);
    if (id.size() >= 6) {
      EXPECT_EQ(text.find(id), std::string::npos) << id;
    }
  }
  service.stop();
  std::filesystem::remove_all(settings.state_dir);
}

}  // namespace
}  // namespace mozaiek::test
