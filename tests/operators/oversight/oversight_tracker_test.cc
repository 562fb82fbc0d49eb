// The chain-oversight operator through the real intake and entity stages
// (no broker): chain event JSON -> ChainIntake -> routing -> OversightTracker,
// with metrics read back from a Prometheus registry.
#include "operators/oversight/oversight_tracker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <optional>
#include <sstream>

#include "connectors/app/metrics_bridge.h"
#include "connectors/synthetic/synthetic_chain.h"
#include "operators/oversight/oversight_records.h"
#include "operators/oversight/spike_rule.h"
#include "operators/pipeline/convergence_stage.h"
#include "operators/pipeline/intake_stage.h"
#include "operators/records/alert_json.h"
#include "stream/json_writer.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

constexpr const char* kKey = "oversight-test-key-0123456789";

// Intake and entity stage wired directly, as LocalPipeline does.
class Stages final : public IntakeOutput, public AlertOutput {
 public:
  // min_cell_size: of the disclosure control; 1 (off) counts single persons.
  explicit Stages(const OperatorConfig& config, std::size_t min_cell_size = 1)
      : pseudonymiser_(kKey),
        clock_(ProcTime{Millis{1'780'000'000'000}}),
        stores_(make_memory_store_factory()),
        metrics_(registry_, labels(config, min_cell_size)),
        intake_(config, pseudonymiser_, clock_, "signals.", *this),
        entity_(config, *stores_, clock_, *this) {
    entity_.assign(Partition{0});
    entity_.set_oversight_metrics(&metrics_);
  }

  void feed(const std::string& json) {
    RecordView v;
    v.value = json;
    intake_.process(v);
  }
  void maintain() { entity_.maintain_oversight(); }
  std::size_t expire() { return entity_.expire(); }
  std::size_t meldingen() {
    return entity_.oversight().meldingen(*entity_.oversight_state(Partition{0}));
  }
  std::size_t persons() {
    return entity_.oversight().persons(*entity_.oversight_state(Partition{0}));
  }

  void on_routed(const RoutedSignal& r) override { entity_.process(Partition{0}, r); }
  void on_routed_chain(const RoutedChainEvent& r) override {
    entity_.process_chain(Partition{0}, r);
  }
  void on_rejected(const Rejection& r, const RecordView&) override { rejected.push_back(r); }
  // Linking notices only matter between linked entities; these tests check
  // the oversight operator, so notices are counted, not delivered.
  void on_notice(const EntityNotice&) override { ++notices; }
  void on_alert(const Alert& a, std::string_view json) override {
    alerts.push_back(a);
    Alert back;
    EXPECT_TRUE(read_alert_json(json, back)) << json;
    EXPECT_EQ(back.alert_id, a.alert_id);
  }

  std::string scrape() const { return prometheus::TextSerializer().Serialize(registry_.Collect()); }
  // The sum of the series `name` carrying all `labels`; 0 when there is none.
  double value(const std::string& name, const std::vector<std::string>& labels = {}) const {
    return test::metric_sum(scrape(), name, labels).value_or(0.0);
  }
  std::vector<const Alert*> alerts_of(std::string_view rule) const {
    std::vector<const Alert*> out;
    for (const auto& a : alerts) {
      if (a.rule == rule) out.push_back(&a);
    }
    return out;
  }
  std::string pseudonym(std::string_view scheme, std::string_view id) const {
    std::string key;
    pseudonymiser_.pseudonymise(scheme, normalise_person_id(id), key);
    return key;
  }

  std::vector<Alert> alerts;
  std::vector<Rejection> rejected;
  std::size_t notices = 0;
  StageCounters& intake_counters() { return intake_.counters(); }
  HistogramBatch& reporting_delay() { return intake_.reporting_delay(); }
  StageCounters& entity_counters() { return entity_.counters(); }

 private:
  // Most tests here count single persons exactly (min_cell_size 1);
  // oversight_metrics_test.cc tests the disclosure rules themselves.
  static OversightLabelSets labels(const OperatorConfig& c, std::size_t min_cell_size) {
    Settings s;
    s.operators = c;
    OversightLabelSets l = oversight_label_sets(s);
    l.min_cell_size = min_cell_size;
    return l;
  }
  Pseudonymiser pseudonymiser_;
  ManualClock clock_;
  std::unique_ptr<StateStoreFactory> stores_;
  prometheus::Registry registry_;
  OversightMetrics metrics_;
  IntakeStage intake_;
  ConvergenceStage entity_;
};

std::string ts(std::string_view day, std::string_view time = "12:00:00") {
  return std::string(day) + "T" + std::string(time) + "Z";
}

