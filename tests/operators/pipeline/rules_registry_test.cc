// The rule set in force and its hand-over to the tasks: versions, what a
// reload may not change without a restart, the history, and readers on
// other threads that always see a whole rule set.
#include "operators/pipeline/rules_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "operators/model/rules_version.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

constexpr ProcTime kAt{Millis{1'764'000'000'000}};

TEST(RulesVersionTest, FingerprintFollowsValuesNotObjects) {
  const OperatorConfig a = test::shipped_settings().operators;
  OperatorConfig b = test::shipped_settings().operators;
  EXPECT_THAT(rules_fingerprint(a), MatchesRegex("[0-9a-f]{12}"));
  EXPECT_EQ(rules_fingerprint(a), rules_fingerprint(b));
  b.rules_version = "7-000000000000";  // not a rule value
  b.pseudonym_key_version = 3;
  EXPECT_EQ(rules_fingerprint(a), rules_fingerprint(b));
  b.linking.pickup_van.min_count += 1;
  EXPECT_NE(rules_fingerprint(a), rules_fingerprint(b));
  OperatorConfig c = a;
  c.sources[0].allowed_lateness += Millis{1};
  EXPECT_NE(rules_fingerprint(a), rules_fingerprint(c));
  EXPECT_EQ(rules_version_string(3, "0123456789ab"), "3-0123456789ab");
}

TEST(RulesVersionTest, NamesThatMadeTopicsAndSeriesNeedARestart) {
  const OperatorConfig running = test::shipped_settings().operators;
  OperatorConfig next = running;
  next.rules[0].threshold = 3.5;  // values may change
  next.catalogue = Catalogue{};
  for (auto ind : running.catalogue.all()) {
    ind.weight *= 2;
    next.catalogue.add(ind);
  }
  EXPECT_THAT(reload_incompatibilities(running, next), IsEmpty());

  next.sources.pop_back();
  next.rules[1].name = "car_convergence";
  next.locations.push_back("farm-12");
  const auto errors = reload_incompatibilities(running, next);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[0], HasSubstr("sources: "));
  EXPECT_THAT(errors[0], HasSubstr("restart"));
  EXPECT_THAT(errors[1], HasSubstr("rules.vehicle.name: 'car_convergence'"));
  EXPECT_THAT(errors[2], HasSubstr("metrics.locations"));
}

TEST(RulesRegistryTest, AppliesUnchangedAndRefusedAreRecordedInOrder) {
  const OperatorConfig initial = test::shipped_settings().operators;
  RulesRegistry registry(initial, kAt);
  const std::string v1 = registry.version();
  EXPECT_EQ(v1, "1-" + rules_fingerprint(initial));
  EXPECT_EQ(registry.current()->rules_version, v1);
  const std::uint64_t g1 = registry.generation();

  OperatorConfig same = initial;
  auto e = registry.offer(same, {}, "op", "http", kAt + seconds(1));
  EXPECT_EQ(e.outcome, RulesOutcome::unchanged);
  EXPECT_EQ(e.version, v1);
  EXPECT_EQ(registry.generation(), g1);

  OperatorConfig tuned = initial;
  tuned.rules[0].threshold = 3.5;
  tuned.pseudonym_key_version = 9;  // the running key's version is kept
  EXPECT_EQ(registry.decide(tuned).version, "2-" + rules_fingerprint(tuned));
  EXPECT_EQ(registry.version(), v1);  // deciding changes nothing
  e = registry.offer(tuned, {}, "op", "http", kAt + seconds(2));
  EXPECT_EQ(e.outcome, RulesOutcome::applied);
  EXPECT_EQ(e.version, "2-" + rules_fingerprint(tuned));
  EXPECT_GT(registry.generation(), g1);
  EXPECT_DOUBLE_EQ(registry.current()->rules[0].threshold, 3.5);
  EXPECT_EQ(registry.current()->pseudonym_key_version, initial.pseudonym_key_version);

  e = registry.offer(OperatorConfig{}, {"rules.person.threshold: must be > 0 (line 3)"}, "(sighup)",
                     "sighup", kAt + seconds(3));
  EXPECT_EQ(e.outcome, RulesOutcome::refused);
  EXPECT_EQ(e.version, "2-" + rules_fingerprint(tuned));
  EXPECT_THAT(e.errors, ElementsAre("rules.person.threshold: must be > 0 (line 3)"));
  EXPECT_DOUBLE_EQ(registry.current()->rules[0].threshold, 3.5);

  // Back to the first values: a new version (the counter moves on).
  e = registry.offer(initial, {}, "op", "http", kAt + seconds(4));
  EXPECT_EQ(e.outcome, RulesOutcome::applied);
  EXPECT_EQ(e.version, "3-" + rules_fingerprint(initial));

  registry.task_applied("convergence", e.version);
  const auto snap = registry.snapshot();
  ASSERT_EQ(snap.history.size(), 5u);
  std::vector<RulesOutcome> outcomes;
  for (const auto& h : snap.history) outcomes.push_back(h.outcome);
  EXPECT_THAT(outcomes,
              ElementsAre(RulesOutcome::started, RulesOutcome::unchanged, RulesOutcome::applied,
                          RulesOutcome::refused, RulesOutcome::applied));
  EXPECT_EQ(snap.history[3].principal, "(sighup)");
  EXPECT_EQ(snap.tasks.at("convergence"), e.version);
}

TEST(RulesRegistryTest, ReadersOnOtherThreadsSeeWholeRuleSetsWhileReloadsRun) {
  const OperatorConfig initial = test::shipped_settings().operators;
  RulesRegistry registry(initial, kAt);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> torn{0}, reads{0};
  auto reader = [&] {
    std::uint64_t seen = 0;
    while (!done.load()) {
      const std::uint64_t g = registry.generation();
      if (g == seen) continue;
      seen = g;
      auto cfg = registry.current();
      // Each set is written with threshold == half-life in days: a mix of
      // two sets would break it.
      if (cfg->rules[0].threshold != static_cast<double>(cfg->rules[0].half_life / days(1))) {
        ++torn;
      }
      ++reads;
    }
  };
  OperatorConfig base = initial;
  base.rules[0].threshold = static_cast<double>(base.rules[0].half_life / days(1));
  registry.offer(base, {}, "t", "test", kAt);
  std::thread a(reader), b(reader);
  for (int i = 1; i <= 200; ++i) {
    OperatorConfig next = base;
    next.rules[0].half_life = days(i);
    next.rules[0].threshold = i;
    ASSERT_EQ(registry.offer(next, {}, "t", "test", kAt).outcome, RulesOutcome::applied);
  }
  done = true;
  a.join();
  b.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_DOUBLE_EQ(registry.current()->rules[0].threshold, 200);
  EXPECT_EQ(registry.snapshot().history.size(), RulesRegistry::kHistory);
}

}  // namespace
}  // namespace mozaiek
