#include "operators/oversight/oversight_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

namespace mozaiek {
namespace {

// min_cell_size 1 (disclosure control off) unless a test says otherwise.
OversightLabelSets labels(std::size_t min_cell_size = 1) {
  OversightLabelSets l;
  l.min_cell_size = min_cell_size;
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

// ---- disclosure control (privacy.min_cell_size) ----------------------------

// The series about persons: every line of these metrics in an exposition.
const char* const kPersonMetrics[] = {"mozaiek_mob_departures_total",
                                      "mozaiek_mob_days_since_arrival_count",
                                      "mozaiek_mob_days_since_arrival_sum",
                                      "mozaiek_mob_departures_without_arrival_total",
                                      "mozaiek_mob_arrivals_matched_late_total",
                                      "mozaiek_mob_with_prior_signals_total",
                                      "mozaiek_missing_open",
                                      "mozaiek_reappearances_total",
                                      "mozaiek_registrations_unique",
                                      "mozaiek_converging_persons",
                                      "mozaiek_disclosure_folded"};

// series -> value of the person metrics in an exposition.
std::map<std::string, double> person_series(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::string name = line.substr(0, line.find_first_of("{ "));
    bool person = false;
    for (const char* m : kPersonMetrics) person = person || name == m;
    if (!person) continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// No person series shows a count between 1 and k - 1 (sums of days excepted:
// they are not counts, but move only with k observations at a time).
void expect_no_small_cell(const std::string& text, double k) {
  for (const auto& [series, v] : person_series(text)) {
    if (series.find("_sum") != std::string::npos) continue;
    EXPECT_TRUE(v == 0 || v >= k) << series << " " << v;
  }
}

double value(const std::string& text, const std::string& series) {
  const auto all = person_series(text);
  auto it = all.find(series);
  return it == all.end() ? -1 : it->second;
}

double total(const std::string& text, const std::string& metric) {
  double n = 0;
  for (const auto& [series, v] : person_series(text)) {
    if (series.substr(0, series.find('{')) == metric) n += v;
  }
  return n;
}

TEST(DisclosureControlTest, ASingleDepartureIsInNoLabelledCell) {
  prometheus::Registry registry;
  OversightMetrics m(registry, labels(5));
  const std::size_t budel = m.location_index("coa-budel");
  m.add_mob_departure(budel, 0, 0);  // one minor from Africa leaves coa-budel
  m.observe_days_since_arrival(0, 12);
  m.add_departure_with_prior_signals(0);
  m.add_reappearance(0);
  m.set_missing_open(0, 1);
  m.set_registrations(0, 2026, "region", "africa", 1);
  m.set_converging_persons(1, 1);
  const std::string text = scrape(registry);
  expect_no_small_cell(text, 5);
  EXPECT_EQ(total(text, "mozaiek_mob_departures_total"), 0) << text;
  EXPECT_EQ(total(text, "mozaiek_mob_days_since_arrival_count"), 0);
  EXPECT_EQ(total(text, "mozaiek_mob_days_since_arrival_sum"), 0);
  EXPECT_EQ(total(text, "mozaiek_mob_with_prior_signals_total"), 0);
  EXPECT_EQ(total(text, "mozaiek_missing_open"), 0);
  EXPECT_EQ(total(text, "mozaiek_registrations_unique"), 0);
  EXPECT_EQ(total(text, "mozaiek_converging_persons"), 0);
  EXPECT_TRUE(has_line(text, "mozaiek_disclosure_min_cell_size 5")) << text;
}

TEST(DisclosureControlTest, FiveDeparturesFromOneCellAreShownThere) {
  prometheus::Registry registry;
  OversightMetrics m(registry, labels(5));
  const std::size_t budel = m.location_index("coa-budel");
  for (int i = 0; i < 4; ++i) m.add_mob_departure(budel, 0, 0);
  const std::string cell =
      "mozaiek_mob_departures_total{age_group=\"minor\",location=\"coa-budel\",region=\"africa\"}";
  EXPECT_EQ(value(scrape(registry), cell), 0);
  m.add_mob_departure(budel, 0, 0);
  const std::string text = scrape(registry);
  EXPECT_EQ(value(text, cell), 5) << text;
  EXPECT_EQ(total(text, "mozaiek_mob_departures_total"), 5);
  EXPECT_EQ(value(text, "mozaiek_disclosure_folded{metric=\"mozaiek_mob_departures_total\"}"), 0);
}

TEST(DisclosureControlTest, FiveDeparturesFromSmallCellsAreShownInACoarserCell) {
  prometheus::Registry registry;
  OversightMetrics m(registry, labels(5));
  const std::size_t budel = m.location_index("coa-budel");
  for (int i = 0; i < 3; ++i) m.add_mob_departure(budel, 0, 0);  // minor, africa
  for (int i = 0; i < 2; ++i) m.add_mob_departure(budel, 0, 1);  // minor, asia
  const std::string text = scrape(registry);
  expect_no_small_cell(text, 5);
  // Neither region reaches 5 at location "other"; together at region "all" they do.
  EXPECT_EQ(value(text, "mozaiek_mob_departures_total{age_group=\"minor\",location=\"other\","
                        "region=\"all\"}"),
            5)
      << text;
  EXPECT_EQ(total(text, "mozaiek_mob_departures_total"), 5);
  EXPECT_EQ(value(text, "mozaiek_disclosure_folded{metric=\"mozaiek_mob_departures_total\"}"), 5);
  // Across age groups, the last fold: location "other", age group and region "all".
  m.add_mob_departure(budel, 1, 0);
  m.add_mob_departure(budel, 2, 2);
  m.add_mob_departure(budel, 1, 2);
  m.add_mob_departure(budel, 2, 0);
  m.add_mob_departure(m.location_index("elsewhere"), 1, 1);
  const std::string more = scrape(registry);
  expect_no_small_cell(more, 5);
  EXPECT_EQ(value(more, "mozaiek_mob_departures_total{age_group=\"all\",location=\"other\","
                        "region=\"all\"}"),
            5)
      << more;
  EXPECT_EQ(total(more, "mozaiek_mob_departures_total"), 10);
}

TEST(DisclosureControlTest, DaysSinceArrivalMoveOnlyFiveObservationsAtATime) {
  prometheus::Registry registry;
  OversightMetrics m(registry, labels(5));
  for (int i = 0; i < 4; ++i) m.observe_days_since_arrival(0, 3 + i);
  EXPECT_EQ(total(scrape(registry), "mozaiek_mob_days_since_arrival_count"), 0);
  m.observe_days_since_arrival(1, 40);  // a fifth, of another age group: folded to "all"
  std::string text = scrape(registry);
  EXPECT_EQ(value(text, "mozaiek_mob_days_since_arrival_count{age_group=\"all\"}"), 5) << text;
  EXPECT_EQ(value(text, "mozaiek_mob_days_since_arrival_sum{age_group=\"all\"}"), 58);
  for (int i = 0; i < 5; ++i) m.observe_days_since_arrival(0, 100);
  text = scrape(registry);
  EXPECT_EQ(value(text, "mozaiek_mob_days_since_arrival_count{age_group=\"minor\"}"), 5) << text;
  expect_no_small_cell(text, 5);
}

TEST(DisclosureControlTest, GaugesShowMultiplesOfTheMinimumAndFoldTheRest) {
  prometheus::Registry registry;
  OversightMetrics m(registry, labels(5));
  m.set_missing_open(0, 7);  // minor: 5 shown, 2 folded
  m.set_missing_open(1, 3);  // adult: 0 shown, 3 folded
  std::string text = scrape(registry);
  EXPECT_EQ(value(text, "mozaiek_missing_open{age_group=\"minor\"}"), 5) << text;
  EXPECT_EQ(value(text, "mozaiek_missing_open{age_group=\"adult\"}"), 0);
  EXPECT_EQ(value(text, "mozaiek_missing_open{age_group=\"all\"}"), 5);
  EXPECT_EQ(value(text, "mozaiek_disclosure_folded{metric=\"mozaiek_missing_open\"}"), 5);
  m.set_missing_open(1, 2);  // one adult re-appeared: the folded cell drops below 5
  text = scrape(registry);
  EXPECT_EQ(value(text, "mozaiek_missing_open{age_group=\"all\"}"), 0) << text;
  m.set_registrations(0, 2026, "region", "africa", 4);
  m.set_registrations(0, 2026, "total", "all", 12);
  text = scrape(registry);
  EXPECT_EQ(total(text, "mozaiek_registrations_unique"), 10) << text;
  expect_no_small_cell(text, 5);
}

// A random walk of departures, reappearances and gauges: after every step no
// person series shows 1..k-1, none moves by less than k, counters never go
// down, and what is shown never exceeds what happened.
TEST(DisclosureControlTest, RandomWalkNeverShowsSmallCellsOrSmallSteps) {
  const char* env = std::getenv("MOZAIEK_TEST_SEED");
  const std::uint64_t seed = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::cout << "seed " << seed << " (MOZAIEK_TEST_SEED to repeat)\n";
  std::mt19937_64 rng(seed);
  for (std::size_t k : {2u, 5u, 10u}) {
    prometheus::Registry registry;
    OversightMetrics m(registry, labels(k));
    std::map<std::string, double> before = person_series(scrape(registry));
    double departures = 0;
    for (int step = 0; step < 400; ++step) {
      switch (rng() % 4) {
        case 0:
        case 1:
          m.add_mob_departure(rng() % 3, rng() % 5, rng() % 5);
          ++departures;
          break;
        case 2: m.add_reappearance(rng() % 4); break;
        default: m.set_missing_open(rng() % 4, static_cast<std::int64_t>(rng() % 13)); break;
      }
      const std::string text = scrape(registry);
      const auto now = person_series(text);
      for (const auto& [series, v] : now) {
        const double was = before.count(series) ? before[series] : 0;
        EXPECT_TRUE(v == 0 || v >= static_cast<double>(k)) << series << " " << v << " k " << k;
        EXPECT_TRUE(v == was || std::abs(v - was) >= static_cast<double>(k))
            << series << " " << was << " -> " << v << " k " << k;
        if (series.find("_total") != std::string::npos) {
          EXPECT_GE(v, was) << series;
        }
      }
      const double shown = total(text, "mozaiek_mob_departures_total");
      EXPECT_LE(shown, departures);
      EXPECT_GT(shown + static_cast<double>(k), departures) << "held back at most k - 1";
      before = now;
    }
  }
}

}  // namespace
}  // namespace mozaiek
