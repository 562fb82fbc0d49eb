#include "operators/records/routed_codec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

namespace mozaiek {
namespace {

OperatorConfig make_config(bool reordered = false) {
  OperatorConfig c;
  const Indicator a{"behaviour_change", Strength::soft, 1.0, 1, 0};
  const Indicator b{"visitor_vehicle", Strength::soft, 2.0, 7, 0};
  SourcePolicy coa;
  coa.name = "coa";
  SourcePolicy nidos;
  nidos.name = "nidos";
  if (reordered) {
    c.catalogue.add({"new_indicator", Strength::soft, 1.0, 1, 0});
    c.catalogue.add(b);
    c.catalogue.add(a);
    c.sources = {nidos, coa};
  } else {
    c.catalogue.add(a);
    c.catalogue.add(b);
    c.sources = {coa, nidos};
  }
  return c;
}

RoutedSignal make_routed() {
  RoutedSignal r;
  r.subject_type = SubjectType::vehicle;
  r.subject_key = "FR-AB123CD";
  r.signal_id = "nidos-2024-17";
  r.source = 1;     // nidos
  r.indicator = 1;  // visitor_vehicle
  r.strength = Strength::concrete;
  r.observed_at = event_time_from_ms(1'709'287'200'000);
  r.reported_at = event_time_from_ms(1'709'287'200'000 + 86'400'000);
  r.watermark = kMinEventTime;
  r.co_subjects = {{SubjectType::person, std::string(64, 'f')},
                   {SubjectType::location, "coa-ter-apel"}};
  return r;
}

void expect_same(const RoutedSignal& a, const RoutedSignal& b) {
  EXPECT_EQ(a.subject_type, b.subject_type);
  EXPECT_EQ(a.subject_key, b.subject_key);
  EXPECT_EQ(a.signal_id, b.signal_id);
  EXPECT_EQ(a.strength, b.strength);
  EXPECT_EQ(a.observed_at, b.observed_at);
  EXPECT_EQ(a.reported_at, b.reported_at);
  EXPECT_EQ(a.watermark, b.watermark);
  EXPECT_EQ(a.co_subjects, b.co_subjects);
}

TEST(RoutedCodecTest, RoundTripsEveryField) {
  const OperatorConfig config = make_config();
  const RoutedSignal in = make_routed();
  std::string bytes = "stale content";
  encode_routed(in, config, bytes);
  RoutedSignal out;
  out.co_subjects.resize(5);
  ASSERT_TRUE(decode_routed(bytes, config, out));
  expect_same(in, out);
  EXPECT_EQ(out.source, in.source);
  EXPECT_EQ(out.indicator, in.indicator);
  // Compact: the strings plus a few bytes of framing.
  std::size_t strings = in.subject_key.size() + in.signal_id.size() + 5 + 15;
  for (const auto& co : in.co_subjects) strings += co.second.size();
  EXPECT_LE(bytes.size(), strings + 40);
}

TEST(RoutedCodecTest, CarePurposeRoundTripsAndInvestigationStaysAsBefore) {
  const OperatorConfig config = make_config();
  RoutedSignal in = make_routed();
  std::string investigation;
  encode_routed(in, config, investigation);
  in.purpose = Purpose::care;
  std::string care;
  encode_routed(in, config, care);
  // Investigation records keep the layout written before purposes existed.
  EXPECT_EQ(care.substr(0, investigation.size()), investigation);
  EXPECT_EQ(care.size(), investigation.size() + 1);
  RoutedSignal out;
  ASSERT_TRUE(decode_routed(care, config, out));
  expect_same(in, out);
  EXPECT_EQ(out.purpose, Purpose::care);
  ASSERT_TRUE(decode_routed(investigation, config, out));
  EXPECT_EQ(out.purpose, Purpose::investigation);
  std::string aggregate = investigation;
  aggregate.push_back(static_cast<char>(Purpose::aggregate_only));
  EXPECT_FALSE(decode_routed(aggregate, config, out)) << "never routed, never decoded";
}

TEST(RoutedCodecTest, ReceptionMarksRoundTripForEitherPurpose) {
  const OperatorConfig config = make_config();
  RoutedSignal in = make_routed();
  std::string plain;
  encode_routed(in, config, plain);
  in.co_reception = 2;  // the location "coa-ter-apel"
  for (Purpose purpose : {Purpose::investigation, Purpose::care}) {
    in.purpose = purpose;
    std::string bytes;
    encode_routed(in, config, bytes);
    EXPECT_EQ(bytes.substr(0, plain.size()), plain);
    RoutedSignal out;
    out.subject_reception = true;  // stale
    ASSERT_TRUE(decode_routed(bytes, config, out));
    expect_same(in, out);
    EXPECT_EQ(out.purpose, purpose);
    EXPECT_FALSE(out.subject_reception);
    EXPECT_EQ(out.co_reception, 2u);
    EXPECT_FALSE(out.co_is_reception(0));
    EXPECT_TRUE(out.co_is_reception(1));
    EXPECT_FALSE(decode_routed(bytes + '\0', config, out));
  }
  in.subject_type = SubjectType::location;
  in.subject_reception = true;
  in.co_reception = 0;
  std::string bytes;
  encode_routed(in, config, bytes);
  RoutedSignal out;
  ASSERT_TRUE(decode_routed(bytes, config, out));
  EXPECT_TRUE(out.subject_reception);
  EXPECT_EQ(out.co_reception, 0u);
  // Without marks the bytes are those written before marks existed.
  ASSERT_TRUE(decode_routed(plain, config, out));
  EXPECT_FALSE(out.subject_reception);
  EXPECT_EQ(out.co_reception, 0u);
}

TEST(RoutedCodecTest, RoundTripsExtremesAndEmptyCoSubjects) {
  const OperatorConfig config = make_config();
  RoutedSignal in = make_routed();
  in.co_subjects.clear();
  for (EventTime t :
       {kMinEventTime, kMaxEventTime, event_time_from_ms(0), event_time_from_ms(-1)}) {
    in.observed_at = in.reported_at = in.watermark = t;
    std::string bytes;
    encode_routed(in, config, bytes);
    RoutedSignal out;
    ASSERT_TRUE(decode_routed(bytes, config, out));
    expect_same(in, out);
  }
}

TEST(RoutedCodecTest, SourceAndIndicatorTravelByName) {
  std::string bytes;
  encode_routed(make_routed(), make_config(), bytes);
  const OperatorConfig newer = make_config(/*reordered=*/true);
  RoutedSignal out;
  ASSERT_TRUE(decode_routed(bytes, newer, out));
  EXPECT_EQ(newer.sources[out.source].name, "nidos");
  EXPECT_EQ(newer.catalogue.at(out.indicator).code, "visitor_vehicle");

  OperatorConfig without_nidos = make_config();
  without_nidos.sources.pop_back();
  EXPECT_FALSE(decode_routed(bytes, without_nidos, out));
  OperatorConfig other_catalogue;
  other_catalogue.sources = make_config().sources;
  other_catalogue.catalogue.add({"behaviour_change", Strength::soft, 1.0, 1, 0});
  EXPECT_FALSE(decode_routed(bytes, other_catalogue, out));
}

TEST(RoutedCodecTest, EveryPrefixAndAnyTrailingByteFailToDecode) {
  const OperatorConfig config = make_config();
  std::string bytes;
  encode_routed(make_routed(), config, bytes);
  RoutedSignal out;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_routed(std::string_view(bytes).substr(0, n), config, out)) << n;
  }
  EXPECT_FALSE(decode_routed(bytes + '\0', config, out));
  std::string other_version = bytes;
  other_version[0] = static_cast<char>(kRoutedCodecVersion + 1);
  EXPECT_FALSE(decode_routed(other_version, config, out));
  std::string bad_type = bytes;
  bad_type[1] = 3;
  EXPECT_FALSE(decode_routed(bad_type, config, out));
}

