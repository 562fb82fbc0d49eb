#include "operators/convergence/convergence_scorer.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "stream/rocksdb_state.h"
#include "tests/support/expected_alert_id.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
const std::string kPerson(64, 'a');
const std::string kVehicle = "NL-AB123C";

// Indicator ids in the test catalogue.
enum : IndicatorId { kW1, kW15, kW2, kW3, kW35, kConcrete3, kConcrete5 };
// Source ids.
enum : SourceId { kCoa, kInd, kPolice, kNidos };

OperatorConfig test_config() {
  OperatorConfig c;
  const std::uint8_t all = 0b111;
  c.catalogue.add({"w1", Strength::soft, 1.0, all, 0});
  c.catalogue.add({"w15", Strength::soft, 1.5, all, 0});
  c.catalogue.add({"w2", Strength::soft, 2.0, all, 0});
  c.catalogue.add({"w3", Strength::soft, 3.0, all, 0});
  c.catalogue.add({"w35", Strength::soft, 3.5, all, 0});
  c.catalogue.add({"concrete3", Strength::concrete, 3.0, all, 0});
  c.catalogue.add({"concrete5", Strength::concrete, 5.0, all, 0});
  for (const char* name : {"coa", "ind", "police", "nidos"}) {
    SourcePolicy p;
    p.name = name;
    p.allowed_lateness = days(90);
    c.sources.push_back(p);
  }
  auto& person = c.rules[0];
  person.name = "person_convergence";
  person.subject_type = SubjectType::person;
  person.window = days(90);
  person.half_life = days(30);
  person.threshold = 6.0;
  person.min_sources = 2;
  person.cooldown = days(14);
  person.escalation_step = 3.0;
  auto& vehicle = c.rules[1];
  vehicle = person;
  vehicle.name = "vehicle_convergence";
  vehicle.subject_type = SubjectType::vehicle;
  vehicle.threshold = 5.0;
  vehicle.concrete_alone = true;
  auto& location = c.rules[2];
  location = person;
  location.name = "location_convergence";
  location.subject_type = SubjectType::location;
  return c;
}

EventTime at_day(double d) {
  return event_time_from_ms(kT0 + static_cast<std::int64_t>(d * kDayMs));
}

RoutedSignal signal(std::string id, SourceId source, IndicatorId indicator, double day,
                    SubjectType type = SubjectType::person, const std::string& key = kPerson) {
  RoutedSignal s;
  s.subject_type = type;
  s.subject_key = key;
  s.signal_id = std::move(id);
  s.source = source;
  s.indicator = indicator;
  s.strength = indicator >= kConcrete3 ? Strength::concrete : Strength::soft;
  s.observed_at = at_day(day);
  s.reported_at = at_day(day);
  return s;
}

using test::expected_alert_id;

using test::TempDir;

using Kind = ConvergenceScorer::Result::Kind;

class ConvergenceScorerTest : public ::testing::Test {
 protected:
  ConvergenceScorer::Result process(const RoutedSignal& s) {
    return scorer_.process(*state_, s, clock_.now(), alerts_);
  }
  std::optional<ConvergenceScorer::SubjectView> inspect(double day,
                                                        SubjectType type = SubjectType::person,
                                                        const std::string& key = kPerson) {
    return scorer_.inspect(*state_, type, key, at_day(day));
  }

  OperatorConfig config_ = test_config();
  ConvergenceScorer scorer_{config_};
  std::unique_ptr<StateStore> store_ = make_memory_store();
  std::unique_ptr<ConvergenceScorer::State> state_ = scorer_.make_state(*store_);
  ManualClock clock_;
  std::vector<Alert> alerts_;
};

TEST_F(ConvergenceScorerTest, ScoreIsTheSumOfWeightsDecayedByHalfLife) {
  EXPECT_EQ(process(signal("s1", kCoa, kW2, 0)).kind, Kind::scored);
  auto r = process(signal("s2", kInd, kW15, 30));
  EXPECT_EQ(r.kind, Kind::scored);
  EXPECT_NEAR(r.score, 2.0 * 0.5 + 1.5, 1e-9);

  auto view = inspect(30);
  ASSERT_TRUE(view);
  EXPECT_NEAR(view->score, 2.5, 1e-9);
  ASSERT_EQ(view->contributions.size(), 2u);
  EXPECT_NEAR(view->contributions[0].decayed_weight, 1.0, 1e-9);
  EXPECT_NEAR(view->contributions[1].decayed_weight, 1.5, 1e-9);
  EXPECT_NEAR(inspect(60)->score, 2.5 * 0.5, 1e-9);
  EXPECT_TRUE(alerts_.empty());
}

