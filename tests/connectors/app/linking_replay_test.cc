// The linking layer over the brief's three network patterns, replayed
// through the same operators as the service: the French car with a boy at
// the gate (the car flagged elsewhere lifts the boy), one van picking up
// residents at three reception centres, and an address where workers
// sleep, foreign plates recur and several organisations report.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/app/local_pipeline.h"
#include "operators/intake/subject_normaliser.h"
#include "operators/records/alert_json.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

const PlantedCase& planted(const Traffic& t, const std::string& name) {
  for (const auto& c : t.planted) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no planted case " << name;
  return t.planted.front();
}

// The French plate of the car at the gate (James's visitor_vehicle signal).
std::string french_car(const Traffic& t) {
  const PlantedCase& james = planted(t, "james");
  simdjson::dom::parser parser;
  for (const auto& r : t.records) {
    simdjson::dom::element doc;
    if (parser.parse(r.value).get(doc)) continue;
    std::string_view id, indicator;
    if (doc["signal_id"].get(id) || doc["indicator"].get(indicator)) continue;
    if (indicator != "visitor_vehicle" ||
        std::find(james.signal_ids.begin(), james.signal_ids.end(), id) == james.signal_ids.end()) {
      continue;
    }
    for (auto s : doc["subjects"].get_array()) {
      std::string_view type, plate, country;
      if (s["type"].get(type) || type != "vehicle") continue;
      if (s["plate"].get(plate) || s["country"].get(country)) continue;
      std::string key;
      EXPECT_TRUE(normalise_vehicle_key(plate, country, key));
      return key;
    }
  }
  ADD_FAILURE() << "no visitor_vehicle signal in James's case";
  return "";
}

// The car is flagged elsewhere: police and the border police report it,
// days after the gate, without the boy.
void flag_car_elsewhere(const std::string& car_key, Traffic& t) {
  const std::string plate = car_key.substr(3);
  auto add = [&](const char* source, const char* id, const char* indicator, const char* observed,
                 const char* reported) {
    OutRecord r;
    r.topic = std::string("signals.") + source;
    r.key = id;
    r.value = std::string(R"({"schema":"mozaiek.signal/v1","signal_id":")") + id +
              R"(","source":")" + source + R"(","observed_at":")" + observed +
              R"(","reported_at":")" + reported + R"(","indicator":")" + indicator +
              R"(","subjects":[{"type":"vehicle","plate":")" + plate + R"(","country":"FR"}]})";
    t.records.push_back(std::move(r));
  };
  // James's case starts 2025-01-06; the gate is on day 33 (2025-02-08).
  add("police", "bvh-fr-1", "transports_persons_with_documents", "2025-02-09T22:10:00Z",
      "2025-02-10T03:00:00Z");
  add("kmar", "kmar-fr-1", "foreign_plate_recurring", "2025-02-10T07:40:00Z",
      "2025-02-10T12:00:00Z");
}

struct ReplayRun {
  std::vector<Alert> alerts;
  std::string james_view;
  std::string van_view;
  LinkCounters links;
};

ReplayRun replay(const Settings& settings, const Traffic& traffic, const std::string& james,
                 const std::string& van) {
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  ManualClock clock(SystemClock().now());
  auto stores = make_memory_store_factory();
  CollectingSink alerts;
  LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *stores, &alerts, nullptr);
  RecordView view;
  for (const auto& r : traffic.records) {
    view.value = r.value;
    pipeline.process(view);
  }
  EXPECT_TRUE(pipeline.finish().is_ok());
  ReplayRun out;
  for (const auto& json : alerts.values) {
    Alert a;
    EXPECT_TRUE(read_alert_json(json, a)) << json;
    out.alerts.push_back(std::move(a));
  }
  EXPECT_TRUE(pipeline.convergence().entity_view(SubjectType::person, james, out.james_view));
  EXPECT_TRUE(pipeline.convergence().entity_view(SubjectType::vehicle, van, out.van_view));
  out.links = pipeline.convergence().link_counters();
  return out;
}

const Alert* first_of(const ReplayRun& r, const std::string& rule, const std::string& subject) {
  for (const auto& a : r.alerts) {
    if (a.rule == rule && subject_of(a) == subject) return &a;
  }
  return nullptr;
}

class LinkingReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_ = shipped_settings();
    traffic_ = make_traffic(settings_, 4000, 21);
    car_ = french_car(traffic_);
    flag_car_elsewhere(car_, traffic_);
    james_ = planted_subject(planted(traffic_, "james"), kDemoPseudonymKey);
    van_ = planted_subject(planted(traffic_, "pickup_van"), kDemoPseudonymKey);
    address_ = planted_subject(planted(traffic_, "hotspot"), kDemoPseudonymKey);
    run_ = replay(settings_, traffic_, james_.substr(7), van_.substr(8));
  }
  Settings settings_;
  Traffic traffic_;
  std::string car_, james_, van_, address_;
  ReplayRun run_;
};

