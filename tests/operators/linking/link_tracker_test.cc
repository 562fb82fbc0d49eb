// The linking layer through the convergence stage: links from signals that
// name several subjects, the network rules, the lift of a person by a
// flagged vehicle, notices between partitions, expiry and restarts.
#include "operators/linking/link_tracker.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "operators/linking/link_state.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/records/entity_notice.h"
#include "operators/records/wire_format.h"
#include "stream/rocksdb_state.h"
#include "tests/support/expected_alert_id.h"

namespace mozaiek {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
const std::string kBoy(64, 'b');
const std::string kCar = "FR-AB123CD";
const std::string kVan = "PL-WX9876";

enum : IndicatorId { kW1, kW2, kW3, kW35 };
enum : SourceId { kCoa, kInd, kPolice, kNidos, kNla };

OperatorConfig test_config() {
  OperatorConfig c;
  const std::uint8_t all = 0b111;
  c.catalogue.add({"w1", Strength::soft, 1.0, all, 0});
  c.catalogue.add({"w2", Strength::soft, 2.0, all, 0});
  c.catalogue.add({"w3", Strength::soft, 3.0, all, 0});
  c.catalogue.add({"w35", Strength::soft, 3.5, all, 0});
  for (const char* name : {"coa", "ind", "police", "nidos", "nla"}) {
    SourcePolicy p;
    p.name = name;
    p.allowed_lateness = days(90);
    c.sources.push_back(p);
  }
  for (std::size_t i = 0; i < kSubjectTypeCount; ++i) {
    auto& r = c.rules[i];
    r.subject_type = static_cast<SubjectType>(i);
    r.name = std::string(to_string(r.subject_type)) + "_convergence";
    r.window = days(90);
    r.half_life = days(30);
    r.threshold = 100.0;  // convergence alerts stay out of the way
    r.min_sources = 2;
  }
  c.linking.link_window = days(60);
  c.linking.person_lift.share = 0.5;
  c.linking.person_lift.threshold = 6.0;
  return c;
}

EventTime at_day(double d) {
  return event_time_from_ms(kT0 + static_cast<std::int64_t>(d * kDayMs));
}

double decay(double w, double age_days, double half_life_days) {
  return w * std::exp2(-age_days / half_life_days);
}

std::string alert_id(const std::string& rule, const std::string& type, const std::string& key,
                     EventTime episode_start, int level) {
  return test::expected_alert_id(rule, type, key, episode_start, level);
}

using Subject = std::pair<SubjectType, std::string>;

// One stage, each subject type on its own partition (as after hashing to
// different partitions), notices delivered like the internal topic does:
// encoded, after the signal that caused them, to the receiver's partition.
class Network : public AlertOutput {
 public:
  explicit Network(const OperatorConfig& config, StateStoreFactory* stores = nullptr,
                   std::size_t link_cache = LinkTracker::kDefaultCachedEntities)
      : owned_(stores ? nullptr : make_memory_store_factory()),
        stage_(config, stores ? *stores : *owned_, clock_, *this, link_cache) {}

  static Partition partition_of(SubjectType t) { return Partition{static_cast<std::int32_t>(t)}; }

  void signal(const std::string& id, SourceId source, IndicatorId indicator, double day,
              const std::vector<Subject>& subjects) {
    for (const auto& [type, key] : subjects) {
      RoutedSignal r;
      r.subject_type = type;
      r.subject_key = key;
      r.signal_id = id;
      r.source = source;
      r.indicator = indicator;
      r.observed_at = at_day(day);
      r.reported_at = at_day(day + 1);
      r.watermark = at_day(day);
      for (const auto& other : subjects) {
        if (other != Subject{type, key}) r.co_subjects.push_back(other);
      }
      stage_.process(partition_of(type), r);
    }
    deliver();
  }

  void deliver() {
    EntityNotice n;
    while (!wire_.empty()) {
      const std::string bytes = std::move(wire_.front());
      wire_.pop_front();
      ASSERT_TRUE(decode_notice(bytes, n));
      ++delivered;
      const std::size_t before = notices.size();
      stage_.process_notice(partition_of(n.to_type), n);
      // No feedback loops: a notice is never answered with a score notice.
      for (std::size_t i = before; i < notices.size(); ++i) {
        EXPECT_TRUE(notices[i].participation) << "score notice in answer to a notice";
      }
    }
  }

  void on_alert(const Alert& a, std::string_view) override { alerts.push_back(a); }
  void on_notice(const EntityNotice& n) override {
    notices.push_back(n);
    encode_notice(n, wire_.emplace_back());
  }

  std::vector<Alert> of_rule(const std::string& rule) const {
    std::vector<Alert> out;
    for (const auto& a : alerts) {
      if (a.rule == rule) out.push_back(a);
    }
    return out;
  }

  // The entity view parsed back (kept alive by the parser).
  simdjson::dom::element view(SubjectType type, const std::string& key) {
    json_.clear();
    EXPECT_TRUE(stage_.entity_view(type, key, json_)) << key;
    padded_ = simdjson::padded_string(json_);
    simdjson::dom::element doc;
    EXPECT_EQ(parser_.parse(padded_).get(doc), simdjson::SUCCESS) << json_;
    return doc;
  }

