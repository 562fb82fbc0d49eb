#include "operators/intake/dead_letter.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

namespace mozaiek {
namespace {

const ProcTime kNow{Millis{1'709'294'400'250}};  // 2024-03-01T12:00:00.250Z
constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kOtherKeyHex =
    "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

DlqKey key_of(const char* hex) {
  DlqKey k;
  EXPECT_TRUE(parse_dlq_key(hex, k).is_ok());
  return k;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

// A signal that names a person by a raw id (what must never be readable in a DLQ record).
const std::string kPersonSignal =
    R"({"schema":"mozaiek.signal/v1","source":"coa","subjects":[{"type":"person","id":"V123-456-789","id_scheme":"v-number"}],"note":"SECRET-NAME"})";

TEST(DeadLetterTest, SealedRecordHidesTheOriginalAndOpensWithItsKey) {
  DeadLetterSealer sealer(key_of(kKeyHex), kDefaultDlqMaxSealedBytes);
  std::string json;
  sealer.write({DlqReason::bad_subject, "subjects[0].id"}, {"signals.coa", 3, 12345}, kPersonSignal,
               kNow, json);
  // No plain field carries a value of the original.
  EXPECT_EQ(json.find("V123-456-789"), std::string::npos) << json;
  EXPECT_EQ(json.find("SECRET-NAME"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("reason":"bad_subject")"), std::string::npos) << json;
  EXPECT_NE(json.find(sha256_hex(kPersonSignal)), std::string::npos) << json;

  OpenedDeadLetter d;
  Status s = open_dead_letter(json, key_of(kKeyHex), d);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_TRUE(d.sealed);
  EXPECT_FALSE(d.truncated);
  EXPECT_TRUE(d.hash_verified);
  EXPECT_EQ(d.original, kPersonSignal);
  EXPECT_EQ(d.reason, "bad_subject");
  EXPECT_EQ(d.detail, "subjects[0].id");
  EXPECT_EQ(d.source_topic, "signals.coa");
  EXPECT_EQ(d.partition, 3);
  EXPECT_EQ(d.offset, 12345);
  EXPECT_EQ(d.original_size, kPersonSignal.size());
  EXPECT_EQ(d.rejected_at, "2024-03-01T12:00:00.250Z");
}

TEST(DeadLetterTest, AnotherKeyIsRefusedByIdAndAForgedIdDoesNotOpen) {
  DeadLetterSealer sealer(key_of(kKeyHex), kDefaultDlqMaxSealedBytes);
  std::string json;
  sealer.write({DlqReason::malformed_json, "document"}, {"signals.coa", 0, 7}, kPersonSignal, kNow,
               json);
  const DlqKey other = key_of(kOtherKeyHex);
  OpenedDeadLetter d;
  Status s = open_dead_letter(json, other, d);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("sealed with key " + key_of(kKeyHex).id), std::string::npos)
      << s.message();
  EXPECT_TRUE(d.original.empty());

  // Someone who rewrites the key id to match still cannot open it.
  std::string forged = json;
  const std::string id = key_of(kKeyHex).id;
  forged.replace(forged.find(id), id.size(), other.id);
  s = open_dead_letter(forged, other, d);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("does not open"), std::string::npos) << s.message();
  EXPECT_TRUE(d.original.empty());
}

TEST(DeadLetterTest, SealMovedToAnotherOffsetDoesNotOpen) {
  DeadLetterSealer sealer(key_of(kKeyHex), kDefaultDlqMaxSealedBytes);
  std::string json;
  sealer.write({DlqReason::malformed_json, "document"}, {"signals.coa", 0, 7}, kPersonSignal, kNow,
               json);
  std::string moved = json;
  moved.replace(moved.find(R"("offset":7)"), 10, R"("offset":8)");
  OpenedDeadLetter d;
  EXPECT_FALSE(open_dead_letter(moved, key_of(kKeyHex), d).is_ok());
}

TEST(DeadLetterTest, WithoutAKeyOnlyHashAndSizeAreKept) {
  DeadLetterSealer sealer(std::nullopt, kDefaultDlqMaxSealedBytes);
  std::string json;
  sealer.write({DlqReason::malformed_json, "document"}, {"signals.coa", 1, 2}, kPersonSignal, kNow,
               json);
  EXPECT_EQ(json.find("V123"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("sealed":null)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("original_size":)" + std::to_string(kPersonSignal.size())),
            std::string::npos);
  OpenedDeadLetter d;
  ASSERT_TRUE(open_dead_letter(json, key_of(kKeyHex), d).is_ok());
  EXPECT_FALSE(d.sealed);
  EXPECT_TRUE(d.original.empty());
  EXPECT_EQ(d.original_sha256, sha256_hex(kPersonSignal));
}

TEST(DeadLetterTest, HugeBinaryOriginalIsCutToTheBudgetAndHashedWhole) {
  std::string garbage(3 * 1024 * 1024, '\0');
  std::mt19937 rng(7);
  for (auto& c : garbage) c = static_cast<char>(rng());
  DeadLetterSealer sealer(key_of(kKeyHex), 4096);
  std::string json;
  sealer.write({DlqReason::malformed_json, "document"}, {"signals.coa", 0, 1}, garbage, kNow, json);
  EXPECT_LT(json.size(), 8000u);
  EXPECT_TRUE(simdjson::validate_utf8(json.data(), json.size()));
  OpenedDeadLetter d;
  ASSERT_TRUE(open_dead_letter(json, key_of(kKeyHex), d).is_ok());
  EXPECT_TRUE(d.truncated);
  EXPECT_FALSE(d.hash_verified);
  EXPECT_EQ(d.original, garbage.substr(0, 4096));
  EXPECT_EQ(d.original_size, garbage.size());
  EXPECT_EQ(d.original_sha256, sha256_hex(garbage));
}

TEST(DeadLetterTest, KeyMustBe64HexDigitsAndItsIdIsStable) {
  DlqKey k;
  EXPECT_FALSE(parse_dlq_key("abc", k).is_ok());
  EXPECT_FALSE(parse_dlq_key(std::string(64, 'g'), k).is_ok());
  Status s = parse_dlq_key(std::string(kKeyHex) + "\n", k);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(k.id.size(), 16u);
  EXPECT_EQ(k.id, key_of(kKeyHex).id);
  EXPECT_NE(k.id, key_of(kOtherKeyHex).id);
  // The error never repeats the key text.
  Status bad = parse_dlq_key("secret-but-not-hex-secret-but-not-hex-secret-but-not-hex-secret!", k);
  EXPECT_EQ(bad.message().find("secret"), std::string::npos) << bad.message();
}

TEST(DeadLetterTest, DeadLetterKeyNamesThePlaceNotTheOriginalKey) {
  EXPECT_EQ(dead_letter_key({"signals.coa", 2, 99}), "signals.coa/2/99");
}

TEST(DeadLetterTest, RecordHasExactlyTheSchemaMembersAndReasons) {
  std::ifstream file(std::string(MOZAIEK_SOURCE_DIR) + "/config/schemas/dlq.v2.schema.json");
  ASSERT_TRUE(file) << "config/schemas/dlq.v2.schema.json";
  std::stringstream text;
  text << file.rdbuf();
  simdjson::dom::parser schema_parser;
  simdjson::dom::element schema;
  ASSERT_EQ(schema_parser.parse(text.str()).get(schema), simdjson::SUCCESS);
  std::set<std::string_view> in_schema;
  simdjson::dom::array reasons;
  ASSERT_EQ(schema["properties"]["reason"]["enum"].get(reasons), simdjson::SUCCESS);
  for (auto r : reasons) in_schema.insert(r.get_string().value());
  std::set<std::string_view> in_code;
  for (std::size_t i = 0; i < kDlqReasonCount; ++i) {
    in_code.insert(to_string(static_cast<DlqReason>(i)));
  }
  EXPECT_EQ(in_schema, in_code);
  std::set<std::string_view> required;
  simdjson::dom::array members_in_schema;
  ASSERT_EQ(schema["required"].get(members_in_schema), simdjson::SUCCESS);
  for (auto r : members_in_schema) required.insert(r.get_string().value());

  DeadLetterSealer sealer(key_of(kKeyHex), kDefaultDlqMaxSealedBytes);
  std::string json;
  sealer.write({DlqReason::bad_subject, "subjects[0].plate"}, {"signals.coa", 1, 2}, "{}", kNow,
               json);
  simdjson::dom::parser parser;
  simdjson::dom::object record;
  ASSERT_EQ(parser.parse(json).get(record), simdjson::SUCCESS);
  std::set<std::string_view> members;
  for (auto field : record) members.insert(field.key);
  EXPECT_EQ(members, required);
}

}  // namespace
}  // namespace mozaiek
