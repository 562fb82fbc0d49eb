#include "operators/records/dlq_record.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace mozaiek {
namespace {

const ProcTime kNow{Millis{1'709'294'400'250}};  // 2024-03-01T12:00:00.250Z

std::string decode_base64(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) break;  // padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

struct Parsed {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view str(const char* key) { return root[key].get_string().value(); }
  std::int64_t num(const char* key) { return root[key].get_int64().value(); }
};

TEST(DlqRecordTest, WritesReasonOriginAndOriginalAsJson) {
  const std::string original = R"({"schema":"mozaiek.signal/v1","note":"line1
"quoted"	tab \ \u0001})";
  std::string json;
  write_dlq_record({DlqReason::too_late, "observed_at"}, "signals.coa", 3, 12345, original, kNow,
                   json);
  Parsed p;
  ASSERT_EQ(p.parser.parse(json).get(p.root), simdjson::SUCCESS) << json;
  EXPECT_EQ(p.str("schema"), "mozaiek.dlq/v1");
  EXPECT_EQ(p.str("reason"), "too_late");
  EXPECT_EQ(p.str("detail"), "observed_at");
  EXPECT_EQ(p.str("source_topic"), "signals.coa");
  EXPECT_EQ(p.num("partition"), 3);
  EXPECT_EQ(p.num("offset"), 12345);
  EXPECT_EQ(p.str("rejected_at"), "2024-03-01T12:00:00.250Z");
  EXPECT_EQ(p.str("original_encoding"), "utf8");
  EXPECT_EQ(p.str("original"), original);
}

TEST(DlqRecordTest, ControlCharactersAndNulStayEscaped) {
  const std::string original("a\0b\x1f\x7f", 5);
  std::string json;
  write_dlq_record({DlqReason::malformed_json, "document"}, "", 0, 0, original, kNow, json);
  EXPECT_EQ(json.find('\0'), std::string::npos);
  Parsed p;
  ASSERT_EQ(p.parser.parse(json).get(p.root), simdjson::SUCCESS) << json;
  EXPECT_EQ(p.str("original"), original);
  EXPECT_EQ(p.str("source_topic"), "");
}

TEST(DlqRecordTest, InvalidUtf8IsBase64Encoded) {
  for (const std::string& original :
       {std::string("\xff\xfe{\"a\":1}"), std::string("caf\xc3"), std::string("\x80"),
        std::string("\xc0\xaf-overlong"), std::string("ab\xed\xa0\x80")}) {
    std::string json;
    write_dlq_record({DlqReason::malformed_json, "document"}, "signals.coa", 0, 7, original, kNow,
                     json);
    Parsed p;
    ASSERT_EQ(p.parser.parse(json).get(p.root), simdjson::SUCCESS) << json;
    EXPECT_EQ(p.str("original_encoding"), "base64");
    EXPECT_EQ(decode_base64(p.str("original")), original);
  }
}

TEST(DlqRecordTest, Base64PadsEveryRemainder) {
  const std::pair<std::string, std::string> cases[] = {{"\xff", "/w=="},
                                                       {"\xff\xfe", "//4="},
                                                       {"\xff\xfe\xfd", "//79"},
                                                       {"\xff\xfe\xfd\xfc", "//79/A=="}};
  for (const auto& [in, expected] : cases) {
    std::string json;
    write_dlq_record({DlqReason::malformed_json, "document"}, "t", 0, 0, in, kNow, json);
    EXPECT_NE(json.find("\"original\":\"" + expected + "\""), std::string::npos) << json;
  }
}

TEST(DlqRecordTest, ReasonNamesAreUniqueSnakeCaseAndRoundTrip) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kDlqReasonCount; ++i) {
    const auto r = static_cast<DlqReason>(i);
    const auto name = to_string(r);
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(dlq_reason_from(name), r);
  }
  EXPECT_EQ(to_string(DlqReason::unknown_subject_type), "unknown_subject_type");
  EXPECT_EQ(to_string(DlqReason::unknown_topic), "unknown_topic");
  EXPECT_FALSE(dlq_reason_from("kCount"));
}

TEST(DlqRecordTest, SchemaListsExactlyTheReasons) {
  std::ifstream file(std::string(MOZAIEK_SOURCE_DIR) + "/config/schemas/dlq.v1.schema.json");
  ASSERT_TRUE(file) << "config/schemas/dlq.v1.schema.json";
  std::stringstream text;
  text << file.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::array reasons;
  const auto reason_enum = parser.parse(text.str())["properties"]["reason"]["enum"];
  ASSERT_EQ(reason_enum.get(reasons), simdjson::SUCCESS);
  std::set<std::string_view> in_schema;
  for (auto r : reasons) in_schema.insert(r.get_string().value());
  std::set<std::string_view> in_code;
  for (std::size_t i = 0; i < kDlqReasonCount; ++i) {
    in_code.insert(to_string(static_cast<DlqReason>(i)));
  }
  EXPECT_EQ(in_schema, in_code);
}

TEST(DlqRecordTest, RecordHasExactlyTheSchemaMembers) {
  std::string json;
  write_dlq_record({DlqReason::bad_subject, "subjects[0].plate"}, "signals.coa", 1, 2, "{}", kNow,
                   json);
  simdjson::dom::parser parser;
  simdjson::dom::object record;
  ASSERT_EQ(parser.parse(json).get(record), simdjson::SUCCESS);
  std::set<std::string_view> members;
  for (auto field : record) members.insert(field.key);
  EXPECT_EQ(members,
            (std::set<std::string_view>{"schema", "reason", "detail", "source_topic", "partition",
                                        "offset", "rejected_at", "original_encoding", "original"}));
}

}  // namespace
}  // namespace mozaiek
