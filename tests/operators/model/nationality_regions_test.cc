#include "operators/model/nationality_regions.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace mozaiek {
namespace {

TEST(NationalityRegionsTest, BriefNationalitiesMapToTheirRegion) {
  const std::pair<const char*, NationalityRegion> cases[] = {
      {"SD", NationalityRegion::africa},
      {"sudan", NationalityRegion::africa},
      {"SDN", NationalityRegion::africa},
      {"Sudanese", NationalityRegion::africa},
      {"NG", NationalityRegion::africa},
      {"nigeria", NationalityRegion::africa},
      {"VN", NationalityRegion::asia},
      {"Vietnam", NationalityRegion::asia},
      {"ER", NationalityRegion::africa},
      {"eritrea", NationalityRegion::africa},
      {"SY", NationalityRegion::asia},
      {"syria", NationalityRegion::asia},
      {"AF", NationalityRegion::asia},
      {"afghanistan", NationalityRegion::asia},
      {"MA", NationalityRegion::africa},
      {"morocco", NationalityRegion::africa},
      {"DZ", NationalityRegion::africa},
      {"algeria", NationalityRegion::africa},
      {"TN", NationalityRegion::africa},
      {"tunisia", NationalityRegion::africa},
      {"RO", NationalityRegion::europe},
      {"romania", NationalityRegion::europe},
      {"BG", NationalityRegion::europe},
      {"bulgaria", NationalityRegion::europe},
      {"PL", NationalityRegion::europe},
      {"poland", NationalityRegion::europe},
      {"UA", NationalityRegion::europe},
      {"ukraine", NationalityRegion::europe},
      {"NL", NationalityRegion::europe},
      {"Dutch", NationalityRegion::europe},
      {"BR", NationalityRegion::latin_america},
      {"brazil", NationalityRegion::latin_america},
      {"CN", NationalityRegion::asia},
      {"IN", NationalityRegion::asia},
      {"TR", NationalityRegion::asia},
      {"US", NationalityRegion::north_america},
      {"united states", NationalityRegion::north_america},
      {"AU", NationalityRegion::oceania},
      {"  South   Sudan ", NationalityRegion::africa},
  };
  for (const auto& [in, region] : cases) {
    EXPECT_EQ(to_string(nationality_region(in)), to_string(region)) << in;
  }
}

TEST(NationalityRegionsTest, UnknownStatelessAndOversizedAreUnknown) {
  for (const char* in : {"", "stateless", "XX", "atlantis", "s d"}) {
    EXPECT_EQ(nationality_region(in), NationalityRegion::unknown) << in;
  }
  EXPECT_EQ(nationality_region(std::string(1000, 'a')), NationalityRegion::unknown);
}

TEST(NationalityRegionsTest, NoAliasNamesTwoRegions) {
  std::map<std::string, NationalityRegion> seen;
  for (const auto& row : nationality_table()) {
    std::string_view rest = row.aliases;
    while (!rest.empty()) {
      const auto bar = rest.find('|');
      const std::string alias(rest.substr(0, bar));
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
      EXPECT_FALSE(alias.empty());
      const auto [it, fresh] = seen.emplace(alias, row.region);
      EXPECT_EQ(it->second, row.region) << alias;
      // Every alias must be reachable through the public lookup.
      EXPECT_EQ(nationality_region(alias), row.region) << alias;
    }
  }
  EXPECT_GT(seen.size(), 500u);
}

TEST(NationalityRegionsTest, IndexFollowsTheConfiguredLabels) {
  const NationalityRegionIndex standard(
      {"africa", "asia", "europe", "north_america", "oceania", "latin_america", "unknown"});
  EXPECT_EQ(standard.index_of("NG"), 0);
  EXPECT_EQ(standard.index_of("BR"), 5);
  EXPECT_EQ(standard.index_of("??"), 6);
  EXPECT_EQ(standard.unknown_index(), 6);

  // A config without some regions (and "unknown" not last) maps them to unknown.
  const NationalityRegionIndex coarse({"europe", "unknown", "africa"});
  EXPECT_EQ(coarse.index_of("RO"), 0);
  EXPECT_EQ(coarse.index_of("NG"), 2);
  EXPECT_EQ(coarse.index_of("CN"), 1);
  EXPECT_EQ(coarse.index_of("atlantis"), 1);

  // Without an "unknown" label the last one takes its place.
  const NationalityRegionIndex no_unknown({"europe", "other"});
  EXPECT_EQ(no_unknown.index_of("CN"), 1);
}

}  // namespace
}  // namespace mozaiek
