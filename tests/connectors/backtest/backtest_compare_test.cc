// The backtest's diff on a crafted history whose differences are known in
// advance: which persons alert only under one rule set, which alert under
// both but differently (and how), which the same.
#include "connectors/backtest/backtest_compare.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "connectors/backtest/backtest_labels.h"
#include "connectors/backtest/backtest_report.h"
#include "operators/erasure/erasure_request.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

// 2025-03-03T10:00:00Z, and a signal observed then, reported `reported_h`
// hours later.
std::string signal(const std::string& id, const std::string& source, const std::string& indicator,
                   const std::string& person, int reported_h) {
  return R"({"schema":"mozaiek.signal/v1","signal_id":")" + id + R"(","source":")" + source +
         R"(","observed_at":"2025-03-03T10:00:00Z","reported_at":"2025-03-03T)" +
         std::to_string(10 + reported_h) + R"(:00:00Z","indicator":")" + indicator +
         R"(","consent":true,"subjects":[{"type":"person","id":")" + person +
         R"(","id_scheme":"v-number"}]})";
}

std::string pseudonym(const Pseudonymiser& p, const std::string& id) {
  ErasureFields f;
  f.type = "person";
  f.id = id;
  f.id_scheme = "v-number";
  f.reason = "test";
  f.user = "test";
  ErasureRequest r;
  EXPECT_FALSE(make_erasure_request(f, p, r).has_value());
  return r.key;
}

class BacktestCompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    history_ = dir_.path() + "/history.ndjson";
    std::ofstream out(history_);
    // A: three organisations, 1 + 2 + 1 = 4: only the lower threshold alerts.
    out << signal("a1", "coa", "behaviour_change", kA, 1) << '\n'
        << signal("a2", "nidos", "unexplained_money", kA, 2) << '\n'
        << signal("a3", "police", "fear_or_distress", kA, 3)
        << '\n'
        // B: 2 + 2 + 2: the candidate alerts at the second piece (4), the
        // baseline at the third (6).
        << signal("b1", "coa", "too_good_promise", kB, 1) << '\n'
        << signal("b2", "nidos", "intends_onward_travel", kB, 2) << '\n'
        << signal("b3", "police", "unexplained_money", kB, 3)
        << '\n'
        // C: 2 then a concrete 5 from a second organisation: 7 at once for both.
        << signal("c1", "coa", "too_good_promise", kC, 1) << '\n'
        << signal("c2", "nidos", "self_identifies_victim", kC, 1)
        << '\n'
        // D: two concrete pieces from one organisation: only concrete_alone alerts.
        << signal("d1", "coa", "self_identifies_victim", kD, 1) << '\n'
        << signal("d2", "coa", "route_captivity", kD, 2)
        << '\n'
        // E: one soft piece: never.
        << signal("e1", "coa", "behaviour_change", kE, 1) << '\n';
  }

  static Settings candidate_settings() {
    Settings s = test::shipped_settings();
    ConvergenceRule& person = s.operators.rules[static_cast<std::size_t>(SubjectType::person)];
    person.threshold = 3.5;
    person.concrete_alone = false;
    return s;
  }

  SideResult run(const Settings& settings, const char* name) {
    SideResult out;
    out.name = name;
    const Status s = run_side(settings, pseudonymiser_, {history_}, out, nullptr);
    EXPECT_TRUE(s) << s.message();
    return out;
  }

  static constexpr const char* kA = "2100000001";
  static constexpr const char* kB = "2100000002";
  static constexpr const char* kC = "2100000003";
  static constexpr const char* kD = "2100000004";
  static constexpr const char* kE = "2100000005";
  test::TempDir dir_{"backtest-compare"};
  std::string history_;
  Pseudonymiser pseudonymiser_{kDemoPseudonymKey};
};

