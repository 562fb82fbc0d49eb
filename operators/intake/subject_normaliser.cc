#include "operators/intake/subject_normaliser.h"

#include <algorithm>

namespace mozaiek {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_upper_alpha(char c) { return c >= 'A' && c <= 'Z'; }

struct CountryAlias {
  std::string_view code;  // upper case, as written on plates or in ISO alpha-3
  std::string_view alpha2;
};

// Codes that are not already the ISO alpha-2 code: distinguishing signs of
// vehicles in international traffic (Vienna convention) and ISO alpha-3 codes
// of the countries whose vehicles are common in the Netherlands.
// Sorted by code for binary search (checked below).
constexpr CountryAlias kCountryAliases[] = {
    {"A", "AT"},   {"ALB", "AL"}, {"AND", "AD"}, {"AUT", "AT"}, {"B", "BE"},   {"BEL", "BE"},
    {"BGR", "BG"}, {"BIH", "BA"}, {"BLR", "BY"}, {"CHE", "CH"}, {"CYP", "CY"}, {"CZE", "CZ"},
    {"D", "DE"},   {"DEU", "DE"}, {"DNK", "DK"}, {"E", "ES"},   {"ESP", "ES"}, {"EST", "EE"},
    {"F", "FR"},   {"FIN", "FI"}, {"FL", "LI"},  {"FRA", "FR"}, {"GBG", "GG"}, {"GBJ", "JE"},
    {"GBM", "IM"}, {"GBR", "GB"}, {"GBZ", "GI"}, {"GRC", "GR"}, {"H", "HU"},   {"HRV", "HR"},
    {"HUN", "HU"}, {"I", "IT"},   {"IRL", "IE"}, {"ISL", "IS"}, {"ITA", "IT"}, {"L", "LU"},
    {"LIE", "LI"}, {"LTU", "LT"}, {"LUX", "LU"}, {"LVA", "LV"}, {"M", "MT"},   {"MAR", "MA"},
    {"MCO", "MC"}, {"MDA", "MD"}, {"MKD", "MK"}, {"MLT", "MT"}, {"MNE", "ME"}, {"N", "NO"},
    {"NLD", "NL"}, {"NMK", "MK"}, {"NOR", "NO"}, {"P", "PT"},   {"POL", "PL"}, {"PRT", "PT"},
    {"ROU", "RO"}, {"RSM", "SM"}, {"RUS", "RU"}, {"S", "SE"},   {"SLO", "SI"}, {"SMR", "SM"},
    {"SRB", "RS"}, {"SVK", "SK"}, {"SVN", "SI"}, {"SWE", "SE"}, {"TUN", "TN"}, {"TUR", "TR"},
    {"UK", "GB"},  {"UKR", "UA"}, {"USA", "US"}, {"V", "VA"},
};

constexpr bool aliases_sorted() {
  return std::is_sorted(std::begin(kCountryAliases), std::end(kCountryAliases),
                        [](const CountryAlias& a, const CountryAlias& b) {
                          return a.code < b.code;
                        });
}
static_assert(aliases_sorted(), "kCountryAliases must be sorted by code");

}  // namespace

std::array<char, 2> vehicle_country(std::string_view country) {
  // Upper-cased, separators dropped ("d.", " fr "); longer than any code -> unknown.
  char buf[4];
  std::size_t n = 0;
  for (char c : country) {
    if (is_space(c) || c == '.' || c == '-') continue;
    c = upper(c);
    if (!is_upper_alpha(c) || n == sizeof buf) return {'X', 'X'};
    buf[n++] = c;
  }
  const std::string_view code(buf, n);
  const auto* it = std::lower_bound(std::begin(kCountryAliases), std::end(kCountryAliases), code,
                                    [](const CountryAlias& a, std::string_view c) {
                                      return a.code < c;
                                    });
  if (it != std::end(kCountryAliases) && it->code == code) return {it->alpha2[0], it->alpha2[1]};
  if (n == 2) return {buf[0], buf[1]};
  return {'X', 'X'};
}

bool normalise_vehicle_key(std::string_view plate, std::string_view country, std::string& out_key) {
  const auto cc = vehicle_country(country);
  out_key.clear();
  out_key.push_back(cc[0]);
  out_key.push_back(cc[1]);
  out_key.push_back('-');
  std::size_t i = 0;
  while (i < plate.size() && is_space(plate[i])) ++i;
  // The plate's own country code in front, then a separator: dropped when
  // it is the country the partner gave (and something follows it).
  if (cc[0] != 'X' && plate.size() >= i + 4 && upper(plate[i]) == cc[0] &&
      upper(plate[i + 1]) == cc[1]) {
    const char sep = plate[i + 2];
    if (is_space(sep) || sep == '-' || sep == '.') i += 3;
  }
  std::size_t chars = 0;
  for (; i < plate.size(); ++i) {
    const char c = upper(plate[i]);
    if (is_space(c) || c == '-' || c == '.') continue;
    // U+00B7 MIDDLE DOT, used on German and Austrian plates, is 0xC2 0xB7 in UTF-8.
    if (c == '\xC2' && i + 1 < plate.size() && plate[i + 1] == '\xB7') {
      ++i;
      continue;
    }
    if (!is_upper_alpha(c) && !(c >= '0' && c <= '9')) return false;
    if (++chars > kMaxPlateChars) return false;
    out_key.push_back(c);
  }
  return chars > 0;
}

bool is_reception_kind(std::string_view kind) {
  for (std::string_view k : {"reception_centre", "reception_center", "reception"}) {
    if (kind.size() != k.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) same = lower(kind[i]) == k[i];
    if (same) return true;
  }
  return false;
}

bool normalise_location_id(std::string_view id, std::string& out) {
  std::size_t begin = 0;
  std::size_t end = id.size();
  while (begin < end && is_space(id[begin])) ++begin;
  while (end > begin && is_space(id[end - 1])) --end;
  out.clear();
  bool in_space = false;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = lower(id[i]);
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == ':' || c == '-';
    if (!ok) return false;
    if (in_space) {
      out.push_back('-');
      in_space = false;
    }
    out.push_back(c);
    if (out.size() > kMaxLocationIdChars) return false;
  }
  return !out.empty();
}

}  // namespace mozaiek