TEST_F(ConvergenceScorerTest, ContributionsOutsideTheWindowDoNotCount) {
  process(signal("s1", kCoa, kW3, 0));
  auto r = process(signal("s2", kInd, kW3, 90));  // exactly one window later: excluded
  EXPECT_NEAR(r.score, 3.0, 1e-9);
  EXPECT_TRUE(alerts_.empty());
  EXPECT_EQ(inspect(90)->contributions.size(), 1u);
  EXPECT_EQ(inspect(89.9)->contributions.size(), 1u);  // s1 only; s2 is later
}

TEST_F(ConvergenceScorerTest, OneSourceAloneNeverMeetsTheDistinctSourceMinimum) {
  process(signal("s1", kCoa, kW3, 0));
  process(signal("s2", kCoa, kW3, 1));
  auto r = process(signal("s3", kCoa, kW3, 2));
  EXPECT_GT(r.score, 8.0);
  EXPECT_EQ(r.kind, Kind::scored);
  EXPECT_TRUE(alerts_.empty());

  r = process(signal("s4", kInd, kW1, 3));
  EXPECT_EQ(r.kind, Kind::alerted);
  ASSERT_EQ(alerts_.size(), 1u);
  EXPECT_EQ(alerts_[0].sources, (std::vector<std::string>{"coa", "ind"}));
  EXPECT_EQ(alerts_[0].contributions.size(), 4u);
}

TEST_F(ConvergenceScorerTest, ConcreteSignalAlertsAloneOnlyWhereTheRuleSaysSo) {
  // Vehicle rule: concrete_alone, threshold 5.
  auto r = process(signal("v1", kPolice, kConcrete5, 0, SubjectType::vehicle, kVehicle));
  EXPECT_EQ(r.kind, Kind::alerted);
  ASSERT_EQ(alerts_.size(), 1u);
  EXPECT_EQ(alerts_[0].rule, "vehicle_convergence");
  EXPECT_EQ(alerts_[0].sources, (std::vector<std::string>{"police"}));

  // A concrete signal must still reach the threshold.
  alerts_.clear();
  process(signal("v2", kPolice, kConcrete3, 0, SubjectType::vehicle, "BE-XYZ1"));
  EXPECT_TRUE(alerts_.empty());
  // Soft signals from one source do not alert however strong.
  process(signal("v3", kCoa, kW3, 0, SubjectType::vehicle, "DE-ABC9"));
  process(signal("v4", kCoa, kW3, 0, SubjectType::vehicle, "DE-ABC9"));
  EXPECT_TRUE(alerts_.empty());

  // Person rule: no concrete_alone, so one source is not enough.
  process(signal("p1", kPolice, kConcrete5, 0));
  process(signal("p2", kPolice, kConcrete3, 0));
  EXPECT_TRUE(alerts_.empty());
}

TEST_F(ConvergenceScorerTest, AlertExplainsItselfWithContributionsAndSortedSources) {
  clock_.set(ProcTime{Millis{kT0 + 5 * kDayMs}});
  process(signal("z-last", kPolice, kW2, 1));
  process(signal("a-first", kInd, kW2, 1));
  process(signal("m-mid", kCoa, kW3, 0));  // late: completes the alert on day 1
  ASSERT_EQ(alerts_.size(), 1u);
  const Alert& a = alerts_[0];
  EXPECT_EQ(a.alert_id, expected_alert_id("person_convergence", "person", kPerson, at_day(1), 0));
  EXPECT_EQ(a.rule, "person_convergence");
  EXPECT_EQ(a.subject_type, SubjectType::person);
  EXPECT_EQ(a.subject_key, kPerson);
  EXPECT_EQ(a.sources, (std::vector<std::string>{"coa", "ind", "police"}));
  EXPECT_EQ(a.first_seen, at_day(0));
  EXPECT_EQ(a.last_seen, at_day(1));
  EXPECT_EQ(a.raised_at, clock_.now());
  EXPECT_EQ(a.level, 0);
  EXPECT_EQ(a.status, "new");
  EXPECT_NEAR(a.score, std::round((4.0 + 3.0 * std::exp2(-1.0 / 30)) * 1000) / 1000, 1e-12);
  ASSERT_EQ(a.contributions.size(), 3u);
  EXPECT_EQ(a.contributions[0].signal_id, "m-mid");  // by observed_at, then signal_id
  EXPECT_EQ(a.contributions[1].signal_id, "a-first");
  EXPECT_EQ(a.contributions[2].signal_id, "z-last");
  EXPECT_EQ(a.contributions[0].source, kCoa);
  EXPECT_EQ(a.contributions[0].indicator, kW3);
  EXPECT_DOUBLE_EQ(a.contributions[0].weight, 3.0);
  EXPECT_NEAR(a.contributions[0].decayed_weight, 3.0 * std::exp2(-1.0 / 30), 1e-12);
  EXPECT_DOUBLE_EQ(a.contributions[2].decayed_weight, 2.0);
  EXPECT_EQ(a.detection_delay_seconds, 0.0);
}

