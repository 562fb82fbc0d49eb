// Replay: the operators over NDJSON files, in file order, no broker. Checks
// the brief's planted cases, determinism of alert ids and the record
// accounting, in process and through the `mozaiek replay` command.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "connectors/app/local_pipeline.h"
#include "operators/records/alert_json.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

struct ReplayResult {
  std::vector<Alert> alerts;
  std::vector<std::string> dlq;
  StageCounters counters{0};
};

ReplayResult replay(const Settings& settings, const Traffic& traffic, const std::string& key) {
  Pseudonymiser pseudonymiser(key);
  ManualClock clock(SystemClock().now());
  auto stores = make_memory_store_factory();
  CollectingSink alerts, dlq;
  LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *stores, &alerts, &dlq);
  RecordView view;
  for (const auto& r : traffic.records) {
    view.value = r.value;  // files carry no topic: the signal names its source
    pipeline.process(view);
  }
  EXPECT_TRUE(pipeline.finish().is_ok());
  ReplayResult out;
  out.counters = pipeline.intake().counters();
  for (const auto& json : alerts.values) {
    Alert a;
    EXPECT_TRUE(read_alert_json(json, a)) << json;
    out.alerts.push_back(std::move(a));
  }
  out.dlq = dlq.values;
  return out;
}

// Signals from four organisations about one place: an ordinary address
// converges; a reception site (linking.reception_locations) does not when
// the location rule skips reception sites, as the shipped config does.
TEST(ReplayTest, ReceptionSitesAreNotScoredWhenTheLocationRuleSkipsThem) {
  Settings settings = shipped_settings();
  ASSERT_TRUE(settings.operators.rule_for(SubjectType::location).skip_reception);
  Traffic traffic;
  const char* sources[] = {"coa", "police", "municipality", "nla"};
  int n = 0;
  for (const char* place : {"coa-budel", "addr-tilburg-17"}) {
    for (const char* source : sources) {
      traffic.records.push_back(OutRecord{
          "signals." + std::string(source), "",
          std::string(R"({"schema":"mozaiek.signal/v1","signal_id":"rs-)") + std::to_string(++n) +
              R"(","source":")" + source +
              R"(","observed_at":"2026-10-01T10:00:00Z","reported_at":"2026-10-02T10:00:00Z",)" +
              R"("indicator":"overcrowded_address","subjects":[{"type":"location","id":")" + place +
              R"("}]})"});
    }
  }
  auto locations_alerted = [&](const Settings& s) {
    std::set<std::string> out;
    for (const auto& a : replay(s, traffic, kDemoPseudonymKey).alerts) {
      if (a.rule == "location_convergence") out.insert(a.subject_key);
    }
    return out;
  };
  EXPECT_EQ(locations_alerted(settings), (std::set<std::string>{"addr-tilburg-17"}));
  settings.operators.rules[static_cast<std::size_t>(SubjectType::location)].skip_reception = false;
  EXPECT_EQ(locations_alerted(settings), (std::set<std::string>{"addr-tilburg-17", "coa-budel"}));
}

TEST(ReplayTest, PlantedCasesAlertAndJamesConvergesWellBeforeHeLeaves) {
  const Settings settings = shipped_settings();
  const Traffic traffic = make_traffic(settings, 5000, 3);
  const ReplayResult r = replay(settings, traffic, kDemoPseudonymKey);

  for (const auto& c : traffic.planted) {
    const std::string subject = planted_subject(c, kDemoPseudonymKey);
    // The first convergence alert (network alerts are checked in
    // linking_replay_test.cc).
    const Alert* first = nullptr;
    for (const auto& a : r.alerts) {
      if (subject_of(a) == subject &&
          a.rule == settings.operators.rules[static_cast<std::size_t>(a.subject_type)].name) {
        first = &a;
        break;
      }
    }
    ASSERT_NE(first, nullptr) << "no alert for " << c.name;
    EXPECT_GE(first->sources.size(), 2u) << c.name;
    EXPECT_GE(first->score,
              settings.operators.rules[static_cast<std::size_t>(first->subject_type)].threshold);
    // Explains itself: every contribution is one of the case's signals or
    // another signal on the same subject, with its weights.
    for (const auto& contribution : first->contributions) {
      EXPECT_GT(contribution.weight, 0);
      EXPECT_LE(contribution.decayed_weight, contribution.weight + 1e-9);
    }
    if (c.name == "james") {
      // Alerted before step 6, the departure: the last signal of the case.
      for (const auto& contribution : first->contributions) {
        EXPECT_NE(contribution.signal_id, c.signal_ids.back());
      }
    }
  }
}

