#include "operators/records/alert_json.h"

#include <gtest/gtest.h>

namespace mozaiek {
namespace {

OperatorConfig small_config() {
  OperatorConfig c;
  c.catalogue.add({"unexplained_money", Strength::soft, 2.0, 1, 0});
  c.catalogue.add({"route_forced_work", Strength::concrete, 3.0, 1, 0});
  SourcePolicy coa;
  coa.name = "coa";
  SourcePolicy ind;
  ind.name = "ind";
  c.sources = {coa, ind};
  return c;
}

Alert sample_alert() {
  Alert a;
  a.alert_id = "0123456789abcdef0123456789abcdef";
  a.rule = "person_convergence";
  a.subject_type = SubjectType::person;
  a.subject_key = "ab12";
  a.score = 6.4313;
  a.sources = {"coa", "ind"};
  a.first_seen = *parse_rfc3339("2024-01-01T00:00:00Z");
  a.last_seen = *parse_rfc3339("2024-01-02T00:00:00Z");
  a.raised_at = ProcTime{Millis{1'709'294'400'250}};
  a.detection_delay_seconds = 5'184'000;
  Contribution x;
  x.signal_id = "coa-1";
  x.source = 0;
  x.indicator = 0;
  x.observed_at = a.first_seen;
  x.weight = 2.0;
  x.decayed_weight = 1.954347;
  Contribution z;
  z.signal_id = "ind-\"7\"";
  z.source = 1;
  z.indicator = 1;
  z.observed_at = a.last_seen;
  z.weight = 3.0;
  z.decayed_weight = 3.0;
  a.contributions = {x, z};
  a.linked.push_back({SubjectType::vehicle, "NL-AB123C", "person_vehicle", {"coa-1"}});
  return a;
}

TEST(AlertJsonTest, WritesAlertV1WithNamesAndRfc3339Times) {
  std::string out;
  write_alert_json(sample_alert(), small_config(), out);
  EXPECT_EQ(out, R"({"schema":"mozaiek.alert/v1","alert_id":"0123456789abcdef0123456789abcdef",)"
                 R"("rule":"person_convergence","purpose":"investigation",)"
                 R"("subject":{"type":"person","key":"ab12"},)"
                 R"("score":6.431,"sources":["coa","ind"],"first_seen":"2024-01-01T00:00:00Z",)"
                 R"("last_seen":"2024-01-02T00:00:00Z","raised_at":"2024-03-01T12:00:00.250Z",)"
                 R"("detection_delay_seconds":5184000,"contributions":[)"
                 R"({"signal_id":"coa-1","source":"coa","indicator":"unexplained_money",)"
                 R"("observed_at":"2024-01-01T00:00:00Z","weight":2,"decayed_weight":1.9543},)"
                 R"({"signal_id":"ind-\"7\"","source":"ind","indicator":"route_forced_work",)"
                 R"("observed_at":"2024-01-02T00:00:00Z","weight":3,"decayed_weight":3}],)"
                 R"("linked":[{"type":"vehicle","key":"NL-AB123C","rule":"person_vehicle",)"
                 R"("via":["coa-1"]}],"status":"new","level":0,"pseudonym_key_version":1})");
}

TEST(AlertJsonTest, ReadsBackWhatItWrote) {
  std::string out;
  const Alert a = sample_alert();
  write_alert_json(a, small_config(), out);
  Alert back;
  ASSERT_TRUE(read_alert_json(out, back));
  EXPECT_EQ(back.alert_id, a.alert_id);
  EXPECT_EQ(back.rule, a.rule);
  EXPECT_EQ(back.subject_type, a.subject_type);
  EXPECT_EQ(back.subject_key, a.subject_key);
  EXPECT_DOUBLE_EQ(back.score, 6.431);
  EXPECT_EQ(back.sources, a.sources);
  EXPECT_EQ(back.first_seen, a.first_seen);
  EXPECT_EQ(back.last_seen, a.last_seen);
  EXPECT_EQ(back.raised_at, a.raised_at);
  EXPECT_DOUBLE_EQ(back.detection_delay_seconds, a.detection_delay_seconds);
  ASSERT_EQ(back.contributions.size(), 2u);
  EXPECT_EQ(back.contributions[1].signal_id, "ind-\"7\"");
  EXPECT_DOUBLE_EQ(back.contributions[0].decayed_weight, 1.9543);
  ASSERT_EQ(back.linked.size(), 1u);
  EXPECT_EQ(back.linked[0].via, (std::vector<std::string>{"coa-1"}));
  EXPECT_EQ(back.status, "new");
  EXPECT_EQ(back.level, 0);
  EXPECT_EQ(back.purpose, Purpose::investigation);
}

TEST(AlertJsonTest, PurposeRoundTripsAndOlderAlertsReadAsInvestigation) {
  Alert a = sample_alert();
  a.purpose = Purpose::care;
  std::string out;
  write_alert_json(a, small_config(), out);
  EXPECT_NE(out.find(R"("purpose":"care")"), std::string::npos) << out;
  Alert back;
  ASSERT_TRUE(read_alert_json(out, back));
  EXPECT_EQ(back.purpose, Purpose::care);
  // Written before alerts carried a purpose.
  std::string older = out;
  older.erase(older.find(R"("purpose":"care",)"), std::string_view(R"("purpose":"care",)").size());
  ASSERT_TRUE(read_alert_json(older, back)) << older;
  EXPECT_EQ(back.purpose, Purpose::investigation);
  // An alert is never aggregate_only, nor anything else.
  for (const char* bad : {"aggregate_only", "police"}) {
    std::string wrong = out;
    wrong.replace(wrong.find(R"("care")"), 6, std::string("\"") + bad + "\"");
    EXPECT_FALSE(read_alert_json(wrong, back)) << wrong;
  }
}

TEST(AlertJsonTest, UnknownIdsAreWrittenAsUnknownRatherThanCrashing) {
  Alert a = sample_alert();
  a.contributions[0].source = 42;
  a.contributions[0].indicator = 999;
  std::string out;
  write_alert_json(a, small_config(), out);
  EXPECT_NE(out.find(R"("source":"unknown","indicator":"unknown")"), std::string::npos);
}

TEST(AlertJsonTest, RejectsOtherSchemasAndMalformedDocuments) {
  Alert back;
  EXPECT_FALSE(read_alert_json("", back));
  EXPECT_FALSE(read_alert_json("{", back));
  EXPECT_FALSE(read_alert_json(R"({"schema":"mozaiek.signal/v1"})", back));
  EXPECT_FALSE(read_alert_json(R"({"schema":"mozaiek.alert/v1","alert_id":"x"})", back));
  std::string out;
  write_alert_json(sample_alert(), small_config(), out);
  const auto pos = out.find(R"("type":"person")");
  out.replace(pos, 15, R"("type":"planet")");
  EXPECT_FALSE(read_alert_json(out, back));
}

}  // namespace
}  // namespace mozaiek
