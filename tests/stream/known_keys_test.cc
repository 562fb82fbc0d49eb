#include "stream/known_keys.h"

#include <gtest/gtest.h>

#include <random>

namespace mozaiek {
namespace {

TEST(KnownKeysTest, EveryAddedHashIsKnownAcrossGrowth) {
  const std::uint32_t seed = 42;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> added(100'000);
  KnownKeys known;
  for (auto& h : added) {
    h = rng();
    known.add(h);
  }
  for (std::uint64_t h : added) ASSERT_TRUE(known.may_contain(h)) << h;
  // Hashes never added are almost always answered "absent": the fingerprint
  // is 32 bits, so 100k keys make about 100k / 2^32 false "maybe"s each.
  int maybe = 0;
  for (int i = 0; i < 100'000; ++i) maybe += known.may_contain(rng()) ? 1 : 0;
  EXPECT_LT(maybe, 10);
}

TEST(KnownKeysTest, EmptyAndClearedKnowNothing) {
  KnownKeys known;
  EXPECT_FALSE(known.may_contain(0));
  EXPECT_FALSE(known.may_contain(0x1234'5678'9abc'def0));
  known.add(0x1234'5678'9abc'def0);
  EXPECT_TRUE(known.may_contain(0x1234'5678'9abc'def0));
  known.clear();
  EXPECT_EQ(known.size(), 0u);
  EXPECT_FALSE(known.may_contain(0x1234'5678'9abc'def0));
}

TEST(KnownKeysTest, AZeroFingerprintIsStillKnown) {
  KnownKeys known;
  known.add(0x0000'0000'0000'0042);  // high half 0: stored as 1
  EXPECT_TRUE(known.may_contain(0x0000'0000'0000'0042));
  EXPECT_TRUE(known.may_contain(0x0000'0001'0000'0000));  // shares fingerprint 1: "maybe"
  EXPECT_EQ(known.size(), 1u);
}

}  // namespace
}  // namespace mozaiek