std::string melding(std::string_view event_id, std::string_view type, std::string_view melding_id,
                    std::string_view org, std::string_view to, const std::string& at,
                    std::string_view outcome = "") {
  std::string json;
  JsonWriter w(json);
  w.begin_object();
  w.key("schema").string("mozaiek.chain/v1");
  w.key("event_id").string(event_id);
  w.key("type").string(type);
  w.key("at").string(at);
  w.key("reported_at").string(at);
  w.key("org").string(org);
  w.key("melding_id").string(melding_id);
  w.key("to").string(to);
  if (!outcome.empty()) w.key("outcome").string(outcome);
  w.end_object();
  return json;
}

struct Who {
  std::string id;
  std::string age_group = "minor";
  std::string nationality = "SD";
};

std::string person_event(std::string_view event_id, std::string_view type, const Who& who,
                         const std::string& at, std::string_view org,
                         std::string_view location = "", std::string_view extra_key = "",
                         std::string_view extra = "") {
  std::string json;
  JsonWriter w(json);
  w.begin_object();
  w.key("schema").string("mozaiek.chain/v1");
  w.key("event_id").string(event_id);
  w.key("type").string(type);
  w.key("at").string(at);
  w.key("reported_at").string(at);
  w.key("org").string(org);
  if (!extra_key.empty()) w.key(extra_key).string(extra);
  w.key("subjects").begin_array();
  w.begin_object();
  w.key("type").string("person");
  w.key("id").string(who.id);
  w.key("id_scheme").string("v-number");
  w.key("age_group").string(who.age_group);
  w.key("nationality").string(who.nationality);
  w.end_object();
  if (!location.empty()) {
    w.begin_object().key("type").string("location").key("id").string(location).end_object();
  }
  w.end_array();
  w.end_object();
  return json;
}

std::string signal(std::string_view signal_id, std::string_view source, std::string_view indicator,
                   const Who& who, const std::string& at) {
  std::string json;
  JsonWriter w(json);
  w.begin_object();
  w.key("schema").string("mozaiek.signal/v1");
  w.key("signal_id").string(signal_id);
  w.key("source").string(source);
  w.key("observed_at").string(at);
  w.key("reported_at").string(at);
  w.key("indicator").string(indicator);
  w.key("consent").boolean(true);
  w.key("subjects").begin_array();
  w.begin_object();
  w.key("type").string("person");
  w.key("id").string(who.id);
  w.key("id_scheme").string("v-number");
  w.end_object();
  w.end_array();
  w.end_object();
  return json;
}

class OversightTrackerTest : public ::testing::Test {
 protected:
  OversightTrackerTest() : settings_(test::shipped_settings()) {
    settings_.operators.oversight.melding_deadline = days(30);
    settings_.operators.oversight.allowed_lateness = days(0);
  }
  Settings settings_;
};

constexpr const char* kLatency = "mozaiek_feedback_latency_seconds";

TEST_F(OversightTrackerTest, FeedbackLatencyMatchesMeldingenInAnyOrderWithExactCountsAndSums) {
  Stages s(settings_.operators);
  // m1 in order: ack after 2 h, feedback after 10 days.
  s.feed(melding("e1", "melding.sent", "m1", "coa", "police", ts("2025-03-01", "08:00:00")));
  s.feed(
      melding("e2", "melding.acknowledged", "m1", "police", "coa", ts("2025-03-01", "10:00:00")));
  s.feed(melding("e3", "melding.feedback", "m1", "police", "coa", ts("2025-03-11", "08:00:00"),
                 "investigation_started"));
  // m2 out of order: feedback first, then the ack, then the sent (3 days ack, 20 days feedback).
  s.feed(melding("e6", "melding.feedback", "m2", "police", "coa", ts("2025-03-22"), "no_grounds"));
  s.feed(melding("e5", "melding.acknowledged", "m2", "police", "coa", ts("2025-03-05")));
  EXPECT_EQ(s.value(kLatency + std::string("_count"), {"from=\"coa\"", "stage=\"ack\""}), 1.0)
      << "m2's latencies wait for its melding.sent";
  s.feed(melding("e4", "melding.sent", "m2", "coa", "police", ts("2025-03-02")));

  const std::vector<std::string> ack{"from=\"coa\"", "to=\"police\"", "stage=\"ack\""};
  const std::vector<std::string> fb{"from=\"coa\"", "to=\"police\"", "stage=\"feedback\""};
  EXPECT_EQ(s.value(kLatency + std::string("_count"), ack), 2.0);
  EXPECT_DOUBLE_EQ(s.value(kLatency + std::string("_sum"), ack), 2 * 3600.0 + 3 * 86400.0);
  EXPECT_EQ(s.value(kLatency + std::string("_count"), fb), 2.0);
  EXPECT_DOUBLE_EQ(s.value(kLatency + std::string("_sum"), fb), 10 * 86400.0 + 20 * 86400.0);
  // Buckets: the 2 h ack is within 6 h, the 3-day one only within 7 days.
  auto bucket = [&](std::vector<std::string> labels, const char* le) {
    labels.push_back(std::string("le=\"") + le + "\"");
    return s.value(kLatency + std::string("_bucket"), labels);
  };
  EXPECT_EQ(bucket(ack, "3600"), 0.0);
  EXPECT_EQ(bucket(ack, "21600"), 1.0);
  EXPECT_EQ(bucket(ack, "172800"), 1.0);
  EXPECT_EQ(bucket(ack, "604800"), 2.0);
  EXPECT_EQ(bucket(fb, "864000"), 0.0);  // 10 d is above 7 d, within 14 d
  EXPECT_EQ(bucket(fb, "1209600"), 1.0);
  EXPECT_EQ(bucket(fb, "2592000"), 2.0);  // 30 d
  EXPECT_EQ(
      s.intake_counters().chain_events[static_cast<std::size_t>(ChainEventType::melding_sent)], 2u);
  EXPECT_EQ(s.intake_counters().total_processed(), 6u);
}

