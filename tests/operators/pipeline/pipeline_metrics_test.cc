#include "operators/pipeline/pipeline_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <optional>
#include <sstream>

namespace mozaiek {
namespace {

using ::testing::DoubleEq;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

PipelineLabelSets test_labels() {
  PipelineLabelSets l;
  l.sources = {"coa", "nidos"};
  l.dlq_reasons = {"bad_json", "too_late"};
  l.rules = {"person_convergence", "vehicle_convergence", "location_convergence"};
  l.indicators = {"no_id_documents", "irregular_hours"};
  l.consumer_groups = {{"intake", {"signals.coa", "signals.nidos"}},
                       {"convergence", {"mozaiek.internal.subjects"}}};
  l.partitions = 4;
  l.stores = {"convergence"};
  l.version = "1.2.3";
  return l;
}

class PipelineMetricsTest : public ::testing::Test {
 protected:
  std::string scrape() const { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  // The value of the series `name` carrying all `labels` ("k=\"v\"" pairs).
  std::optional<double> value(const std::string& name,
                              const std::vector<std::string>& labels = {}) const {
    std::istringstream lines(scrape());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      const std::size_t end = line.find_first_of("{ ");
      if (line.substr(0, end) != name) continue;
      bool all = true;
      for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
      if (all) return std::stod(line.substr(line.rfind(' ') + 1));
    }
    return std::nullopt;
  }

