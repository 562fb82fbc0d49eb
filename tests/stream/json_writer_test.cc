#include "stream/json_writer.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "stream/time.h"

namespace mozaiek {
namespace {

TEST(JsonWriterTest, SeparatesMembersAndElementsAtEveryDepth) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .key("a")
      .integer(1)
      .key("list")
      .begin_array()
      .integer(1)
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .string("x")
      .end_array()
      .key("nested")
      .begin_object()
      .key("t")
      .boolean(true)
      .key("n")
      .null()
      .end_object()
      .end_object();
  EXPECT_EQ(out, R"({"a":1,"list":[1,{},[],"x"],"nested":{"t":true,"n":null}})");
}

TEST(JsonWriterTest, AppendsToExistingContent) {
  std::string out = "prefix ";
  JsonWriter(out).begin_array().integer(-5).end_array();
  EXPECT_EQ(out, "prefix [-5]");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlCharacters) {
  std::string out;
  JsonWriter(out).string(std::string("a\"b\\c\nd\te\x01\x1f\0f\r\b\f", 16));
  EXPECT_EQ(out, R"("a\"b\\c\nd\te\u0001\u001f\u0000f\r\b\f")");
}

TEST(JsonWriterTest, PassesUtf8Through) {
  std::string out;
  JsonWriter(out).string("zoë → ✓");
  EXPECT_EQ(out, "\"zoë → ✓\"");
}

TEST(JsonWriterTest, NumbersAreRoundedAndTrimmed) {
  auto num = [](double v, int decimals) {
    std::string out;
    JsonWriter(out).number(v, decimals);
    return out;
  };
  EXPECT_EQ(num(7.25, 3), "7.25");
  EXPECT_EQ(num(2.0, 3), "2");
  EXPECT_EQ(num(1.0 / 3.0, 3), "0.333");
  EXPECT_EQ(num(2.6666666, 3), "2.667");
  EXPECT_EQ(num(0.0004, 3), "0");
  EXPECT_EQ(num(-0.0001, 3), "0");
  EXPECT_EQ(num(-1.5, 1), "-1.5");
  EXPECT_EQ(num(123456789.0, 0), "123456789");
  EXPECT_EQ(num(1e300, 2).size(), 301u);
  EXPECT_EQ(num(std::numeric_limits<double>::quiet_NaN(), 3), "null");
  EXPECT_EQ(num(std::numeric_limits<double>::infinity(), 3), "null");
}

TEST(JsonWriterTest, TimestampsMatchFormatRfc3339) {
  auto ts = [](std::int64_t ms) {
    std::string out;
    JsonWriter(out).timestamp(ms);
    return out;
  };
  EXPECT_EQ(ts(1'709'294'400'250), "\"2024-03-01T12:00:00.250Z\"");
  EXPECT_EQ(ts(0), "\"1970-01-01T00:00:00Z\"");
  const std::uint32_t seed = 5;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    // From year ~1600 to ~2400, and a few far out of the 4-digit range.
    std::int64_t ms = static_cast<std::int64_t>(rng() % 25'000'000'000'000) - 11'000'000'000'000;
    if (i % 1000 == 0) ms *= 40;
    if (i % 7 == 0) ms -= ms % 1000;  // whole seconds
    ASSERT_EQ(ts(ms), "\"" + format_rfc3339(event_time_from_ms(ms)) + "\"") << ms;
  }
}

TEST(JsonWriterTest, ReusedOutputDoesNotReallocate) {
  std::string out;
  out.reserve(256);
  const auto* data = out.data();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    JsonWriter(out).begin_object().key("id").string("abc").key("score").number(6.5, 3).end_object();
  }
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out, R"({"id":"abc","score":6.5})");
}

}  // namespace
}  // namespace mozaiek
