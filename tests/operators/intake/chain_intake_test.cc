#include "operators/intake/chain_intake.h"

#include <gtest/gtest.h>

#include "operators/records/chain_codec.h"
#include "operators/records/chain_router.h"
#include "operators/records/internal_record.h"
#include "operators/records/routed_codec.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

constexpr const char* kHead =
    R"("schema":"mozaiek.chain/v1","at":"2025-03-01T10:00:00Z","reported_at":"2025-03-01T12:00:00Z","org":"coa")";
constexpr const char* kPerson =
    R"({"type":"person","id":"V123-456","id_scheme":"v-number","age_group":"Minor","nationality":"Sudan"})";
constexpr const char* kPlace = R"({"type":"location","id":"COA Budel"})";

std::string doc(const std::string& body) { return std::string("{") + kHead + "," + body + "}"; }

class ChainIntakeTest : public ::testing::Test {
 protected:
  ChainIntakeTest()
      : settings_(test::shipped_settings()), pseudonymiser_("chain-test-key-0123456") {}
  std::optional<Rejection> parse(const std::string& json) { return intake_.parse(json, event_); }
  Settings settings_;
  Pseudonymiser pseudonymiser_;
  ChainIntake intake_{settings_.operators, pseudonymiser_};
  ChainEvent event_;
};

TEST_F(ChainIntakeTest, ParsesEveryTypeWithPersonsPseudonymisedAndPlacesNormalised) {
  ASSERT_FALSE(parse(doc(
      R"("event_id":"e1","type":"melding.feedback","melding_id":"M-1","to":"police","outcome":"arrest")")));
  EXPECT_EQ(event_.type, ChainEventType::melding_feedback);
  EXPECT_EQ(event_.melding_id, "M-1");
  EXPECT_EQ(event_.to, "police");
  EXPECT_EQ(event_.outcome, "arrest");
  EXPECT_FALSE(event_.has_person);
  EXPECT_EQ(event_.at, *parse_rfc3339("2025-03-01T10:00:00Z"));

  ASSERT_FALSE(
      parse(doc(std::string(R"("event_id":"e2","type":"person.departed_unknown","subjects":[)") +
                kPerson + "," + kPlace + "]")));
  EXPECT_TRUE(event_.has_person);
  std::string expected;
  pseudonymiser_.pseudonymise("v-number", normalise_person_id("V123-456"), expected);
  EXPECT_EQ(event_.person.key, expected);
  EXPECT_EQ(settings_.operators.age_groups[event_.person.age_group], "minor");
  EXPECT_EQ(settings_.operators.nationality_regions[event_.person.region], "africa");
  EXPECT_EQ(event_.location, "coa-budel");

  ASSERT_FALSE(parse(doc(
      std::string(
          R"("event_id":"e3","type":"person.transferred","to_location":"COA Gilze","subjects":[)") +
      kPerson + "]")));
  EXPECT_EQ(event_.to_location, "coa-gilze");
  EXPECT_EQ(event_.location, "");
  ASSERT_FALSE(parse(doc(
      std::string(
          R"("event_id":"e4","type":"victim.registered","registry":"comensha","reporter":"kmar","forms":["sexual","labour"],"note":"free text","subjects":[)") +
      kPerson + "]")));
  EXPECT_EQ(event_.forms, kFormSexual | kFormLabour);
  EXPECT_EQ(event_.reporter, "kmar");
}

struct Case {
  const char* name;
  std::string json;
  DlqReason reason;
  const char* detail;
};

std::vector<Case> reject_cases() {
  const std::string p = std::string(R"("subjects":[)") + kPerson + "]";
  return {
      {"not json", "{", DlqReason::malformed_json, "document"},
      {"signal schema", R"({"schema":"mozaiek.signal/v1"})", DlqReason::wrong_schema, "schema"},
      {"no event id", doc(R"("type":"melding.sent","melding_id":"m","to":"x")"),
       DlqReason::missing_field, "event_id"},
      {"unknown type", doc(R"("event_id":"e","type":"melding.lost")"),
       DlqReason::unknown_event_type, "type"},
      {"no melding id", doc(R"("event_id":"e","type":"melding.sent","to":"police")"),
       DlqReason::missing_melding_id, "melding_id"},
      {"empty melding id",
       doc(R"("event_id":"e","type":"melding.acknowledged","melding_id":"","to":"police")"),
       DlqReason::missing_melding_id, "melding_id"},
      {"no to", doc(R"("event_id":"e","type":"melding.sent","melding_id":"m")"),
       DlqReason::missing_field, "to"},
      {"feedback without outcome",
       doc(R"("event_id":"e","type":"melding.feedback","melding_id":"m","to":"x")"),
       DlqReason::missing_field, "outcome"},
      {"departure without person",
       doc(std::string(R"("event_id":"e","type":"person.departed_unknown","subjects":[)") + kPlace +
           "]"),
       DlqReason::missing_person, "subjects"},
      {"arrival without place", doc(R"("event_id":"e","type":"person.arrived",)" + p),
       DlqReason::missing_location, "subjects"},
      {"reappeared without where", doc(R"("event_id":"e","type":"person.reappeared",)" + p),
       DlqReason::missing_field, "where"},
      {"bad to_location",
       doc(R"("event_id":"e","type":"person.transferred","to_location":"a/b",)" + p),
       DlqReason::bad_subject, "to_location"},
      {"bad form",
       doc(R"("event_id":"e","type":"victim.registered","registry":"r","reporter":"x","forms":["slavery"],)" +
           p),
       DlqReason::bad_form, "forms[0]"},
      {"bad subject",
       doc(R"("event_id":"e","type":"person.reappeared","where":"police","subjects":[{"type":"person","id":"--","id_scheme":"v"}])"),
       DlqReason::bad_subject, "subjects[0].id"},
      {"bad time",
       R"({"schema":"mozaiek.chain/v1","event_id":"e","type":"melding.sent","at":"yesterday","reported_at":"2025-03-01T12:00:00Z","org":"coa","melding_id":"m","to":"x"})",
       DlqReason::bad_timestamp, "at"},
      {"no org",
       R"({"schema":"mozaiek.chain/v1","event_id":"e","type":"melding.sent","at":"2025-03-01T12:00:00Z","reported_at":"2025-03-01T12:00:00Z","melding_id":"m","to":"x"})",
       DlqReason::missing_field, "org"},
  };
}

