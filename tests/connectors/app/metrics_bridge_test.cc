#include "connectors/app/metrics_bridge.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

namespace mozaiek {
namespace {

PipelineLabelSets labels() {
  PipelineLabelSets l;
  l.sources = {"coa", "nidos"};
  l.dlq_reasons = {"bad_json"};
  l.indicators = {"no_id_documents", "irregular_hours", "unknown_contact"};
  return l;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsBridgeTest, IntakeSignalCountsArePublishedBySourceAndIndicatorAndReset) {
  prometheus::Registry registry;
  PipelineMetrics metrics(registry, labels());
  StageCounters counters(2, 3);
  counters.count_signal(0, 1);
  counters.count_signal(0, 1);
  counters.count_signal(1, 2);
  counters.count_signal(1, 9);  // an indicator id beyond the catalogue
  counters.count_signal(5, 0);  // a source id beyond the configured sources

  publish_stage_counters(counters, Stage::intake, metrics);
  publish_stage_counters(counters, Stage::intake, metrics);  // reset: adds nothing

  const std::string text = "\n" + prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_TRUE(
      has_line(text, R"(mozaiek_signals_total{indicator="irregular_hours",source="coa"} 2)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(mozaiek_signals_total{indicator="unknown_contact",source="nidos"} 1)"));
  EXPECT_TRUE(has_line(text, R"(mozaiek_signals_total{indicator="other",source="nidos"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(mozaiek_signals_total{indicator="no_id_documents",source="other"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(mozaiek_signals_total{indicator="no_id_documents",source="coa"} 0)"));
  for (auto n : counters.signals) EXPECT_EQ(n, 0u);
}

TEST(MetricsBridgeTest, ConvergenceStageDoesNotCountSignals) {
  prometheus::Registry registry;
  PipelineMetrics metrics(registry, labels());
  StageCounters counters(2, 3);
  counters.count_signal(0, 0);
  publish_stage_counters(counters, Stage::convergence, metrics);
  const std::string text = "\n" + prometheus::TextSerializer().Serialize(registry.Collect());
  EXPECT_TRUE(
      has_line(text, R"(mozaiek_signals_total{indicator="no_id_documents",source="coa"} 0)"));
}

}  // namespace
}  // namespace mozaiek
