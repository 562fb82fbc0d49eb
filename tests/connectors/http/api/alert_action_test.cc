// The action record v1 and the POST body: every refused body names its
// field, the record reads back as written and holds to its JSON schema.
#include "connectors/http/api/alert_action.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <set>
#include <sstream>

namespace mozaiek {
namespace {

const ProcTime kAt{Millis{1'764'000'000'250}};

std::string field_of(std::string_view body) {
  ActionBody out;
  auto bad = parse_action_body(body, out);
  return bad ? bad->field : "";
}

TEST(AlertActionTest, BodiesTheConsoleSendsAreAccepted) {
  ActionBody out;
  EXPECT_FALSE(parse_action_body(R"({"action":"ack"})", out));
  EXPECT_EQ(out.action, ActionKind::ack);
  EXPECT_EQ(out.reason, "");
  EXPECT_FALSE(parse_action_body(R"({"action":"ack","reason":"seen, following up"})", out));
  EXPECT_EQ(out.reason, "seen, following up");
  EXPECT_FALSE(parse_action_body(R"({"reason":"known family visit","action":"dismiss"})", out));
  EXPECT_EQ(out.action, ActionKind::dismiss);
  EXPECT_EQ(out.reason, "known family visit");
  EXPECT_FALSE(parse_action_body(R"({"action":"escalate","reason":"naar politie \u00e9\n"})", out));
  EXPECT_EQ(out.action, ActionKind::escalate);
  EXPECT_EQ(out.reason, "naar politie \xc3\xa9\n");
  // Exactly 500 bytes (250 two-byte characters) is still fine.
  std::string max;
  for (int i = 0; i < 250; ++i) max += "\xc3\xa9";
  EXPECT_FALSE(parse_action_body(R"({"action":"dismiss","reason":")" + max + "\"}", out));
  EXPECT_EQ(out.reason.size(), 500u);
}

TEST(AlertActionTest, EachRefusedBodyNamesItsField) {
  EXPECT_EQ(field_of(""), "body");
  EXPECT_EQ(field_of("not json"), "body");
  EXPECT_EQ(field_of(R"(["ack"])"), "body");
  EXPECT_EQ(field_of("{\"action\":\"ack\",\"reason\":\"\xff\"}"), "body");  // not UTF-8
  EXPECT_EQ(field_of(R"({"action":"ack","reason":")" + std::string(9000, ' ') + "\"}"), "body");
  EXPECT_EQ(field_of("{}"), "action");
  EXPECT_EQ(field_of(R"({"reason":"x"})"), "action");
  EXPECT_EQ(field_of(R"({"action":"close"})"), "action");
  EXPECT_EQ(field_of(R"({"action":"ACK"})"), "action");
  EXPECT_EQ(field_of(R"({"action":1})"), "action");
  EXPECT_EQ(field_of(R"({"action":"ack","action":"dismiss","reason":"x"})"), "action");
  EXPECT_EQ(field_of(R"({"action":"dismiss"})"), "reason");
  EXPECT_EQ(field_of(R"({"action":"dismiss","reason":""})"), "reason");
  EXPECT_EQ(field_of(R"({"action":"escalate"})"), "reason");
  EXPECT_EQ(field_of(R"({"action":"ack","reason":null})"), "reason");
  EXPECT_EQ(field_of(R"({"action":"ack","reason":"x","reason":"y"})"), "reason");
  EXPECT_EQ(field_of(R"({"action":"dismiss","reason":")" + std::string(501, 'x') + "\"}"),
            "reason");
  EXPECT_EQ(field_of(R"({"action":"ack","user":"mallory"})"), "user");
  EXPECT_EQ(field_of(R"({"action":"ack","status":"dismissed"})"), "status");
}

TEST(AlertActionTest, RecordReadsBackAsWritten) {
  AlertAction a;
  a.action_id = "0123456789abcdef0123456789abcdef";
  a.alert_id = "alert-7";
  a.action = ActionKind::dismiss;
  a.user = "analyst-7";
  a.reason = "said \"no\"";
  a.at = kAt;
  std::string json;
  write_action_json(a, json);
  EXPECT_EQ(json,
            R"({"schema":"mozaiek.alert-action/v1","action_id":"0123456789abcdef0123456789abcdef",)"
            R"("alert_id":"alert-7","action":"dismiss","user":"analyst-7","reason":"said \"no\"",)"
            R"("at":"2025-11-24T16:00:00.250Z"})");
  AlertAction back;
  std::string error;
  ASSERT_TRUE(read_action_json(json, back, error)) << error;
  EXPECT_EQ(back.action_id, a.action_id);
  EXPECT_EQ(back.alert_id, a.alert_id);
  EXPECT_EQ(back.action, ActionKind::dismiss);
  EXPECT_EQ(back.user, a.user);
  EXPECT_EQ(back.reason, a.reason);
  EXPECT_EQ(back.at, kAt);
}

