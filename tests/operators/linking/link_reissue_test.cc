// Erasure of a linked entity through the convergence stage: alerts on
// another subject that named the erased entity as a link (or by a signal
// naming it) are withdrawn by id and re-issued without it, with the exact
// linked list, contributions and score; or withdrawn alone when the rest no
// longer meets the rule. Each subject type on its own partition, notices
// delivered encoded like the internal topic does.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "operators/linking/link_tracker.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/records/alert_json.h"
#include "operators/records/alert_withdrawal.h"
#include "operators/records/entity_notice.h"
#include "operators/records/erasure_record.h"
#include "stream/state_store.h"
#include "stream/time.h"
#include "tests/support/expected_alert_id.h"

namespace mozaiek {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
const ProcTime kRequested{Millis{1'780'000'000'000}};
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

std::string reissued(const std::string& id) {
  return test::expected_alert_id("reissued", "alert", id, event_time_from_ms(0), 0);
}

using Subject = std::pair<SubjectType, std::string>;
Subject person(const std::string& k) { return {SubjectType::person, k}; }
Subject vehicle(const std::string& k) { return {SubjectType::vehicle, k}; }
Subject location(const std::string& k) { return {SubjectType::location, k}; }

class Network : public AlertOutput {
 public:
  explicit Network(const OperatorConfig& config)
      : config_(config),
        stores_(make_memory_store_factory()),
        stage_(config_, *stores_, clock_, *this) {}

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

  void erase(const Subject& s) {
    stage_.process_erasure(partition_of(s.first), ErasureRecord{s.first, s.second, kRequested});
    deliver();
  }

  void deliver() {
    EntityNotice n;
    while (!wire_.empty()) {
      const std::string bytes = std::move(wire_.front());
      wire_.pop_front();
      ASSERT_TRUE(decode_notice(bytes, n));
      stage_.process_notice(partition_of(n.to_type), n);
    }
  }

  void on_alert(const Alert& a, std::string_view json) override {
    alerts.push_back(a);
    alert_json.emplace_back(json);
  }
  void on_notice(const EntityNotice& n) override { encode_notice(n, wire_.emplace_back()); }
  void on_withdrawal(const AlertWithdrawal& w, std::string_view json) override {
    withdrawals.push_back(w);
    withdrawal_json.emplace_back(json);
  }

  std::vector<Alert> of_rule(const std::string& rule) const {
    std::vector<Alert> out;
    for (const auto& a : alerts) {
      if (a.rule == rule) out.push_back(a);
    }
    return out;
  }
  // The v2 withdrawals of an alert id.
  std::vector<AlertWithdrawal> withdrawn(const std::string& id) const {
    std::vector<AlertWithdrawal> out;
    for (const auto& w : withdrawals) {
      if (w.alert_id == id) out.push_back(w);
    }
    return out;
  }

  std::vector<Alert> alerts;
  std::vector<std::string> alert_json;
  std::vector<AlertWithdrawal> withdrawals;
  std::vector<std::string> withdrawal_json;