  prometheus::Registry registry_;
  PipelineMetrics metrics_{registry_, test_labels()};
};

TEST_F(PipelineMetricsTest, CountsPerSourceUnderTheirNames) {
  metrics_.record_in(0, 5);
  metrics_.record_in(0, 2);
  metrics_.record_processed(1, 3);
  metrics_.record_dlq(0, 1, 4);
  metrics_.record_duplicate(6);
  EXPECT_THAT(value("mozaiek_records_in_total", {"source=\"coa\""}), Optional(DoubleEq(7)));
  EXPECT_THAT(value("mozaiek_records_processed_total", {"source=\"nidos\""}),
              Optional(DoubleEq(3)));
  EXPECT_THAT(value("mozaiek_records_dlq_total", {"source=\"coa\"", "reason=\"too_late\""}),
              Optional(DoubleEq(4)));
  EXPECT_THAT(value("mozaiek_records_duplicate_total"), Optional(DoubleEq(6)));
}

TEST_F(PipelineMetricsTest, UnknownSourceAndOutOfSetIndicesHaveTheirOwnLabels) {
  metrics_.record_in(metrics_.unknown_source(), 1);
  metrics_.record_in(99, 2);
  metrics_.record_dlq(metrics_.unknown_source(), 42, 3);
  EXPECT_THAT(value("mozaiek_records_in_total", {"source=\"unknown\""}), Optional(DoubleEq(1)));
  EXPECT_THAT(value("mozaiek_records_in_total", {"source=\"other\""}), Optional(DoubleEq(2)));
  EXPECT_THAT(value("mozaiek_records_dlq_total", {"source=\"unknown\"", "reason=\"other\""}),
              Optional(DoubleEq(3)));
  EXPECT_EQ(metrics_.source_index("riec"), metrics_.unknown_source() + 1);
}

TEST_F(PipelineMetricsTest, SignalsBySourceAndIndicatorWithOtherForUnknownIndices) {
  metrics_.record_signals(1, 0, 3);
  metrics_.record_signals(1, 0, 2);
  metrics_.record_signals(0, 1, 4);
  metrics_.record_signals(0, 7, 6);   // indicator outside the catalogue
  metrics_.record_signals(42, 1, 8);  // source outside the configured set
  EXPECT_THAT(value("mozaiek_signals_total", {"source=\"nidos\"", "indicator=\"no_id_documents\""}),
              Optional(DoubleEq(5)));
  EXPECT_THAT(value("mozaiek_signals_total", {"source=\"coa\"", "indicator=\"irregular_hours\""}),
              Optional(DoubleEq(4)));
  EXPECT_THAT(value("mozaiek_signals_total", {"source=\"coa\"", "indicator=\"other\""}),
              Optional(DoubleEq(6)));
  EXPECT_THAT(value("mozaiek_signals_total", {"source=\"other\"", "indicator=\"irregular_hours\""}),
              Optional(DoubleEq(8)));
  EXPECT_THAT(value("mozaiek_signals_total", {"source=\"coa\"", "indicator=\"no_id_documents\""}),
              Optional(DoubleEq(0)));
  // Only configured sources (plus "other") and catalogue indicators (plus "other"): 3 x 3 series.
  std::istringstream lines(scrape());
  std::string line;
  int series = 0;
  while (std::getline(lines, line)) series += line.rfind("mozaiek_signals_total{", 0) == 0;
  EXPECT_EQ(series, 9);
}

TEST_F(PipelineMetricsTest, AlertsByRuleSubjectTypeAndKind) {
  metrics_.record_alert("person_convergence", "person", 0);
  metrics_.record_alert("person_convergence", "person", 2);
  metrics_.record_alert(std::size_t{1}, std::size_t{1}, 0);
  metrics_.record_alert("made_up_rule", "person", 0);
  EXPECT_THAT(value("mozaiek_alerts_total",
                    {"rule=\"person_convergence\"", "subject_type=\"person\"", "kind=\"new\""}),
              Optional(DoubleEq(1)));
  EXPECT_THAT(value("mozaiek_alerts_total", {"rule=\"person_convergence\"",
                                             "subject_type=\"person\"", "kind=\"escalation\""}),
              Optional(DoubleEq(1)));
  EXPECT_THAT(value("mozaiek_alerts_total",
                    {"rule=\"vehicle_convergence\"", "subject_type=\"vehicle\"", "kind=\"new\""}),
              Optional(DoubleEq(1)));
  EXPECT_THAT(value("mozaiek_alerts_total",
                    {"rule=\"other\"", "subject_type=\"person\"", "kind=\"new\""}),
              Optional(DoubleEq(1)));
}

TEST_F(PipelineMetricsTest, BatchLatencyCountsEveryRecord) {
  metrics_.observe_batch_latency(0.002, 10);
  metrics_.observe_processing_latency(0.5);
  EXPECT_THAT(value("mozaiek_processing_latency_seconds_count"), Optional(DoubleEq(11)));
  EXPECT_THAT(value("mozaiek_processing_latency_seconds_sum"),
              Optional(::testing::DoubleNear(0.52, 1e-9)));
  EXPECT_THAT(value("mozaiek_processing_latency_seconds_bucket", {"le=\"0.0025\""}),
              Optional(DoubleEq(10)));
  EXPECT_THAT(value("mozaiek_processing_latency_seconds_bucket", {"le=\"1e-05\""}),
              Optional(DoubleEq(0)));
  EXPECT_THAT(value("mozaiek_processing_latency_seconds_bucket", {"le=\"10\""}),
              Optional(DoubleEq(11)));
}

TEST_F(PipelineMetricsTest, ConsumerLagIsBoundedToConfiguredTopicsAndPartitions) {
  metrics_.set_consumer_lag("intake", "signals.nidos", Partition{2}, 42);
  metrics_.set_consumer_lag("intake", "signals.nidos", Partition{17}, 5);
  metrics_.set_consumer_lag("intake", "signals.unknown", Partition{0}, 6);
  metrics_.set_consumer_lag("someone-else", "x", Partition{0}, 7);
  EXPECT_THAT(value("mozaiek_consumer_lag",
                    {"group=\"intake\"", "topic=\"signals.nidos\"", "partition=\"2\""}),
              Optional(DoubleEq(42)));
  EXPECT_THAT(value("mozaiek_consumer_lag",
                    {"group=\"intake\"", "topic=\"signals.nidos\"", "partition=\"other\""}),
              Optional(DoubleEq(5)));
  EXPECT_THAT(value("mozaiek_consumer_lag",
                    {"group=\"intake\"", "topic=\"other\"", "partition=\"0\""}),
              Optional(DoubleEq(6)));
  EXPECT_THAT(value("mozaiek_consumer_lag",
                    {"group=\"other\"", "topic=\"other\"", "partition=\"0\""}),
              Optional(DoubleEq(7)));
  EXPECT_THAT(scrape(), Not(HasSubstr("partition=\"4\"")));
}

TEST_F(PipelineMetricsTest, SourceGaugesStateAndErrors) {
  metrics_.set_watermark_delay(1, 120.5);
  metrics_.set_source_silence(0, 30);
  metrics_.set_source_idle(0, true);
  metrics_.set_state_entries("convergence", 1234);
  metrics_.record_task_error("intake");
  metrics_.record_task_error("unheard_of", 2);
  EXPECT_THAT(value("mozaiek_watermark_delay_seconds", {"source=\"nidos\""}),
              Optional(DoubleEq(120.5)));
  EXPECT_THAT(value("mozaiek_source_silence_seconds", {"source=\"coa\""}), Optional(DoubleEq(30)));
  EXPECT_THAT(value("mozaiek_source_idle", {"source=\"coa\""}), Optional(DoubleEq(1)));
  EXPECT_THAT(value("mozaiek_state_entries", {"store=\"convergence\""}), Optional(DoubleEq(1234)));
  EXPECT_THAT(value("mozaiek_task_errors_total", {"stage=\"intake\""}), Optional(DoubleEq(1)));
  EXPECT_THAT(value("mozaiek_task_errors_total", {"stage=\"other\""}), Optional(DoubleEq(2)));
}

TEST_F(PipelineMetricsTest, BuildInfoStartTimeAndHelpTexts) {
  metrics_.record_restart();
  EXPECT_THAT(value("mozaiek_build_info", {"version=\"1.2.3\""}), Optional(DoubleEq(1)));
  EXPECT_THAT(value("mozaiek_pipeline_starts_total"), Optional(DoubleEq(1)));
  EXPECT_GT(value("mozaiek_process_start_time_seconds").value_or(0), 1.6e9);
  const std::string text = scrape();
  EXPECT_THAT(text, HasSubstr("# HELP mozaiek_records_in_total "));
  EXPECT_THAT(text, HasSubstr("# TYPE mozaiek_processing_latency_seconds histogram"));
}

TEST_F(PipelineMetricsTest, SeriesExistBeforeTheFirstEvent) {
  // Pre-created at zero, so rate() and absent-alerts work from the first scrape.
  EXPECT_THAT(value("mozaiek_records_in_total", {"source=\"nidos\""}), Optional(DoubleEq(0)));
  EXPECT_THAT(value("mozaiek_records_dlq_total", {"source=\"coa\"", "reason=\"bad_json\""}),
              Optional(DoubleEq(0)));
}

}  // namespace
}  // namespace mozaiek
