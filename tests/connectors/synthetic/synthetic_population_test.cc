// The labelled population: the same seed gives the same bytes, every case
// is labelled with its shape and outcome, and the outcome is in the history.
#include "connectors/synthetic/synthetic_population.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>

#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

PopulationOptions small(std::uint64_t seed) {
  PopulationOptions o;
  o.seed = seed;
  o.persons = 400;
  o.cases = 12;
  return o;
}

TEST(SyntheticPopulationTest, SameSeedSameBytesAnotherSeedOthers) {
  const Settings settings = test::shipped_settings();
  const SyntheticPopulation a(small(3), settings.operators);
  const SyntheticPopulation b(small(3), settings.operators);
  const SyntheticPopulation c(small(4), settings.operators);
  ASSERT_EQ(a.records().size(), b.records().size());
  for (std::size_t i = 0; i < a.records().size(); ++i) {
    EXPECT_EQ(a.records()[i].value, b.records()[i].value) << i;
  }
  ASSERT_EQ(a.labels().size(), 12u);
  for (std::size_t i = 0; i < a.labels().size(); ++i) {
    EXPECT_EQ(SyntheticPopulation::label_json(a.labels()[i]),
              SyntheticPopulation::label_json(b.labels()[i]));
  }
  std::size_t same = 0;
  for (std::size_t i = 0; i < std::min(a.records().size(), c.records().size()); ++i) {
    same += a.records()[i].value == c.records()[i].value;
  }
  EXPECT_LT(same, a.records().size() / 10);
}

TEST(SyntheticPopulationTest, CasesOfEveryShapeConvergeAndEndInTheirOutcome) {
  const Settings settings = test::shipped_settings();
  const SyntheticPopulation p(small(9), settings.operators);
  std::map<std::string, std::set<std::string>> sources_of;                // raw id -> organisations
  std::map<std::string, std::pair<std::string, std::string>> outcome_of;  // id -> (type, at)
  std::set<std::string> signal_ids;
  std::string last_reported;
  simdjson::dom::parser parser;
  for (const auto& r : p.records()) {
    simdjson::dom::element e = parser.parse(r.value);
    const std::string reported(e["reported_at"].get_string().value());
    EXPECT_LE(last_reported, reported) << "not in reporting order";
    last_reported = reported;
    std::string id;
    for (auto s : e["subjects"].get_array()) {
      if (std::string_view(s["type"].get_string().value()) == "person") {
        id = std::string(s["id"].get_string().value());
      }
    }
    if (r.topic == settings.topics.chain_events) {
      outcome_of[id] = {std::string(e["type"].get_string().value()),
                        std::string(e["at"].get_string().value())};
      continue;
    }
    EXPECT_TRUE(signal_ids.insert(std::string(e["signal_id"].get_string().value())).second);
    EXPECT_EQ(r.topic, "signals." + std::string(e["source"].get_string().value()));
    if (!id.empty()) sources_of[id].insert(std::string(e["source"].get_string().value()));
  }
  std::map<std::string, int> shapes;
  for (const auto& l : p.labels()) {
    ++shapes[std::string(to_string(l.shape))];
    ASSERT_TRUE(outcome_of.count(l.id)) << l.id;
    EXPECT_EQ(outcome_of[l.id].first, l.outcome);
    EXPECT_EQ(outcome_of[l.id].second, format_rfc3339(l.outcome_at));
    const std::size_t orgs = sources_of[l.id].size();
    switch (l.shape) {
      case CaseShape::fast:
      case CaseShape::slow:
        EXPECT_GE(orgs, 2u) << l.id;
        EXPECT_GE(l.pieces, l.shape == CaseShape::fast ? 4u : 5u);
        break;
      case CaseShape::single_org: EXPECT_EQ(orgs, 1u) << l.id; break;
      case CaseShape::vehicle:
        EXPECT_GE(orgs, 1u) << l.id;  // and coa's sighting of him in the car
        break;
    }
  }
  EXPECT_EQ(shapes, (std::map<std::string, int>{
                        {"fast", 3}, {"single_org", 3}, {"slow", 3}, {"vehicle", 3}}));
  // Background persons: most are met once.
  std::size_t once = 0;
  for (const auto& [id, s] : sources_of) once += s.size() == 1;
  EXPECT_GT(once, sources_of.size() / 2);
}

}  // namespace
}  // namespace mozaiek