TEST(AlertActionTest, UnreadableRecordsNameTheField) {
  AlertAction out;
  std::string error;
  const std::string good =
      R"({"schema":"mozaiek.alert-action/v1","action_id":"x1","alert_id":"a1","action":"ack",)"
      R"("user":"u","reason":"","at":"2025-11-24T16:00:00Z"})";
  ASSERT_TRUE(read_action_json(good, out, error)) << error;
  auto field = [&](const std::string& from, const std::string& to) {
    std::string json = good;
    json.replace(json.find(from), from.size(), to);
    EXPECT_FALSE(read_action_json(json, out, error)) << json;
    return error;
  };
  EXPECT_EQ(field("alert-action/v1", "alert/v1"), "schema");
  EXPECT_EQ(field(R"("action_id":"x1")", R"("action_id":"")"), "action_id");
  EXPECT_EQ(field(R"("alert_id":"a1")", R"("alert_id":7)"), "alert_id");
  EXPECT_EQ(field(R"("action":"ack")", R"("action":"close")"), "action");
  EXPECT_EQ(field(R"("user":"u")", R"("user":"")"), "user");
  EXPECT_EQ(field(R"("reason":"")", R"("reason":null)"), "reason");
  EXPECT_EQ(field("2025-11-24T16:00:00Z", "yesterday"), "at");
  EXPECT_FALSE(read_action_json("{", out, error));
  EXPECT_EQ(error, "record");
}

// What write_action_json writes validates against
// config/schemas/alert-action.v1.schema.json: exactly its members, all the
// required ones, the const schema, the action enum, string lengths and an
// RFC 3339 time.
TEST(AlertActionTest, WrittenRecordsValidateAgainstTheSchema) {
  std::ifstream file(std::string(MOZAIEK_SOURCE_DIR) +
                     "/config/schemas/alert-action.v1.schema.json");
  ASSERT_TRUE(file) << "config/schemas/alert-action.v1.schema.json";
  std::stringstream text;
  text << file.rdbuf();
  simdjson::dom::parser schema_parser;
  simdjson::dom::element schema;
  ASSERT_EQ(schema_parser.parse(text.str()).get(schema), simdjson::SUCCESS);
  EXPECT_EQ(schema["additionalProperties"].get_bool().value(), false);
  simdjson::dom::object properties = schema["properties"].get_object().value();
  std::set<std::string_view> required;
  simdjson::dom::array listed;
  ASSERT_EQ(schema["required"].get(listed), simdjson::SUCCESS);
  for (auto r : listed) required.insert(r.get_string().value());

  std::set<std::string_view> kinds_in_schema;
  ASSERT_EQ(properties["action"]["enum"].get(listed), simdjson::SUCCESS);
  for (auto k : listed) kinds_in_schema.insert(k.get_string().value());
  EXPECT_EQ(kinds_in_schema, (std::set<std::string_view>{"ack", "dismiss", "escalate"}));

  for (std::size_t i = 0; i < kActionKindCount; ++i) {
    AlertAction a;
    a.action_id = "0123456789abcdef0123456789abcdef";
    a.alert_id = "9f1c2d";
    a.action = static_cast<ActionKind>(i);
    a.user = std::string(128, 'u');
    a.reason = a.action == ActionKind::ack ? "" : std::string(500, 'r');
    a.at = kAt;
    std::string json;
    write_action_json(a, json);
    simdjson::dom::parser parser;
    simdjson::dom::object record;
    ASSERT_EQ(parser.parse(json).get(record), simdjson::SUCCESS) << json;
    std::set<std::string_view> present;
    for (auto member : record) {
      present.insert(member.key);
      simdjson::dom::object rule;
      ASSERT_EQ(properties[member.key].get(rule), simdjson::SUCCESS) << member.key;
      std::string_view value = member.value.get_string().value();
      if (std::string_view c; !rule["const"].get(c)) {
        EXPECT_EQ(value, c);
      }
      if (simdjson::dom::array allowed; !rule["enum"].get(allowed)) {
        EXPECT_TRUE(kinds_in_schema.count(value)) << value;
      }
      if (std::uint64_t n; !rule["minLength"].get(n)) {
        EXPECT_GE(value.size(), n) << member.key;
      }
      if (std::uint64_t n; !rule["maxLength"].get(n)) {
        EXPECT_LE(value.size(), n) << member.key;
      }
      if (std::string_view f; !rule["format"].get(f)) {
        EXPECT_EQ(f, "date-time");
        EXPECT_TRUE(parse_rfc3339(value)) << value;
      }
    }
    EXPECT_EQ(present, required);
  }
}

}  // namespace
}  // namespace mozaiek
