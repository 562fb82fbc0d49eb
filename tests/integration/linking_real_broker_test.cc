// The linking layer through a real Apache Kafka broker: the boy and the
// French car land on different partitions of the internal subjects topic
// (checked with the producer's murmur2 partitioner and on the topic
// itself), the car's score reaches the boy as an entity notice, the lifted
// person alert and a pickup_van alert appear on the alerts topic, and the
// entity view over HTTP answers and is audited.
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "connectors/app/service.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/records/subject_router.h"
#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

std::int32_t partition_of(const std::string& key, int partitions) {
  return rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), partitions, nullptr,
                                          nullptr);
}

OutRecord signal(const std::string& source, const std::string& id, const std::string& indicator,
                 const std::string& day, const std::string& subjects) {
  return signal_record(source, id, indicator, "2025-03-" + day, subjects);
}

class LinkingRealBrokerTest : public RealKafkaTest {};

TEST_F(LinkingRealBrokerTest, LinkedSubjectsOnOtherPartitionsLiftTheBoyAndFlagTheVan) {
  const std::string ns = kafka().unique_name("link");
  Settings settings = service_settings_for(kafka().bootstrap(), ns);

  // The boy's pseudonym, and a French plate whose routing key hashes to
  // another partition than his.
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  std::string boy;
  pseudonymiser.pseudonymise("v-number", normalise_person_id("2213456789"), boy);
  std::string boy_key, car_key;
  routing_key(SubjectType::person, boy, boy_key);
  std::string plate;
  for (int i = 10; i < 99; ++i) {
    plate = "AB" + std::to_string(i) + "CD";
    routing_key(SubjectType::vehicle, "FR-" + plate, car_key);
    if (partition_of(car_key, 4) != partition_of(boy_key, 4)) break;
  }
  ASSERT_NE(partition_of(car_key, 4), partition_of(boy_key, 4));
  const std::string car = "FR-" + plate;

  const std::string boy_subject =
      R"({"type":"person","id":"2213456789","id_scheme":"v-number","age_group":"minor"})";
  const std::string car_subject = R"({"type":"vehicle","plate":")" + plate + R"(","country":"FR"})";
  const std::string van_subject = R"({"type":"vehicle","plate":"WX-987-Z","country":"PL"})";
  auto place = [](const std::string& id) { return R"({"type":"location","id":")" + id + R"("})"; };
  std::vector<OutRecord> records = {
      signal("coa", "coa-1", "behaviour_change", "01", boy_subject),
      signal("coa", "coa-2", "many_foreign_calls", "03", boy_subject),
      signal("coa", "coa-gate", "visitor_vehicle", "06",
             car_subject + "," + boy_subject + "," + place("coa-gilze")),
      signal("police", "bvh-1", "transports_persons_with_documents", "07", car_subject),
      signal("kmar", "kmar-1", "foreign_plate_recurring", "07", car_subject),
      signal("coa", "coa-van-1", "pickup_van", "02", van_subject + "," + place("coa-budel")),
      signal("coa", "coa-van-2", "pickup_van", "04", van_subject + "," + place("coa-gilze")),
      signal("coa", "coa-van-3", "pickup_van", "05", van_subject + "," + place("coa-grave")),
  };

  Service service(settings, ServiceOptions{.demo = true,
                                           .print_alerts = false,
                                           .serve_http = true,
                                           .access_gate = test::FakeGate::naming_by_test_header()});
  Status s = service.start();
  ASSERT_TRUE(s.is_ok()) << s.message();
  KafkaSettings k;
  k.brokers = service.bootstrap_servers();
  produce_all(k, records, settings.topics.signals_prefix);

  AlertCollector collector(k, settings.topics.alerts, ns + ".test-alerts");
  auto find = [](const std::vector<Alert>& alerts, const std::string& rule) -> const Alert* {
    for (const auto& a : alerts) {
      if (a.rule == rule) return &a;
    }
    return nullptr;
  };
  ASSERT_TRUE(collector.collect_until(
      [&](const std::vector<Alert>& a) {
        return find(a, "person_linked") != nullptr && find(a, "pickup_van") != nullptr;
      },
      std::chrono::seconds(90)))
      << [&] {
           std::string rules;
           for (const auto& a : collector.alerts()) rules += " " + a.rule + ":" + a.subject_key;
           return rules;
         }();

  const Alert* lifted = find(collector.alerts(), "person_linked");
  EXPECT_EQ(lifted->subject_key, boy);
  ASSERT_EQ(lifted->linked.size(), 1u);
  EXPECT_EQ(lifted->linked[0].key, car);
  EXPECT_EQ(lifted->linked[0].via, std::vector<std::string>{"coa-gate"});
  // The police report alone lifts him; whether the border police's came
  // first depends on which partner topic the intake read first.
  for (const char* org : {"coa", "police"}) {
    EXPECT_NE(std::find(lifted->sources.begin(), lifted->sources.end(), org), lifted->sources.end())
        << org;
  }
  const Alert* van = find(collector.alerts(), "pickup_van");
  EXPECT_EQ(van->subject_key, "PL-WX987Z");
  EXPECT_EQ(van->linked.size(), 3u);
  EXPECT_DOUBLE_EQ(van->score, 6.0);

  // On the topic itself: routed signals and notices for the boy and the car
  // sit on the partitions the partitioner predicts, which differ.
  Status cs = Status::ok();
  auto internal = KafkaSource::create(k, ns + ".test-internal", {settings.topics.subjects}, cs);
  ASSERT_TRUE(internal) << cs.message();
  std::map<std::string, std::set<std::int32_t>> partitions;
  std::size_t notices_to_boy = 0;
  RecordBatch batch;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(internal->poll(batch, 1000, Millis{200}).is_ok());
        for (const auto& r : batch.records) {
          partitions[std::string(r.key)].insert(raw(r.partition));
          if (r.key == boy_key && !r.value.empty() && r.value[0] == 3) ++notices_to_boy;
        }
        return partitions.count(boy_key) && partitions.count(car_key) && notices_to_boy > 0;
      },
      seconds(60)));
  EXPECT_EQ(partitions[boy_key], std::set<std::int32_t>{partition_of(boy_key, 4)});
  EXPECT_EQ(partitions[car_key], std::set<std::int32_t>{partition_of(car_key, 4)});

  // The entity view over HTTP, audited.
  const std::string address = service.http_address();
  httplib::Client http("http://" + address);
  auto res = http.Get("/api/entities/vehicle/" + car + "?reason=case-4711",
                      httplib::Headers{{std::string(kTestPrincipalHeader), "analyst-7"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find("\"key\":\"" + boy + "\""), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("\"schema\":\"mozaiek.entity/v1\""), std::string::npos);
  auto no_user = http.Get("/api/entities/vehicle/" + car + "?reason=x");
  ASSERT_TRUE(no_user);
  EXPECT_EQ(no_user->status, 401);
  auto raw_id = http.Get("/api/entities/person/2213456789?reason=x",
                         httplib::Headers{{std::string(kTestPrincipalHeader), "analyst-7"}});
  ASSERT_TRUE(raw_id);
  EXPECT_EQ(raw_id->status, 400);
  auto boy_view = http.Get("/api/entities/person/" + boy + "?reason=case-4711",
                           httplib::Headers{{std::string(kTestPrincipalHeader), "analyst-7"}});
  ASSERT_TRUE(boy_view);
  EXPECT_EQ(boy_view->status, 200);
  EXPECT_NE(boy_view->body.find(lifted->alert_id), std::string::npos) << boy_view->body;

  auto audit = KafkaSource::create(k, ns + ".test-audit", {settings.topics.audit}, cs);
  ASSERT_TRUE(audit) << cs.message();
  std::vector<std::string> audited;
  std::size_t refusals = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(audit->poll(batch, 100, Millis{200}).is_ok());
        for (const auto& r : batch.records) {
          if (r.key == "analyst-7") {
            audited.emplace_back(r.value);
          } else {
            EXPECT_EQ(r.key, "(unauthenticated)");
            ++refusals;
          }
        }
        return audited.size() >= 2 && refusals >= 1;
      },
      seconds(30)));
  ASSERT_EQ(audited.size(), 2u);  // a request refused as bad is not a lookup
  EXPECT_EQ(refusals, 1u);        // the one without a principal is audited as refused
  EXPECT_NE(audited[0].find("\"principal\":\"analyst-7\""), std::string::npos) << audited[0];
  EXPECT_NE(audited[0].find("\"action\":\"entity_view\""), std::string::npos) << audited[0];
  EXPECT_NE(audited[0].find("\"key\":\"" + car + "\""), std::string::npos) << audited[0];
  EXPECT_NE(audited[0].find("\"reason\":\"case-4711\""), std::string::npos) << audited[0];
  EXPECT_NE(audited[0].find("\"found\":true"), std::string::npos) << audited[0];

  service.stop();
  std::filesystem::remove_all(settings.state_dir);
}

}  // namespace
}  // namespace mozaiek::test
