#include "connectors/synthetic/synthetic_chain.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "operators/intake/chain_intake.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

ChainTrafficOptions options_for(const Settings& settings, std::uint64_t seed) {
  ChainTrafficOptions o;
  o.seed = seed;
  for (const auto& s : settings.operators.sources) o.sources.push_back(s.name);
  o.locations = settings.operators.locations;
  return o;
}

TEST(SyntheticChainTest, EveryRecordIsAValidChainEventInReportingOrderAndTheSameForTheSameSeed) {
  const Settings settings = shipped_settings();
  SyntheticChain a(options_for(settings, 3)), b(options_for(settings, 3));
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  ChainIntake intake(settings.operators, pseudonymiser);
  ChainEvent e;
  OutRecord ra, rb;
  std::map<ChainEventType, int> types;
  EventTime last = kMinEventTime;
  std::size_t n = 0, redelivered = 0;
  std::set<std::string> ids;
  while (a.next(ra)) {
    ASSERT_TRUE(b.next(rb));
    EXPECT_EQ(ra.value, rb.value);
    EXPECT_EQ(ra.topic, "chain.events");
    const auto rejection = intake.parse(ra.value, e);
    ASSERT_FALSE(rejection) << rejection->detail << " in " << ra.value;
    ++n;
    if (!ids.insert(e.event_id).second) {
      ++redelivered;  // a copy sent again later: same event, same reported_at
      continue;
    }
    ++types[e.type];
    EXPECT_GE(e.reported_at, last);
    last = e.reported_at;
  }
  EXPECT_FALSE(b.next(rb));
  EXPECT_EQ(n, a.total());
  EXPECT_EQ(types.size(), kChainEventTypeCount) << "every chain event type appears";
  EXPECT_EQ(types[ChainEventType::victim_registered], 838)
      << "the 2018 log; James needs the signals' planted cases";
  EXPECT_GT(redelivered, 0u);
  EXPECT_EQ(a.spike_location(), "coa-beschermde-opvang");
}

TEST(SyntheticChainTest, MergedTrafficIsInReportingOrder) {
  const Settings settings = shipped_settings();
  TrafficOptions t;
  t.signals = 2000;
  for (const auto& s : settings.operators.sources) t.sources.push_back(s.name);
  t.locations = settings.operators.locations;
  PartnerTraffic merged(t, settings.operators.catalogue, options_for(settings, 42), true);
  OutRecord r;
  std::size_t chain = 0, signals = 0;
  while (merged.next(r)) (r.topic == "chain.events" ? chain : signals)++;
  EXPECT_EQ(chain, merged.chain_events());
  EXPECT_EQ(signals, merged.signals().total());
}

}  // namespace
}  // namespace mozaiek::test