TEST_F(ChainIntakeTest, RejectCasesNameReasonAndField) {
  for (const auto& c : reject_cases()) {
    SCOPED_TRACE(c.name);
    const auto r = parse(c.json);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(to_string(r->reason), to_string(c.reason));
    EXPECT_EQ(r->detail, c.detail);
  }
}

TEST_F(ChainIntakeTest, RejectCasesCoverEveryChainReason) {
  std::set<DlqReason> covered;
  for (const auto& c : reject_cases()) covered.insert(c.reason);
  for (auto r : {DlqReason::unknown_event_type, DlqReason::missing_melding_id,
                 DlqReason::missing_person, DlqReason::missing_location}) {
    EXPECT_TRUE(covered.count(r)) << to_string(r);
  }
}

TEST_F(ChainIntakeTest, TellsChainEventsFromSignalsByTheirSchemaField) {
  EXPECT_TRUE(intake_.claims_chain_schema(doc(R"("event_id":"e")")));
  EXPECT_FALSE(
      intake_.claims_chain_schema(R"({"schema":"mozaiek.signal/v1","note":"mozaiek.chain/v1"})"));
  EXPECT_FALSE(intake_.claims_chain_schema(R"({"schema":"mozaiek.signal/v1"})"));
  EXPECT_FALSE(intake_.claims_chain_schema("not json mozaiek.chain/v1"));
}

TEST_F(ChainIntakeTest, RoutesToTheEntitiesAndRoundTripsAsRecordKindTwo) {
  ASSERT_FALSE(
      parse(doc(std::string(R"("event_id":"e2","type":"person.departed_unknown","subjects":[)") +
                kPerson + "," + kPlace + "]")));
  std::vector<RoutedChainEvent> routed;
  ASSERT_EQ(route_chain_event(event_, *parse_rfc3339("2025-02-01T00:00:00Z"), routed), 2u);
  std::string key;
  chain_routing_key(routed[0], key);
  EXPECT_EQ(key, "person:" + event_.person.key);
  chain_routing_key(routed[1], key);
  EXPECT_EQ(key, "location:coa-budel");

  std::string bytes;
  encode_routed_chain(routed[0], settings_.operators, bytes);
  EXPECT_EQ(internal_record_kind(bytes), InternalRecordKind::chain_event);
  RoutedSignal not_a_signal;
  EXPECT_FALSE(decode_routed(bytes, settings_.operators, not_a_signal));
  RoutedChainEvent back;
  ASSERT_TRUE(decode_routed_chain(bytes, settings_.operators, back));
  EXPECT_EQ(back.entity, ChainEntity::person);
  EXPECT_EQ(back.entity_key, event_.person.key);
  EXPECT_EQ(back.event.event_id, "e2");
  EXPECT_EQ(back.event.type, ChainEventType::person_departed_unknown);
  EXPECT_EQ(back.event.person.age_group, event_.person.age_group);
  EXPECT_EQ(back.event.person.region, event_.person.region);
  EXPECT_EQ(back.event.location, "coa-budel");
  EXPECT_EQ(back.event.at, event_.at);
  EXPECT_EQ(back.watermark, *parse_rfc3339("2025-02-01T00:00:00Z"));
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(
        decode_routed_chain(std::string_view(bytes).substr(0, cut), settings_.operators, back));
  }

  ASSERT_FALSE(
      parse(doc(R"("event_id":"e1","type":"melding.sent","melding_id":"M-7","to":"police")")));
  ASSERT_EQ(route_chain_event(event_, kMinEventTime, routed), 1u);
  chain_routing_key(routed[0], key);
  EXPECT_EQ(key, "melding:M-7");
}

}  // namespace
}  // namespace mozaiek
