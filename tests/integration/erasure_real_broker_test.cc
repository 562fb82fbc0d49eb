// Erasure end to end through a real Apache Kafka broker: signals make the
// boy alert and link him to a car; an erasure request over HTTP (by his raw
// id, pseudonymised on the way in) is answered 202 and audited; the entity
// view of the boy is then empty, the car no longer holds him, and a second
// instance that rebuilds the state from the changelog does not bring him
// back. `mozaiek erase` erases a second car the same way.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "connectors/app/service.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/intake/pseudonymiser.h"
#include "tests/support/command.h"
#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

OutRecord signal(const std::string& source, const std::string& id, const std::string& indicator,
                 const std::string& day, const std::string& subjects) {
  return signal_record(source, id, indicator, "2025-03-" + day, subjects);
}

// Status and body of GET /api/entities/<type>/<key>; status 0 without an answer.
std::pair<int, std::string> view(const std::string& address, const std::string& type,
                                 const std::string& key) {
  httplib::Client http("http://" + address);
  auto res = http.Get("/api/entities/" + type + "/" + key + "?reason=check-erasure",
                      httplib::Headers{{std::string(kTestPrincipalHeader), "dpo-1"}});
  if (!res) return {0, ""};
  return {res->status, res->body};
}

// The "alerts" member of an entity view: the alert ids an entity holds.
std::string alerts_of(const std::string& view) {
  const auto at = view.find("\"alerts\":");
  return at == std::string::npos ? "" : view.substr(at);
}

class ErasureRealBrokerTest : public RealKafkaTest {};