  ConvergenceStage& stage() { return stage_; }
  std::vector<Alert> alerts;
  std::vector<EntityNotice> notices;
  std::size_t delivered = 0;

 private:
  ManualClock clock_;
  std::unique_ptr<StateStoreFactory> owned_;
  ConvergenceStage stage_;
  std::deque<std::string> wire_;
  std::string json_;
  simdjson::padded_string padded_;
  simdjson::dom::parser parser_;
};

Subject person(const std::string& k) { return {SubjectType::person, k}; }
Subject vehicle(const std::string& k) { return {SubjectType::vehicle, k}; }
Subject location(const std::string& k) { return {SubjectType::location, k}; }

// ---- pickup_van -----------------------------------------------------------

TEST(LinkTrackerTest, VanAtThreeReceptionLocationsRaisesPickupVanWithItsLinks) {
  OperatorConfig config = test_config();
  config.linking.pickup_van.escalation_step = 2.0;
  Network net(config);
  net.signal("coa-1", kCoa, kW1, 0, {vehicle(kVan), location("coa-gilze"), person(kBoy)});
  net.signal("coa-2", kCoa, kW1, 5, {vehicle(kVan), location("coa-budel")});
  net.signal("nla-1", kNla, kW2, 6, {vehicle(kVan), location("workplace-7")});  // not reception
  EXPECT_TRUE(net.of_rule("pickup_van").empty());
  net.signal("nidos-1", kNidos, kW1, 10, {vehicle(kVan), location("nidos-utrecht")});

  const auto alerts = net.of_rule("pickup_van");
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& a = alerts[0];
  EXPECT_EQ(a.subject_type, SubjectType::vehicle);
  EXPECT_EQ(a.subject_key, kVan);
  EXPECT_DOUBLE_EQ(a.score, 6.0);  // weight 2 * three reception locations
  EXPECT_EQ(a.alert_id, alert_id("pickup_van", "vehicle", kVan, at_day(10), 0));
  ASSERT_EQ(a.linked.size(), 3u);
  std::vector<std::string> keys;
  for (const auto& l : a.linked) {
    EXPECT_EQ(l.type, SubjectType::location);
    EXPECT_EQ(l.rule, "pickup_van");
    ASSERT_EQ(l.via.size(), 1u);
    keys.push_back(l.key + "<-" + l.via[0]);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"coa-gilze<-coa-1", "coa-budel<-coa-2",
                                            "nidos-utrecht<-nidos-1"}));
  EXPECT_EQ(a.sources, (std::vector<std::string>{"coa", "nidos"}));
  ASSERT_EQ(a.contributions.size(), 3u);
  EXPECT_EQ(a.contributions[0].signal_id, "coa-1");
  EXPECT_NEAR(a.contributions[0].decayed_weight, decay(1.0, 10, 30), 1e-12);
  EXPECT_EQ(a.first_seen, at_day(0));
  EXPECT_EQ(a.last_seen, at_day(10));
  EXPECT_DOUBLE_EQ(a.detection_delay_seconds, 86400.0);
  // A fourth location within the cooldown escalates (8 >= 6 + escalation step 2).
  net.signal("coa-3", kCoa, kW1, 12, {vehicle(kVan), location("coa-zevenaar")});
  const auto after = net.of_rule("pickup_van");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].level, 1);
  EXPECT_DOUBLE_EQ(after[1].score, 8.0);
  EXPECT_EQ(after[1].alert_id, alert_id("pickup_van", "vehicle", kVan, at_day(10), 1));
}

TEST(LinkTrackerTest, PickupVanCountsOnlyLocationsWithinItsWindow) {
  OperatorConfig config = test_config();
  config.linking.pickup_van.window = days(30);
  Network net(config);
  net.signal("a", kCoa, kW1, 0, {vehicle(kVan), location("coa-a")});
  net.signal("b", kCoa, kW1, 20, {vehicle(kVan), location("coa-b")});
  net.signal("c", kCoa, kW1, 31, {vehicle(kVan), location("coa-c")});  // coa-a is 31 days back
  EXPECT_TRUE(net.of_rule("pickup_van").empty());
  net.signal("d", kCoa, kW1, 32, {vehicle(kVan), location("coa-a")});  // refreshed
  EXPECT_EQ(net.of_rule("pickup_van").size(), 1u);
}

TEST(LinkTrackerTest, LateSignalCompletesPickupVanAsIfOnTime) {
  const OperatorConfig config = test_config();
  Network net(config);
  net.signal("c", kCoa, kW1, 20, {vehicle(kVan), location("coa-c")});
  net.signal("b", kCoa, kW1, 10, {vehicle(kVan), location("coa-b")});
  net.signal("a", kCoa, kW1, 5, {vehicle(kVan), location("coa-a")});  // arrives last
  const auto alerts = net.of_rule("pickup_van");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert_id, alert_id("pickup_van", "vehicle", kVan, at_day(20), 0));
}