TEST_F(ConvergenceScorerTest, CooldownSuppressesRepeatAlerts) {
  process(signal("s1", kCoa, kW3, 0));
  process(signal("s2", kInd, kW3, 0));
  ASSERT_EQ(alerts_.size(), 1u);
  auto r = process(signal("s3", kPolice, kW1, 1));  // ~6.9: above threshold, below escalation
  EXPECT_EQ(r.kind, Kind::scored);
  EXPECT_GT(r.score, 6.0);
  process(signal("s4", kNidos, kW1, 13));
  EXPECT_EQ(alerts_.size(), 1u);
}

TEST_F(ConvergenceScorerTest, EscalationReRaisesWithNextLevelAndNewId) {
  process(signal("s1", kCoa, kW3, 0));
  process(signal("s2", kInd, kW3, 0));
  ASSERT_EQ(alerts_.size(), 1u);
  process(signal("s3", kPolice, kConcrete5, 1));  // ~10.86 >= 6 + 3
  ASSERT_EQ(alerts_.size(), 2u);
  const Alert& e = alerts_[1];
  EXPECT_EQ(e.level, 1);
  EXPECT_EQ(e.status, "escalated");
  EXPECT_NE(e.alert_id, alerts_[0].alert_id);
  // Same episode (started on day 0), next level.
  EXPECT_EQ(e.alert_id, expected_alert_id("person_convergence", "person", kPerson, at_day(0), 1));
  EXPECT_EQ(e.sources, (std::vector<std::string>{"coa", "ind", "police"}));

  process(signal("s4", kNidos, kW1, 2));  // not another step up
  EXPECT_EQ(alerts_.size(), 2u);
  auto view = inspect(2);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->alert_ids, (std::vector<std::string>{alerts_[0].alert_id, e.alert_id}));
  EXPECT_EQ(view->level, 1);
  EXPECT_EQ(view->last_alert_at, at_day(1));
}

TEST_F(ConvergenceScorerTest, AfterTheCooldownANewEpisodeStarts) {
  process(signal("s1", kCoa, kW3, 0));
  process(signal("s2", kInd, kW3, 0));
  ASSERT_EQ(alerts_.size(), 1u);
  process(signal("s3", kPolice, kW1, 20));  // 6 * 2^(-2/3) + 1 = 4.78: below threshold
  EXPECT_EQ(alerts_.size(), 1u);
  process(signal("s4", kNidos, kW2, 20));  // 6.78, 14 days after the last alert
  ASSERT_EQ(alerts_.size(), 2u);
  EXPECT_EQ(alerts_[1].level, 0);
  EXPECT_EQ(alerts_[1].status, "new");
  EXPECT_EQ(alerts_[1].alert_id,
            expected_alert_id("person_convergence", "person", kPerson, at_day(20), 0));
}

TEST_F(ConvergenceScorerTest, DuplicateSignalIsIgnoredAndDoesNotReAlert) {
  process(signal("s1", kCoa, kW3, 0));
  EXPECT_EQ(process(signal("s1", kCoa, kW3, 0)).kind, Kind::duplicate);
  EXPECT_EQ(process(signal("s2", kInd, kW3, 0)).kind, Kind::alerted);
  EXPECT_EQ(process(signal("s2", kInd, kW3, 0)).kind, Kind::duplicate);
  EXPECT_EQ(alerts_.size(), 1u);
  EXPECT_EQ(inspect(0)->contributions.size(), 2u);
  // The same signal id from another source is a different signal.
  EXPECT_NE(process(signal("s1", kPolice, kW1, 0)).kind, Kind::duplicate);
}

