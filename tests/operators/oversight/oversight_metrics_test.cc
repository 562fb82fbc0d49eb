#include "operators/oversight/oversight_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace mozaiek {
namespace {

OversightLabelSets labels() {
  OversightLabelSets l;
  l.orgs = {"coa", "police"};
  l.locations = {"coa-budel"};
  l.age_groups = {"minor", "adult", "unknown"};
  l.regions = {"africa", "asia", "unknown"};
  l.where = {"police", "eurodac"};
  l.count_rules = {"registry", "nrm"};
  l.event_types = {"melding.sent"};
  return l;
}

std::string scrape(prometheus::Registry& r) {
  return prometheus::TextSerializer().Serialize(r.Collect());
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) return true;
  }
  return false;
}

TEST(HistogramBatchTest, CountsPerBucketAndSumUntilReset) {
  HistogramBatch b({10, 100}, 2);
  EXPECT_TRUE(b.empty());
  b.observe(0, 10);   // le 10 (bounds are inclusive)
  b.observe(0, 11);   // le 100
  b.observe(0, 500);  // +Inf
  b.observe(7, 1);    // beyond the last series: counted in the last ("other")
  EXPECT_EQ(b.bucket_increments(0), (std::vector<double>{1, 1, 1}));
  EXPECT_DOUBLE_EQ(b.sum(0), 521);
  EXPECT_EQ(b.bucket_increments(1), (std::vector<double>{1, 0, 0}));
  b.reset();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.bucket_increments(0), (std::vector<double>{0, 0, 0}));
}

TEST(OversightMetricsTest, ReportingDelayIsPublishedPerBatchWithExactCountsAndSum) {
  prometheus::Registry registry;
  OversightMetrics m(registry, labels());
  HistogramBatch batch = m.make_reporting_delay_batch();
  batch.observe(0, 30);          // coa: half a minute
  batch.observe(0, 14 * 86400);  // coa: two weeks
  batch.observe(9, 5);           // an index outside the sources: other
  m.publish_reporting_delay(batch);
  EXPECT_TRUE(batch.empty());
  const std::string text = scrape(registry);
  EXPECT_TRUE(has_line(text, "mozaiek_reporting_delay_seconds_count{source=\"coa\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "mozaiek_reporting_delay_seconds_sum{source=\"coa\"} 1209630"));
  EXPECT_TRUE(has_line(text, "mozaiek_reporting_delay_seconds_count{source=\"other\"} 1"));
  EXPECT_TRUE(has_line(text, "mozaiek_reporting_delay_seconds_count{source=\"police\"} 0"));
}

TEST(OversightMetricsTest, UnknownLabelValuesReportAsOther) {
  prometheus::Registry registry;
  OversightMetrics m(registry, labels());
  m.add_mob_departure(m.location_index("a-new-site"), 0, 99);
  m.add_reappearance(m.where_index("the-moon"));
  m.add_unanswered(m.org_index("coa"), m.org_index("someone-else"));
  m.set_registrations(0, 2018, "reporter", "police", 3);
  m.set_registrations(1, 1899, "total", "all", 2);
  const std::string text = scrape(registry);
  EXPECT_TRUE(has_line(
      text,
      "mozaiek_mob_departures_total{age_group=\"minor\",location=\"other\",region=\"other\"} 1"))
      << text;
  EXPECT_TRUE(has_line(text, "mozaiek_reappearances_total{where=\"other\"} 1"));
  EXPECT_TRUE(has_line(text, "mozaiek_meldingen_unanswered_total{from=\"coa\",to=\"other\"} 1"));
  EXPECT_TRUE(
      has_line(text, "mozaiek_registrations_unique{count=\"registry\",form=\"all\",region=\"all\","
                     "reporter=\"police\",year=\"2018\"} 3"));
  EXPECT_TRUE(has_line(text,
                       "mozaiek_registrations_unique{count=\"nrm\",form=\"all\",region=\"all\","
                       "reporter=\"all\",year=\"other\"} 2"));
}

}  // namespace
}  // namespace mozaiek
