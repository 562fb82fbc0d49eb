// A live reload at a batch boundary: the stages take a new rule set, state
// is keyed by subject (not by rule) so the scores of the kept rules carry
// on, and alerts name the version that raised them.
#include <gtest/gtest.h>

#include <tuple>

#include "connectors/app/local_pipeline.h"
#include "operators/model/rules_version.h"
#include "operators/records/alert_json.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

constexpr const char* kPerson = R"({"type":"person","id":"V-2231-887","id_scheme":"v-number"})";

class ConvergenceStageReloadTest : public ::testing::Test {
 protected:
  ConvergenceStageReloadTest() {
    // Before: nothing alerts; after: three concrete signals do, two not.
    strict_.rules[0].threshold = 1000;
    strict_.rules_version = rules_version_string(1, rules_fingerprint(strict_));
    tuned_.rules[0].threshold = 12;
    tuned_.rules[0].concrete_alone = false;
    tuned_.rules_version = rules_version_string(2, rules_fingerprint(tuned_));
  }
  void feed(LocalPipeline& p, const char* source, const char* id, const char* date) {
    const std::string value = signal_json(source, id, "self_identifies_victim", date, kPerson);
    RecordView view;
    view.value = value;
    p.process(view);
    ASSERT_TRUE(p.finish().is_ok());
  }

  OperatorConfig strict_ = shipped_settings().operators;
  OperatorConfig tuned_ = shipped_settings().operators;
  Pseudonymiser pseudonymiser_{"reload-test-key-0123456789"};
  ManualClock clock_{ProcTime{Millis{1'741'600'000'000}}};  // 2025-03-10
};

TEST_F(ConvergenceStageReloadTest, ScoresCarryOnAcrossAReloadAndAlertsNameTheNewVersion) {
  ASSERT_NE(rules_fingerprint(strict_), rules_fingerprint(tuned_));
  auto stores = make_memory_store_factory();
  CollectingSink alerts;
  LocalPipeline p(strict_, pseudonymiser_, clock_, *stores, &alerts, nullptr);
  feed(p, "coa", "s-1", "2025-03-01");
  feed(p, "police", "s-2", "2025-03-02");
  EXPECT_EQ(p.alerts_raised(), 0u);

  ASSERT_TRUE(p.convergence().reconfigure(tuned_).is_ok());
  p.intake().reconfigure(tuned_);
  EXPECT_EQ(&p.convergence().config(), &tuned_);
  feed(p, "avim", "s-3", "2025-03-03");
  ASSERT_EQ(alerts.values.size(), 1u);
  const std::string& json = alerts.values[0];
  // The two signals scored under the old rules count in the new one's alert.
  for (const char* id : {"\"s-1\"", "\"s-2\"", "\"s-3\""}) {
    EXPECT_NE(json.find(id), std::string::npos) << id << " missing in " << json;
  }
  EXPECT_NE(json.find("\"rules_version\":\"" + tuned_.rules_version + "\""), std::string::npos)
      << json;

  // Without the carried-on state the same last signal raises nothing.
  auto fresh_stores = make_memory_store_factory();
  CollectingSink fresh_alerts;
  LocalPipeline fresh(tuned_, pseudonymiser_, clock_, *fresh_stores, &fresh_alerts, nullptr);
  feed(fresh, "avim", "s-3", "2025-03-03");
  EXPECT_TRUE(fresh_alerts.values.empty());
}

TEST_F(ConvergenceStageReloadTest, TheSameAlertIdWhetherTheRulesChangedMidwayOrNot) {
  auto stores = make_memory_store_factory();
  CollectingSink alerts;
  LocalPipeline p(strict_, pseudonymiser_, clock_, *stores, &alerts, nullptr);
  feed(p, "coa", "s-1", "2025-03-01");
  feed(p, "police", "s-2", "2025-03-02");
  ASSERT_TRUE(p.convergence().reconfigure(tuned_).is_ok());
  feed(p, "avim", "s-3", "2025-03-03");

  auto other_stores = make_memory_store_factory();
  CollectingSink other_alerts;
  LocalPipeline q(tuned_, pseudonymiser_, clock_, *other_stores, &other_alerts, nullptr);
  for (auto [source, id, date] :
       {std::tuple{"coa", "s-1", "2025-03-01"}, std::tuple{"police", "s-2", "2025-03-02"},
        std::tuple{"avim", "s-3", "2025-03-03"}}) {
    feed(q, source, id, date);
  }
  ASSERT_EQ(alerts.values.size(), 1u);
  ASSERT_EQ(other_alerts.values.size(), 1u);
  Alert a, b;
  ASSERT_TRUE(read_alert_json(alerts.values[0], a));
  ASSERT_TRUE(read_alert_json(other_alerts.values[0], b));
  EXPECT_EQ(a.alert_id, b.alert_id);
  EXPECT_DOUBLE_EQ(a.score, b.score);
}

}  // namespace
}  // namespace mozaiek::test