 private:
  const OperatorConfig config_;
  ManualClock clock_;
  std::unique_ptr<StateStoreFactory> stores_;
  ConvergenceStage stage_;
  std::deque<std::string> wire_;
};

std::vector<std::string> signal_ids(const Alert& a) {
  std::vector<std::string> ids;
  for (const auto& c : a.contributions) ids.push_back(c.signal_id);
  return ids;
}

std::vector<std::string> linked(const Alert& a) {
  std::vector<std::string> out;
  for (const auto& l : a.linked) {
    std::string s = std::string(to_string(l.type)) + ":" + l.key + "<-";
    for (const auto& v : l.via) s += v + ",";
    out.push_back(s);
  }
  return out;
}

// The van took the boy from one reception centre (coa-1 names him) and was
// seen there before without him (coa-0), then at two more centres.
void van_at_three_centres(Network& net, bool seen_without_him_too) {
  if (seen_without_him_too) {
    net.signal("coa-0", kCoa, kW1, 1, {vehicle(kVan), location("coa-gilze")});
  }
  net.signal("coa-1", kCoa, kW1, 2, {vehicle(kVan), location("coa-gilze"), person(kBoy)});
  net.signal("coa-2", kCoa, kW1, 3, {vehicle(kVan), location("coa-budel")});
  net.signal("nidos-1", kNidos, kW1, 4, {vehicle(kVan), location("nidos-utrecht")});
}

TEST(LinkReissueTest, PickupVanIsReissuedWithoutTheErasedPersonsSignal) {
  Network net(test_config());
  van_at_three_centres(net, true);
  const auto raised = net.of_rule("pickup_van");
  ASSERT_EQ(raised.size(), 1u);
  const Alert& old = raised[0];
  const std::string old_id = test::expected_alert_id("pickup_van", "vehicle", kVan, at_day(4), 0);
  ASSERT_EQ(old.alert_id, old_id);
  ASSERT_EQ(signal_ids(old), (std::vector<std::string>{"coa-0", "coa-1", "coa-2", "nidos-1"}));

  net.alerts.clear();
  net.alert_json.clear();
  net.erase(person(kBoy));

  // Re-issued: the same rule, subject, episode and level, under the id
  // derived from the old one; the boy's signal gone from the link and the
  // contributions, the three centres still there (score 2 * 3).
  ASSERT_EQ(net.alerts.size(), 1u);
  const Alert& now = net.alerts[0];
  EXPECT_EQ(now.alert_id, reissued(old_id));
  EXPECT_EQ(now.rule, "pickup_van");
  EXPECT_EQ(now.subject_type, SubjectType::vehicle);
  EXPECT_EQ(now.subject_key, kVan);
  EXPECT_EQ(now.level, 0);
  EXPECT_EQ(now.status, "new");
  EXPECT_DOUBLE_EQ(now.score, 6.0);
  EXPECT_EQ(linked(now),
            (std::vector<std::string>{"location:coa-gilze<-coa-0,", "location:coa-budel<-coa-2,",
                                      "location:nidos-utrecht<-nidos-1,"}));
  EXPECT_EQ(signal_ids(now), (std::vector<std::string>{"coa-0", "coa-2", "nidos-1"}));
  EXPECT_EQ(now.first_seen, at_day(1));
  EXPECT_EQ(net.alert_json[0].find(kBoy), std::string::npos) << net.alert_json[0];
  EXPECT_EQ(net.alert_json[0].find("coa-1"), std::string::npos) << net.alert_json[0];

  // Withdrawn by id, naming what replaces it, at the request's time.
  const auto w = net.withdrawn(old_id);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rule, "pickup_van");
  EXPECT_EQ(w[0].reissued_as, now.alert_id);
  EXPECT_EQ(w[0].at, kRequested);
  // Besides the boy's own subject-wide record (v1), nothing else.
  std::size_t v1 = 0;
  for (const auto& x : net.withdrawals) v1 += x.per_alert() ? 0 : 1;
  EXPECT_EQ(v1, 1u);
  for (const auto& j : net.withdrawal_json) {
    if (j.find("/v2") != std::string::npos) {
      EXPECT_EQ(j.find(kBoy), std::string::npos) << "a v2 record names no entity: " << j;
    }
  }
}

TEST(LinkReissueTest, PickupVanIsWithdrawnWithoutReissueWhenTheRestNoLongerMeetsTheRule) {
  Network net(test_config());
  van_at_three_centres(net, false);
  ASSERT_EQ(net.of_rule("pickup_van").size(), 1u);
  const std::string old_id = net.of_rule("pickup_van")[0].alert_id;
  net.alerts.clear();
  net.erase(person(kBoy));
  // Only coa-1 tied the van to coa-gilze: two centres are left, below three.
  EXPECT_TRUE(net.alerts.empty());
  const auto w = net.withdrawn(old_id);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reissued_as, "");
  EXPECT_EQ(w[0].rule, "pickup_van");
}