TEST_F(OversightTrackerTest, DuplicateEventIdsCountOnce) {
  Stages s(settings_.operators);
  const std::string sent = melding("e1", "melding.sent", "m1", "coa", "police", ts("2025-03-01"));
  const std::string ack = melding("e2", "melding.acknowledged", "m1", "police", "coa",
                                  ts("2025-03-02"));
  s.feed(sent);
  s.feed(ack);
  s.feed(ack);   // redelivered
  s.feed(sent);  // redelivered
  // A second, later acknowledgement of the same melding with its own id does not count either.
  s.feed(melding("e9", "melding.acknowledged", "m1", "police", "coa", ts("2025-03-09")));
  EXPECT_EQ(s.value(kLatency + std::string("_count"), {"stage=\"ack\""}), 1.0);
  EXPECT_DOUBLE_EQ(s.value(kLatency + std::string("_sum"), {"stage=\"ack\""}), 86400.0);
  EXPECT_EQ(s.entity_counters().duplicates, 2u);
}

TEST_F(OversightTrackerTest, MissingAcknowledgementAndDeadlineRaiseOneSlaBreach) {
  Stages s(settings_.operators);
  // m1: feedback without any ack; m2: acknowledged, never answered; m3: answered after the
  // deadline.
  s.feed(melding("a1", "melding.sent", "m1", "coa", "police", ts("2025-01-01")));
  s.feed(melding("a2", "melding.feedback", "m1", "police", "coa", ts("2025-01-15"), "arrest"));
  s.feed(melding("b1", "melding.sent", "m2", "nidos", "ind", ts("2025-01-01")));
  s.feed(melding("b2", "melding.acknowledged", "m2", "ind", "nidos", ts("2025-01-02")));
  s.feed(melding("c1", "melding.sent", "m3", "nidos", "ind", ts("2025-01-02")));
  s.feed(melding("c2", "melding.feedback", "m3", "ind", "nidos", ts("2025-02-20"), "no_grounds"));
  EXPECT_EQ(s.value(kLatency + std::string("_count"), {"from=\"coa\"", "stage=\"ack\""}), 0.0);
  EXPECT_EQ(s.value(kLatency + std::string("_count"), {"from=\"coa\"", "stage=\"feedback\""}), 1.0);
  // The chain clock (latest `at`, no lateness) is 2025-02-20: both nidos meldingen passed 30 days.
  s.maintain();
  s.maintain();  // idempotent
  const auto breaches = s.alerts_of(kSlaBreachRule);
  ASSERT_EQ(breaches.size(), 2u);
  EXPECT_EQ(breaches[0]->subject_kind, "melding");
  EXPECT_EQ(breaches[0]->subject_key, "m2");
  EXPECT_EQ(breaches[1]->subject_key, "m3");
  EXPECT_EQ(breaches[0]->events.at(0).event_id, "b1");
  EXPECT_EQ(breaches[0]->sources, (std::vector<std::string>{"ind", "nidos"}));
  EXPECT_EQ(s.value("mozaiek_meldingen_unanswered_total", {"from=\"nidos\"", "to=\"ind\""}), 2.0);
  EXPECT_EQ(s.value("mozaiek_meldingen_unanswered_total", {"from=\"coa\""}), 0.0);
  // Open meldingen at the watermark: only m2 (49 days old).
  EXPECT_EQ(s.value("mozaiek_meldingen_open", {"from=\"nidos\"", "age=\"30_90d\""}), 1.0);
  EXPECT_EQ(s.value("mozaiek_meldingen_open"), 1.0);
  // The same input gives the same alert ids.
  Stages again(settings_.operators);
  again.feed(melding("b1", "melding.sent", "m2", "nidos", "ind", ts("2025-01-01")));
  again.feed(melding("c2", "melding.feedback", "m3", "ind", "nidos", ts("2025-02-20"), "x"));
  again.maintain();
  ASSERT_EQ(again.alerts_of(kSlaBreachRule).size(), 1u);
  EXPECT_EQ(again.alerts_of(kSlaBreachRule)[0]->alert_id, breaches[0]->alert_id);
}

