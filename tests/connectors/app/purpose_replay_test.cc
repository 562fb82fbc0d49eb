// Purpose binding through the same operators as the service: a signal is
// used only within its source's purposes, for every subject it names. A
// consent-less signal's vehicle and location neither score nor link; an
// aggregate_only source counts in the metrics and in no alert; care-purpose
// convergence is scored apart and reaches the care alerts only.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/app/local_pipeline.h"
#include "operators/intake/subject_normaliser.h"
#include "operators/records/alert_json.h"
#include "operators/records/alert_withdrawal.h"
#include "tests/support/command.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/temp_dir.h"

namespace mozaiek::test {
namespace {

constexpr const char* kCar = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
constexpr const char* kCarKey = "FR-AB123CD";
constexpr const char* kAddress = R"({"type":"location","id":"addr-purpose-1"})";
constexpr const char* kBoy = R"({"type":"person","id":"2213456789","id_scheme":"v-number"})";

struct Outcome {
  std::vector<Alert> alerts;       // the investigation sink (mozaiek.alerts)
  std::vector<Alert> care_alerts;  // the care sink (mozaiek.alerts.care)
  std::string car_view;            // entity view JSON; empty when none
  std::string address_view;
  StageCounters intake{0};
  std::uint64_t signals_of(const Settings& s, const std::string& source,
                           const std::string& indicator) const {
    const std::size_t src = *s.operators.find_source(source);
    const std::size_t ind = *s.operators.catalogue.find(indicator);
    return intake.signals[src * (s.operators.catalogue.size() + 1) + ind];
  }
};

std::vector<Alert> read_all(const std::vector<std::string>& values) {
  std::vector<Alert> out;
  for (const auto& json : values) {
    Alert a;
    EXPECT_TRUE(read_alert_json(json, a)) << json;
    out.push_back(std::move(a));
  }
  return out;
}

Outcome replay(const Settings& settings, const std::vector<std::string>& signals) {
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  ManualClock clock(SystemClock().now());
  auto stores = make_memory_store_factory();
  CollectingSink alerts, care;
  LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *stores, &alerts, nullptr);
  pipeline.set_care_alerts(&care);
  RecordView view;
  for (const auto& json : signals) {
    view.value = json;
    pipeline.process(view);
  }
  EXPECT_TRUE(pipeline.finish().is_ok());
  Outcome out;
  out.intake = pipeline.intake().counters();
  out.alerts = read_all(alerts.values);
  out.care_alerts = read_all(care.values);
  if (!pipeline.convergence().entity_view(SubjectType::vehicle, kCarKey, out.car_view)) {
    out.car_view.clear();
  }
  if (!pipeline.convergence().entity_view(SubjectType::location, "addr-purpose-1",
                                          out.address_view)) {
    out.address_view.clear();
  }
  EXPECT_EQ(pipeline.care_alerts_raised(), out.care_alerts.size());
  return out;
}

bool names_signal(const Alert& a, const std::string& signal_id) {
  for (const auto& c : a.contributions) {
    if (c.signal_id == signal_id) return true;
  }
  for (const auto& l : a.linked) {
    if (std::find(l.via.begin(), l.via.end(), signal_id) != l.via.end()) return true;
  }
  return false;
}

bool any_names(const std::vector<Alert>& alerts, const std::string& signal_id) {
  return std::any_of(alerts.begin(), alerts.end(),
                     [&](const Alert& a) { return names_signal(a, signal_id); });
}

std::size_t count_rule(const std::vector<Alert>& alerts, const std::string& rule) {
  return static_cast<std::size_t>(
      std::count_if(alerts.begin(), alerts.end(), [&](const Alert& a) { return a.rule == rule; }));
}

// Police and the border police see the French car: 2 + 2 < the vehicle
// threshold of 5. A fairwork signal naming the car, an address and a boy
// would lift it to 6, but only with consent (fairwork's default is none).
std::vector<std::string> car_case(const std::string& fairwork_consent) {
  std::string fairwork = signal_json("fairwork", "fw-1", "visitor_vehicle", "2026-10-01",
                                     std::string(kCar) + "," + kAddress + "," + kBoy);
  if (!fairwork_consent.empty()) {
    fairwork.insert(fairwork.size() - 1, R"(,"consent":)" + fairwork_consent);
  }
  return {signal_json("police", "pol-1", "visitor_vehicle", "2026-10-01", kCar),
          signal_json("kmar", "kmar-1", "visitor_vehicle", "2026-10-01", kCar), fairwork};
}

TEST(PurposeReplayTest, ConsentlessSignalNeitherScoresNorLinksItsVehicleOrLocation) {
  const Settings settings = shipped_settings();
  ASSERT_FALSE(
      settings.operators.sources[*settings.operators.find_source("fairwork")].consent_default);

  // With consent the fairwork signal completes the car's convergence.
  const Outcome consented = replay(settings, car_case("true"));
  ASSERT_EQ(count_rule(consented.alerts, "vehicle_convergence"), 1u);
  EXPECT_TRUE(any_names(consented.alerts, "fw-1"));
  EXPECT_NE(consented.car_view.find("fw-1"), std::string::npos);
  EXPECT_NE(consented.address_view.find("fw-1"), std::string::npos);

  for (const std::string consent : {"", "false"}) {  // the default, and said explicitly
    const Outcome run = replay(settings, car_case(consent));
    EXPECT_EQ(count_rule(run.alerts, "vehicle_convergence"), 0u) << consent;
    EXPECT_FALSE(any_names(run.alerts, "fw-1")) << consent;
    EXPECT_TRUE(run.care_alerts.empty());
    // The car holds only the two consented signals and no link to the
    // address or the boy; the address holds nothing at all.
    ASSERT_FALSE(run.car_view.empty());
    EXPECT_EQ(run.car_view.find("fw-1"), std::string::npos) << run.car_view;
    EXPECT_EQ(run.car_view.find("addr-purpose-1"), std::string::npos) << run.car_view;
    EXPECT_EQ(run.car_view.find("\"person\""), std::string::npos) << run.car_view;
    EXPECT_TRUE(run.address_view.empty()) << run.address_view;
    // Still counted in the aggregate metrics.
    EXPECT_EQ(run.signals_of(settings, "fairwork", "visitor_vehicle"), 1u);
  }
}

TEST(PurposeReplayTest, IndicatorOutsidePersonLevelListLeavesEverySubjectAlone) {
  Settings settings = shipped_settings();
  // nla may correlate pickup_van at person level but not visitor_vehicle.
  auto signals = car_case("true");
  signals[2] = signal_json("nla", "nla-1", "visitor_vehicle", "2026-10-01",
                           std::string(kCar) + "," + kAddress);
  const Outcome run = replay(settings, signals);
  EXPECT_EQ(count_rule(run.alerts, "vehicle_convergence"), 0u);
  EXPECT_EQ(run.car_view.find("nla-1"), std::string::npos);
  EXPECT_TRUE(run.address_view.empty());
  EXPECT_EQ(run.signals_of(settings, "nla", "visitor_vehicle"), 1u);
}

TEST(PurposeReplayTest, AggregateOnlySourceCountsInMetricsAndInNoAlert) {
  Settings settings = shipped_settings();
  auto& fairwork = settings.operators.sources[*settings.operators.find_source("fairwork")];
  fairwork.purposes = purpose_bit(Purpose::aggregate_only);
  const Outcome run = replay(settings, car_case("true"));  // consent does not change the purpose
  EXPECT_TRUE(run.alerts.empty());
  EXPECT_TRUE(run.care_alerts.empty());
  EXPECT_EQ(run.car_view.find("fw-1"), std::string::npos);
  EXPECT_TRUE(run.address_view.empty());
  EXPECT_EQ(run.signals_of(settings, "fairwork", "visitor_vehicle"), 1u);
  EXPECT_EQ(run.intake.total_processed(), 3u);
}

// Two care parties see the same boy sleeping at his workplace (3 + 3 >= 6):
// a care alert. The police's own signal on him (1.5) stays below the
// threshold: together they would alert, apart they must not.
std::vector<std::string> care_case() {
  return {signal_json("care_coordinator", "cc-1", "sleeps_at_workplace", "2026-10-01", kBoy),
          signal_json("veilig_thuis", "vt-1", "sleeps_at_workplace", "2026-10-01", kBoy),
          signal_json("police", "pol-2", "long_working_hours", "2026-10-03", kBoy)};
}

std::vector<std::string> with_consent(std::vector<std::string> signals) {
  for (auto& s : signals) s.insert(s.size() - 1, R"(,"consent":true)");
  return signals;
}

TEST(PurposeReplayTest, CareConvergenceReachesTheCareAlertsOnlyAndIsScoredApart) {
  const Settings settings = shipped_settings();
  for (const char* care : {"care_coordinator", "veilig_thuis"}) {
    ASSERT_EQ(settings.operators.sources[*settings.operators.find_source(care)].purposes,
              purpose_bit(Purpose::care))
        << care;
  }
  const Outcome run = replay(settings, with_consent(care_case()));
  ASSERT_EQ(run.care_alerts.size(), 1u);
  const Alert& a = run.care_alerts[0];
  EXPECT_EQ(a.purpose, Purpose::care);
  EXPECT_EQ(a.rule, "care_person_convergence");
  EXPECT_EQ(a.subject_type, SubjectType::person);
  EXPECT_EQ(a.sources, (std::vector<std::string>{"care_coordinator", "veilig_thuis"}));
  EXPECT_FALSE(names_signal(a, "pol-2")) << "investigation signals stay out of care";
  // Nothing about the boy on the investigation side: the police signal
  // alone is below the threshold, and the care signals are not there.
  EXPECT_EQ(count_rule(run.alerts, "person_convergence"), 0u);
  EXPECT_FALSE(any_names(run.alerts, "cc-1"));
  EXPECT_FALSE(any_names(run.alerts, "vt-1"));
  for (const auto& alert : run.alerts) EXPECT_EQ(alert.purpose, Purpose::investigation);

  // Without consent the care parties' signals count in aggregates only.
  const Outcome without = replay(settings, care_case());
  EXPECT_TRUE(without.care_alerts.empty());
  EXPECT_EQ(without.signals_of(settings, "care_coordinator", "sleeps_at_workplace"), 1u);
}

TEST(PurposeReplayTest, ReplayGivesTheSameAlertsAndIds) {
  const Settings settings = shipped_settings();
  auto ids = [](const std::vector<Alert>& alerts) {
    std::vector<std::string> out;
    for (const auto& a : alerts) out.push_back(alert_identity(a) + "#" + a.alert_id);
    return out;
  };
  std::vector<std::string> signals = with_consent(care_case());
  const auto car = car_case("");
  signals.insert(signals.end(), car.begin(), car.end());
  const Outcome first = replay(settings, signals);
  const Outcome second = replay(settings, signals);
  ASSERT_EQ(first.care_alerts.size(), 1u);
  EXPECT_EQ(ids(first.care_alerts), ids(second.care_alerts));
  EXPECT_EQ(ids(first.alerts), ids(second.alerts));
  EXPECT_EQ(first.car_view, second.car_view);
  // A care alert's id never equals the investigation alert the same
  // signals would raise under the investigation rule.
  Settings as_investigation = settings;
  for (const char* care : {"care_coordinator", "veilig_thuis"}) {
    as_investigation.operators.sources[*settings.operators.find_source(care)].purposes =
        purpose_bit(Purpose::investigation);
  }
  const Outcome inv = replay(as_investigation, with_consent(care_case()));
  ASSERT_EQ(count_rule(inv.alerts, "person_convergence"), 1u);
  EXPECT_TRUE(inv.care_alerts.empty());
  EXPECT_NE(inv.alerts[0].alert_id, first.care_alerts[0].alert_id);
}

// An erasure reaches the care state too: after it, the boy's next care
// signal starts from zero; without it, it escalates his care alert.
TEST(PurposeReplayTest, ErasureRemovesTheCareStateToo) {
  const Settings settings = shipped_settings();
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  std::string boy;
  pseudonymiser.pseudonymise("v-number", normalise_person_id("2213456789"), boy);
  const auto next = with_consent(
      {signal_json("care_coordinator", "cc-2", "sleeps_at_workplace", "2026-10-01", kBoy)});
  for (const bool erase : {false, true}) {
    ManualClock clock(SystemClock().now());
    auto stores = make_memory_store_factory();
    CollectingSink alerts, care;
    LocalPipeline pipeline(settings.operators, pseudonymiser, clock, *stores, &alerts, nullptr);
    pipeline.set_care_alerts(&care);
    RecordView view;
    for (const auto& json : with_consent(care_case())) {
      view.value = json;
      pipeline.process(view);
    }
    ASSERT_EQ(care.values.size(), 1u);
    if (erase) (void)pipeline.erase(ErasureRecord{SubjectType::person, boy, clock.now()});
    view.value = next[0];
    pipeline.process(view);
    ASSERT_TRUE(pipeline.finish().is_ok());
    // The erasure's withdrawals go to the care topic too: his care alert by
    // id (v2) and the subject-wide record (v1); the rest are alerts.
    std::vector<std::string> alert_values;
    std::size_t withdrawals = 0;
    std::size_t by_id = 0;
    for (const auto& v : care.values) {
      AlertWithdrawal w;
      if (read_withdrawal_json(v, w) && w.per_alert()) {
        EXPECT_EQ(w.rule, "care_person_convergence") << v;
        ++by_id;
      } else if (read_withdrawal_json(v, w)) {
        EXPECT_EQ(w.subject_key, boy);
        ++withdrawals;
      } else {
        alert_values.push_back(v);
      }
    }
    EXPECT_EQ(withdrawals, erase ? 1u : 0u);
    EXPECT_EQ(by_id, erase ? 1u : 0u);
    const auto raised = read_all(alert_values);
    if (erase) {
      EXPECT_EQ(raised.size(), 1u) << "erased: cc-2 alone stays below the threshold";
    } else {
      ASSERT_EQ(raised.size(), 2u);
      EXPECT_EQ(raised[1].status, "escalated");
      EXPECT_EQ(raised[1].subject_key, boy);
    }
  }
}

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(PurposeReplayCommandTest, CareAlertsGoToCareOutputOnly) {
  TempDir dir("mozaiek-purpose-replay");
  ASSERT_FALSE(dir.path().empty());
  const std::filesystem::path root(dir.path());
  const auto input = root / "signals.ndjson";
  {
    std::ofstream f(input);
    for (const auto& s : with_consent(care_case())) f << s << "\n";
    for (const auto& s : car_case("true")) f << s << "\n";
  }
  const std::string base = std::string(MOZAIEK_BINARY) + " replay --demo-key -i " + input.string() +
                           " -o " + (root / "alerts.ndjson").string();
  const auto r = run_command(base + " --care-output " + (root / "care.ndjson").string() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto care = read_all(lines_of(root / "care.ndjson"));
  const auto alerts = read_all(lines_of(root / "alerts.ndjson"));
  ASSERT_EQ(care.size(), 1u);
  EXPECT_EQ(care[0].purpose, Purpose::care);
  ASSERT_EQ(count_rule(alerts, "vehicle_convergence"), 1u);
  for (const auto& a : alerts) EXPECT_EQ(a.purpose, Purpose::investigation);
  // Without --care-output the care alert is written nowhere.
  const auto again = run_command(base + " 2>&1");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read_all(lines_of(root / "alerts.ndjson")).size(), alerts.size());
  EXPECT_FALSE(any_names(read_all(lines_of(root / "alerts.ndjson")), "cc-1"));
}

}  // namespace
}  // namespace mozaiek::test