TEST_F(LinkingReplayTest, BoyInTheFrenchCarIsLiftedWhenTheCarIsFlaggedElsewhere) {
  const Alert* a = first_of(run_, "person_linked", james_);
  ASSERT_NE(a, nullptr) << "James was not lifted";
  ASSERT_EQ(a->linked.size(), 1u);
  EXPECT_EQ(a->linked[0].type, SubjectType::vehicle);
  EXPECT_EQ(a->linked[0].key, car_);
  const PlantedCase& james = planted(traffic_, "james");
  ASSERT_EQ(a->linked[0].via.size(), 1u);
  EXPECT_NE(std::find(james.signal_ids.begin(), james.signal_ids.end(), a->linked[0].via[0]),
            james.signal_ids.end());
  // The lift brought in the organisation that flagged the car (the police
  // report alone lifts him over the threshold; the border police come later).
  for (const char* org : {"coa", "police"}) {
    EXPECT_NE(std::find(a->sources.begin(), a->sources.end(), org), a->sources.end()) << org;
  }
  EXPECT_GE(a->score, settings_.operators.linking.person_lift.threshold);
  // Lifted before his own signals alone made him alert.
  const Alert* own = first_of(run_, "person_convergence", james_);
  if (own != nullptr) {
    EXPECT_LE(a->last_seen, own->last_seen);
  }
  // At the end of the replay the link has expired: no lift any more.
  simdjson::dom::parser parser;
  simdjson::dom::element view = parser.parse(run_.james_view);
  EXPECT_EQ(double(view["lift"]), 0.0);
  bool saw_car = false;
  for (auto link : view["links"].get_array()) {
    if (std::string_view(link["key"]) != car_) continue;
    saw_car = true;
    EXPECT_FALSE(bool(link["live"]));
  }
  EXPECT_TRUE(saw_car) << run_.james_view;
}

TEST_F(LinkingReplayTest, OneVanAtThreeReceptionCentresRaisesPickupVan) {
  const Alert* a = first_of(run_, "pickup_van", van_);
  ASSERT_NE(a, nullptr) << "no pickup_van alert on the van";
  EXPECT_EQ(a->linked.size(), 3u);
  const PlantedCase& c = planted(traffic_, "pickup_van");
  for (const auto& l : a->linked) {
    EXPECT_EQ(l.type, SubjectType::location);
    EXPECT_TRUE(l.key.starts_with("coa-") || l.key.starts_with("nidos-")) << l.key;
    ASSERT_FALSE(l.via.empty());
    for (const auto& id : l.via) {
      EXPECT_NE(std::find(c.signal_ids.begin(), c.signal_ids.end(), id), c.signal_ids.end()) << id;
    }
  }
  EXPECT_DOUBLE_EQ(a->score, 3 * settings_.operators.linking.pickup_van.weight);
  EXPECT_EQ(a->sources, std::vector<std::string>{"coa"});
  // The van's entity view lists the residents it picked up (by pseudonym).
  simdjson::dom::parser parser;
  simdjson::dom::element view = parser.parse(run_.van_view);
  std::size_t persons = 0;
  for (auto link : view["links"].get_array()) {
    if (std::string_view(link["type"]) == "person") {
      ++persons;
      EXPECT_EQ(std::string_view(link["key"]).size(), 64u);
    }
  }
  EXPECT_GE(persons, 2u);
  bool listed = false;
  for (auto id : view["alerts"].get_array()) listed = listed || std::string_view(id) == a->alert_id;
  EXPECT_TRUE(listed);
}

TEST_F(LinkingReplayTest, AddressWithManyOrganisationsRaisesAddressHotspot) {
  const Alert* a = first_of(run_, "address_hotspot", address_);
  ASSERT_NE(a, nullptr) << "no address_hotspot alert on the address";
  EXPECT_GE(a->sources.size(), 3u);
  EXPECT_DOUBLE_EQ(a->score, static_cast<double>(a->contributions.size()) *
                                 settings_.operators.linking.address_hotspot.weight);
  // Explained by who was seen there: the recurring Romanian plate and the workers.
  bool plate = false;
  for (const auto& l : a->linked)
    plate = plate || (l.type == SubjectType::vehicle && l.key.starts_with("RO-"));
  EXPECT_TRUE(plate);
}

TEST_F(LinkingReplayTest, SameInputSameNetworkAlertIds) {
  const ReplayRun again = replay(settings_, traffic_, james_.substr(7), van_.substr(8));
  std::vector<std::string> a, b;
  for (const auto& x : run_.alerts) a.push_back(x.alert_id);
  for (const auto& x : again.alerts) b.push_back(x.alert_id);
  EXPECT_EQ(a, b);
  EXPECT_EQ(again.james_view, run_.james_view);
}

}  // namespace
}  // namespace mozaiek::test