TEST_F(OversightTrackerTest, DeparturesCountByLocationAgeAndRegionWithDaysSinceArrival) {
  Stages s(settings_.operators);
  const Who a{"A100", "minor", "SD"};  // Africa
  const Who b{"B200", "adult", "VN"};  // Asia
  const Who c{"C300", "minor", "ER"};  // no arrival on record
  s.feed(person_event("p1", "person.arrived", a, ts("2025-02-01"), "coa", "coa-budel"));
  s.feed(person_event("p2", "person.arrived", b, ts("2025-02-01"), "coa", "coa-gilze"));
  s.feed(person_event("p3", "person.departed_unknown", a, ts("2025-02-11"), "coa", "coa-budel"));
  s.feed(person_event("p4", "person.departed_unknown", b, ts("2025-03-03"), "coa",
                      "somewhere-unconfigured"));
  s.feed(person_event("p5", "person.departed_unknown", c, ts("2025-03-04"), "nidos", "coa-budel"));
  s.feed(person_event("p5", "person.departed_unknown", c, ts("2025-03-04"), "nidos", "coa-budel"));
  EXPECT_EQ(s.value("mozaiek_mob_departures_total",
                    {"location=\"coa-budel\"", "age_group=\"minor\"", "region=\"africa\""}),
            2.0);
  EXPECT_EQ(s.value("mozaiek_mob_departures_total",
                    {"location=\"other\"", "age_group=\"adult\"", "region=\"asia\""}),
            1.0);
  EXPECT_EQ(s.value("mozaiek_mob_departures_total"), 3.0);
  EXPECT_EQ(s.value("mozaiek_mob_days_since_arrival_count", {"age_group=\"minor\""}), 1.0);
  EXPECT_DOUBLE_EQ(s.value("mozaiek_mob_days_since_arrival_sum", {"age_group=\"minor\""}), 10.0);
  EXPECT_DOUBLE_EQ(s.value("mozaiek_mob_days_since_arrival_sum", {"age_group=\"adult\""}), 30.0);
  EXPECT_EQ(s.value("mozaiek_mob_days_since_arrival_bucket", {"age_group=\"adult\"", "le=\"14\""}),
            0.0);
  EXPECT_EQ(s.value("mozaiek_mob_days_since_arrival_bucket", {"age_group=\"adult\"", "le=\"30\""}),
            1.0);
  EXPECT_EQ(s.value("mozaiek_mob_departures_without_arrival_total", {"age_group=\"minor\""}), 1.0);
  EXPECT_EQ(s.value("mozaiek_mob_departures_without_arrival_total"), 1.0);

  s.maintain();
  EXPECT_EQ(s.value("mozaiek_missing_open", {"age_group=\"minor\""}), 2.0);
  EXPECT_EQ(s.value("mozaiek_missing_open", {"age_group=\"adult\""}), 1.0);
  s.feed(person_event("p6", "person.reappeared", a, ts("2025-03-10"), "police", "", "where",
                      "eurodac"));
  s.feed(person_event("p7", "person.reappeared", c, ts("2025-03-11"), "police", "", "where",
                      "a-beach"));
  s.maintain();
  EXPECT_EQ(s.value("mozaiek_missing_open", {"age_group=\"minor\""}), 0.0);
  EXPECT_EQ(s.value("mozaiek_missing_open", {"age_group=\"adult\""}), 1.0);
  EXPECT_EQ(s.value("mozaiek_reappearances_total", {"where=\"eurodac\""}), 1.0);
  EXPECT_EQ(s.value("mozaiek_reappearances_total", {"where=\"other\""}), 1.0);
}

