#include "operators/intake/signal_intake.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "operators/intake/pseudonymiser.h"
#include "operators/pipeline/intake_stage.h"
#include "operators/records/routed_codec.h"
#include "operators/records/subject_router.h"

namespace mozaiek {
namespace {

constexpr std::string_view kKey = "intake-test-key-0123456789";

// A small catalogue and three partners with different policies.
OperatorConfig make_config() {
  OperatorConfig c;
  c.catalogue.add({"behaviour_change", Strength::soft, 1.0, 0b001, kFormSexual | kFormLabour});
  c.catalogue.add({"route_forced_work", Strength::concrete, 3.0, 0b001, kFormLabour});
  c.catalogue.add({"visitor_vehicle", Strength::soft, 2.0, 0b111, 0});
  c.catalogue.add({"overcrowded_address", Strength::soft, 2.0, 0b100, kFormLabour});
  SourcePolicy coa;
  coa.name = "coa";
  SourcePolicy nidos;
  nidos.name = "nidos";
  nidos.consent_default = false;
  SourcePolicy ind;
  ind.name = "ind";
  ind.person_level = {*c.catalogue.find("route_forced_work")};
  SourcePolicy care;  // a care party whose signals serve care only
  care.name = "care";
  care.purposes = purpose_bit(Purpose::care);
  SourcePolicy stats;  // a source for aggregate figures only
  stats.name = "stats";
  stats.purposes = purpose_bit(Purpose::aggregate_only);
  c.sources = {coa, nidos, ind, care, stats};
  c.max_subjects_per_signal = 4;
  c.max_field_bytes = 64;
  return c;
}

// A valid signal as raw JSON members, so a test can change, add or drop one.
class SignalJson {
 public:
  SignalJson() {
    set("schema", R"("mozaiek.signal/v1")");
    set("signal_id", R"("coa-2024-0001")");
    set("source", R"("coa")");
    set("unit", R"("azc-budel")");
    set("observed_at", R"("2024-03-01T10:00:00Z")");
    set("reported_at", R"("2024-03-15T08:30:00+01:00")");
    set("indicator", R"("visitor_vehicle")");
    set("subjects", R"([{"type":"person","id":"1234.56.789","id_scheme":"v-number",)"
                    R"("role":"resident","age_group":"minor","nationality":"SD"},)"
                    R"({"type":"vehicle","plate":"ab-123-cd","country":"F"},)"
                    R"({"type":"location","id":"COA Ter Apel","kind":"reception_centre"}])");
  }
  SignalJson& set(const std::string& field, const std::string& raw_value) {
    for (auto& [k, v] : members_) {
      if (k == field) {
        v = raw_value;
        return *this;
      }
    }
    members_.emplace_back(field, raw_value);
    return *this;
  }
  SignalJson& erase(const std::string& field) {
    std::erase_if(members_, [&](const auto& m) { return m.first == field; });
    return *this;
  }
  SignalJson& reverse() {
    std::reverse(members_.begin(), members_.end());
    return *this;
  }
  std::string str() const {
    std::string out = "{";
    for (const auto& [k, v] : members_) {
      if (out.size() > 1) out += ",";
      out.append("\"").append(k).append("\":").append(v);
    }
    return out + "}";
  }

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

// A valid signal with one member replaced.
std::string signal_with(const std::string& field, const std::string& raw_value) {
  return SignalJson().set(field, raw_value).str();
}

std::string person_subject(const std::string& id, const std::string& extra = "") {
  return R"({"type":"person","id":")" + id + R"(","id_scheme":"bsn")" + extra + "}";
}

class SignalIntakeTest : public ::testing::Test {
 protected:
  // A record as consumed from `topic`.
  static RecordView record(std::string_view topic, const std::string& value) {
    return RecordView{topic, Partition{0}, Offset{1}, "k", value, ProcTime{}};
  }
  std::optional<Rejection> parse(const std::string& json,
                                 std::optional<SourceId> topic_source = std::nullopt) {
    return intake_.parse(json, topic_source, signal_);
  }
  std::string pseudonym(std::string_view scheme, std::string_view id) const {
    std::string out;
    pseudonymiser_.pseudonymise(scheme, normalise_person_id(id), out);
    return out;
  }