// ---- linked_persons ---------------------------------------------------------

TEST(LinkTrackerTest, LocationTiedToThreePersonsWithOwnSignalsRaisesLinkedPersons) {
  const OperatorConfig config = test_config();
  Network net(config);
  const std::string p1(64, '1'), p2(64, '2'), p3(64, '3');
  for (const auto* p : {&p1, &p2, &p3}) {
    net.signal("at-" + p->substr(0, 1), kNla, kW1, 1, {person(*p), location("flat-9")});
  }
  // Linked, but nobody has a signal of their own yet.
  EXPECT_TRUE(net.of_rule("linked_persons").empty());
  net.signal("own-1", kPolice, kW2, 2, {person(p1)});
  net.signal("own-2", kInd, kW2, 3, {person(p2)});
  EXPECT_TRUE(net.of_rule("linked_persons").empty());
  net.signal("own-3", kCoa, kW2, 4, {person(p3)});
  const auto alerts = net.of_rule("linked_persons");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].subject_key, "flat-9");
  EXPECT_DOUBLE_EQ(alerts[0].score, 6.0);
  EXPECT_EQ(alerts[0].alert_id, alert_id("linked_persons", "location", "flat-9", at_day(4), 0));
  ASSERT_EQ(alerts[0].linked.size(), 3u);
  for (const auto& l : alerts[0].linked) EXPECT_EQ(l.type, SubjectType::person);
  // Each person learns it took part.
  auto v = net.view(SubjectType::person, p3);
  std::vector<std::string> ids;
  for (auto id : v["alerts"].get_array()) ids.emplace_back(std::string_view(id.get_string()));
  EXPECT_EQ(ids, std::vector<std::string>{alerts[0].alert_id});
}

// ---- address_hotspot --------------------------------------------------------

TEST(LinkTrackerTest, LocationWithThreeOrganisationsRaisesAddressHotspot) {
  OperatorConfig config = test_config();
  config.linking.address_hotspot.min_count = 3;
  Network net(config);
  net.signal("m1", kCoa, kW1, 0, {location("street-1")});
  net.signal("m2", kCoa, kW1, 1, {location("street-1")});  // same organisation
  net.signal("p1", kPolice, kW1, 2, {location("street-1"), vehicle("RO-B123XYZ")});
  EXPECT_TRUE(net.of_rule("address_hotspot").empty());
  net.signal("n1", kNla, kW2, 3, {location("street-1"), person(kBoy)});
  const auto alerts = net.of_rule("address_hotspot");
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_DOUBLE_EQ(alerts[0].score, 6.0);
  EXPECT_EQ(alerts[0].sources, (std::vector<std::string>{"coa", "nla", "police"}));
  ASSERT_EQ(alerts[0].contributions.size(), 3u);  // the newest signal per organisation
  EXPECT_EQ(alerts[0].contributions[0].signal_id, "m2");
  ASSERT_EQ(alerts[0].linked.size(), 2u);  // who else was seen there
  // A reception centre hears from many organisations by design: no hot-spot.
  for (SourceId s : {kCoa, kPolice, kNla, kInd}) {
    net.signal("r" + std::to_string(s), s, kW1, 4, {location("coa-budel")});
  }
  EXPECT_EQ(net.of_rule("address_hotspot").size(), 1u);
}

// ---- person lift --------------------------------------------------------------