TEST_F(BacktestCompareTest, DiffNamesExactlyTheEpisodesThatDiffer) {
  const Settings baseline_settings = test::shipped_settings();
  const Settings candidate = candidate_settings();
  const SideResult baseline = run(baseline_settings, "baseline");
  const SideResult cand = run(candidate, "candidate");
  EXPECT_EQ(baseline.records, 11u);
  EXPECT_EQ(baseline.subjects_seen(SubjectType::person), 5u);
  const BacktestReport r = compare_sides(baseline, cand, {});

  std::map<DiffKind, std::set<std::string>> by_kind;
  const EpisodeDiff* b_diff = nullptr;
  for (const auto& d : r.diffs) {
    EXPECT_EQ(d.key.rule, "person_convergence");
    by_kind[d.kind].insert(d.key.key);
    if (d.key.key == pseudonym(pseudonymiser_, kB)) b_diff = &d;
  }
  const std::string a = pseudonym(pseudonymiser_, kA), b = pseudonym(pseudonymiser_, kB),
                    c = pseudonym(pseudonymiser_, kC), d = pseudonym(pseudonymiser_, kD);
  EXPECT_EQ(by_kind[DiffKind::only_candidate], std::set<std::string>{a});
  EXPECT_EQ(by_kind[DiffKind::only_baseline], std::set<std::string>{d});
  EXPECT_EQ(by_kind[DiffKind::changed], std::set<std::string>{b});
  EXPECT_EQ(by_kind[DiffKind::same], std::set<std::string>{c});

  ASSERT_NE(b_diff, nullptr);
  EXPECT_EQ(b_diff->changes, (std::vector<std::string>{"score", "raised_at", "detection_delay"}));
  EXPECT_DOUBLE_EQ(b_diff->baseline->first.score, 6.0);
  EXPECT_DOUBLE_EQ(b_diff->candidate->first.score, 4.0);
  // Raised live when the newest piece was reported: b3 at 13:00, b2 at 12:00.
  EXPECT_EQ(alert_known_at_ms(b_diff->baseline->first),
            to_ms(*parse_rfc3339("2025-03-03T13:00:00Z")));
  EXPECT_EQ(alert_known_at_ms(b_diff->candidate->first),
            to_ms(*parse_rfc3339("2025-03-03T12:00:00Z")));

  const RuleCounts& counts = r.rules.at("person_convergence");
  EXPECT_EQ(counts.baseline_alerts, 3u);   // B, C, D
  EXPECT_EQ(counts.candidate_alerts, 3u);  // A, B, C
  EXPECT_EQ(counts.only_candidate, 1u);
  EXPECT_EQ(counts.only_baseline, 1u);
  EXPECT_EQ(counts.changed, 1u);
  EXPECT_EQ(backtest_summary(r),
            "backtest: baseline 3 alerts (3 episodes), candidate 3 (3): 1 only in candidate, 1 "
            "only in baseline, 1 changed, 1 the same");

  // The NDJSON names the differing episodes only, persons by pseudonym.
  const std::string ndjson = backtest_ndjson(r);
  EXPECT_NE(
      ndjson.find(
          R"("kind":"only_candidate","rule":"person_convergence","subject":{"type":"person","key":")" +
          a),
      std::string::npos);
  EXPECT_EQ(ndjson.find(kA), std::string::npos);  // no raw id anywhere
  EXPECT_EQ(ndjson.find(pseudonym(pseudonymiser_, kE)), std::string::npos);
}