TEST(RoutedCodecTest, RandomMutationsNeverCrash) {
  const char* fixed = std::getenv("MOZAIEK_TEST_SEED");
  const auto seed = fixed ? static_cast<unsigned>(std::stoul(fixed)) : std::random_device{}();
  std::cout << "[ SEED     ] RoutedCodecTest.RandomMutationsNeverCrash seed=" << seed << "\n";
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  const OperatorConfig config = make_config();
  std::string valid;
  encode_routed(make_routed(), config, valid);
  RoutedSignal out;
  for (int i = 0; i < 50'000; ++i) {
    std::string bytes = valid;
    if (i % 2 == 0) {
      bytes.resize(static_cast<std::size_t>(byte(rng)));
      for (auto& c : bytes) c = static_cast<char>(byte(rng));
    } else {
      for (int e = 0; e < 1 + i % 3; ++e) {
        bytes[static_cast<std::size_t>(byte(rng)) % bytes.size()] = static_cast<char>(byte(rng));
      }
    }
    if (decode_routed(bytes, config, out)) {
      EXPECT_LT(static_cast<std::size_t>(out.subject_type), kSubjectTypeCount);
      EXPECT_LT(out.source, config.sources.size());
      EXPECT_LT(out.indicator, config.catalogue.size());
    }
  }
}

}  // namespace
}  // namespace mozaiek