// Partners report late: COA's arrival record can be processed after the
// departure it precedes. The departure is first counted without an arrival;
// the arrival, when it comes, is matched to it once.
// Disclosure control end to end, from chain events: one minor leaving
// coa-budel after an arrival shows in no labelled cell of any person series;
// five do, in their own cell.
TEST_F(OversightTrackerTest, ASingleDepartureIsInNoCellAndFiveAre) {
  Stages s(settings_.operators, 5);
  auto person_total = [&] {
    double n = 0;
    for (const char* m : {"mozaiek_mob_departures_total", "mozaiek_mob_days_since_arrival_count",
                          "mozaiek_mob_departures_without_arrival_total", "mozaiek_missing_open"}) {
      n += s.value(m);
    }
    return n;
  };
  const std::string cell_labels[] = {"location=\"coa-budel\"", "age_group=\"minor\"",
                                     "region=\"africa\""};
  const std::vector<std::string> cell(std::begin(cell_labels), std::end(cell_labels));
  for (int i = 0; i < 5; ++i) {
    const Who w{"B10" + std::to_string(i), "minor", "ER"};
    const std::string n = std::to_string(i);
    s.feed(person_event("a" + n, "person.arrived", w, ts("2025-02-01"), "coa", "coa-budel"));
    s.feed(
        person_event("d" + n, "person.departed_unknown", w, ts("2025-02-11"), "coa", "coa-budel"));
    s.maintain();
    if (i == 0) {
      EXPECT_EQ(person_total(), 0.0) << s.scrape();
      EXPECT_EQ(s.persons(), 1u) << "the departure was applied";
    }
    if (i < 4) {
      EXPECT_EQ(s.value("mozaiek_mob_departures_total", cell), 0.0) << i;
    }
  }
  EXPECT_EQ(s.value("mozaiek_mob_departures_total", cell), 5.0);
  EXPECT_EQ(s.value("mozaiek_mob_departures_total"), 5.0);
  EXPECT_EQ(s.value("mozaiek_mob_days_since_arrival_count", {"age_group=\"minor\""}), 5.0);
  EXPECT_DOUBLE_EQ(s.value("mozaiek_mob_days_since_arrival_sum", {"age_group=\"minor\""}), 50.0);
  EXPECT_EQ(s.value("mozaiek_missing_open", {"age_group=\"minor\""}), 5.0);
}

TEST_F(OversightTrackerTest, AnArrivalProcessedAfterItsDepartureIsMatchedOnce) {
  Stages s(settings_.operators);
  const Who c{"C300", "minor", "ER"};
  s.feed(person_event("d1", "person.departed_unknown", c, ts("2025-03-04"), "nidos", "coa-budel"));
  EXPECT_EQ(s.value("mozaiek_mob_departures_without_arrival_total", {"age_group=\"minor\""}), 1.0);
  EXPECT_EQ(s.value("mozaiek_mob_days_since_arrival_count"), 0.0);
  // An arrival after the departure is a new stay, not the missing one.
  s.feed(person_event("a0", "person.arrived", c, ts("2025-03-20"), "coa", "coa-gilze"));
  EXPECT_EQ(s.value("mozaiek_mob_arrivals_matched_late_total"), 0.0);
  s.feed(person_event("a1", "person.arrived", c, ts("2025-02-20"), "coa", "coa-budel"));
  EXPECT_EQ(s.value("mozaiek_mob_arrivals_matched_late_total", {"age_group=\"minor\""}), 1.0);
  EXPECT_EQ(s.value("mozaiek_mob_days_since_arrival_count", {"age_group=\"minor\""}), 1.0);
  EXPECT_DOUBLE_EQ(s.value("mozaiek_mob_days_since_arrival_sum", {"age_group=\"minor\""}), 12.0);
  // A second, earlier arrival record does not match the same departure again.
  s.feed(person_event("a2", "person.arrived", c, ts("2025-02-10"), "coa", "coa-budel"));
  EXPECT_EQ(s.value("mozaiek_mob_arrivals_matched_late_total"), 1.0);
  EXPECT_EQ(s.value("mozaiek_mob_days_since_arrival_count"), 1.0);
  EXPECT_EQ(s.value("mozaiek_mob_departures_without_arrival_total"), 1.0);  // a counter: stays
}