TEST_F(ConvergenceScorerTest, LateSignalWithinLatenessRaisesAlertWithDelay) {
  process(signal("x", kCoa, kW3, 0));
  process(signal("y", kInd, kW1, 60));
  EXPECT_TRUE(alerts_.empty());
  // Observed on day 1, reported 60 days later. On time it would have made
  // 3 * 2^(-1/30) + 3.5 = 6.43 on day 1; at arrival (day 60) the sum is 2.6.
  RoutedSignal z = signal("z", kInd, kW35, 1);
  z.reported_at = at_day(61);
  auto r = process(z);
  EXPECT_EQ(r.kind, Kind::alerted);
  ASSERT_EQ(alerts_.size(), 1u);
  const Alert& a = alerts_[0];
  EXPECT_NEAR(a.score, 6.431, 1e-9);
  EXPECT_EQ(a.first_seen, at_day(0));
  EXPECT_EQ(a.last_seen, at_day(1));
  EXPECT_DOUBLE_EQ(a.detection_delay_seconds, 60.0 * 86400);
  ASSERT_EQ(a.contributions.size(), 2u);  // y (day 60) is after T
  EXPECT_EQ(a.contributions[1].signal_id, "z");
  EXPECT_EQ(a.alert_id, expected_alert_id("person_convergence", "person", kPerson, at_day(1), 0));
}

TEST_F(ConvergenceScorerTest, LateSignalIsScoredAtTheLaterTimesItPrecedes) {
  process(signal("x", kCoa, kW3, 10));
  process(signal("y", kCoa, kW3, 10));
  EXPECT_TRUE(alerts_.empty());           // one source
  process(signal("late", kInd, kW1, 5));  // alone on day 5 it is 1; on day 10 it is ~6.89
  ASSERT_EQ(alerts_.size(), 1u);
  EXPECT_EQ(alerts_[0].last_seen, at_day(10));
  EXPECT_NEAR(alerts_[0].score, std::round((6 + std::exp2(-5.0 / 30)) * 1000) / 1000, 1e-12);
}

TEST_F(ConvergenceScorerTest, LateSignalAlertsAfterTheCooldownEvenWhenItPeaksInsideIt) {
  process(signal("a1", kCoa, kW3, 0));
  process(signal("a2", kInd, kW3, 0));
  ASSERT_EQ(alerts_.size(), 1u);
  process(signal("c", kPolice, kW2, 20));  // 5.78: below threshold
  ASSERT_EQ(alerts_.size(), 1u);
  // Late, on day 5: 8.35 on day 5 (cooldown, no escalation step) and 7.90 on
  // day 20 (after the cooldown: a new episode).
  process(signal("late", kNidos, kW3, 5));
  ASSERT_EQ(alerts_.size(), 2u);
  EXPECT_EQ(alerts_[1].level, 0);
  EXPECT_EQ(alerts_[1].last_seen, at_day(20));
  EXPECT_NEAR(alerts_[1].score,
              std::round((6 * std::exp2(-20.0 / 30) + 3 * std::exp2(-0.5) + 2) * 1000) / 1000,
              1e-12);
}

TEST_F(ConvergenceScorerTest, ContributionsAreBoundedByTheRule) {
  OperatorConfig config = test_config();
  config.rules[0].max_contributions = 4;
  config.rules[0].threshold = 100;
  ConvergenceScorer scorer(config);
  auto state = scorer.make_state(*store_);
  auto add = [&](const std::string& id, IndicatorId ind, double day) {
    return scorer.process(*state, signal(id, kCoa, ind, day), clock_.now(), alerts_);
  };
  add("weak", kW1, 0);
  for (int d = 1; d <= 4; ++d) add("s" + std::to_string(d), kW3, d);
  add("weak-late", kW1, 5);  // weaker than any decayed w3: does not get in
  auto view = scorer.inspect(*state, SubjectType::person, kPerson, at_day(5));
  ASSERT_TRUE(view);
  ASSERT_EQ(view->contributions.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(view->contributions[static_cast<std::size_t>(i)].signal_id,
              "s" + std::to_string(i + 1));
  }
  add("strong", kConcrete5, 6);  // evicts the weakest now: s1
  view = scorer.inspect(*state, SubjectType::person, kPerson, at_day(6));
  ASSERT_EQ(view->contributions.size(), 4u);
  EXPECT_EQ(view->contributions.front().signal_id, "s2");
  EXPECT_EQ(view->contributions.back().signal_id, "strong");
}