  OperatorConfig config_ = make_config();
  Pseudonymiser pseudonymiser_{kKey};
  SignalIntake intake_{config_, pseudonymiser_};
  Signal signal_;
};

TEST_F(SignalIntakeTest, ValidSignalWithAllSubjectTypesIsNormalised) {
  const auto r = parse(SignalJson().str(), SourceId{0});
  ASSERT_FALSE(r) << r->detail;
  EXPECT_EQ(signal_.signal_id, "coa-2024-0001");
  EXPECT_EQ(signal_.source, 0);
  EXPECT_EQ(signal_.indicator, *config_.catalogue.find("visitor_vehicle"));
  EXPECT_EQ(signal_.strength, Strength::soft);
  EXPECT_EQ(signal_.forms, 0);
  EXPECT_TRUE(signal_.consent);
  EXPECT_TRUE(signal_.person_level);
  EXPECT_EQ(signal_.observed_at, *parse_rfc3339("2024-03-01T10:00:00Z"));
  EXPECT_EQ(signal_.reported_at, *parse_rfc3339("2024-03-15T07:30:00Z"));
  ASSERT_EQ(signal_.subject_count, 3u);

  const SubjectRef& person = signal_.subjects[0];
  EXPECT_EQ(person.type, SubjectType::person);
  EXPECT_EQ(person.key, pseudonym("v-number", "123456789"));
  EXPECT_EQ(config_.age_groups[person.age_group], "minor");
  EXPECT_EQ(config_.nationality_regions[person.region], "africa");

  EXPECT_EQ(signal_.subjects[1].type, SubjectType::vehicle);
  EXPECT_EQ(signal_.subjects[1].key, "FR-AB123CD");
  EXPECT_EQ(signal_.subjects[2].type, SubjectType::location);
  EXPECT_EQ(signal_.subjects[2].key, "coa-ter-apel");
}

TEST_F(SignalIntakeTest, FieldOrderDoesNotChangeTheResult) {
  ASSERT_FALSE(parse(SignalJson().str()));
  const Signal forward = signal_;
  ASSERT_FALSE(parse(SignalJson().reverse().str()));
  EXPECT_EQ(signal_.signal_id, forward.signal_id);
  EXPECT_EQ(signal_.observed_at, forward.observed_at);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(signal_.subjects[i].key, forward.subjects[i].key);

  // Subject members in another order.
  ASSERT_FALSE(
      parse(signal_with("subjects", R"([{"country":"F","plate":"AB123CD","type":"vehicle"}])")));
  EXPECT_EQ(signal_.subjects[0].key, "FR-AB123CD");
}

TEST_F(SignalIntakeTest, StrengthDefaultsFromTheCatalogueAndMayBeOverridden) {
  ASSERT_FALSE(parse(signal_with("indicator", R"("route_forced_work")")));
  EXPECT_EQ(signal_.strength, Strength::concrete);
  ASSERT_FALSE(parse(
      SignalJson().set("indicator", R"("route_forced_work")").set("strength", R"("soft")").str()));
  EXPECT_EQ(signal_.strength, Strength::soft);
  ASSERT_FALSE(parse(signal_with("strength", R"("concrete")")));
  EXPECT_EQ(signal_.strength, Strength::concrete);
}

TEST_F(SignalIntakeTest, FormsAreCombinedIntoABitSet) {
  ASSERT_FALSE(parse(signal_with("forms", R"(["labour","sexual","labour"])")));
  EXPECT_EQ(signal_.forms, kFormLabour | kFormSexual);
  ASSERT_FALSE(parse(signal_with("forms", "[]")));
  EXPECT_EQ(signal_.forms, 0);
}

TEST_F(SignalIntakeTest, ConsentDefaultsPerSourceAndLimitsPersonLevel) {
  // nidos: consent defaults to false -> aggregate only.
  ASSERT_FALSE(parse(signal_with("source", R"("nidos")")));
  EXPECT_FALSE(signal_.consent);
  EXPECT_FALSE(signal_.person_level);
  ASSERT_FALSE(parse(SignalJson().set("source", R"("nidos")").set("consent", "true").str()));
  EXPECT_TRUE(signal_.person_level);
  ASSERT_FALSE(parse(signal_with("consent", "false")));
  EXPECT_FALSE(signal_.person_level);
  // ind may correlate persons only on route_forced_work.
  ASSERT_FALSE(parse(signal_with("source", R"("ind")")));
  EXPECT_TRUE(signal_.consent);
  EXPECT_FALSE(signal_.person_level);
  ASSERT_FALSE(parse(
      SignalJson().set("source", R"("ind")").set("indicator", R"("route_forced_work")").str()));
  EXPECT_TRUE(signal_.person_level);
}

TEST_F(SignalIntakeTest, PurposesComeFromTheSource) {
  ASSERT_FALSE(parse(SignalJson().str()));
  EXPECT_EQ(signal_.purposes, purpose_bit(Purpose::investigation));
  ASSERT_FALSE(parse(signal_with("source", R"("care")")));
  EXPECT_TRUE(signal_.person_level);
  EXPECT_EQ(signal_.purposes, purpose_bit(Purpose::care));
  // aggregate_only: valid, counted, never person level, even with consent.
  ASSERT_FALSE(parse(SignalJson().set("source", R"("stats")").set("consent", "true").str()));
  EXPECT_TRUE(signal_.consent);
  EXPECT_FALSE(signal_.person_level);
}

TEST_F(SignalIntakeTest, NoteUnknownFieldsAndNullOptionalsAreIgnored) {
  const auto json = SignalJson()
                        .set("note", R"("he said the man with the van took his passport")")
                        .set("x_partner_extension", R"({"nested":[1,2.5e3,true,null,{"a":"b"}]})")
                        .set("unit", "null")
                        .set("strength", "null")
                        .set("forms", "null")
                        .set("consent", "null")
                        .str();
  const auto r = parse(json);
  ASSERT_FALSE(r) << r->detail;
  EXPECT_EQ(signal_.strength, Strength::soft);
  EXPECT_TRUE(signal_.consent);
}

TEST_F(SignalIntakeTest, AgeGroupAndNationalityMapToConfiguredLabels) {
  auto with_person = [&](const std::string& extra) {
    return SignalJson().set("subjects", "[" + person_subject("X1", extra) + "]").str();
  };
  ASSERT_FALSE(parse(with_person(R"(,"age_group":"Adult","nationality":"vietnamese")")));
  EXPECT_EQ(config_.age_groups[signal_.subjects[0].age_group], "adult");
  EXPECT_EQ(config_.nationality_regions[signal_.subjects[0].region], "asia");
  ASSERT_FALSE(parse(with_person(R"(,"age_group":"toddler","nationality":"Atlantis")")));
  EXPECT_EQ(config_.age_groups[signal_.subjects[0].age_group], "unknown");
  EXPECT_EQ(config_.nationality_regions[signal_.subjects[0].region], "unknown");
  ASSERT_FALSE(parse(with_person("")));
  EXPECT_EQ(config_.age_groups[signal_.subjects[0].age_group], "unknown");
  EXPECT_EQ(config_.nationality_regions[signal_.subjects[0].region], "unknown");
}

TEST_F(SignalIntakeTest, PersonIdSpellingsShareOnePseudonymButSchemesDoNot) {
  std::vector<std::string> keys;
  for (const char* id : {"1234.56.789", " 123456789 ", "1234-56-789", "123 456 789"}) {
    ASSERT_FALSE(parse(SignalJson().set("subjects", "[" + person_subject(id) + "]").str()));
    keys.push_back(signal_.subjects[0].key);
  }
  for (const auto& k : keys) EXPECT_EQ(k, keys[0]);
  ASSERT_FALSE(parse(
      signal_with("subjects", R"([{"type":"person","id":"123456789","id_scheme":" BSN "}])")));
  EXPECT_EQ(signal_.subjects[0].key, keys[0]);
  ASSERT_FALSE(parse(
      signal_with("subjects", R"([{"type":"person","id":"123456789","id_scheme":"v-number"}])")));
  EXPECT_NE(signal_.subjects[0].key, keys[0]);
}

TEST_F(SignalIntakeTest, PlateSpellingsShareOneVehicleKey) {
  for (const char* subject :
       {R"({"type":"vehicle","plate":"ab-123-cd","country":"fr"})",
        R"({"type":"vehicle","plate":"AB.123.CD","country":"F"})",
        R"({"type":"vehicle","plate":"AB 123 CD","country":"FRA"})",
        R"({"type":"vehicle","plate":"ab\u00b7123\u00b7cd","country":" Fr "})"}) {
    const auto r = parse(SignalJson().set("subjects", std::string("[") + subject + "]").str());
    ASSERT_FALSE(r) << subject << ": " << r->detail;
    EXPECT_EQ(signal_.subjects[0].key, "FR-AB123CD") << subject;
  }
}

TEST_F(SignalIntakeTest, ReportedBeforeObservedIsToleratedOnlyForAMinute) {
  auto json = [](const char* reported) {
    return SignalJson()
        .set("observed_at", R"("2024-03-01T10:00:00Z")")
        .set("reported_at", std::string("\"") + reported + "\"")
        .str();
  };
  EXPECT_FALSE(parse(json("2024-03-01T09:59:00Z")));
  const auto r = parse(json("2024-03-01T09:58:59Z"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, DlqReason::bad_timestamp);
  EXPECT_EQ(r->detail, "reported_at");
}

// Keys are matched without unescaping when they hold no escape; escaped
// spellings of a known key must still mean that key, in the document and in
// a subject.
TEST_F(SignalIntakeTest, EscapedKeysMeanTheSameField) {
  std::string json = SignalJson().str();
  const auto plain = parse(json);
  ASSERT_FALSE(plain) << plain->detail;
  const Signal expected = signal_;
  for (auto [from, to] : {std::pair{"\"indicator\"", R"("ind\u0069cator")"},
                          std::pair{"\"plate\"", R"("pl\u0061te")"},
                          std::pair{"\"id_scheme\"", R"("id_sch\u0065me")"}}) {
    json.replace(json.find(from), std::string_view(from).size(), to);
  }
  const auto escaped = parse(json);
  ASSERT_FALSE(escaped) << escaped->detail;
  EXPECT_EQ(signal_.indicator, expected.indicator);
  ASSERT_EQ(signal_.subject_count, 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(signal_.subjects[i].key, expected.subjects[i].key);

  const auto dup = parse(SignalJson().str().insert(1, R"("sourc\u0065":"nidos",)"));
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->reason, DlqReason::malformed_json);
  EXPECT_EQ(dup->detail, "source: duplicate key");
}

TEST_F(SignalIntakeTest, LongUnknownKeysAndTrailingWhitespaceAreAccepted) {
  const std::string long_key(40, 'k');
  const auto r = parse(SignalJson().set(long_key, R"({"a":[1,2]})").str() + " \n\t\r ");
  ASSERT_FALSE(r) << r->detail;
  EXPECT_EQ(signal_.signal_id, "coa-2024-0001");
  EXPECT_EQ(signal_.subject_count, 3u);
}

// A rejected document is read a second time to name the problem; the next
// good one must not inherit anything from either reading.
TEST_F(SignalIntakeTest, RecordAfterATrailingContentRejectionIsReadAfresh) {
  const auto bad = parse(signal_with("forms", R"(["labour"])") + " x");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->detail, "document: trailing content");
  const auto good = parse(signal_with("subjects", R"([{"type":"location","id":"azc-budel"}])"));
  ASSERT_FALSE(good) << good->detail;
  EXPECT_EQ(signal_.forms, 0);
  ASSERT_EQ(signal_.subject_count, 1u);
  EXPECT_EQ(signal_.subjects[0].key, "azc-budel");
}

TEST_F(SignalIntakeTest, ReusesTheSignalAcrossRecords) {
  ASSERT_FALSE(parse(SignalJson().str()));
  ASSERT_EQ(signal_.subject_count, 3u);
  ASSERT_FALSE(parse(signal_with("subjects", R"([{"type":"location","id":"azc-budel"}])")));
  EXPECT_EQ(signal_.subject_count, 1u);
  EXPECT_EQ(signal_.subjects.size(), 3u);  // grown once, never shrunk
  EXPECT_EQ(signal_.subjects[0].type, SubjectType::location);
  EXPECT_EQ(signal_.subjects[0].key, "azc-budel");
}

struct RejectCase {
  const char* name;
  std::string json;
  DlqReason reason;
  std::string detail;
  std::optional<SourceId> topic_source = std::nullopt;
};

std::vector<RejectCase> reject_cases() {
  const std::string big(65, 'x');
  auto subjects = [](const std::string& list) { return signal_with("subjects", list); };
  return {
      {"not json", "{\"schema\": mozaiek}", DlqReason::malformed_json, "document"},
      {"truncated", SignalJson().str().substr(0, 40), DlqReason::malformed_json, "document"},
      {"trailing garbage", SignalJson().str() + " x", DlqReason::malformed_json,
       "document: trailing content"},
      {"two documents", SignalJson().str() + SignalJson().str(), DlqReason::malformed_json,
       "document: trailing content"},
      {"invalid utf-8", signal_with("unit", "\"caf\xc3\""), DlqReason::malformed_json, "document"},
      {"duplicate key", SignalJson().str().insert(1, R"("source":"nidos",)"),
       DlqReason::malformed_json, "source: duplicate key"},
      // Found by the random test: skipping over the root does not match brackets.
      {"mismatched brackets", "{]", DlqReason::malformed_json, "document"},
      {"mismatched nested brackets", R"({"schema":[}})", DlqReason::malformed_json, "document"},
      {"array closed as object", "[1}", DlqReason::malformed_json, "document"},
      {"bad literal in ignored field", signal_with("extra", "tru"), DlqReason::malformed_json,
       "document"},
      {"wrong schema", signal_with("schema", R"("mozaiek.signal/v2")"), DlqReason::wrong_schema,
       "schema"},
      {"no schema", SignalJson().erase("schema").str(), DlqReason::wrong_schema, "schema"},
      {"array document", "[1,2,3]", DlqReason::wrong_schema, "document"},
      {"missing signal_id", SignalJson().erase("signal_id").str(), DlqReason::missing_field,
       "signal_id"},
      {"empty signal_id", signal_with("signal_id", R"("")"), DlqReason::missing_field, "signal_id"},
      {"missing observed_at", SignalJson().erase("observed_at").str(), DlqReason::missing_field,
       "observed_at"},
      {"numeric signal_id", signal_with("signal_id", "17"), DlqReason::bad_type, "signal_id"},
      {"consent as string", signal_with("consent", R"("yes")"), DlqReason::bad_type, "consent"},
      {"subjects as object", signal_with("subjects", R"({"type":"person"})"), DlqReason::bad_type,
       "subjects"},
      {"subject as string", subjects(R"(["FR-AB123"])"), DlqReason::bad_type, "subjects[0]"},
      {"plate as number", subjects(R"([{"type":"vehicle","plate":123}])"), DlqReason::bad_type,
       "subjects[0].plate"},
      {"long signal_id", signal_with("signal_id", "\"" + big + "\""), DlqReason::field_too_large,
       "signal_id"},
      {"long nationality",
       subjects("[" + person_subject("1", R"(,"nationality":")" + big + "\"") + "]"),
       DlqReason::field_too_large, "subjects[0].nationality"},
      {"unknown source", signal_with("source", R"("unknown-org")"), DlqReason::unknown_source,
       "source"},
      {"source differs from topic", SignalJson().str(), DlqReason::source_mismatch, "source",
       SourceId{1}},
      {"unknown indicator", signal_with("indicator", R"("looks_suspicious")"),
       DlqReason::unknown_indicator, "indicator"},
      {"bad strength", signal_with("strength", R"("strong")"), DlqReason::bad_strength, "strength"},
      {"unknown form", signal_with("forms", R"(["labour","gardening"])"), DlqReason::bad_form,
       "forms[1]"},
      {"form as number", signal_with("forms", "[1]"), DlqReason::bad_type, "forms[0]"},
      {"no subjects", SignalJson().erase("subjects").str(), DlqReason::no_subjects, "subjects"},
      {"empty subjects", subjects("[]"), DlqReason::no_subjects, "subjects"},
      {"too many subjects",
       subjects("[" + person_subject("1") + "," + person_subject("2") + "," + person_subject("3") +
                "," + person_subject("4") + "," + person_subject("5") + "]"),
       DlqReason::too_many_subjects, "subjects"},
      {"unknown subject type", subjects(R"([{"type":"vessel","name":"x"}])"),
       DlqReason::unknown_subject_type, "subjects[0].type"},
      {"subject without type", subjects(R"([{"plate":"AB123"}])"), DlqReason::missing_field,
       "subjects[0].type"},
      {"person without scheme", subjects(R"([{"type":"person","id":"123"}])"),
       DlqReason::missing_field, "subjects[0].id_scheme"},
      {"vehicle without plate", subjects(R"([{"type":"vehicle","country":"NL"}])"),
       DlqReason::missing_field, "subjects[0].plate"},
      {"plate too long", subjects(R"([{"type":"vehicle","plate":"AB-123-CD-456-EFG"}])"),
       DlqReason::bad_subject, "subjects[0].plate"},
      {"plate with symbols",
       subjects(R"([{"type":"location","id":"x"},{"type":"vehicle","plate":"AB*123"}])"),
       DlqReason::bad_subject, "subjects[1].plate"},
      {"empty person id", subjects(R"([{"type":"person","id":" - . ","id_scheme":"bsn"}])"),
       DlqReason::bad_subject, "subjects[0].id"},
      {"scheme with colon", subjects(R"([{"type":"person","id":"1","id_scheme":"bsn:nl"}])"),
       DlqReason::bad_subject, "subjects[0].id_scheme"},
      {"location with slash", subjects(R"([{"type":"location","id":"street/12"}])"),
       DlqReason::bad_subject, "subjects[0].id"},
      {"bad observed_at", signal_with("observed_at", R"("yesterday")"), DlqReason::bad_timestamp,
       "observed_at"},
      {"observed_at without zone", signal_with("observed_at", R"("2024-03-01T10:00:00")"),
       DlqReason::bad_timestamp, "observed_at"},
  };
}

TEST_F(SignalIntakeTest, EachInvalidInputGetsItsReasonAndField) {
  for (const auto& c : reject_cases()) {
    SCOPED_TRACE(c.name);
    const auto r = parse(c.json, c.topic_source);
    if (!r) {
      ADD_FAILURE() << "accepted";
      continue;
    }
    EXPECT_EQ(to_string(r->reason), to_string(c.reason));
    EXPECT_EQ(r->detail, c.detail);
  }
}

TEST_F(SignalIntakeTest, RejectCasesCoverEveryReason) {
  std::vector<bool> covered(kDlqReasonCount, false);
  for (const auto& c : reject_cases()) covered[static_cast<std::size_t>(c.reason)] = true;
  // Decided by the intake stage; see StageRejectsUnknownTopicsAndSignalsBeyondAllowedLateness.
  covered[static_cast<std::size_t>(DlqReason::too_late)] = true;
  covered[static_cast<std::size_t>(DlqReason::unknown_topic)] = true;
  // Chain events only; see ChainIntakeTest.RejectCasesCoverEveryChainReason.
  // org_mismatch: decided by the intake stage (IntakeStageChainTest).
  for (auto r : {DlqReason::unknown_event_type, DlqReason::missing_melding_id,
                 DlqReason::missing_person, DlqReason::missing_location, DlqReason::org_mismatch}) {
    covered[static_cast<std::size_t>(r)] = true;
  }
  for (std::size_t i = 0; i < kDlqReasonCount; ++i) {
    EXPECT_TRUE(covered[i]) << to_string(static_cast<DlqReason>(i));
  }
}

// too_late and unknown_topic depend on the watermark and the topic, which the
// intake stage owns; checked through it so every reason has a real input.
class RecordingOutput final : public IntakeOutput {
 public:
  void on_routed(const RoutedSignal& r) override { routed.push_back(r); }
  void on_routed_chain(const RoutedChainEvent& r) override { routed_chain.push_back(r); }
  void on_rejected(const Rejection& r, const RecordView&) override { rejected.push_back(r); }
  std::vector<RoutedSignal> routed;
  std::vector<RoutedChainEvent> routed_chain;
  std::vector<Rejection> rejected;
};

TEST_F(SignalIntakeTest, StageRejectsUnknownTopicsAndSignalsBeyondAllowedLateness) {
  ManualClock clock(ProcTime{Millis{to_ms(*parse_rfc3339("2024-06-01T00:00:00Z"))}});
  RecordingOutput output;
  IntakeStage stage(config_, pseudonymiser_, clock, "signals.", output);
  const auto fresh = SignalJson()
                         .set("observed_at", R"("2024-05-31T00:00:00Z")")
                         .set("reported_at", R"("2024-05-31T00:00:00Z")")
                         .str();
  stage.process(record("signals.coa", fresh));
  ASSERT_TRUE(output.rejected.empty());
  EXPECT_EQ(output.routed.size(), 3u);

  stage.process(record("signals.unknown-org", fresh));
  ASSERT_EQ(output.rejected.size(), 1u);
  EXPECT_EQ(output.rejected[0].reason, DlqReason::unknown_topic);

  const auto old = SignalJson()
                       .set("signal_id", R"("old")")
                       .set("observed_at", R"("2024-01-01T00:00:00Z")")
                       .set("reported_at", R"("2024-05-31T00:00:00Z")")
                       .str();
  stage.process(record("signals.coa", old));
  ASSERT_EQ(output.rejected.size(), 2u);
  EXPECT_EQ(output.rejected[1].reason, DlqReason::too_late);
  EXPECT_EQ(output.rejected[1].detail, "observed_at");
}

// The stage keeps the source of the last topic; each change of topic, back
// and forth, must still give that topic's own answer.
TEST_F(SignalIntakeTest, StageJudgesEveryTopicOnItsOwnWhenTopicsAlternate) {
  ManualClock clock(ProcTime{Millis{to_ms(*parse_rfc3339("2024-06-01T00:00:00Z"))}});
  RecordingOutput output;
  IntakeStage stage(config_, pseudonymiser_, clock, "signals.", output);
  const auto coa = SignalJson()
                       .set("observed_at", R"("2024-05-31T00:00:00Z")")
                       .set("reported_at", R"("2024-05-31T00:00:00Z")")
                       .set("subjects", R"([{"type":"location","id":"azc-budel"}])")
                       .str();
  const std::pair<const char*, std::optional<DlqReason>> steps[] = {
      {"signals.coa", std::nullopt},
      {"signals.unknown-org", DlqReason::unknown_topic},
      {"signals.unknown-org", DlqReason::unknown_topic},
      {"signals.coa", std::nullopt},
      {"signals.nidos", DlqReason::source_mismatch},
      {"signals.coa", std::nullopt},
      {"", std::nullopt},  // a file record: the signal names its source
  };
  std::size_t routed = 0;
  std::size_t rejected = 0;
  for (const auto& [topic, reason] : steps) {
    stage.process(record(topic, coa));
    if (reason) {
      ASSERT_EQ(output.rejected.size(), ++rejected) << topic;
      EXPECT_EQ(output.rejected.back().reason, *reason) << topic;
    } else {
      ASSERT_EQ(output.routed.size(), ++routed) << topic;
      EXPECT_EQ(output.routed.back().source, SourceId{0}) << topic;
    }
  }
  EXPECT_EQ(stage.counters().in[0], 4u);  // three from signals.coa and the file record
  EXPECT_EQ(stage.counters().in[1], 1u);  // counted under its topic, nidos
  EXPECT_EQ(stage.counters().in[stage.counters().other_source()], 2u);
}

TEST_F(SignalIntakeTest, RejectionDetailsNeverCarryFieldValues) {
  const std::string secret = "SECRET4711";
  for (const auto& json :
       {signal_with("source", "\"" + secret + "\""), signal_with("indicator", "\"" + secret + "\""),
        signal_with("subjects", R"([{"type":"vehicle","plate":"SECRET4711!"}])"),
        signal_with("subjects", R"([{"type":"person","id":"SECRET4711","id_scheme":"a:b"}])"),
        signal_with("SECRET4711", "tru")}) {
    const auto r = parse(json);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->detail.find(secret), std::string::npos) << r->detail;
  }
}

TEST_F(SignalIntakeTest, RawPersonIdReachesNoSignalRoutedSignalOrEncodedBytes) {
  const std::string raw = "NLX9876543";
  const std::string vehicle = R"({"type":"vehicle","plate":"AB123","country":"NL"})";
  const auto json = SignalJson()
                        .set("signal_id", R"("sig-1")")
                        .set("subjects", "[" + person_subject(raw) + "," + vehicle + "]")
                        .str();
  ASSERT_FALSE(parse(json));
  auto contains_raw = [&](std::string_view s) {
    return s.find(raw) != std::string_view::npos || s.find("9876543") != std::string_view::npos;
  };
  EXPECT_FALSE(contains_raw(signal_.signal_id));
  for (const auto& s : signal_.subjects) EXPECT_FALSE(contains_raw(s.key));

  std::vector<RoutedSignal> routed;
  ASSERT_EQ(route_signal(signal_, kMinEventTime, routed), 2u);
  std::string bytes;
  for (const auto& r : routed) {
    EXPECT_FALSE(contains_raw(r.subject_key));
    for (const auto& [type, key] : r.co_subjects) EXPECT_FALSE(contains_raw(key));
    encode_routed(r, config_, bytes);
    EXPECT_FALSE(contains_raw(bytes));
  }
}

TEST_F(SignalIntakeTest, HugeInputIsRejectedNotFatal) {
  const std::string mb(1 << 20, 'a');
  auto r = parse(signal_with("signal_id", "\"" + mb + "\""));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, DlqReason::field_too_large);

