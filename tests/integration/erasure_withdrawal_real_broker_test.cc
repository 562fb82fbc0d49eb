// Erasure that finishes the job, through a real Apache Kafka broker: the boy
// alerts and is linked to a car; an analyst may not erase him; a privacy
// officer erases him by raw id over HTTP and is answered without his
// pseudonym. Then a withdrawal record (v2) of every alert that named him,
// by id, and the subject-wide one (v1) are on the alerts topic, the
// open live stream gets `withdrawn` events and nothing naming him after
// them, /api/alerts and the entity view no longer show him (on this
// instance and on a second one that reads the alerts topic afresh), and his
// audit trail holds the erasure.
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "connectors/app/service.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/records/alert_withdrawal.h"
#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/sse_reader.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

httplib::Headers as(const std::string& who) { return {{std::string(kTestPrincipalHeader), who}}; }

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The body of GET path as `who`, or "" without a 200.
std::string get(const std::string& address, const std::string& path,
                const std::string& who = "dpo-1") {
  httplib::Client http("http://" + address);
  auto res = http.Get(path, as(who));
  return res && res->status == 200 ? res->body : "";
}

int status_of(const std::string& address, const std::string& path) {
  httplib::Client http("http://" + address);
  auto res = http.Get(path, as("dpo-1"));
  return res ? res->status : 0;
}

class ErasureWithdrawalRealBrokerTest : public RealKafkaTest {};