TEST_F(ErasureRealBrokerTest, ErasedPersonIsGoneFromTheViewsAndStaysGoneAfterARestore) {
  const std::string ns = kafka().unique_name("erase");
  Settings settings = service_settings_for(kafka().bootstrap(), ns);
  // Two instances' state directories below the one made for the namespace.
  const std::filesystem::path root = settings.state_dir;

  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  std::string boy;
  pseudonymiser.pseudonymise("v-number", normalise_person_id("2213456789"), boy);
  const std::string car = "FR-AB123CD";
  const std::string boy_subject =
      R"({"type":"person","id":"2213456789","id_scheme":"v-number","age_group":"minor"})";
  const std::string car_subject = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
  const std::vector<OutRecord> records = {
      signal("coa", "coa-1", "behaviour_change", "01", boy_subject),
      signal("coa", "coa-2", "many_foreign_calls", "03", boy_subject),
      signal("coa", "coa-gate", "visitor_vehicle", "06", car_subject + "," + boy_subject),
      signal("police", "bvh-1", "transports_persons_with_documents", "07", car_subject),
      signal("kmar", "kmar-1", "foreign_plate_recurring", "07", car_subject),
      // Later traffic about others from each source: every watermark passes
      // March 7, so the views at the watermark show all of the above.
      signal("coa", "coa-later", "behaviour_change", "08",
             R"({"type":"person","id":"1","id_scheme":"v-number"})"),
      signal("police", "bvh-later", "transports_persons_with_documents", "08",
             R"({"type":"vehicle","plate":"XY99ZZ","country":"DE"})"),
      signal("kmar", "kmar-later", "foreign_plate_recurring", "08",
             R"({"type":"vehicle","plate":"XY99ZZ","country":"DE"})"),
  };

  KafkaSettings k;
  k.brokers = kafka().bootstrap();
  std::string car_alerts;  // what the car holds after the erasure
  {
    settings.state_dir = (root / "a").string();
    Service a(settings, ServiceOptions{.demo = true,
                                       .print_alerts = false,
                                       .serve_http = true,
                                       .access_gate = test::FakeGate::naming_by_test_header()});
    Status s = a.start();
    ASSERT_TRUE(s.is_ok()) << s.message();
    produce_all(k, records, settings.topics.signals_prefix);
    AlertCollector collector(k, settings.topics.alerts, ns + ".test-alerts");
    ASSERT_TRUE(collector.collect_until(
        [&](const std::vector<Alert>& alerts) {
          return std::any_of(alerts.begin(), alerts.end(), [&](const Alert& x) {
            return x.subject_type == SubjectType::person && x.subject_key == boy;
          });
        },
        std::chrono::seconds(90)));
    const std::string address = a.http_address();
    ASSERT_TRUE(wait_until(
        [&] {
          const std::string v = view(address, "vehicle", car).second;
          return v.find(boy) != std::string::npos && v.find("bvh-1") != std::string::npos;
        },
        seconds(60)))
        << "the car never showed its link to the boy and its own signal: "
        << view(address, "vehicle", car).second;
    ASSERT_EQ(view(address, "person", boy).first, 200);

    httplib::Client http("http://" + address);
    auto refused = http.Post("/api/erasure",
                             httplib::Headers{{std::string(kTestPrincipalHeader), "dpo-1"}},
                             R"({"type":"person","id":"2213456789","reason":"AVG-2026-17"})",
                             "application/json");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 400);
    EXPECT_NE(refused->body.find("\"field\":\"id_scheme\""), std::string::npos) << refused->body;
    auto anonymous = http.Post("/api/erasure",
                               R"({"type":"person","key":")" + boy + R"(","reason":"x"})",
                               "application/json");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401);

    auto accepted = http.Post("/api/erasure",
                              httplib::Headers{{std::string(kTestPrincipalHeader), "dpo-1"}},
                              R"({"type":"person","id":"2213456789","id_scheme":"v-number",)"
                              R"("reason":"AVG-2026-17"})",
                              "application/json");
    ASSERT_TRUE(accepted);
    ASSERT_EQ(accepted->status, 202) << accepted->body;
    EXPECT_EQ(accepted->body.find(boy), std::string::npos) << accepted->body;

    ASSERT_TRUE(wait_until([&] { return view(address, "person", boy).first == 404; }, seconds(60)))
        << view(address, "person", boy).second;
    ASSERT_TRUE(wait_until(
        [&] { return view(address, "vehicle", car).second.find(boy) == std::string::npos; },
        seconds(60)))
        << view(address, "vehicle", car).second;
    auto [car_status, car_view] = view(address, "vehicle", car);
    EXPECT_EQ(car_status, 200);
    EXPECT_NE(car_view.find("bvh-1"), std::string::npos) << "the car's own signals stay";
    car_alerts = alerts_of(car_view);
    EXPECT_NE(car_alerts.find("\"alerts\":[\""), std::string::npos) << car_view;
    ASSERT_TRUE(wait_until(
        [&] {
          auto m = http.Get("/metrics",
                            httplib::Headers{{std::string(kTestPrincipalHeader), "scraper"}});
          return m &&
                 metric_sum(m->body, "mozaiek_erasures_total", {"subject_type=\"person\""}) == 1.0;
        },
        seconds(30)));

    // The same request from the command line, for the other car, through a
    // config naming this test's topics.
    ASSERT_EQ(view(address, "vehicle", "DE-XY99ZZ").first, 200);
    std::ifstream shipped(std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml");
    std::stringstream yaml;
    yaml << shipped.rdbuf();
    std::string config = yaml.str();
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"subjects: \"\"",
                                              "subjects: " + settings.topics.subjects},
          std::pair<std::string, std::string>{"audit: mozaiek.audit",
                                              "audit: " + settings.topics.audit}}) {
      const auto at = config.find(from);
      ASSERT_NE(at, std::string::npos) << from;
      config.replace(at, from.size(), to);
    }
    std::filesystem::create_directories(root);
    const std::string config_path = (root / "erase.yaml").string();
    std::ofstream(config_path) << config;
    const auto cli = run_command(std::string(MOZAIEK_BINARY) + " erase --demo-key --config " +
                                 config_path + " --brokers " + kafka().bootstrap() +
                                 " --type vehicle --plate xy-99-zz --country D --reason REQ-9"
                                 " --user ops-2 2>&1");
    ASSERT_EQ(cli.exit_code, 0) << cli.output;
    EXPECT_NE(cli.output.find("vehicle:DE-XY99ZZ"), std::string::npos) << cli.output;
    EXPECT_TRUE(wait_until([&] { return view(address, "vehicle", "DE-XY99ZZ").first == 404; },
                           seconds(60)));
    a.stop();
  }

  // A second instance, empty state directory: everything comes from the
  // changelog, the boy's tombstones included.
  settings.state_dir = (root / "b").string();
  Service b(settings, ServiceOptions{.demo = true,
                                     .print_alerts = false,
                                     .serve_http = true,
                                     .access_gate = test::FakeGate::naming_by_test_header()});
  Status s = b.start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  const std::string address = b.http_address();
  ASSERT_TRUE(wait_until([&] { return view(address, "vehicle", car).first == 200; }, seconds(90)))
      << "the car's state was not restored";
  // Restored (its alert history is back; its signals are older than the
  // window at the new instance's clock), without the boy.
  auto [car_status, car_view] = view(address, "vehicle", car);
  EXPECT_EQ(alerts_of(car_view), car_alerts) << car_view;
  EXPECT_EQ(car_view.find(boy), std::string::npos) << car_view;
  EXPECT_EQ(view(address, "person", boy).first, 404);
  b.stop();

  // The request is audited: who, which person (by pseudonym only), why.
  Status cs = Status::ok();
  auto audit = KafkaSource::create(k, ns + ".test-audit", {settings.topics.audit}, cs);
  ASSERT_TRUE(audit) << cs.message();
  RecordBatch batch;
  std::map<std::string, std::vector<std::string>> erasures;  // by user (the record key)
  std::size_t seen = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(audit->poll(batch, 100, Millis{200}).is_ok());
        for (const auto& r : batch.records) {
          const std::string value(r.value);
          EXPECT_EQ(value.find("2213456789"), std::string::npos) << value;
          if (value.find("\"action\":\"erasure\"") != std::string::npos) {
            erasures[std::string(r.key)].push_back(value);
            ++seen;
          }
        }
        return seen >= 2;
      },
      seconds(30)));
  // The HTTP one and the command line's (keys on different partitions, so
  // in either order); requests refused as bad are not erasures.
  ASSERT_EQ(seen, 2u);
  ASSERT_EQ(erasures["dpo-1"].size(), 1u);
  ASSERT_EQ(erasures["ops-2"].size(), 1u);
  const std::string& by_http = erasures["dpo-1"][0];
  EXPECT_NE(by_http.find("\"schema\":\"mozaiek.audit/v2\""), std::string::npos) << by_http;
  EXPECT_NE(by_http.find("\"principal\":\"dpo-1\",\"via\":\"test\",\"role\":\"privacy_officer\""),
            std::string::npos)
      << by_http;
  EXPECT_NE(by_http.find("\"type\":\"person\",\"key\":\"" + boy + "\""), std::string::npos)
      << by_http;
  EXPECT_NE(by_http.find("\"reason\":\"AVG-2026-17\""), std::string::npos) << by_http;
  const std::string& by_cli = erasures["ops-2"][0];
  EXPECT_NE(by_cli.find("\"principal\":\"ops-2\",\"via\":\"cli\""), std::string::npos) << by_cli;
  EXPECT_NE(by_cli.find("\"type\":\"vehicle\",\"key\":\"DE-XY99ZZ\""), std::string::npos) << by_cli;
  EXPECT_NE(by_cli.find("\"reason\":\"REQ-9\""), std::string::npos) << by_cli;
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace mozaiek::test