// The brief's case: a boy in a French car at the gate; the car is flagged
// elsewhere; the boy's score rises by half of the car's own score.
TEST(LinkTrackerTest, BoyInFlaggedCarIsLiftedByExactDecayedShareAndLiftExpiresWithTheLink) {
  const OperatorConfig config = test_config();
  Network net(config);
  net.signal("coa-behaviour", kCoa, kW3, 0, {person(kBoy)});
  net.signal("coa-gate", kCoa, kW1, 10, {person(kBoy), vehicle(kCar), location("coa-gilze")});
  net.signal("police-1", kPolice, kW3, 20, {vehicle(kCar)});
  net.signal("ind-1", kInd, kW2, 20, {vehicle(kCar)});
  EXPECT_TRUE(net.of_rule("person_linked").empty());  // lifted to 5.18 < 6
  net.signal("police-2", kPolice, kW35, 20, {vehicle(kCar)});

  const auto lifted = net.of_rule("person_linked");
  ASSERT_EQ(lifted.size(), 1u);
  const Alert& a = lifted[0];
  EXPECT_EQ(a.subject_type, SubjectType::person);
  EXPECT_EQ(a.subject_key, kBoy);
  // Own score at day 20 plus half the car's own score without the shared signal.
  const double own = decay(3, 20, 30) + decay(1, 10, 30);
  const double car_own = 3.0 + 2.0 + 3.5;
  EXPECT_DOUBLE_EQ(a.score, std::round((own + 0.5 * car_own) * 1000) / 1000);
  EXPECT_EQ(a.alert_id, alert_id("person_linked", "person", kBoy, at_day(20), 0));
  ASSERT_EQ(a.linked.size(), 1u);
  EXPECT_EQ(a.linked[0].type, SubjectType::vehicle);
  EXPECT_EQ(a.linked[0].key, kCar);
  EXPECT_EQ(a.linked[0].via, std::vector<std::string>{"coa-gate"});
  EXPECT_EQ(a.sources, (std::vector<std::string>{"coa", "ind", "police"}));

  // Decay: at day 40 the lift is the car's score decayed by its half-life.
  net.signal("coa-later", kCoa, kW1, 40, {person(kBoy)});
  auto v = net.view(SubjectType::person, kBoy);
  EXPECT_NEAR(double(v["lift"]), std::round(0.5 * decay(car_own, 20, 30) * 1000) / 1000, 1e-9);
  // No double counting: the car knows the boy's own score without the shared signal.
  auto car = net.view(SubjectType::vehicle, kCar);
  auto link = car["links"].at(0);
  EXPECT_EQ(std::string_view(link["key"]), kBoy);
  // (Told at day 10, when the gate signal moved the boy's score; decayed since.)
  EXPECT_NEAR(double(link["their_score"]), std::round(decay(3, 40, 30) * 1000) / 1000, 1e-9);

  // The link (last signal day 10) expires after 60 days: no lift at day 71.
  net.signal("coa-much-later", kCoa, kW1, 71, {person(kBoy)});
  v = net.view(SubjectType::person, kBoy);
  EXPECT_DOUBLE_EQ(double(v["lift"]), 0.0);
  EXPECT_FALSE(bool(v["links"].at(0)["live"]));
  EXPECT_EQ(net.of_rule("person_linked").size(), 1u);

  // Expiry removes it and counts it once.
  net.stage().link_counters().reset();
  net.stage().expire();
  EXPECT_EQ(net.stage().link_counters().expired[linking::link_type_index(SubjectType::person,
                                                                         SubjectType::vehicle)],
            1u);
  v = net.view(SubjectType::person, kBoy);
  simdjson::dom::array links = v["links"];
  EXPECT_EQ(links.size(), 0u);
}

// Partners report late: the gate signal arrives after the police reports on
// the car, which are later in event time. The link still carries them.
TEST(LinkTrackerTest, LateLinkToAnAlreadyFlaggedCarStillLiftsTheBoy) {
  const OperatorConfig config = test_config();
  Network net(config);
  net.signal("coa-behaviour", kCoa, kW3, 0, {person(kBoy)});
  net.signal("police-1", kPolice, kW35, 20, {vehicle(kCar)});
  net.signal("police-2", kPolice, kW35, 20, {vehicle(kCar)});
  EXPECT_TRUE(net.of_rule("person_linked").empty());
  net.signal("coa-gate", kCoa, kW1, 10, {person(kBoy), vehicle(kCar)});
  const auto lifted = net.of_rule("person_linked");
  ASSERT_EQ(lifted.size(), 1u);
  const double own = decay(3, 20, 30) + decay(1, 10, 30);
  EXPECT_DOUBLE_EQ(lifted[0].score, std::round((own + 0.5 * 7.0) * 1000) / 1000);
  EXPECT_EQ(lifted[0].alert_id, alert_id("person_linked", "person", kBoy, at_day(20), 0));
}

// The boy's own pieces arrive after the car told him its score (COA's
// two-weekly batches): scored as if on time, they complete the lift.
TEST(LinkTrackerTest, LateOwnSignalsCompleteTheLiftAtTheNoticeTime) {
  const OperatorConfig config = test_config();
  Network net(config);
  net.signal("coa-gate", kCoa, kW1, 10, {person(kBoy), vehicle(kCar)});
  net.signal("police-1", kPolice, kW35, 20, {vehicle(kCar)});
  net.signal("police-2", kPolice, kW35, 20, {vehicle(kCar)});
  EXPECT_TRUE(net.of_rule("person_linked").empty());  // 0.79 + 3.5 < 6
  net.signal("coa-behaviour", kCoa, kW2, 0, {person(kBoy)});
  EXPECT_TRUE(net.of_rule("person_linked").empty());  // 2.05 + 3.5 at day 20: not yet
  net.signal("coa-calls", kCoa, kW1, 2, {person(kBoy)});
  const auto lifted = net.of_rule("person_linked");
  ASSERT_EQ(lifted.size(), 1u);
  const double own = decay(2, 20, 30) + decay(1, 10, 30) + decay(1, 18, 30);
  EXPECT_DOUBLE_EQ(lifted[0].score, std::round((own + 0.5 * 7.0) * 1000) / 1000);
  EXPECT_EQ(lifted[0].alert_id, alert_id("person_linked", "person", kBoy, at_day(20), 0));
}

