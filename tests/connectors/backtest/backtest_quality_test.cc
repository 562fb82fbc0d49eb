// Detection quality on a generated population with a fixed seed: the
// precision-recall sweep, taken from one run, says exactly what reruns at
// those thresholds raise; the figures are pinned so a change to the scorer
// or the generator that moves them is seen.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <tuple>

#include "connectors/backtest/backtest_compare.h"
#include "connectors/backtest/backtest_labels.h"
#include "connectors/synthetic/synthetic_population.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

class BacktestQualityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    settings_ = test::shipped_settings();
    PopulationOptions o;
    o.seed = 20261207;
    o.persons = 4000;
    o.cases = 80;
    const SyntheticPopulation population(o, settings_.operators);
    history_ = dir_.path() + "/history.ndjson";
    std::ofstream out(history_);
    for (const auto& r : population.records()) out << r.value << '\n';
    const std::string labels = dir_.path() + "/labels.ndjson";
    std::ofstream l(labels);
    for (const auto& label : population.labels()) {
      l << SyntheticPopulation::label_json(label) << '\n';
    }
    l.close();
    ASSERT_TRUE(load_labels(labels, pseudonymiser_, cases_));
    ASSERT_EQ(cases_.size(), 80u);
  }

  SideResult run(const Settings& settings) {
    SideResult out;
    const Status s = run_side(settings, pseudonymiser_, {history_}, out, nullptr);
    EXPECT_TRUE(s) << s.message();
    return out;
  }

  Settings with_threshold(double t) const {
    Settings s = settings_;
    s.operators.rules[static_cast<std::size_t>(SubjectType::person)].threshold = t;
    return s;
  }

  // Persons with a person_convergence alert raised before their outcome
  // (cases) or at all (others), from a real run.
  std::pair<std::size_t, std::size_t> alerted(const SideResult& side) const {
    std::set<std::string> tp, fp;
    for (const Alert& a : side.alerts) {
      if (a.rule != "person_convergence") continue;
      auto it = cases_.find(a.subject_key);
      if (it == cases_.end()) {
        fp.insert(a.subject_key);
      } else if (alert_known_at_ms(a) <= it->second.outcome_at_ms) {
        tp.insert(a.subject_key);
      }
    }
    return {tp.size(), fp.size()};
  }

  test::TempDir dir_{"backtest-quality"};
  Settings settings_;
  std::string history_;
  Pseudonymiser pseudonymiser_{kDemoPseudonymKey};
  KnownCases cases_;
};

TEST_F(BacktestQualityTest, SweepFromOneRunEqualsRerunsAtThoseThresholds) {
  const SideResult shipped = run(settings_);
  const SideQuality q = measure_quality(shipped, cases_);
  std::size_t checked = 0;
  for (const double t : {3.0, 4.5, 6.0, 8.0}) {
    const auto point = std::find_if(q.pr.begin(), q.pr.end(),
                                    [t](const PrPoint& p) { return p.threshold == t; });
    ASSERT_NE(point, q.pr.end()) << t;
    const auto [tp, fp] = alerted(run(with_threshold(t)));
    EXPECT_EQ(point->tp, tp) << "threshold " << t;
    EXPECT_EQ(point->fp, fp) << "threshold " << t;
    ++checked;
  }
  EXPECT_EQ(checked, 4u);
  // Lower thresholds never catch fewer.
  for (std::size_t i = 1; i < q.pr.size(); ++i) {
    EXPECT_LE(q.pr[i].tp, q.pr[i - 1].tp);
    EXPECT_LE(q.pr[i].fp, q.pr[i - 1].fp);
  }
}

TEST_F(BacktestQualityTest, PinnedFiguresForTheSeed) {
  const SideResult shipped = run(settings_);
  EXPECT_EQ(shipped.subjects_seen(SubjectType::person), 4080u);
  const SideQuality q = measure_quality(shipped, cases_);
  auto at = [&](double t) {
    for (const auto& p : q.pr) {
      if (p.threshold == t) return p;
    }
    ADD_FAILURE() << t;
    return PrPoint{};
  };
  // (threshold, cases alerted before their outcome, other persons alerted)
  const std::vector<std::tuple<double, std::size_t, std::size_t>> pinned{
      {3.0, 70, 59}, {4.5, 63, 6}, {6.0, 40, 1}, {8.0, 15, 0}};
  for (const auto& [t, tp, fp] : pinned) {
    const PrPoint p = at(t);
    EXPECT_EQ(p.tp, tp) << t;
    EXPECT_EQ(p.fp, fp) << t;
    EXPECT_DOUBLE_EQ(p.recall, static_cast<double>(tp) / 80.0) << t;
    EXPECT_NEAR(p.false_per_10k, 10000.0 * static_cast<double>(fp) / 4080.0, 1e-9) << t;
  }
}

}  // namespace
}  // namespace mozaiek