// The boy is lifted by two cars; the first car is erased. Every signal on
// day 0, so nothing decays and the scores are exact sums.
TEST(LinkReissueTest, PersonLinkedIsReissuedWithTheOtherVehicleAndTheExactScore) {
  Network net(test_config());
  net.signal("police-c", kPolice, kW35, 0, {vehicle(kCar)});
  net.signal("ind-c", kInd, kW2, 0, {vehicle(kCar)});  // car: 5.5 of its own
  net.signal("nla-v", kNla, kW35, 0, {vehicle(kVan)});
  net.signal("nidos-v", kNidos, kW3, 0, {vehicle(kVan)});  // van: 6.5 of its own
  net.signal("coa-b", kCoa, kW2, 0, {person(kBoy)});       // the boy: 2
  net.signal("coa-car", kCoa, kW1, 0, {person(kBoy), vehicle(kCar)});
  net.signal("coa-van", kCoa, kW1, 0, {person(kBoy), vehicle(kVan)});
  const auto lifted = net.of_rule("person_linked");
  ASSERT_FALSE(lifted.empty());
  const Alert& old = lifted.back();
  // Own 2 + 1 + 1, lifted by half of 5.5 + 6.5.
  ASSERT_DOUBLE_EQ(old.score, 10.0);
  ASSERT_EQ(old.linked.size(), 2u);

  net.alerts.clear();
  net.alert_json.clear();
  net.erase(vehicle(kCar));

  // Without the car and coa-car: own 3, lift half of 6.5; 6.25 still
  // reaches 6 with own below it.
  ASSERT_EQ(net.alerts.size(), 1u);
  const Alert& now = net.alerts[0];
  EXPECT_EQ(now.rule, "person_linked");
  EXPECT_EQ(now.subject_key, kBoy);
  EXPECT_EQ(now.alert_id, reissued(old.alert_id));
  EXPECT_EQ(now.level, old.level);
  EXPECT_DOUBLE_EQ(now.score, 6.25);
  EXPECT_EQ(linked(now), (std::vector<std::string>{"vehicle:" + kVan + "<-coa-van,"}));
  EXPECT_EQ(signal_ids(now), (std::vector<std::string>{"coa-b", "coa-van"}));
  EXPECT_EQ(now.sources, (std::vector<std::string>{"coa", "nidos", "nla"}));
  EXPECT_EQ(net.alert_json[0].find(kCar), std::string::npos) << net.alert_json[0];
  EXPECT_EQ(net.alert_json[0].find("police"), std::string::npos) << net.alert_json[0];

  // Every person_linked alert raised before is withdrawn by id: the latest
  // with what replaces it (the boy's end), each one by the car's end.
  for (const auto& a : lifted) {
    const auto w = net.withdrawn(a.alert_id);
    ASSERT_FALSE(w.empty()) << a.alert_id;
    const bool replaced = std::any_of(w.begin(), w.end(), [&](const AlertWithdrawal& x) {
      return x.reissued_as == now.alert_id;
    });
    EXPECT_EQ(replaced, a.alert_id == old.alert_id) << a.alert_id;
  }
}

TEST(LinkReissueTest, PersonLinkedIsWithdrawnAloneWhenTheRestFallsBelowTheThreshold) {
  Network net(test_config());
  net.signal("police-c", kPolice, kW35, 0, {vehicle(kCar)});
  net.signal("ind-c", kInd, kW35, 0, {vehicle(kCar)});  // car: 7
  net.signal("coa-b", kCoa, kW2, 0, {person(kBoy)});
  net.signal("coa-car", kCoa, kW1, 0, {person(kBoy), vehicle(kCar)});  // 3 + 3.5
  const auto lifted = net.of_rule("person_linked");
  ASSERT_EQ(lifted.size(), 1u);
  net.alerts.clear();
  net.erase(vehicle(kCar));
  EXPECT_TRUE(net.alerts.empty());
  for (const auto& w : net.withdrawn(lifted[0].alert_id)) EXPECT_EQ(w.reissued_as, "");
  EXPECT_FALSE(net.withdrawn(lifted[0].alert_id).empty());
}