// The car tells the boy its score twice (days 12 and 20); with his own
// signal from day 11 the lift crosses the threshold at day 12. Whatever
// order the pieces come in (late reports, redelivery after a crash), the
// alert opens at day 12 and so keeps one id.
TEST(LinkTrackerTest, LiftOpensAtTheSameTimeWhateverOrderThePiecesArriveIn) {
  const OperatorConfig config = test_config();
  using Step = std::function<void(Network&)>;
  const Step gate = [](Network& n) {
    n.signal("coa-gate", kCoa, kW1, 10, {person(kBoy), vehicle(kCar)});
  };
  const Step behaviour = [](Network& n) {
    n.signal("coa-behaviour", kCoa, kW35, 11, {person(kBoy)});
  };
  const Step police = [](Network& n) { n.signal("police-1", kPolice, kW35, 12, {vehicle(kCar)}); };
  const Step ind = [](Network& n) { n.signal("ind-1", kInd, kW2, 20, {vehicle(kCar)}); };
  const std::vector<std::vector<Step>> orders = {
      {gate, behaviour, police, ind},  // in event-time order
      {gate, police, ind, behaviour},  // the boy's own signal late
      {gate, police, behaviour, ind},
      {behaviour, gate, ind, police},  // the car's reports in reverse
  };
  const std::string expected = alert_id("person_linked", "person", kBoy, at_day(12), 0);
  for (std::size_t o = 0; o < orders.size(); ++o) {
    Network net(config);
    for (const auto& step : orders[o]) step(net);
    const auto lifted = net.of_rule("person_linked");
    ASSERT_FALSE(lifted.empty()) << "order " << o;
    EXPECT_EQ(lifted[0].alert_id, expected) << "order " << o;
    // Anything after it escalates the same episode: no second opening.
    for (const auto& a : lifted) {
      if (a.level == 0) {
        EXPECT_EQ(a.alert_id, expected) << "order " << o;
      }
    }
  }
}

// A notice delivered again (the sender reprocessed after a crash) after a
// newer one changes nothing: no second alert, no other id.
TEST(LinkTrackerTest, ANoticeDeliveredAgainAfterANewerOneRaisesNothingNew) {
  const OperatorConfig config = test_config();
  Network net(config);
  net.signal("coa-gate", kCoa, kW1, 10, {person(kBoy), vehicle(kCar)});
  net.signal("coa-behaviour", kCoa, kW35, 11, {person(kBoy)});
  net.signal("police-1", kPolice, kW35, 12, {vehicle(kCar)});
  net.signal("ind-1", kInd, kW2, 20, {vehicle(kCar)});
  const auto before = net.of_rule("person_linked");
  ASSERT_FALSE(before.empty());
  std::vector<EntityNotice> from_car;
  for (const auto& n : net.notices) {
    if (!n.participation && n.from_key == kCar) from_car.push_back(n);
  }
  ASSERT_EQ(from_car.size(), 2u);
  for (const auto& n : from_car) net.stage().process_notice(Network::partition_of(n.to_type), n);
  net.deliver();
  EXPECT_EQ(net.of_rule("person_linked").size(), before.size());
}

// A cache of two entities per partition, flushed after every signal: the
// least recently used leave and are read back from the store when needed,
// and the alerts are the same as with everything in memory.
TEST(LinkTrackerTest, ASmallCacheEvictsTheLeastRecentlyUsedAndChangesNoAlert) {
  const OperatorConfig config = test_config();
  auto run = [&](Network& net, bool flush) {
    auto step = [&](const std::string& id, SourceId s, IndicatorId i, double day,
                    const std::vector<Subject>& subjects) {
      net.signal(id, s, i, day, subjects);
      if (flush) {
        ASSERT_TRUE(net.stage().flush());
        // At most 2 per partition; partitions hold one subject type each.
        EXPECT_LE(net.stage().cached_link_entities(), 2u * kSubjectTypeCount);
      }
    };
    step("coa-behaviour", kCoa, kW3, 0, {person(kBoy)});
    step("coa-gate", kCoa, kW1, 10, {person(kBoy), vehicle(kCar), location("coa-gilze")});
    for (int i = 0; i < 6; ++i) {  // other persons and cars push the boy out of the cache
      const std::string n = std::to_string(i);
      step("noise-" + n, kNidos, kW1, 11 + i,
           {person(std::string(64, static_cast<char>('c' + i))), vehicle("NL-" + n + "XX"),
            location("coa-gilze")});
    }
    step("police-1", kPolice, kW3, 20, {vehicle(kCar)});
    step("ind-1", kInd, kW2, 20, {vehicle(kCar)});
    step("police-2", kPolice, kW35, 20, {vehicle(kCar)});
    step("coa-van", kCoa, kW1, 21, {vehicle(kVan), location("coa-a")});
    step("nidos-van", kNidos, kW1, 22, {vehicle(kVan), location("coa-b")});
    step("ind-van", kInd, kW1, 23, {vehicle(kVan), location("coa-c")});
  };
  Network small(config, nullptr, 2);
  run(small, true);
  Network all(config);
  run(all, false);
  ASSERT_FALSE(all.alerts.empty());
  ASSERT_EQ(small.alerts.size(), all.alerts.size());
  for (std::size_t i = 0; i < all.alerts.size(); ++i) {
    EXPECT_EQ(small.alerts[i].alert_id, all.alerts[i].alert_id) << all.alerts[i].rule;
    EXPECT_DOUBLE_EQ(small.alerts[i].score, all.alerts[i].score) << all.alerts[i].rule;
  }
  EXPECT_EQ(small.of_rule("person_linked").size(), 1u);
  EXPECT_EQ(small.of_rule("pickup_van").size(), 1u);
  EXPECT_EQ(small.notices.size(), all.notices.size());
}