TEST_F(ErasureWithdrawalRealBrokerTest, ErasedPersonIsWithdrawnFromEverythingMozaiekServes) {
  const std::string ns = kafka().unique_name("withdraw");
  Settings settings = service_settings_for(kafka().bootstrap(), ns);
  const std::filesystem::path root = settings.state_dir;

  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  std::string boy;
  pseudonymiser.pseudonymise("v-number", normalise_person_id("2213456789"), boy);
  const std::string boy_subject =
      R"({"type":"person","id":"2213456789","id_scheme":"v-number","age_group":"minor"})";
  const std::string car_subject = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
  const std::string other_car = R"({"type":"vehicle","plate":"XY99ZZ","country":"DE"})";
  auto signal = [](const std::string& source, const std::string& id, const std::string& indicator,
                   const std::string& day, const std::string& subjects) {
    return signal_record(source, id, indicator, "2025-03-" + day, subjects);
  };
  const std::vector<OutRecord> records = {
      signal("coa", "coa-1", "behaviour_change", "01", boy_subject),
      signal("coa", "coa-2", "many_foreign_calls", "03", boy_subject),
      signal("coa", "coa-gate", "visitor_vehicle", "06", car_subject + "," + boy_subject),
      signal("police", "bvh-1", "transports_persons_with_documents", "07", car_subject),
      signal("kmar", "kmar-1", "foreign_plate_recurring", "07", car_subject),
      // Someone else's car alerts too: an alert that must stay.
      signal("police", "bvh-2", "transports_persons_with_documents", "08", other_car),
      signal("kmar", "kmar-2", "foreign_plate_recurring", "08", other_car),
      signal("coa", "coa-later", "behaviour_change", "08",
             R"({"type":"person","id":"1","id_scheme":"v-number"})"),
  };

  // An analyst with a token: every role but privacy_officer.
  auto gate = FakeGate::naming_by_test_header();
  gate->add_token("analyst-token", principal("analyst-7", {role::kAnalyst, role::kOperator}));

  KafkaSettings k;
  k.brokers = kafka().bootstrap();
  settings.state_dir = (root / "a").string();
  Service a(
      settings,
      ServiceOptions{.demo = true, .print_alerts = false, .serve_http = true, .access_gate = gate});
  Status s = a.start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  produce_all(k, records, settings.topics.signals_prefix);
  const std::string address = a.http_address();
  ASSERT_TRUE(
      wait_until([&] { return has(get(address, "/api/alerts?limit=1000"), boy); }, seconds(90)))
      << "no alert about the boy was served: " << get(address, "/api/alerts?limit=1000");
  ASSERT_EQ(status_of(address, "/api/entities/person/" + boy + "?reason=check"), 200);
  // The ids of the alerts naming him, each to be withdrawn by its own record.
  std::vector<std::string> his_ids;
  {
    simdjson::dom::parser parser;
    simdjson::padded_string list(get(address, "/api/alerts?limit=1000"));
    simdjson::dom::array alerts;
    ASSERT_EQ(parser.parse(list).get(alerts), simdjson::SUCCESS);
    for (auto alert : alerts) {
      std::string_view id;
      ASSERT_EQ(alert["alert_id"].get(id), simdjson::SUCCESS);
      if (has(std::string(simdjson::minify(alert)), boy)) his_ids.emplace_back(id);
    }
  }
  ASSERT_FALSE(his_ids.empty());

  // A console is open from before the erasure.
  std::atomic<bool> enough{false};
  SseReader stream(
      std::stoi(address.substr(address.rfind(':') + 1)), "/api/alerts/stream",
      [&](const std::string&) { return enough.load(); }, as("analyst-7"));
  ASSERT_TRUE(stream.wait_for_text(": subscribed")) << stream.received();

  httplib::Client http("http://" + address);
  const std::string body = R"({"type":"person","id":"2213456789","id_scheme":"v-number",)"
                           R"("reason":"AVG-2026-17"})";
  auto by_analyst = http.Post("/api/erasure", {{"Authorization", "Bearer analyst-token"}}, body,
                              "application/json");
  ASSERT_TRUE(by_analyst);
  EXPECT_EQ(by_analyst->status, 403) << by_analyst->body;
  EXPECT_TRUE(has(get(address, "/api/alerts?limit=1000"), boy)) << "refused, so nothing erased";

  auto accepted = http.Post("/api/erasure", as("dpo-1"), body, "application/json");
  ASSERT_TRUE(accepted);
  ASSERT_EQ(accepted->status, 202) << accepted->body;
  EXPECT_FALSE(has(accepted->body, boy)) << "the answer names his pseudonym: " << accepted->body;

  // The live stream: withdrawn events, and nothing naming him after them.
  ASSERT_TRUE(wait_until([&] { return has(stream.received(), "event: withdrawn"); }, seconds(60)))
      << stream.received();
  ASSERT_TRUE(
      wait_until([&] { return !has(get(address, "/api/alerts?limit=1000"), boy); }, seconds(30)))
      << get(address, "/api/alerts?limit=1000");
  const std::string after_list = get(address, "/api/alerts?limit=1000");
  EXPECT_TRUE(has(after_list, "DE-XY99ZZ")) << "another car's alert stays: " << after_list;
  enough = true;
  const std::string received = stream.received();
  const std::string since = received.substr(received.find("event: withdrawn"));
  EXPECT_FALSE(has(since, boy)) << since;
  EXPECT_TRUE(has(since, R"("reason":"erasure")")) << since;
  EXPECT_EQ(status_of(address, "/api/entities/person/" + boy + "?reason=check"), 404);
  ASSERT_TRUE(wait_until(
      [&] { return !has(get(address, "/api/entities/vehicle/FR-AB123CD?reason=check"), boy); },
      seconds(60)));

  // Downstream consumers get the withdrawals on the alerts topic: one
  // record (v2) per alert that named him, by its id and naming no one, and
  // the subject-wide record (v1).
  AlertCollector collector(k, settings.topics.alerts, ns + ".test-alerts");
  auto withdrawn = [&](const std::string& id) {
    return std::any_of(collector.withdrawals().begin(), collector.withdrawals().end(),
                       [&](const AlertWithdrawal& w) {
                         return w.per_alert() && w.alert_id == id && w.reason == "erasure";
                       });
  };
  ASSERT_TRUE(collector.collect_until(
      [&](const std::vector<Alert>&) {
        return std::all_of(his_ids.begin(), his_ids.end(), withdrawn) &&
               std::any_of(collector.withdrawals().begin(), collector.withdrawals().end(),
                           [&](const AlertWithdrawal& w) {
                             return w.subject_type == SubjectType::person && w.subject_key == boy &&
                                    w.reason == "erasure";
                           });
      },
      std::chrono::seconds(60)))
      << collector.withdrawals().size() << " withdrawals read for " << his_ids.size() << " alerts";
  for (const auto& w : collector.withdrawals()) {
    if (w.per_alert()) {
      EXPECT_EQ(w.subject_key, "") << w.alert_id;
    }
  }
  // Counted: at least one v2 record per alert that named him.
  double counted = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string text = get(address, "/metrics");
        counted = metric_sum(text, "mozaiek_alerts_withdrawn_total", {"reason=\"erasure\""})
                      .value_or(0.0);
        return counted >= static_cast<double>(his_ids.size());
      },
      seconds(30)))
      << counted;

  // His audit trail notes the erasure (by pseudonym, never the raw id).
  std::string trail;
  ASSERT_TRUE(wait_until(
      [&] {
        trail = get(address, "/api/audit?type=person&key=" + boy);
        return has(trail, R"("action":"erasure")");
      },
      seconds(30)))
      << trail;
  EXPECT_TRUE(has(trail, R"("reason":"AVG-2026-17")")) << trail;
  EXPECT_FALSE(has(trail, "2213456789")) << trail;

  // A second instance reads the alerts topic afresh: the alerts from before
  // the erasure arrive, then the withdrawal; it serves none about him.
  settings.state_dir = (root / "b").string();
  Service b(settings, ServiceOptions{.demo = true,
                                     .print_alerts = false,
                                     .serve_http = true,
                                     .access_gate = FakeGate::naming_by_test_header()});
  s = b.start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  const std::string address_b = b.http_address();
  ASSERT_TRUE(wait_until([&] { return has(get(address_b, "/api/alerts?limit=1000"), "DE-XY99ZZ"); },
                         seconds(60)))
      << get(address_b, "/api/alerts?limit=1000");
  EXPECT_FALSE(has(get(address_b, "/api/alerts?limit=1000"), boy));
  b.stop();
  a.stop();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace mozaiek::test