// A crash before the offsets were committed, or a replay: the same input
// and erasure give the same alerts, ids and withdrawal records byte for byte.
TEST(LinkReissueTest, TheSameHistoryAndErasureGiveTheSameRecords) {
  std::vector<std::string> first, second;
  for (auto* out : {&first, &second}) {
    Network net(test_config());
    van_at_three_centres(net, true);
    net.alert_json.clear();
    net.erase(person(kBoy));
    *out = net.alert_json;
    out->insert(out->end(), net.withdrawal_json.begin(), net.withdrawal_json.end());
  }
  ASSERT_EQ(first.size(), 3u);  // the re-issued alert, the v1 and the v2 record
  EXPECT_EQ(first, second);
}

// A second erasure that again names the re-issued alert's link re-issues the
// re-issued one, under an id derived from its id.
TEST(LinkReissueTest, ASecondErasureReissuesTheReissuedAlert) {
  Network net(test_config());
  const std::string girl(64, 'g');
  net.signal("coa-0", kCoa, kW1, 1, {vehicle(kVan), location("coa-gilze")});
  net.signal("coa-1", kCoa, kW1, 2, {vehicle(kVan), location("coa-gilze"), person(kBoy)});
  net.signal("coa-2", kCoa, kW1, 3, {vehicle(kVan), location("coa-budel")});
  net.signal("coa-3", kCoa, kW1, 3.5, {vehicle(kVan), location("coa-budel"), person(girl)});
  net.signal("nidos-1", kNidos, kW1, 4, {vehicle(kVan), location("nidos-utrecht")});
  const std::string old_id = net.of_rule("pickup_van").at(0).alert_id;
  net.erase(person(kBoy));
  net.alerts.clear();
  net.erase(person(girl));
  ASSERT_EQ(net.alerts.size(), 1u);
  EXPECT_EQ(net.alerts[0].alert_id, reissued(reissued(old_id)));
  EXPECT_EQ(signal_ids(net.alerts[0]), (std::vector<std::string>{"coa-0", "coa-2", "nidos-1"}));
  const auto w = net.withdrawn(reissued(old_id));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reissued_as, reissued(reissued(old_id)));
}

TEST(AlertWithdrawalV2Test, RoundTripsAndNamesNoEntity) {
  AlertWithdrawal w;
  w.alert_id = "0123456789abcdef0123456789abcdef";
  w.rule = "pickup_van";
  w.reissued_as = "fedcba9876543210fedcba9876543210";
  w.at = kRequested;
  std::string json;
  write_withdrawal_json(w, json);
  EXPECT_EQ(
      json,
      R"({"schema":"mozaiek.alert-withdrawal/v2","alert_id":"0123456789abcdef0123456789abcdef",)"
      R"("rule":"pickup_van","reissued_as":"fedcba9876543210fedcba9876543210",)"
      R"("reason":"erasure","at":"2026-05-28T20:26:40Z"})");
  AlertWithdrawal read;
  ASSERT_TRUE(read_withdrawal_json(json, read));
  EXPECT_TRUE(read.per_alert());
  EXPECT_EQ(read.alert_id, w.alert_id);
  EXPECT_EQ(read.rule, w.rule);
  EXPECT_EQ(read.reissued_as, w.reissued_as);
  EXPECT_EQ(read.at, kRequested);
  std::string key;
  withdrawal_key(read, key);
  EXPECT_EQ(key, w.alert_id) << "keyed like its alert, so it follows it on its partition";
  EXPECT_FALSE(read_withdrawal_json(R"({"schema":"mozaiek.alert-withdrawal/v2","alert_id":"",)"
                                    R"("rule":"x","reason":"erasure"})",
                                    read));
  EXPECT_FALSE(read_withdrawal_json(R"({"schema":"mozaiek.alert-withdrawal/v3","alert_id":"a",)"
                                    R"("reason":"erasure"})",
                                    read));
}

}  // namespace
}  // namespace mozaiek