TEST(LinkTrackerTest, NoticesFlowBothWaysButOnlyFromSignals) {
  const OperatorConfig config = test_config();
  Network net(config);
  net.signal("coa-behaviour", kCoa, kW3, 0, {person(kBoy)});
  net.signal("coa-gate", kCoa, kW1, 10, {person(kBoy), vehicle(kCar)});
  const std::size_t after_gate = net.notices.size();
  net.signal("police-1", kPolice, kW35, 20, {vehicle(kCar)});
  net.signal("police-2", kPolice, kW35, 20, {vehicle(kCar)});
  // The gate signal: the boy (with a signal of his own) tells the car; the
  // car has nothing of its own yet.
  ASSERT_EQ(after_gate, 1u);
  EXPECT_EQ(net.notices[0].from_key, kBoy);
  EXPECT_NEAR(net.notices[0].own_score, decay(3, 10, 30), 1e-12);
  // Then the car tells the boy twice, and the boy's lifted alert tells the car.
  std::size_t from_car = 0, participation = 0;
  for (std::size_t i = after_gate; i < net.notices.size(); ++i) {
    const auto& n = net.notices[i];
    if (n.participation) {
      ++participation;
      EXPECT_EQ(n.to_key, kCar);
    } else {
      EXPECT_EQ(n.from_key, kCar);
      ++from_car;
    }
  }
  EXPECT_EQ(from_car, 2u);
  EXPECT_EQ(participation, 1u);
  EXPECT_EQ(net.delivered, net.notices.size());
}

TEST(LinkTrackerTest, LinksAreCountedOnceAndBoundedPerEntity) {
  OperatorConfig config = test_config();
  config.linking.max_links = 2;
  Network net(config);
  net.signal("s1", kCoa, kW1, 0, {vehicle(kVan), location("coa-a"), person(kBoy)});
  auto& c = net.stage().link_counters();
  using linking::link_type_index;
  EXPECT_EQ(c.created[link_type_index(SubjectType::vehicle, SubjectType::location)], 1u);
  EXPECT_EQ(c.created[link_type_index(SubjectType::person, SubjectType::vehicle)], 1u);
  EXPECT_EQ(c.created[link_type_index(SubjectType::person, SubjectType::location)], 1u);
  net.signal("s2", kCoa, kW1, 1, {vehicle(kVan), location("coa-b")});
  simdjson::dom::array links = net.view(SubjectType::vehicle, kVan)["links"];
  EXPECT_EQ(links.size(), 2u);  // the oldest went
}

TEST(LinkTrackerTest, LinksSurviveARestartInRocksDb) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mozaiek-links-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const OperatorConfig config = test_config();
  {
    Status s = Status::ok();
    auto db = RocksStateDb::open(dir.string(), s);
    ASSERT_TRUE(db) << s.message();
    auto stores = db->factory();
    Network net(config, stores.get());
    net.signal("a", kCoa, kW1, 0, {vehicle(kVan), location("coa-a")});
    net.signal("b", kCoa, kW1, 1, {vehicle(kVan), location("coa-b")});
    ASSERT_TRUE(net.stage().flush().is_ok());
  }
  Status s = Status::ok();
  auto db = RocksStateDb::open(dir.string(), s);
  ASSERT_TRUE(db) << s.message();
  auto stores = db->factory();
  Network net(config, stores.get());
  net.stage().assign(Network::partition_of(SubjectType::vehicle));
  net.signal("c", kCoa, kW1, 2, {vehicle(kVan), location("coa-c")});
  EXPECT_EQ(net.of_rule("pickup_van").size(), 1u);
  std::filesystem::remove_all(dir);
}

// ---- codecs -----------------------------------------------------------------

TEST(EntityNoticeCodecTest, RoundTripsAndRejectsDamage) {
  EntityNotice n;
  n.from_type = SubjectType::vehicle;
  n.from_key = kCar;
  n.to_type = SubjectType::person;
  n.to_key = kBoy;
  n.at = at_day(3);
  n.own_score = 8.5;
  n.has_own_signals = true;
  n.sources = {"ind", "police"};
  std::string bytes;
  encode_notice(n, bytes);
  EXPECT_EQ(bytes[0], 3);
  EntityNotice back;
  ASSERT_TRUE(decode_notice(bytes, back));
  EXPECT_EQ(back.from_key, kCar);
  EXPECT_EQ(back.to_type, SubjectType::person);
  EXPECT_EQ(back.at, at_day(3));
  EXPECT_EQ(back.own_score, 8.5);
  EXPECT_TRUE(back.has_own_signals);
  EXPECT_FALSE(back.participation);
  EXPECT_EQ(back.sources, n.sources);
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(decode_notice(std::string_view(bytes).substr(0, cut), back)) << cut;
  }
  EXPECT_FALSE(decode_notice(bytes + "x", back));
  bytes[0] = 1;  // a routed signal is no notice
  EXPECT_FALSE(decode_notice(bytes, back));
}