TEST(ReplayTest, EveryRecordIsProcessedOrDeadLetteredWithAReason) {
  const Settings settings = shipped_settings();
  const Traffic traffic = make_traffic(settings, 5000, 4);
  const ReplayResult r = replay(settings, traffic, kDemoPseudonymKey);
  EXPECT_EQ(r.counters.total_in(), traffic.records.size());
  EXPECT_EQ(r.counters.total_in(), r.counters.total_processed() + r.counters.total_dlq());
  EXPECT_EQ(r.dlq.size(), r.counters.total_dlq());
  EXPECT_GE(r.dlq.size(), traffic.malformed);
  EXPECT_LT(r.dlq.size(), traffic.malformed + traffic.records.size() / 50);
  for (const auto& d : r.dlq) EXPECT_NE(d.find("\"reason\":\""), std::string::npos) << d;
}

TEST(ReplayTest, SameInputSameAlertIdsAndKeyDependentPseudonyms) {
  const Settings settings = shipped_settings();
  const Traffic traffic = make_traffic(settings, 3000, 8);
  const ReplayResult a = replay(settings, traffic, kDemoPseudonymKey);
  const ReplayResult b = replay(settings, traffic, kDemoPseudonymKey);
  ASSERT_EQ(a.alerts.size(), b.alerts.size());
  ASSERT_FALSE(a.alerts.empty());
  for (std::size_t i = 0; i < a.alerts.size(); ++i) {
    EXPECT_EQ(a.alerts[i].alert_id, b.alerts[i].alert_id);
  }
  const ReplayResult other_key = replay(settings, traffic, "another-pseudonym-key-0123456789");
  std::set<std::string> persons_a, persons_b;
  for (const auto& x : a.alerts)
    if (x.subject_type == SubjectType::person) persons_a.insert(x.subject_key);
  for (const auto& x : other_key.alerts)
    if (x.subject_type == SubjectType::person) persons_b.insert(x.subject_key);
  ASSERT_FALSE(persons_a.empty());
  for (const auto& p : persons_a) EXPECT_EQ(persons_b.count(p), 0u);
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ReplayCommandTest, WritesAlertsDlqMetricsAndASummaryAndIsDeterministic) {
  const auto dir = std::filesystem::temp_directory_path() / "mozaiek-replay-cmd-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string bin = MOZAIEK_BINARY;
  const std::string in = (dir / "signals.ndjson").string();
  const std::string gen = run(bin + " generate -n 3000 --seed 12 -o " + in + " 2>&1");
  ASSERT_NE(gen.find("records written"), std::string::npos) << gen;
  const std::string common = " --demo-key -i " + in + " --dlq " + (dir / "dlq.ndjson").string() +
                             " --metrics-out " + (dir / "metrics.txt").string();
  const std::string first = run(bin + " replay" + common + " -o " + (dir / "a1.ndjson").string() +
                                " 2>/dev/null");
  const std::string second = run(bin + " replay" + common + " -o " + (dir / "a2.ndjson").string() +
                                 " 2>/dev/null");
  EXPECT_NE(first.find("replay: 3"), std::string::npos) << first;
  EXPECT_NE(first.find(" alerts in "), std::string::npos) << first;

  std::vector<std::string> ids1, ids2;
  for (auto* ids : {&ids1, &ids2}) {
    std::ifstream f(dir / (ids == &ids1 ? "a1.ndjson" : "a2.ndjson"));
    std::string line;
    while (std::getline(f, line)) {
      Alert a;
      ASSERT_TRUE(read_alert_json(line, a)) << line;
      ids->push_back(a.alert_id);
    }
  }
  EXPECT_FALSE(ids1.empty());
  EXPECT_EQ(ids1, ids2);
  const std::string metrics = slurp(dir / "metrics.txt");
  EXPECT_NE(metrics.find("mozaiek_records_in_total{source=\"coa\"}"), std::string::npos);
  EXPECT_NE(metrics.find("mozaiek_records_dlq_total"), std::string::npos);
  // No pseudonym in any metric.
  for (const auto& line : {slurp(dir / "a1.ndjson")}) {
    const auto pos = line.find(R"("type":"person","key":")");
    if (pos != std::string::npos) {
      const std::string key = line.substr(pos + 24, 64);
      EXPECT_EQ(metrics.find(key), std::string::npos);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(ReplayCommandTest, RefusesToRunWithoutAPseudonymKey) {
  const std::string out = run("env -u MOZAIEK_PSEUDONYM_KEY " + std::string(MOZAIEK_BINARY) +
                              " replay -i /dev/null -o /dev/null 2>&1; echo rc=$?");
  EXPECT_NE(out.find("rc=2"), std::string::npos) << out;
  EXPECT_NE(out.find("MOZAIEK_PSEUDONYM_KEY"), std::string::npos) << out;
}

}  // namespace
}  // namespace mozaiek::test

namespace mozaiek::test {
namespace {

double metric(const std::string& text, const std::string& name,
              const std::vector<std::string>& labels) {
  return metric_sum(text, name, labels).value_or(-1);
}

TEST(ReplayCommandTest, MixedSignalsAndChainEventsShowTheOversightMetricsAndAlerts) {
  const auto dir = std::filesystem::temp_directory_path() / "mozaiek-replay-chain-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string bin = MOZAIEK_BINARY;
  const std::string in = (dir / "mixed.ndjson").string();
  const std::string gen = run(bin + " generate --chain-events -n 3000 --seed 5 -o " + in + " 2>&1");
  ASSERT_NE(gen.find("chain events"), std::string::npos) << gen;
  const std::string out = run(bin + " replay --demo-key -i " + in + " -o " +
                              (dir / "alerts.ndjson").string() + " --metrics-out " +
                              (dir / "metrics.txt").string() + " 2>&1");
  ASSERT_NE(out.find("replay: "), std::string::npos) << out;
  for (const char* reason : {"unknown_event_type", "missing_melding_id", "missing_person",
                             "missing_location", "wrong_schema"}) {
    EXPECT_EQ(out.find(reason), std::string::npos) << "valid chain events dead-lettered: " << out;
  }
  const std::string m = slurp(dir / "metrics.txt");

  // Registrations: the 2018 log counted both ways.
  const std::vector<std::string> all{"year=\"2018\"", "form=\"all\"", "region=\"all\"",
                                     "reporter=\"all\""};
  auto rule = [&](const char* r) {
    auto l = all;
    l.push_back(std::string("count=\"") + r + "\"");
    return l;
  };
  // 742 and 668 persons, shown in steps of privacy.min_cell_size (5).
  EXPECT_EQ(metric(m, "mozaiek_registrations_unique", rule("registry")), 740);
  EXPECT_EQ(metric(m, "mozaiek_registrations_unique", rule("nrm")), 665);
  // Every family has data.
  EXPECT_GT(metric(m, "mozaiek_reporting_delay_seconds_count", {"source=\"coa\""}), 0);
  EXPECT_GT(metric(m, "mozaiek_feedback_latency_seconds_count",
                   {"stage=\"ack\"", "from=\"coa\"", "to=\"police\""}),
            0);
  for (const char* name :
       {"mozaiek_mob_departures_total", "mozaiek_meldingen_unanswered_total",
        "mozaiek_mob_days_since_arrival_count", "mozaiek_mob_departures_without_arrival_total",
        "mozaiek_reappearances_total", "mozaiek_mob_spikes_total", "mozaiek_meldingen_open",
        "mozaiek_missing_open", "mozaiek_converging_persons"}) {
    EXPECT_GT(metric(m, name, {}), 0) << name;
  }
  EXPECT_EQ(metric(m, "mozaiek_mob_spikes_total", {"location=\"coa-beschermde-opvang\""}), 1);
  // James converged and was registered later: at most as many never registered,
  // both in steps of five.
  const double converging = metric(m, "mozaiek_converging_persons", {});
  const double unregistered = metric(m, "mozaiek_converging_persons_unregistered", {});
  EXPECT_LE(unregistered, converging);
  EXPECT_EQ(std::fmod(converging, 5.0), 0.0) << converging;
  EXPECT_EQ(std::fmod(unregistered, 5.0), 0.0) << unregistered;
  // Disclosure control in --metrics-out: no series about persons shows 1 to 4.
  std::istringstream lines(m);
  std::string series;
  int person_lines = 0;
  while (std::getline(lines, series)) {
    if (series.empty() || series[0] == '#') continue;
    const std::string name = series.substr(0, series.find_first_of("{ "));
    if (name.rfind("mozaiek_mob_", 0) != 0 && name.rfind("mozaiek_missing", 0) != 0 &&
        name.rfind("mozaiek_reappear", 0) != 0 && name.rfind("mozaiek_registrations", 0) != 0 &&
        name.rfind("mozaiek_converging", 0) != 0) {
      continue;
    }
    if (name.find("_bucket") != std::string::npos || name.find("_sum") != std::string::npos ||
        name == "mozaiek_mob_spikes_total") {
      continue;
    }
    ++person_lines;
    const double v = std::stod(series.substr(series.rfind(' ') + 1));
    EXPECT_TRUE(v == 0 || v >= 5) << series;
  }
  EXPECT_GT(person_lines, 50);
  EXPECT_GE(metric(m, "mozaiek_disclosure_folded", {"metric=\"mozaiek_mob_departures_total\""}), 5);

  // The three oversight alerts, and James's departure carries his signals.
  std::map<std::string, int> rules;
  std::set<std::string> person_keys;
  std::ifstream f(dir / "alerts.ndjson");
  std::string line;
  while (std::getline(f, line)) {
    Alert a;
    ASSERT_TRUE(read_alert_json(line, a)) << line;
    ++rules[a.rule];
    if (a.subject_type == SubjectType::person && a.subject_kind.empty()) {
      person_keys.insert(a.subject_key);
    }
    if (a.rule == "worrying_departure") {
      EXPECT_FALSE(a.contributions.empty());
    }
    if (a.rule == "mob_spike") {
      EXPECT_GE(a.events.size(), 4u);
    }
  }
  EXPECT_GE(rules["sla_breach"], 1);
  EXPECT_GE(rules["worrying_departure"], 1);
  // One worrying_departure per departure with prior signals; the metric
  // shows them in steps of five, holding back fewer than five.
  const double prior = metric(m, "mozaiek_mob_with_prior_signals_total", {});
  EXPECT_LE(prior, rules["worrying_departure"]);
  EXPECT_GT(prior + 5, rules["worrying_departure"]);
  EXPECT_GE(rules["mob_spike"], 1);
  // No person id or pseudonym in the metrics.
  ASSERT_FALSE(person_keys.empty());
  for (const auto& k : person_keys) EXPECT_EQ(m.find(k), std::string::npos) << k;
  EXPECT_EQ(m.find("CM2018-"), std::string::npos);
  EXPECT_EQ(m.find("V5700"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mozaiek::test
