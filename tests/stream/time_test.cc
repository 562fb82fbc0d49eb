#include "stream/time.h"

#include <gtest/gtest.h>

namespace mozaiek {
namespace {

TEST(Rfc3339Test, ParsesUtcAndOffsetsToTheSameInstant) {
  auto utc = parse_rfc3339("2024-03-01T12:00:00Z");
  auto plus_one = parse_rfc3339("2024-03-01T13:00:00+01:00");
  ASSERT_TRUE(utc && plus_one);
  EXPECT_EQ(*utc, *plus_one);
  EXPECT_EQ(to_ms(*utc), 1709294400000);
}

TEST(Rfc3339Test, KeepsMillisecondsAndRoundTrips) {
  auto t = parse_rfc3339("2024-02-29T23:59:59.250Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2024-02-29T23:59:59.250Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("1999-12-31T00:00:00Z")), "1999-12-31T00:00:00Z");
}

TEST(Rfc3339Test, RejectsMalformedAndOutOfRangeText) {
  for (const char* bad : {"", "2024-03-01", "2024-03-01 12:00:00", "2024-02-30T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-03-01T24:00:00Z",
                          "2024-03-01T12:00:00", "2024-03-01T12:00:00ZZ",
                          "2024-03-01T12:00:00+1:00", "yesterday", "2024-03-01T12:00:00.Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

TEST(ManualClockTest, AdvancesOnlyWhenTold) {
  ManualClock clock;
  const auto start = clock.now();
  clock.advance(seconds(5));
  EXPECT_EQ(clock.now() - start, seconds(5));
}

}  // namespace
}  // namespace mozaiek