TEST(LinkStateCodecTest, RoundTripsAndDropsEntriesOfUnknownSources) {
  const OperatorConfig config = test_config();
  linking::EntityLinks e;
  e.noticed_score = 2.5;
  e.rules[linking::kPickupVan] = {true, 100, 6.0, 1, 50};
  e.alert_ids = {"abc"};
  auto& l = e.links.emplace_back();
  l.type = SubjectType::location;
  l.key = "coa-a";
  l.first_ms = 1;
  l.last_ms = 2;
  l.peer_at_ms = 2;
  l.peer_score = 1.25;
  l.peer_has_own = true;
  l.told_own = true;
  l.peer_sources = {kPolice};
  l.signals.push_back({"s1", kNla, kW2, 1, 5});
  std::string bytes;
  linking::encode_links(e, config, bytes);
  linking::EntityLinks back;
  ASSERT_TRUE(linking::decode_links(bytes, config, back));
  ASSERT_EQ(back.links.size(), 1u);
  EXPECT_EQ(back.links[0].key, "coa-a");
  EXPECT_EQ(back.links[0].signals[0].source, kNla);
  EXPECT_EQ(back.links[0].signals[0].reported_ms, 5);
  EXPECT_TRUE(back.links[0].told_own);
  EXPECT_EQ(back.rules[linking::kPickupVan].level, 1);
  EXPECT_EQ(back.alert_ids, e.alert_ids);
  // A config without "nla" still reads the entity, without that signal.
  OperatorConfig fewer = config;
  fewer.sources.pop_back();
  ASSERT_TRUE(linking::decode_links(bytes, fewer, back));
  EXPECT_TRUE(back.links[0].signals.empty());
  EXPECT_FALSE(linking::decode_links(bytes.substr(0, bytes.size() - 1), config, back));
}

