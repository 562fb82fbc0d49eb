// Alert actions through a real Apache Kafka broker: the service raises an
// alert, an analyst acknowledges it over HTTP, the action record is on the
// alert-actions topic (key: the alert id), /api/alerts shows the status,
// another instance's reader of the topics shows it too, and after a graceful
// restart the restarted service shows it again, read back from the topics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "connectors/app/alert_topics_reader.h"
#include "connectors/app/service.h"
#include "connectors/http/api/alert_action.h"
#include "connectors/kafka/kafka_source.h"
#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

using ::testing::HasSubstr;

OutRecord pickup(const std::string& id, const std::string& day, const std::string& location) {
  OutRecord r;
  r.topic = "signals.coa";
  r.key = id;
  r.value = R"({"schema":"mozaiek.signal/v1","signal_id":")" + id +
            R"(","source":"coa","observed_at":"2025-03-)" + day +
            R"(T10:00:00Z","reported_at":"2025-03-)" + day +
            R"(T18:00:00Z","indicator":"pickup_van","subjects":[)"
            R"({"type":"vehicle","plate":"WX-987-Z","country":"PL"},{"type":"location","id":")" +
            location + R"("}]})";
  return r;
}

// GET /api/alerts until `pred` holds for the body; returns the last body.
std::string alerts_when(const std::string& address,
                        const std::function<bool(const std::string&)>& pred) {
  httplib::Client http("http://" + address);
  std::string body;
  wait_until(
      [&] {
        auto res = http.Get("/api/alerts",
                            httplib::Headers{{std::string(kTestPrincipalHeader), "analyst-7"}});
        body = res ? res->body : "";
        return res && res->status == 200 && pred(body);
      },
      seconds(60), Millis{50});
  return body;
}

class AlertActionsRealBrokerTest : public RealKafkaTest {};

TEST_F(AlertActionsRealBrokerTest, AnAckIsOnTheTopicInTheApiAndSurvivesARestart) {
  const std::string ns = kafka().unique_name("actions");
  Settings settings = service_settings_for(kafka().bootstrap(), ns);
  const ServiceOptions options{.demo = true,
                               .print_alerts = false,
                               .serve_http = true,
                               .access_gate = test::FakeGate::naming_by_test_header()};

  auto service = std::make_unique<Service>(settings, options);
  Status s = service->start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  KafkaSettings k;
  k.brokers = service->bootstrap_servers();
  produce_all(k,
              {pickup("van-1", "02", "coa-budel"), pickup("van-2", "04", "coa-gilze"),
               pickup("van-3", "05", "coa-grave")},
              settings.topics.signals_prefix);
  AlertCollector collector(k, settings.topics.alerts, ns + ".test-alerts");
  ASSERT_TRUE(collector.collect_until(
      [](const std::vector<Alert>& a) { return !a.empty() && a[0].rule == "pickup_van"; },
      std::chrono::seconds(90)));
  const std::string alert_id = collector.alerts()[0].alert_id;

  // Not acted on yet.
  std::string body = alerts_when(service->http_address(), [&](const std::string& b) {
    return b.find(alert_id) != std::string::npos;
  });
  EXPECT_THAT(body, HasSubstr(R"("status":"new")"));
  EXPECT_THAT(body, HasSubstr(R"("actions":[])"));

  httplib::Client http("http://" + service->http_address());
  auto res = http.Post("/api/alerts/" + alert_id + "/actions",
                       httplib::Headers{{std::string(kTestPrincipalHeader), "analyst-7"}},
                       R"({"action":"ack","reason":"calling the COA site"})", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  AlertAction written;
  std::string error;
  ASSERT_TRUE(read_action_json(res->body, written, error)) << error << ": " << res->body;
  EXPECT_EQ(written.alert_id, alert_id);
  EXPECT_EQ(written.action, ActionKind::ack);
  EXPECT_EQ(written.user, "analyst-7");
  EXPECT_EQ(written.reason, "calling the COA site");
  auto unknown = http.Post("/api/alerts/no-such-alert/actions",
                           httplib::Headers{{std::string(kTestPrincipalHeader), "analyst-7"}},
                           R"({"action":"ack"})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);

  // On the topic, keyed by the alert id: exactly the record answered.
  Status cs = Status::ok();
  auto actions = KafkaSource::create(k, ns + ".test-actions", {settings.topics.alert_actions}, cs);
  ASSERT_TRUE(actions) << cs.message();
  std::vector<OutRecord> on_topic;
  RecordBatch batch;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(actions->poll(batch, 100, Millis{200}).is_ok());
        for (const auto& r : batch.records) {
          on_topic.push_back({std::string(r.topic), std::string(r.key), std::string(r.value)});
        }
        return !on_topic.empty();
      },
      seconds(60)));
  ASSERT_EQ(on_topic.size(), 1u);
  EXPECT_EQ(on_topic[0].key, alert_id);
  EXPECT_EQ(on_topic[0].value, res->body);

  const std::string acknowledged = R"("status":"acknowledged")";
  body = alerts_when(service->http_address(), [&](const std::string& b) {
    return b.find(acknowledged) != std::string::npos;
  });
  EXPECT_THAT(body, HasSubstr(acknowledged));
  EXPECT_THAT(body, HasSubstr(R"("actions":[{"action":"ack","user":"analyst-7",)"
                              R"("reason":"calling the COA site")"));
  httplib::Client metrics("http://" + service->http_address());
  EXPECT_EQ(metric_sum(metrics.Get("/metrics", {{"X-Test-Principal", "scraper"}})->body,
                       "mozaiek_alert_actions_total", {"action=\"ack\""}),
            1.0);

  // Another instance's feed, filled by its own reader of the two topics,
  // shows the same.
  AlertFeed elsewhere(1000);
  auto reader = AlertTopicsReader::start(
      k, {settings.topics.alerts, settings.topics.alert_actions}, elsewhere, elsewhere.capacity(),
      [](const Status& fatal) { ADD_FAILURE() << fatal.message(); }, cs);
  ASSERT_TRUE(reader) << cs.message();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto held = elsewhere.recent(1);
        return !held.empty() && held[0].find(acknowledged) != std::string::npos;
      },
      seconds(60)));
  EXPECT_THAT(elsewhere.recent(1)[0], HasSubstr(alert_id));
  reader->stop();

  // Graceful restart on the same state: the restarted service's feed starts
  // empty and is filled from the alerts and alert-actions topics, so the
  // alert is shown still acknowledged.
  service->stop();
  service.reset();
  service = std::make_unique<Service>(settings, options);
  s = service->start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  body = alerts_when(service->http_address(), [&](const std::string& b) {
    return b.find(acknowledged) != std::string::npos;
  });
  EXPECT_THAT(body, HasSubstr(alert_id));
  EXPECT_THAT(body, HasSubstr(acknowledged));
  EXPECT_THAT(body, HasSubstr(R"("actions":[{"action":"ack","user":"analyst-7")"));
  service->stop();
  std::filesystem::remove_all(settings.state_dir);
}

}  // namespace
}  // namespace mozaiek::test