TEST_F(ConvergenceScorerTest, SignalsBehindTheRetainedHorizonAreIgnored) {
  RoutedSignal s = signal("old", kCoa, kW3, 0);
  s.watermark = at_day(181);  // window 90 + lateness 90 behind
  EXPECT_EQ(process(s).kind, Kind::ignored);
  EXPECT_FALSE(inspect(0));
  RoutedSignal unknown = signal("u", kCoa, 99, 0);
  EXPECT_EQ(process(unknown).kind, Kind::ignored);
  RoutedSignal empty_key = signal("e", kCoa, kW1, 0, SubjectType::person, "");
  EXPECT_EQ(process(empty_key).kind, Kind::ignored);
}

TEST_F(ConvergenceScorerTest, ExpiryRemovesStateThatCanNoLongerMatter) {
  state_ = scorer_.make_state(*store_, 1);  // a one-subject cache: most live in the store
  process(signal("a1", kCoa, kW1, 0, SubjectType::person, "old-person"));
  process(signal("b1", kCoa, kW1, 0, SubjectType::vehicle, "XX-OLD1"));
  process(signal("c1", kCoa, kW1, 100, SubjectType::person, "recent-person"));
  process(signal("d1", kCoa, kW1, 50, SubjectType::location, "mixed"));
  process(signal("d2", kCoa, kW1, 150, SubjectType::location, "mixed"));
  ASSERT_TRUE(scorer_.flush(*state_).is_ok());
  EXPECT_EQ(store_->approximate_entries(), 4u);

  // Horizon: watermark - (window 90 + lateness 90) = day 10.
  EXPECT_EQ(scorer_.expire(*state_, at_day(190)), 2u);
  ASSERT_TRUE(scorer_.flush(*state_).is_ok());
  EXPECT_EQ(store_->approximate_entries(), 2u);
  EXPECT_FALSE(inspect(190, SubjectType::person, "old-person"));
  EXPECT_FALSE(inspect(190, SubjectType::vehicle, "XX-OLD1"));
  EXPECT_TRUE(inspect(190, SubjectType::person, "recent-person"));
  EXPECT_EQ(inspect(100, SubjectType::location, "mixed")->contributions.size(), 1u);  // d1

  EXPECT_EQ(scorer_.expire(*state_, at_day(230)), 0u);  // drops d1, keeps the subject
  EXPECT_EQ(inspect(100, SubjectType::location, "mixed")->contributions.size(), 0u);
  EXPECT_EQ(inspect(150, SubjectType::location, "mixed")->contributions.size(), 1u);
  EXPECT_EQ(scorer_.expire(*state_, at_day(400)), 2u);
  ASSERT_TRUE(scorer_.flush(*state_).is_ok());
  EXPECT_EQ(store_->approximate_entries(), 0u);
}

TEST_F(ConvergenceScorerTest, ErasureRemovesTheSubjectFromCacheAndStore) {
  process(signal("s1", kCoa, kW3, 0));
  ASSERT_TRUE(scorer_.flush(*state_).is_ok());
  process(signal("s2", kInd, kW1, 1));  // dirty again
  scorer_.erase(*state_, SubjectType::person, kPerson);
  ASSERT_TRUE(scorer_.flush(*state_).is_ok());
  EXPECT_FALSE(inspect(1));
  EXPECT_EQ(store_->approximate_entries(), 0u);
  EXPECT_EQ(scorer_.cached_subjects(*state_), 0u);
  // A redelivered signal after erasure starts from nothing.
  EXPECT_EQ(process(signal("s1", kCoa, kW3, 0)).kind, Kind::scored);
}

// A reproducible stream of signals over a few subjects, some late, some
// duplicated, enough to raise alerts, escalations and new episodes.
std::vector<RoutedSignal> random_stream(std::uint32_t seed, std::size_t n) {
  std::mt19937 rng(seed);
  std::vector<RoutedSignal> out;
  for (std::size_t i = 0; i < n; ++i) {
    const int subject = static_cast<int>(rng() % 12);
    const double day = static_cast<double>(i) * 0.5 - static_cast<double>(rng() % 20);
    auto s = signal("sig-" + std::to_string(i), static_cast<SourceId>(rng() % 4),
                    static_cast<IndicatorId>(rng() % 7), day,
                    subject % 3 == 0 ? SubjectType::vehicle : SubjectType::person,
                    "subject-" + std::to_string(subject));
    s.reported_at = at_day(static_cast<double>(i) * 0.5);
    out.push_back(s);
    if (rng() % 10 == 0) out.push_back(out[rng() % out.size()]);  // redelivery
  }
  return out;
}

