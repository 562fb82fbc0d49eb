// How SyntheticTraffic writes the subjects partners name: person identifiers
// in each scheme's format (BSNs pass the eleven-test), plates as registered
// in their country, and the person and vehicle JSON objects. Shared by the
// noise (synthetic_traffic.cc) and the planted cases (synthetic_cases.cc).
#include "connectors/synthetic/synthetic_traffic_impl.h"

namespace mozaiek::synthetic {
namespace {

// Letters (no I, O, Q, as on real plates) and digits from a hash.
char letter(std::uint64_t& h) {
  static constexpr char kLetters[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
  char c = kLetters[h % 23];
  h /= 23;
  return c;
}
char digit(std::uint64_t& h) {
  char c = static_cast<char>('0' + h % 10);
  h /= 10;
  return c;
}

}  // namespace

// The plate as written in the registration of its country, from a pattern:
// L letter, 9 digit, anything else literal.
std::string plate_for(std::string_view country, std::uint64_t h) {
  std::string_view pattern;
  std::uint64_t choice = h % 4;
  h = mix(h);
  if (country == "NL") {
    static constexpr std::string_view kNl[] = {"LL-999-L", "99-LLL-9", "L-999-LL", "LL-99-LL"};
    pattern = kNl[choice];
  } else if (country == "PL") {
    pattern = choice < 2 ? "LLL 9999L" : "LL 99999";
  } else if (country == "RO") {
    pattern = choice < 2 ? "B 999 LLL" : "LL 99 LLL";
  } else if (country == "BG") {
    pattern = "LL 9999 LL";
  } else if (country == "DE") {
    pattern = choice < 2 ? "L-LL 9999" : "LLL-L 999";
  } else if (country == "FR") {
    pattern = "LL-999-LL";
  } else if (country == "BE") {
    pattern = "9-LLL-999";
  } else {
    pattern = "LLL 999";
  }
  std::string plate;
  for (char p : pattern) plate += p == 'L' ? letter(h) : p == '9' ? digit(h) : p;
  return plate;
}

std::string_view distinguishing_sign(std::string_view iso2) {
  if (iso2 == "DE") return "D";
  if (iso2 == "FR") return "F";
  if (iso2 == "BE") return "B";
  return iso2;
}

void append_person_id(std::string& out, std::string_view scheme, std::uint64_t h) {
  if (scheme == "bsn") {
    int d[9];
    for (;;) {
      int sum = 0;
      for (int i = 0; i < 8; ++i) sum += (d[i] = static_cast<int>(digit(h) - '0')) * (9 - i);
      if (d[0] != 0 && sum % 11 != 10) {
        d[8] = sum % 11;
        break;
      }
      h = mix(h);
    }
    for (int v : d) out += static_cast<char>('0' + v);
  } else if (scheme == "passport") {
    out += letter(h);
    out += letter(h);
    for (int i = 0; i < 7; ++i) out += digit(h);
  } else {
    const int n = scheme == "v-number" ? 10 : scheme == "coa-resident" ? 7 : 8;
    out += static_cast<char>('1' + h % 9);
    h /= 9;
    for (int i = 1; i < n; ++i) out += digit(h);
  }
}

void append_person_json(std::string& out, const PersonAttrs& a, const char* role) {
  out += R"({"type":"person","id":")";
  append_person_id(out, a.scheme, a.id_hash);
  out += R"(","id_scheme":")";
  out += a.scheme;
  out += '"';
  if (role != nullptr) append_field(out, "role", role);
  append_field(out, "age_group", a.age_group);
  if (a.nationality != nullptr) append_field(out, "nationality", a.nationality);
  out += '}';
}

void append_vehicle_json(std::string& out, std::string_view plate, std::string_view country) {
  out += R"({"type":"vehicle","plate":")";
  append_escaped(out, plate);
  out += '"';
  if (!country.empty()) append_field(out, "country", country);
  out += '}';
}

std::string without_separators(std::string_view plate) {
  std::string s;
  for (char c : plate) {
    if (c != ' ' && c != '-') s += c;
  }
  return s;
}

}  // namespace mozaiek::synthetic
