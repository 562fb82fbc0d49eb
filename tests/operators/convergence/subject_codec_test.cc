#include "operators/convergence/subject_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace mozaiek::convergence {
namespace {

OperatorConfig codec_config() {
  OperatorConfig c;
  c.catalogue.add({"w1", Strength::soft, 1.0, 7, 0});
  c.catalogue.add({"w3", Strength::concrete, 3.0, 7, 0});
  for (const char* name : {"coa", "ind", "police"}) {
    SourcePolicy p;
    p.name = name;
    c.sources.push_back(p);
  }
  c.rules[0].half_life = days(30);
  return c;
}

Subject sample_subject(const RuleParams& p) {
  Subject s;
  s.anchor_ms = 1'704'067'200'000;
  auto add = [&](const char* id, SourceId src, IndicatorId ind, std::int64_t offset_ms,
                 double weight) {
    Entry& e = s.entries.emplace_back();
    e.signal_id = id;
    e.source = src;
    e.indicator = ind;
    e.strength = ind == 1 ? Strength::concrete : Strength::soft;
    e.observed_ms = s.anchor_ms + offset_ms;
    e.reported_ms = e.observed_ms + 86'400'000;
    e.weight = weight;
    e.scaled = scaled_weight(weight, e.observed_ms, s.anchor_ms, p);
  };
  add("a-signal-id-longer-than-sso", 2, 1, -5'000, 3.0);
  add("b", 1, 0, 0, 1.0);
  add("c", 0, 0, 86'400'000, 1.0);
  s.alerted = true;
  s.level = 2;
  s.episode_start_ms = s.anchor_ms - 1;
  s.last_alert_ms = s.anchor_ms + 7;
  s.last_alert_score = 9.123456789;
  AlertIdText id;
  id.fill('f');
  s.alert_ids = {id, id};
  s.alert_ids[1][0] = '0';
  return s;
}

class SubjectCodecTest : public ::testing::Test {
 protected:
  OperatorConfig config_ = codec_config();
  RuleParams params_ = RuleParams::from(config_.rules[0], days(30), days(180));
  SubjectCodec codec_{config_};
};

TEST_F(SubjectCodecTest, RoundTripsEveryPersistedField) {
  const Subject s = sample_subject(params_);
  std::string bytes;
  codec_.encode(s, bytes);
  Subject back;
  ASSERT_TRUE(codec_.decode(bytes, params_, back));
  EXPECT_EQ(back.anchor_ms, s.anchor_ms);
  ASSERT_EQ(back.entries.size(), s.entries.size());
  for (std::size_t i = 0; i < s.entries.size(); ++i) {
    EXPECT_EQ(back.entries[i].signal_id, s.entries[i].signal_id);
    EXPECT_EQ(back.entries[i].source, s.entries[i].source);
    EXPECT_EQ(back.entries[i].indicator, s.entries[i].indicator);
    EXPECT_EQ(back.entries[i].strength, s.entries[i].strength);
    EXPECT_EQ(back.entries[i].observed_ms, s.entries[i].observed_ms);
    EXPECT_EQ(back.entries[i].reported_ms, s.entries[i].reported_ms);
    EXPECT_EQ(back.entries[i].weight, s.entries[i].weight);
    EXPECT_EQ(back.entries[i].scaled, s.entries[i].scaled);  // bit-identical
  }
  EXPECT_TRUE(back.alerted);
  EXPECT_EQ(back.level, 2);
  EXPECT_EQ(back.episode_start_ms, s.episode_start_ms);
  EXPECT_EQ(back.last_alert_ms, s.last_alert_ms);
  EXPECT_EQ(back.last_alert_score, s.last_alert_score);
  EXPECT_EQ(back.alert_ids, s.alert_ids);

  SubjectHeader header;
  ASSERT_TRUE(SubjectCodec::read_header(bytes, header));
  EXPECT_EQ(header.min_observed_ms, s.entries.front().observed_ms);
  EXPECT_EQ(header.last_alert_ms, s.last_alert_ms);
}

TEST_F(SubjectCodecTest, EncodingIsStableAndReusesTheBuffer) {
  const Subject s = sample_subject(params_);
  std::string first, again;
  codec_.encode(s, first);
  codec_.encode(Subject{}, again);  // a shorter value into the same buffer
  codec_.encode(s, again);
  EXPECT_EQ(first, again);
}

TEST_F(SubjectCodecTest, EveryTruncationIsRejectedWithoutCrashing) {
  std::string bytes;
  codec_.encode(sample_subject(params_), bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    Subject back;
    EXPECT_FALSE(codec_.decode(std::string_view(bytes).substr(0, n), params_, back)) << n;
    EXPECT_TRUE(back.entries.empty());
  }
}

TEST_F(SubjectCodecTest, RandomCorruptionNeverCrashes) {
  const std::uint32_t seed = 99;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::string bytes;
  codec_.encode(sample_subject(params_), bytes);
  for (int round = 0; round < 2000; ++round) {
    std::string copy = bytes;
    for (int k = 0; k < 3; ++k) copy[rng() % copy.size()] = static_cast<char>(rng());
    Subject back;
    codec_.decode(copy, params_, back);  // either outcome; must stay in bounds
  }
}

TEST_F(SubjectCodecTest, UnknownVersionIsRejected) {
  std::string bytes;
  codec_.encode(sample_subject(params_), bytes);
  bytes[0] = 9;
  Subject back;
  EXPECT_FALSE(codec_.decode(bytes, params_, back));
  SubjectHeader header;
  EXPECT_FALSE(SubjectCodec::read_header(bytes, header));
}

TEST_F(SubjectCodecTest, NamesSurviveConfigReorderingAndRemovedSourcesAreDropped) {
  std::string bytes;
  codec_.encode(sample_subject(params_), bytes);

  OperatorConfig changed;
  changed.catalogue.add({"new_first", Strength::soft, 2.0, 7, 0});
  changed.catalogue.add({"w3", Strength::concrete, 3.5, 7, 0});  // reweighted
  changed.catalogue.add({"w1", Strength::soft, 1.0, 7, 0});
  for (const char* name : {"police", "coa"}) {  // "ind" is gone, order changed
    SourcePolicy p;
    p.name = name;
    changed.sources.push_back(p);
  }
  SubjectCodec other(changed);
  Subject back;
  ASSERT_TRUE(other.decode(bytes, params_, back));
  ASSERT_EQ(back.entries.size(), 2u);  // b came from "ind"
  EXPECT_EQ(back.entries[0].signal_id, "a-signal-id-longer-than-sso");
  EXPECT_EQ(back.entries[0].source, 0);     // police
  EXPECT_EQ(back.entries[0].indicator, 1);  // w3
  EXPECT_EQ(back.entries[0].weight, 3.5);   // today's catalogue weight
  EXPECT_EQ(back.entries[1].signal_id, "c");
  EXPECT_EQ(back.entries[1].source, 1);     // coa
  EXPECT_EQ(back.entries[1].indicator, 2);  // w1
}

// Found by tests/fuzz/changelog_value_fuzz.cc: an entry whose time delta
// overflows the anchor (signed overflow, undefined behaviour) is a corrupt
// value and is refused.
TEST_F(SubjectCodecTest, RefusesEntryTimesThatOverflow) {
  const std::string bytes(
      "\x01\x00\xf4\x51\xc2\x8c\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x80\xd0\x8f"
      "\xa5\x98\x63\x00\x03\x03\x63\x6f\x61\x05\x6e\x69\x64\x6f\x73\x03\x69\x6e\x64\x03"
      "\x10\x62\x65\x68\x61\x76\x69\x6f\x75\x72\x5f\x63\x68\x61\x6e\x67\x65\x16\x77\x65"
      "\x69\x67\x68\x74\x5f\x6c\x6f\x73\x73\x5f\x6f\x72\x5f\x6e\x65\x67\x6c\x65\x63\x74"
      "\x10\x66\x65\x61\x72\x5f\x6f\x72\x5f\x64\x69\x73\x74\x72\x65\x73\x73\x03\x00\x00"
      "\x00\x00\x80\xba\xb7\x03\x05\x73\x69\x67\x2d\x30\x01\x01\x00\x80\xff\xff\xff\xff"
      "\xff\xff\xff\xff\x73\x69\x67\x2d\x31\x02\x02\x00\x80\xe0\xe5\xa4\x01\x80\xba\xb7"
      "\x03\x05\x73\x69\x67\x2d\x32",
      147);
  Subject back;
  EXPECT_FALSE(codec_.decode(bytes, params_, back));
}

}  // namespace
}  // namespace mozaiek::convergence