TEST_F(BacktestCompareTest, QualityCountsCasesCaughtBeforeTheirOutcomeAndFalseSubjects) {
  // A and D are cases; A's outcome a day later, D's before his alert could be raised.
  const std::string labels = dir_.path() + "/labels.ndjson";
  std::ofstream(labels) << R"({"type":"person","id_scheme":"v-number","id":")" << kA
                        << R"(","outcome_at":"2025-03-04T10:00:00Z","shape":"fast"})" << '\n'
                        << R"({"type":"person","key":")" << pseudonym(pseudonymiser_, kD)
                        << R"(","outcome_at":"2025-03-03T11:30:00Z"})" << '\n';
  KnownCases cases;
  ASSERT_TRUE(load_labels(labels, pseudonymiser_, cases));
  ASSERT_EQ(cases.size(), 2u);
  const SideResult baseline = run(test::shipped_settings(), "baseline");
  const SideResult cand = run(candidate_settings(), "candidate");
  const BacktestReport r = compare_sides(baseline, cand, cases);
  ASSERT_TRUE(r.baseline_quality && r.candidate_quality);
  auto rule = [](const SideQuality& q, const std::string& name) {
    for (const auto& x : q.rules) {
      if (x.rule == name) return x;
    }
    ADD_FAILURE() << name;
    return RuleQuality{};
  };
  // Baseline: D alerted (12:00) after his outcome (11:30): not caught; B, C false.
  const RuleQuality b = rule(*r.baseline_quality, "person_convergence");
  EXPECT_EQ(b.caught, 0u);
  EXPECT_EQ(b.false_subjects, 2u);
  EXPECT_EQ(b.subjects_seen, 5u);
  EXPECT_DOUBLE_EQ(b.false_per_10k(), 4000.0);
  // Candidate: A at 13:00, 21 hours before his outcome; B and C false.
  const RuleQuality c = rule(*r.candidate_quality, "person_convergence");
  EXPECT_EQ(c.caught, 1u);
  ASSERT_EQ(c.lead_days.size(), 1u);
  EXPECT_DOUBLE_EQ(c.lead_days[0], 21.0 / 24.0);
  EXPECT_EQ(c.false_subjects, 2u);
  EXPECT_EQ(c.by_shape.at("fast"), (std::pair<std::size_t, std::size_t>{1, 1}));

  // The sweep from one run: A's best eligible score is 4 (3 at two pieces),
  // D's 8 but only concrete_alone makes it eligible, and after his outcome.
  auto point = [](const SideQuality& q, double t) {
    for (const auto& p : q.pr) {
      if (p.threshold == t) return p;
    }
    ADD_FAILURE() << t;
    return PrPoint{};
  };
  const PrPoint c4 = point(*r.candidate_quality, 4.0);
  EXPECT_EQ(c4.tp, 1u);  // A
  EXPECT_EQ(c4.fp, 2u);  // B (6), C (7)
  EXPECT_DOUBLE_EQ(c4.recall, 0.5);
  const PrPoint c425 = point(*r.candidate_quality, 4.25);
  EXPECT_EQ(c425.tp, 0u);
  EXPECT_EQ(c425.fp, 2u);
  const PrPoint c65 = point(*r.candidate_quality, 6.5);
  EXPECT_EQ(c65.fp, 1u);  // C
  // Baseline: D eligible alone (concrete) at 5 before his outcome, 8 only after it.
  const PrPoint b3 = point(*r.baseline_quality, 3.0);
  EXPECT_EQ(b3.tp, 2u);  // A (4), D (5)
  EXPECT_EQ(b3.fp, 2u);
  EXPECT_EQ(point(*r.baseline_quality, 5.25).tp, 0u);
}

TEST_F(BacktestCompareTest, LabelsFileErrorsNameTheLineAndField) {
  const std::string labels = dir_.path() + "/bad.ndjson";
  std::ofstream(labels) << R"({"type":"person","key":"abc"})" << '\n';
  KnownCases cases;
  const Status s = load_labels(labels, pseudonymiser_, cases);
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("line 1: field key"), std::string::npos) << s.message();
  std::ofstream(labels) << R"({"type":"vehicle","plate":"AB-12-CD"})" << '\n';
  EXPECT_NE(load_labels(labels, pseudonymiser_, cases).message().find("line 1: field type"),
            std::string::npos);
}

}  // namespace
}  // namespace mozaiek