TEST(LinkStateCodecTest, WritesEachNameOnceAndKeepsEveryField) {
  const OperatorConfig config = test_config();
  linking::EntityLinks e;
  e.sources_seen.push_back({"seen", kPolice, kW3, 40, 45});
  for (int i = 0; i < 3; ++i) {
    auto& l = e.links.emplace_back();
    l.type = SubjectType::person;
    l.key = std::string(64, static_cast<char>('a' + i));
    l.first_ms = kT0;
    l.last_ms = kT0 + i;
    l.peer_sources = {kInd, kPolice};
    l.peer_at_ms = kT0 + 10 * kDayMs;
    l.peer_score = 4.5;
    for (int k = 0; k < i; ++k) l.earlier_notices.push_back({kT0 + k * kDayMs, 1.0 + k});
    l.signals.push_back({"p" + std::to_string(i), kPolice, kW35, kT0 + i, kT0 + i + kDayMs});
    l.signals.push_back({"n" + std::to_string(i), kNla, kW1, kT0 + i + 1, kT0 - 7});
  }
  linking::LinkCodec codec(config);
  std::string bytes;
  codec.encode(e, bytes);
  EXPECT_EQ(bytes[0], 3);  // the version with name tables and earlier notices
  // "police" and "w35" once each in the tables, however many entries name them.
  auto occurrences = [&](std::string_view word) {
    std::size_t n = 0;
    for (auto p = bytes.find(word); p != std::string::npos; p = bytes.find(word, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(occurrences("police"), 1u);
  EXPECT_EQ(occurrences("w35"), 1u);
  linking::EntityLinks back;
  ASSERT_TRUE(codec.decode(bytes, back));
  ASSERT_EQ(back.sources_seen.size(), 1u);
  EXPECT_EQ(back.sources_seen[0].source, kPolice);
  EXPECT_EQ(back.sources_seen[0].indicator, kW3);
  EXPECT_EQ(back.sources_seen[0].reported_ms, 45);
  ASSERT_EQ(back.links.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto& l = back.links[static_cast<std::size_t>(i)];
    EXPECT_EQ(l.peer_sources, (std::vector<SourceId>{kInd, kPolice}));
    EXPECT_EQ(l.peer_at_ms, kT0 + 10 * kDayMs);
    EXPECT_DOUBLE_EQ(l.peer_score, 4.5);
    ASSERT_EQ(l.earlier_notices.size(), static_cast<std::size_t>(i));
    for (int k = 0; k < i; ++k) {
      EXPECT_EQ(l.earlier_notices[static_cast<std::size_t>(k)].at_ms, kT0 + k * kDayMs);
      EXPECT_DOUBLE_EQ(l.earlier_notices[static_cast<std::size_t>(k)].score, 1.0 + k);
    }
    ASSERT_EQ(l.signals.size(), 2u);
    EXPECT_EQ(l.signals[0].signal_id, "p" + std::to_string(i));
    EXPECT_EQ(l.signals[0].indicator, kW35);
    EXPECT_EQ(l.signals[0].reported_ms, kT0 + i + kDayMs);
    EXPECT_EQ(l.signals[1].source, kNla);
    EXPECT_EQ(l.signals[1].indicator, kW1);
    EXPECT_EQ(l.signals[1].reported_ms, kT0 - 7);  // reported "before" observed survives too
  }
  // The same codec, reused, writes the same bytes again (its tables start clean).
  std::string again;
  codec.encode(e, again);
  EXPECT_EQ(again, bytes);
  // A table position past the table is damage, not a crash.
  std::string damaged = bytes;
  damaged[1] = 0;  // no sources in the table, yet entries refer to some
  EXPECT_FALSE(codec.decode(damaged, back));
}

// State written before the name tables (version 1: every name in full at
// every entry) still reads.
TEST(LinkStateCodecTest, ReadsTheVersionWithNamesAtEveryEntry) {
  const OperatorConfig config = test_config();
  std::string v1;
  v1.push_back(1);
  wire::put_double(1.5, v1);
  for (std::size_t r = 0; r < linking::kRuleSlots; ++r) {
    v1.push_back(0);
    wire::put_signed(0, v1);
    wire::put_double(0, v1);
    wire::put_varint(0, v1);
    wire::put_signed(0, v1);
  }
  wire::put_varint(0, v1);  // alert ids
  wire::put_varint(1, v1);  // sources seen
  for (std::string_view field : {"s0", "coa", "w2"}) wire::put_string(field, v1);
  wire::put_signed(10, v1);
  wire::put_signed(20, v1);
  wire::put_varint(1, v1);  // links
  v1.push_back(static_cast<char>(SubjectType::vehicle));
  wire::put_string(kVan, v1);
  wire::put_signed(100, v1);
  wire::put_signed(200, v1);
  wire::put_signed(150, v1);
  wire::put_double(4.25, v1);
  v1.push_back(3);
  wire::put_varint(1, v1);
  wire::put_string("police", v1);
  wire::put_varint(1, v1);
  for (std::string_view field : {"s1", "nla", "w35"}) wire::put_string(field, v1);
  wire::put_signed(200, v1);
  wire::put_signed(300, v1);

  linking::EntityLinks e;
  ASSERT_TRUE(linking::decode_links(v1, config, e));
  EXPECT_DOUBLE_EQ(e.noticed_score, 1.5);
  ASSERT_EQ(e.sources_seen.size(), 1u);
  EXPECT_EQ(e.sources_seen[0].source, kCoa);
  EXPECT_EQ(e.sources_seen[0].indicator, kW2);
  EXPECT_EQ(e.sources_seen[0].reported_ms, 20);
  ASSERT_EQ(e.links.size(), 1u);
  const auto& l = e.links[0];
  EXPECT_EQ(l.key, kVan);
  EXPECT_EQ(l.peer_at_ms, 150);
  EXPECT_DOUBLE_EQ(l.peer_score, 4.25);
  EXPECT_TRUE(l.peer_has_own);
  EXPECT_TRUE(l.told_own);
  EXPECT_EQ(l.peer_sources, std::vector<SourceId>{kPolice});
  ASSERT_EQ(l.signals.size(), 1u);
  EXPECT_EQ(l.signals[0].signal_id, "s1");
  EXPECT_EQ(l.signals[0].source, kNla);
  EXPECT_EQ(l.signals[0].indicator, kW35);
  EXPECT_EQ(l.signals[0].observed_ms, 200);
  EXPECT_EQ(l.signals[0].reported_ms, 300);
  // Written back, it is the current version and reads the same.
  std::string v3;
  linking::encode_links(e, config, v3);
  EXPECT_EQ(v3[0], 3);
  linking::EntityLinks again;
  ASSERT_TRUE(linking::decode_links(v3, config, again));
  EXPECT_EQ(again.links[0].signals[0].reported_ms, 300);
  EXPECT_EQ(again.sources_seen[0].indicator, kW2);
  EXPECT_EQ(again.links[0].peer_at_ms, 150);
  EXPECT_TRUE(again.links[0].earlier_notices.empty());

  // Version 2 is version 3 without a link's count of earlier notices.
  std::string score;
  wire::put_double(4.25, score);
  const auto at = v3.find(score);
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(v3[at + score.size()], 0);  // no earlier notices
  std::string v2 = v3;
  v2.erase(at + score.size(), 1);
  v2[0] = 2;
  linking::EntityLinks from_v2;
  ASSERT_TRUE(linking::decode_links(v2, config, from_v2));
  ASSERT_EQ(from_v2.links.size(), 1u);
  EXPECT_DOUBLE_EQ(from_v2.links[0].peer_score, 4.25);
  EXPECT_TRUE(from_v2.links[0].told_own);
  EXPECT_EQ(from_v2.links[0].signals[0].signal_id, "s1");
  v2[0] = 4;  // a version from the future is refused, not misread
  EXPECT_FALSE(linking::decode_links(v2, config, from_v2));
}

}  // namespace
}  // namespace mozaiek