  r = parse(SignalJson()
                .set("note", "\"" + mb.substr(0, 1000) + "\"")
                .set("signal_id", "\"" + mb.substr(0, 900'000) + "\"")
                .str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, DlqReason::field_too_large);
  EXPECT_EQ(r->detail, "signal_id");

  // Deep nesting in an ignored field.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  r = parse(signal_with("extension", deep));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reason, DlqReason::malformed_json);

  // The parser still works afterwards.
  EXPECT_FALSE(parse(SignalJson().str()));
}

TEST_F(SignalIntakeTest, EveryPrefixOfAValidSignalIsRejected) {
  const std::string json = SignalJson().str();
  for (std::size_t n = 0; n < json.size(); ++n) {
    const auto r = parse(json.substr(0, n));
    ASSERT_TRUE(r) << "prefix of length " << n << " accepted";
    EXPECT_EQ(r->reason, DlqReason::malformed_json) << n;
  }
  EXPECT_FALSE(parse(json));
  EXPECT_FALSE(parse(" \n" + json + "\n\t "));
}

TEST_F(SignalIntakeTest, RandomGarbageAndMutationsNeverCrash) {
  // MOZAIEK_TEST_SEED reproduces a failing run.
  const char* fixed = std::getenv("MOZAIEK_TEST_SEED");
  const auto seed = fixed ? static_cast<unsigned>(std::stoul(fixed)) : std::random_device{}();
  std::cout << "[ SEED     ] SignalIntakeTest.RandomGarbageAndMutationsNeverCrash seed=" << seed
            << "\n";
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string valid = SignalJson().set("forms", R"(["labour"])").set("consent", "true").str();
  const std::string alphabet = "{}[]\":,.-0123456789eE+truefalsnl \\u\t\n\xc3\xa9\x80";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::size_t accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::string input;
    switch (i % 3) {
      case 0: {  // random bytes
        input.resize(static_cast<std::size_t>(byte(rng)) * 2);
        for (auto& c : input) c = static_cast<char>(byte(rng));
        break;
      }
      case 1: {  // JSON-ish tokens
        // Mostly short: the interesting cases are a few tokens long.
        input.resize(static_cast<std::size_t>(byte(rng) >> (byte(rng) % 8)));
        for (auto& c : input) c = alphabet[pick(rng)];
        break;
      }
      default: {  // a valid signal with a few bytes changed, inserted or removed
        input = valid;
        const int edits = 1 + byte(rng) % 4;
        for (int e = 0; e < edits && !input.empty(); ++e) {
          const std::size_t pos = static_cast<std::size_t>(byte(rng) * 7) % input.size();
          switch (byte(rng) % 3) {
            case 0: input[pos] = alphabet[pick(rng)]; break;
            case 1: input.insert(pos, 1, alphabet[pick(rng)]); break;
            default: input.erase(pos, 1); break;
          }
        }
      }
    }
    const auto r = parse(input);
    if (!r) {
      ++accepted;
      // Whatever got through is a complete, valid signal.
      EXPECT_GT(signal_.subject_count, 0u);
      EXPECT_FALSE(signal_.signal_id.empty());
    } else {
      EXPECT_LT(static_cast<std::size_t>(r->reason), kDlqReasonCount);
    }
  }
  EXPECT_FALSE(parse(valid));
  std::cout << "[ SEED     ] accepted " << accepted << " of 20000 inputs\n";
}

}  // namespace
}  // namespace mozaiek