std::vector<std::string> alert_ids(const std::vector<Alert>& alerts) {
  std::vector<std::string> ids;
  ids.reserve(alerts.size());
  for (const auto& a : alerts) ids.push_back(a.alert_id + "/" + std::to_string(a.score));
  return ids;
}

TEST_F(ConvergenceScorerTest, SameInputSequenceGivesTheSameAlertIds) {
  const std::uint32_t seed = 20240101;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto input = random_stream(seed, 600);
  std::vector<std::vector<std::string>> runs;
  for (std::size_t cache : {std::size_t{1} << 16, std::size_t{2}}) {  // large, then evicting
    auto store = make_memory_store();
    auto state = scorer_.make_state(*store, cache);
    std::vector<Alert> alerts;
    for (const auto& s : input) scorer_.process(*state, s, clock_.now(), alerts);
    runs.push_back(alert_ids(alerts));
  }
  ASSERT_GT(runs[0].size(), 5u);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST_F(ConvergenceScorerTest, StatePersistsAcrossFlushAndReopenOfRocksDb) {
  const std::uint32_t seed = 7;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto input = random_stream(seed, 600);
  const std::size_t half = input.size() / 2;

  std::vector<Alert> expected;
  for (const auto& s : input) scorer_.process(*state_, s, clock_.now(), expected);
  ASSERT_GT(expected.size(), 5u);

  TempDir dir{"mozaiek-conv"};
  std::vector<Alert> got;
  for (int part = 0; part < 2; ++part) {
    Status status = Status::ok();
    auto db = RocksStateDb::open(dir.path(), status);
    ASSERT_TRUE(db) << status.message();
    auto store = db->store("convergence-p0");
    auto state = scorer_.make_state(*store);
    const std::size_t from = part == 0 ? 0 : half;
    const std::size_t to = part == 0 ? half : input.size();
    for (std::size_t i = from; i < to; ++i) {
      scorer_.process(*state, input[i], clock_.now(), got);
    }
    Status flushed = scorer_.flush(*state);
    ASSERT_TRUE(flushed.is_ok()) << flushed.message();
  }
  EXPECT_EQ(alert_ids(got), alert_ids(expected));
}

// The scorer skips the store lookup for keys it never saw; subjects the
// store held before the state was made (a restart, a restored changelog)
// must still be found, and so must subjects that left the cache.
TEST_F(ConvergenceScorerTest, SubjectsInTheStoreBeforeTheStateWasMadeAreStillRead) {
  process(signal("s1", kCoa, kW3, 0));
  ASSERT_TRUE(scorer_.flush(*state_).is_ok());
  state_ = scorer_.make_state(*store_);  // as after a restart
  EXPECT_EQ(scorer_.cached_subjects(*state_), 0u);
  EXPECT_EQ(process(signal("s1", kCoa, kW3, 0)).kind, Kind::duplicate);
  const auto second = process(signal("s2", kInd, kW3, 0));
  EXPECT_EQ(second.kind, Kind::alerted);
  EXPECT_DOUBLE_EQ(second.score, 6.0);
}

TEST_F(ConvergenceScorerTest, EvictedAndExpiredSubjectsAreReadBackFromTheStore) {
  state_ = scorer_.make_state(*store_, 1);  // every other subject leaves the cache
  process(signal("a1", kCoa, kW1, 100, SubjectType::person, "p-one"));
  process(signal("b1", kCoa, kW1, 100, SubjectType::person, "p-two"));
  EXPECT_EQ(scorer_.expire(*state_, at_day(101)), 0u);  // rebuilds what the store holds
  process(signal("b2", kCoa, kW1, 100, SubjectType::person, "p-two"));
  EXPECT_EQ(process(signal("a1", kCoa, kW1, 100, SubjectType::person, "p-one")).kind,
            Kind::duplicate);
  auto one = inspect(100, SubjectType::person, "p-one");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->contributions.size(), 1u);
  auto two = inspect(100, SubjectType::person, "p-two");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->contributions.size(), 2u);
}

}  // namespace
}  // namespace mozaiek