TEST(OversightRecordsTest, PersonRoundTripsAndReadsTheVersionBeforeDepartureTracking) {
  oversight::Person p;
  p.status = oversight::PersonStatus::missing;
  p.age_group = "minor";
  p.departure_unmatched = true;
  p.departed_from = {"coa-budel", "coa-gilze"};
  std::string bytes;
  oversight::encode(p, bytes);
  oversight::Person back;
  ASSERT_TRUE(oversight::decode(bytes, back));
  EXPECT_TRUE(back.departure_unmatched);
  EXPECT_EQ(back.departed_from, p.departed_from);
  EXPECT_EQ(back.age_group, "minor");
  EXPECT_FALSE(oversight::decode(bytes.substr(0, bytes.size() - 1), back));  // cut short
  // Version 1: the same without the trailing flag and locations.
  p.departure_unmatched = false;
  p.departed_from.clear();
  oversight::encode(p, bytes);
  std::string v1 = bytes.substr(0, bytes.size() - 2);  // flag 0, count 0
  v1[0] = 1;
  back.departed_from = {"stale"};
  ASSERT_TRUE(oversight::decode(v1, back));
  EXPECT_FALSE(back.departure_unmatched);
  EXPECT_TRUE(back.departed_from.empty());
  EXPECT_EQ(back.status, oversight::PersonStatus::missing);
}

TEST_F(OversightTrackerTest, WorryingDepartureCarriesThePersonsPriorSignals) {
  Stages s(settings_.operators);
  const Who james{"J-0042", "minor", "SD"};
  const Who quiet{"Q-0043", "minor", "SD"};
  s.feed(signal("s1", "coa", "behaviour_change", james, ts("2025-03-01")));
  s.feed(signal("s2", "nidos", "fear_or_distress", james, ts("2025-03-10")));
  s.feed(signal("s3", "coa", "weight_loss_or_neglect", james, ts("2025-03-20")));
  ASSERT_TRUE(s.rejected.empty()) << to_string(s.rejected.front().reason) << " "
                                  << s.rejected.front().detail;
  s.feed(
      person_event("d1", "person.departed_unknown", james, ts("2025-03-25"), "nidos", "coa-grave"));
  s.feed(
      person_event("d2", "person.departed_unknown", quiet, ts("2025-03-25"), "nidos", "coa-grave"));
  const auto worrying = s.alerts_of(kWorryingDepartureRule);
  ASSERT_EQ(worrying.size(), 1u);
  const Alert& a = *worrying[0];
  EXPECT_EQ(a.subject_type, SubjectType::person);
  EXPECT_EQ(a.subject_key, s.pseudonym("v-number", "J-0042"));
  ASSERT_EQ(a.contributions.size(), 3u);
  EXPECT_EQ(a.contributions[0].signal_id, "s1");
  EXPECT_EQ(a.contributions[2].signal_id, "s3");
  EXPECT_EQ(a.sources, (std::vector<std::string>{"coa", "nidos"}));
  ASSERT_EQ(a.events.size(), 1u);
  EXPECT_EQ(a.events[0].event_id, "d1");
  EXPECT_EQ(a.first_seen, *parse_rfc3339(ts("2025-03-01")));
  EXPECT_EQ(s.value("mozaiek_mob_with_prior_signals_total", {"age_group=\"minor\""}), 1.0);
  // The JSON carries the contributions and no raw id.
  std::string json;
  write_alert_json(a, settings_.operators, json);
  EXPECT_THAT(json, ::testing::HasSubstr("\"signal_id\":\"s2\""));
  EXPECT_THAT(json, ::testing::Not(::testing::HasSubstr("J-0042")));
}

TEST_F(OversightTrackerTest, ReportingDelayOfEveryValidSignalPerSourceInOneBatch) {
  Stages s(settings_.operators);
  const Who w{"RD-1"};
  auto reported_later = [&](const std::string& id, const char* source, const char* observed,
                            const char* reported) {
    std::string json = signal(id, source, "fear_or_distress", w, observed);
    const std::string at = std::string(R"("reported_at":")") + observed + "\"";
    json.replace(json.find(at), at.size(), std::string(R"("reported_at":")") + reported + "\"");
    return json;
  };
  s.feed(reported_later("r1", "coa", "2025-03-01T00:00:00Z", "2025-03-15T00:00:00Z"));  // 14 d
  s.feed(reported_later("r2", "coa", "2025-03-01T00:00:00Z", "2025-03-01T00:00:30Z"));  // 30 s
  s.feed(reported_later("r3", "police", "2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z"));
  s.feed(reported_later("r4", "coa", "2025-03-01T00:00:00Z", "not a time"));  // DLQ: not counted
  s.feed(melding("m1", "melding.sent", "x", "coa", "police", ts("2025-03-01")));  // not a signal
  const std::size_t coa = *settings_.operators.find_source("coa");
  const std::size_t police = *settings_.operators.find_source("police");
  HistogramBatch& b = s.reporting_delay();
  EXPECT_DOUBLE_EQ(b.sum(coa), 14 * 86400.0 + 30);
  EXPECT_DOUBLE_EQ(b.sum(police), 86400.0);
  const auto bounds = reporting_delay_buckets_seconds();
  const auto bucket_of = [&](double v) {
    return static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) -
                                    bounds.begin());
  };
  std::vector<double> expected(bounds.size() + 1, 0.0);
  expected[bucket_of(30)] += 1;
  expected[bucket_of(14 * 86400.0)] += 1;
  EXPECT_EQ(b.bucket_increments(coa), expected);
  EXPECT_EQ(s.rejected.size(), 1u);
}

