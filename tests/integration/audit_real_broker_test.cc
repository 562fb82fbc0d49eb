// The audit trail end to end through a real Apache Kafka broker: an analyst
// reads an entity, an alert list and the live stream through a running
// service; each read leaves its mozaiek.audit/v2 record on the audit topic
// (the stream two: opened and closed), and a privacy officer reads the
// trail back, by subject and by principal, over GET /api/audit and with
// `mozaiek audit`; the read-backs are audited too.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/app/service.h"
#include "tests/support/command.h"
#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/sse_reader.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

httplib::Headers as(const std::string& who) { return {{std::string(kTestPrincipalHeader), who}}; }

// The body of a read-back, or "" without a 200.
std::string trail(httplib::Client& http, const std::string& query) {
  auto res = http.Get("/api/audit?" + query, as("dpo-1"));
  return res && res->status == 200 ? res->body : "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class AuditRealBrokerTest : public RealKafkaTest {};

TEST_F(AuditRealBrokerTest, EveryReadIsAuditedOnTheTopicAndReadBackBySubjectAndByPrincipal) {
  const std::string ns = kafka().unique_name("audit");
  Settings settings = service_settings_for(kafka().bootstrap(), ns);
  const std::filesystem::path root = settings.state_dir;
  const std::string car = "FR-AB123CD";
  const std::string car_subject = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";

  Service service(settings, ServiceOptions{.demo = true,
                                           .print_alerts = false,
                                           .serve_http = true,
                                           .access_gate = test::FakeGate::naming_by_test_header()});
  Status s = service.start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  KafkaSettings k;
  k.brokers = kafka().bootstrap();
  produce_all(k,
              {signal_record("police", "bvh-1", "transports_persons_with_documents", "2025-03-07",
                             car_subject),
               signal_record("kmar", "kmar-1", "foreign_plate_recurring", "2025-03-07",
                             car_subject)},
              settings.topics.signals_prefix);
  const std::string address = service.http_address();
  httplib::Client http("http://" + address);

  // The analyst's reads: the live stream, an entity and an alert list.
  {
    SseReader stream(
        std::stoi(address.substr(address.rfind(':') + 1)), "/api/alerts/stream",
        [](const std::string&) { return true; }, as("analyst-7"));
    ASSERT_TRUE(stream.wait_until_done()) << "the stream was not opened: " << stream.received();
    EXPECT_TRUE(has(stream.received(), ": subscribed")) << stream.received();
  }
  ASSERT_TRUE(wait_until(
      [&] {
        auto v = http.Get("/api/entities/vehicle/" + car + "?reason=case-4711", as("analyst-7"));
        return v && v->status == 200;
      },
      seconds(60)))
      << "the car's view never answered";
  auto list = http.Get("/api/alerts?limit=5", as("analyst-7"));
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  auto anonymous = http.Get("/api/alerts");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);

  // The subject's trail: the analyst's views of the car, named by the
  // principal from the request, with role, route, reason and result.
  std::string by_subject;
  ASSERT_TRUE(wait_until(
      [&] {
        by_subject = trail(http, "type=vehicle&key=" + car);
        return has(by_subject, R"("found":true)");
      },
      seconds(30)))
      << by_subject;
  EXPECT_TRUE(has(by_subject, R"("schema":"mozaiek.audit/v2")")) << by_subject;
  EXPECT_TRUE(has(by_subject, R"("principal":"analyst-7","via":"test","role":"analyst",)"
                              R"("action":"entity_view","method":"GET",)"
                              R"("route":"/api/entities/vehicle/FR-AB123CD","status":200,)"
                              R"("reason":"case-4711")"))
      << by_subject;

  // The principal's trail: the list read (filter and count), the stream
  // opened and closed, the views.
  std::string by_principal;
  ASSERT_TRUE(wait_until(
      [&] {
        by_principal = trail(http, "principal=analyst-7&limit=1000");
        return has(by_principal, R"("action":"alert_stream_close")") &&
               has(by_principal, R"("action":"alert_list")");
      },
      // The server notices the client left at its next keep-alive; each poll
      // is itself audited, so poll at a pace that keeps the trails short.
      seconds(60), Millis{500}))
      << by_principal;
  EXPECT_TRUE(has(by_principal, R"("action":"alert_stream_open")")) << by_principal;
  EXPECT_TRUE(has(by_principal, R"("query":{"limit":"5"},"count":)")) << by_principal;
  EXPECT_TRUE(has(by_principal, R"("action":"entity_view")")) << by_principal;

  // The read-backs are audited in turn, as is the refused anonymous read.
  std::string officer;
  ASSERT_TRUE(wait_until(
      [&] {
        // Each poll above was itself audited: ask for enough records.
        officer = trail(http, "principal=dpo-1&limit=1000");
        return has(officer, R"("about_principal":"analyst-7")");
      },
      seconds(30)))
      << officer;
  EXPECT_TRUE(has(officer, R"("role":"privacy_officer","action":"audit_read")")) << officer;
  EXPECT_TRUE(has(officer, R"("subject":{"type":"vehicle","key":"FR-AB123CD"})")) << officer;

  // The same trail from the command line, read from the whole topic.
  std::ifstream shipped(std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml");
  std::stringstream yaml;
  yaml << shipped.rdbuf();
  std::string config = yaml.str();
  const std::string from = "audit: mozaiek.audit";
  const auto at = config.find(from);
  ASSERT_NE(at, std::string::npos);
  config.replace(at, from.size(), "audit: " + settings.topics.audit);
  std::filesystem::create_directories(root);
  const std::string config_path = (root / "audit.yaml").string();
  std::ofstream(config_path) << config;
  const auto cli = run_command(std::string(MOZAIEK_BINARY) + " audit --config " + config_path +
                               " --brokers " + kafka().bootstrap() + " --subject vehicle:" + car +
                               " --user dpo-2 2>/dev/null");
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_TRUE(has(cli.output, R"("principal":"analyst-7")")) << cli.output;
  EXPECT_TRUE(has(cli.output, R"("action":"entity_view")")) << cli.output;
  EXPECT_TRUE(has(cli.output, R"("principal":"dpo-1","via":"test","role":"privacy_officer",)"
                              R"("action":"audit_read")"))
      << cli.output;
  EXPECT_FALSE(has(cli.output, R"("action":"alert_list")")) << "not about the car";
  // ... and audited: the API's index shows the command line's read-back.
  EXPECT_TRUE(wait_until([&] { return has(trail(http, "principal=dpo-2"), "mozaiek audit"); },
                         seconds(30)));
  service.stop();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace mozaiek::test
