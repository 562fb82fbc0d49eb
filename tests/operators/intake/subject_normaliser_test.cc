#include "operators/intake/subject_normaliser.h"

#include <gtest/gtest.h>

#include <string>

namespace mozaiek {
namespace {

std::string vehicle(std::string_view plate, std::string_view country) {
  std::string out;
  if (!normalise_vehicle_key(plate, country, out)) return "<invalid>";
  return out;
}

std::string location(std::string_view id) {
  std::string out;
  if (!normalise_location_id(id, out)) return "<invalid>";
  return out;
}

std::string country(std::string_view c) {
  const auto cc = vehicle_country(c);
  return std::string(cc.data(), cc.size());
}

TEST(SubjectNormaliserTest, PlateSpellingsGiveOneKey) {
  EXPECT_EQ(vehicle("ab-123-cd", "fr"), "FR-AB123CD");
  EXPECT_EQ(vehicle("AB.123.CD", "F"), "FR-AB123CD");
  EXPECT_EQ(vehicle(" AB 123 CD ", "FRA"), "FR-AB123CD");
  EXPECT_EQ(vehicle("ab\xc2\xb7"
                    "123\xc2\xb7"
                    "cd",
                    "f."),
            "FR-AB123CD");
  EXPECT_EQ(vehicle("12-ABC-3", "NL"), "NL-12ABC3");
  EXPECT_EQ(vehicle("B-AB 1234", "D"), "DE-BAB1234");
}

TEST(SubjectNormaliserTest, PlateWithItsOwnCountryInFrontIsKeyedAsWithout) {
  EXPECT_EQ(vehicle("FR-GH-482-KL", "FR"), "FR-GH482KL");
  EXPECT_EQ(vehicle("GH-482-KL", "FR"), "FR-GH482KL");
  EXPECT_EQ(vehicle(" fr gh 482 kl", "F"), "FR-GH482KL");  // the ISO code of the country given
  EXPECT_EQ(vehicle("NL.12-ABC-3", "nld"), "NL-12ABC3");
  // Not the country given: the letters belong to the plate (Freiburg).
  EXPECT_EQ(vehicle("FR AB 123", "D"), "DE-FRAB123");
  // No separator after them, or nothing after it: part of the plate.
  EXPECT_EQ(vehicle("FRGH482KL", "FR"), "FR-FRGH482KL");
  EXPECT_EQ(vehicle("FR-", "FR"), "FR-FR");
  // Without a country nothing says the letters are one.
  EXPECT_EQ(vehicle("FR-GH-482-KL", ""), "XX-FRGH482KL");
}

TEST(SubjectNormaliserTest, ReceptionKinds) {
  EXPECT_TRUE(is_reception_kind("reception_centre"));
  EXPECT_TRUE(is_reception_kind("Reception_Center"));
  EXPECT_TRUE(is_reception_kind("reception"));
  EXPECT_FALSE(is_reception_kind("address"));
  EXPECT_FALSE(is_reception_kind("workplace"));
  EXPECT_FALSE(is_reception_kind("reception_centres"));
  EXPECT_FALSE(is_reception_kind(""));
}

TEST(SubjectNormaliserTest, UnknownOrMissingCountryIsXX) {
  EXPECT_EQ(vehicle("AB123", ""), "XX-AB123");
  EXPECT_EQ(vehicle("AB123", "Narnia"), "XX-AB123");
  EXPECT_EQ(vehicle("AB123", "Q"), "XX-AB123");
  EXPECT_EQ(vehicle("AB123", "N1"), "XX-AB123");
  EXPECT_EQ(vehicle("AB123", "\xc3\x9f"), "XX-AB123");
}

TEST(SubjectNormaliserTest, CountriesMapFromVehicleAndIsoCodes) {
  const std::pair<const char*, const char*> cases[] = {
      {"F", "FR"},   {"D", "DE"},   {"B", "BE"},   {"NL", "NL"}, {"PL", "PL"}, {"RO", "RO"},
      {"BG", "BG"},  {"GB", "GB"},  {"UK", "GB"},  {"I", "IT"},  {"E", "ES"},  {"P", "PT"},
      {"L", "LU"},   {"CH", "CH"},  {"A", "AT"},   {"CZ", "CZ"}, {"SK", "SK"}, {"H", "HU"},
      {"LT", "LT"},  {"LV", "LV"},  {"EST", "EE"}, {"UA", "UA"}, {"ua", "UA"}, {"DEU", "DE"},
      {"nld", "NL"}, {"SLO", "SI"}, {"FL", "LI"},  {"zz", "ZZ"}, {" d ", "DE"}};
  for (const auto& [in, out] : cases) EXPECT_EQ(country(in), out) << in;
}

TEST(SubjectNormaliserTest, RejectsEmptyLongAndForeignPlates) {
  EXPECT_EQ(vehicle("", "NL"), "<invalid>");
  EXPECT_EQ(vehicle(" - . ", "NL"), "<invalid>");
  EXPECT_EQ(vehicle("ABCDEFGHIJKL", "NL"), "NL-ABCDEFGHIJKL");  // 12 is the maximum
  EXPECT_EQ(vehicle("ABCDEFGHIJKLM", "NL"), "<invalid>");
  EXPECT_EQ(vehicle("AB_123", "NL"), "<invalid>");
  EXPECT_EQ(vehicle("\xd0\x90\xd0\x92 123", "UA"), "<invalid>");  // Cyrillic letters
  EXPECT_EQ(vehicle("AB\xc2", "NL"), "<invalid>");                // truncated UTF-8
}

TEST(SubjectNormaliserTest, LocationIdsAreLowerCaseWithDashes) {
  EXPECT_EQ(location("COA Ter Apel"), "coa-ter-apel");
  EXPECT_EQ(location("  azc-budel \t"), "azc-budel");
  EXPECT_EQ(location("addr:nl:1234AB  12"), "addr:nl:1234ab-12");
  EXPECT_EQ(location("site_7.b"), "site_7.b");
  EXPECT_EQ(location(std::string(64, 'a')), std::string(64, 'a'));
}

TEST(SubjectNormaliserTest, RejectsEmptyLongAndUnsafeLocationIds) {
  EXPECT_EQ(location(""), "<invalid>");
  EXPECT_EQ(location("   "), "<invalid>");
  EXPECT_EQ(location(std::string(65, 'a')), "<invalid>");
  EXPECT_EQ(location(std::string(32, 'a') + "   " + std::string(32, 'a')), "<invalid>");
  EXPECT_EQ(location("street/12"), "<invalid>");
  EXPECT_EQ(location("caf\xc3\xa9"), "<invalid>");
  EXPECT_EQ(location("a\"b"), "<invalid>");
}

}  // namespace
}  // namespace mozaiek