TEST_F(OversightTrackerTest, RetentionDropsSettledMeldingenAndQuietPersonsButKeepsOpenOnes) {
  settings_.operators.retention = days(100);
  Stages s(settings_.operators);
  const Who gone{"GONE-1"}, stayed{"STAY-1"};
  s.feed(melding("a1", "melding.sent", "answered", "coa", "police", ts("2025-01-01")));
  s.feed(melding("a2", "melding.feedback", "answered", "police", "coa", ts("2025-01-10"), "x"));
  s.feed(melding("b1", "melding.sent", "open", "coa", "police", ts("2025-01-01")));
  s.feed(person_event("p1", "person.departed_unknown", gone, ts("2025-01-05"), "coa", "coa-budel"));
  s.feed(person_event("p2", "person.arrived", stayed, ts("2025-01-05"), "coa", "coa-budel"));
  // Later chain events move the watermark past the retention of the early ones.
  s.feed(melding("c1", "melding.sent", "late", "coa", "police", ts("2025-06-01")));
  s.maintain();  // "open" passes its deadline: counted unanswered, then settled
  ASSERT_EQ(s.meldingen(), 3u);
  ASSERT_EQ(s.persons(), 2u);
  EXPECT_EQ(s.expire(), 4u);  // two meldingen, the quiet person, the location
  EXPECT_EQ(s.meldingen(), 1u) << "only the recent melding stays";
  EXPECT_EQ(s.persons(), 1u) << "the missing person stays open";
  s.maintain();
  EXPECT_EQ(s.value("mozaiek_missing_open", {"age_group=\"minor\""}), 1.0);
}

TEST(SpikeRuleTest, PoissonTailIsExactForSmallCounts) {
  EXPECT_DOUBLE_EQ(poisson_upper_tail(0, 2.0), 1.0);
  EXPECT_NEAR(poisson_upper_tail(1, 2.0), 1 - std::exp(-2.0), 1e-12);
  EXPECT_NEAR(poisson_upper_tail(3, 0.5), 1 - std::exp(-0.5) * (1 + 0.5 + 0.125), 1e-12);
  EXPECT_GT(poisson_upper_tail(8, 0.35), 0.0);
  EXPECT_LT(poisson_upper_tail(8, 0.35), 1e-7);
  // Five departures in a week where 3.5 are usual is no spike; eight where 0.35 are usual is.
  EXPECT_FALSE(test_spike({5, 90, 7, 180, 0.05, 0.001, 4}).spike);
  EXPECT_TRUE(test_spike({8, 2, 7, 180, 0.05, 0.001, 4}).spike);
  // The floor: a brand-new location needs four departures in a week, not one.
  EXPECT_FALSE(test_spike({3, 0, 7, 180, 0.05, 0.001, 4}).spike);
  EXPECT_TRUE(test_spike({4, 0, 7, 180, 0.05, 0.001, 4}).spike);
}

TEST_F(OversightTrackerTest, SpikeAtOneLocationAgainstItsOwnBaseline) {
  Stages s(settings_.operators);
  // A busy site: about two departures a week for months is its normal.
  int n = 0;
  for (int day = 0; day < 140; day += 3) {
    const Who w{"BUSY" + std::to_string(n), "adult", "SY"};
    char date[16];
    std::snprintf(date, sizeof date, "2025-%02d-%02d", 1 + day / 28, 1 + day % 28);
    s.feed(person_event("busy" + std::to_string(n++), "person.departed_unknown", w, ts(date), "coa",
                        "coa-ter-apel"));
  }
  EXPECT_TRUE(s.alerts_of(kMobSpikeRule).empty()) << "a steady rate is no spike";
  // The quiet shelter: one departure in February, then six minors in two days.
  s.feed(person_event("q0", "person.departed_unknown", Who{"Q0"}, ts("2025-02-03"), "nidos",
                      "coa-beschermde-opvang"));
  for (int i = 1; i <= 6; ++i) {
    s.feed(person_event("q" + std::to_string(i), "person.departed_unknown",
                        Who{"Q" + std::to_string(i), "minor", "VN"},
                        ts(i <= 3 ? "2025-05-10" : "2025-05-11", i % 2 ? "08:00:00" : "20:00:00"),
                        "nidos", "coa-beschermde-opvang"));
  }
  const auto spikes = s.alerts_of(kMobSpikeRule);
  ASSERT_EQ(spikes.size(), 1u) << "one alert per window, not one per departure";
  EXPECT_EQ(spikes[0]->subject_key, "coa-beschermde-opvang");
  EXPECT_EQ(spikes[0]->events.size(), 4u) << "raised at the fourth departure in the window";
  EXPECT_EQ(spikes[0]->events[0].event_id, "q1");
  EXPECT_EQ(s.value("mozaiek_mob_spikes_total", {"location=\"coa-beschermde-opvang\""}), 1.0);
  EXPECT_EQ(s.value("mozaiek_mob_spikes_total"), 1.0);
}

TEST_F(OversightTrackerTest, RegistryLog2018Yields742And668) {
  Stages s(settings_.operators);
  const auto log = registration_log_2018(7, *parse_rfc3339("2025-01-06T00:00:00Z"));
  // The log itself follows the brief's 2018 reports per reporting organisation.
  std::map<std::string, int> per_reporter;
  for (const auto& json : log) {
    for (const char* r : {"police", "kmar", "nla", "care_coordinator", "other"}) {
      if (json.find(std::string(R"("reporter":")") + r + "\"") != std::string::npos) {
        ++per_reporter[r];
      }
    }
    s.feed(json);
  }
  EXPECT_EQ(
      per_reporter,
      (std::map<std::string, int>{
          {"police", 530}, {"kmar", 86}, {"nla", 75}, {"care_coordinator", 91}, {"other", 56}}));
  EXPECT_TRUE(s.rejected.empty());
  s.feed(log[5]);  // a redelivery changes nothing
  s.maintain();
  const std::vector<std::string> total{"year=\"2018\"", "form=\"all\"", "region=\"all\"",
                                       "reporter=\"all\""};
  auto with = [&](const char* rule) {
    auto l = total;
    l.push_back(std::string("count=\"") + rule + "\"");
    return l;
  };
  EXPECT_EQ(s.value("mozaiek_registrations_unique", with("registry")), 742.0);
  EXPECT_EQ(s.value("mozaiek_registrations_unique", with("nrm")), 668.0);
  EXPECT_EQ(s.value("mozaiek_registrations_unique",
                    {"count=\"registry\"", "reporter=\"kmar\"", "year=\"2018\""}),
            86.0);  // every KMar report is of a different person
  EXPECT_EQ(s.value("mozaiek_registrations_unique",
                    {"count=\"nrm\"", "reporter=\"kmar\"", "year=\"2018\""}),
            12.0);
  EXPECT_EQ(s.value("mozaiek_registrations_unique",
                    {"count=\"registry\"", "reporter=\"other\"", "year=\"2018\""}),
            56.0);
}

TEST_F(OversightTrackerTest, ShareOfConvergingPersonsNeverRegistered) {
  Stages s(settings_.operators);
  const Who a{"CONV-1"}, b{"CONV-2"};
  for (const Who* w : {&a, &b}) {
    int i = 0;
    for (const char* src : {"coa", "nidos", "avim"}) {
      ++i;
      s.feed(signal(w->id + "-" + std::to_string(i), src, "documents_held_by_other", *w,
                    ts("2025-03-0" + std::to_string(i))));
    }
  }
  ASSERT_GE(s.alerts_of("person_convergence").size(), 2u);
  s.maintain();
  EXPECT_EQ(s.value("mozaiek_converging_persons"), 2.0);
  EXPECT_EQ(s.value("mozaiek_converging_persons_unregistered"), 2.0);
  // Without a reporter a registration is rejected and changes nothing.
  s.feed(person_event("r0", "victim.registered", a, ts("2025-04-01"), "comensha", "", "registry",
                      "comensha"));
  ASSERT_EQ(s.rejected.size(), 1u);
  EXPECT_EQ(to_string(s.rejected[0].reason), "missing_field");
  EXPECT_EQ(s.rejected[0].detail, "reporter");
  std::string reg = person_event("r1", "victim.registered", a, ts("2025-04-01"), "comensha", "",
                                 "registry", "comensha");
  reg.insert(reg.find("\"subjects\""), R"("reporter":"police",)");
  s.feed(reg);
  s.maintain();
  EXPECT_EQ(s.rejected.size(), 1u);
  EXPECT_EQ(s.value("mozaiek_converging_persons"), 2.0);
  EXPECT_EQ(s.value("mozaiek_converging_persons_unregistered"), 1.0);
}

}  // namespace
}  // namespace mozaiek
