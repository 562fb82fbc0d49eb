#include "connectors/synthetic_traffic.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>

#include "connectors/synthetic_profiles.h"
#include "connectors/synthetic_random.h"

namespace mozaiek {
using namespace synthetic;
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

constexpr const char* kDefaultLocations[] = {"coa-ter-apel", "coa-budel", "coa-gilze",
                                             "coa-zevenaar", "nidos-amsterdam"};
// Typos and local codes partners send that the catalogue does not know.
constexpr const char* kUnknownCodes[] = {"behavior_change", "general_concern", "loverboy_contact"};
constexpr const char* kBadTimestamps[] = {"2025-02-30T10:00:00Z", "06-02-2025 10:15", "",
                                          "yesterday", "2025-03-01T25:61:00Z"};

constexpr std::uint64_t kNoPerson = ~std::uint64_t{0};

enum Kind : std::uint8_t { kNoise, kPlanted, kTruncated, kUnknownIndicator, kNoSubjects,
                           kBadTimestamp };

constexpr unsigned bit(SubjectType t) { return 1u << static_cast<unsigned>(t); }

void append_uint(std::string& out, std::uint64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i) out += '0';
  while (n > 0) out += buf[--n];
}

// Strings from the config are ids and names, but escape anyway so a strange
// one cannot break the JSON.
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  append_escaped(out, value);
  out += '"';
}

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

// One record of the plan; 40 bytes so a benchmark can plan millions.
struct PlannedRecord {
  std::int64_t observed_ms;
  std::int64_t reported_ms;
  std::uint64_t salt;
  std::uint32_t seq = 0;  // per-source sequence number (event order) -> signal id
  std::uint32_t aux = 0;  // planted: index into planted_signals
  std::uint16_t source;
  IndicatorId indicator;
  std::uint8_t kind;
};

struct PlantedSignal {
  std::size_t case_index;
  std::string subjects;  // rendered JSON array
  std::string unit;
  std::string id;
};

}  // namespace

struct SyntheticTraffic::Impl {
  Impl(TrafficOptions o, const Catalogue& c) : options(std::move(o)), catalogue(c) {}

  TrafficOptions options;
  const Catalogue& catalogue;
  std::vector<const Profile*> profiles;  // per configured source
  std::vector<std::string> topics;
  std::vector<std::uint64_t> pool_start;  // persons homed at each source: [start, start+size)
  std::vector<std::uint64_t> pool_size;
  std::vector<std::vector<IndicatorId>> mix_ids;
  std::vector<std::vector<double>> mix_cumulative;
  std::vector<std::vector<std::size_t>> related;  // per source: related configured sources
  std::vector<std::string> reception;
  std::vector<std::string> nidos_units;
  std::vector<PlannedRecord> plan;
  std::vector<PlantedSignal> planted_signals;
  std::vector<PlantedCase> cases;
  std::vector<std::string> unknown_codes;
  std::uint64_t vehicle_pool = 1;
  std::uint64_t address_pool = 1;
  std::size_t cursor = 0;
  std::size_t malformed = 0;
  EventTime last_reported{};
  std::string scratch;
  struct DayCache {
    std::int64_t day = std::numeric_limits<std::int64_t>::min();
    char text[11] = {};
  };
  DayCache day_cache[64];

  void configure();
  void plan_noise();
  void plan_cases();
  std::int64_t observe_time(const Profile& p, Rng& rng) const;
  std::int64_t report_time(const Profile& p, std::int64_t observed, Rng& rng) const;
  void assign_ids_and_sort();
  void render(const PlannedRecord& r, std::string& out);
  std::uint64_t render_subjects(const PlannedRecord& r, Rng& rng, std::string& out) const;
  void append_person(std::string& out, std::uint64_t idx, const char* role) const;
  void append_vehicle(std::string& out, std::uint64_t idx, Rng* spelling) const;
  std::string_view site_of(std::uint64_t person) const;
  void append_time(std::string& out, std::int64_t ms);
  void append_signal_id(std::string& out, const PlannedRecord& r) const;
};

void SyntheticTraffic::Impl::configure() {
  if (options.sources.empty()) {
    for (const auto& p : kKnownProfiles) options.sources.emplace_back(p.name);
  }
  if (options.locations.empty()) {
    for (const char* l : kDefaultLocations) options.locations.emplace_back(l);
  }
  std::vector<IndicatorId> usable;
  if (options.indicators.empty()) {
    for (std::size_t i = 0; i < catalogue.size(); ++i) {
      usable.push_back(static_cast<IndicatorId>(i));
    }
  } else {
    for (const auto& code : options.indicators) {
      if (auto id = catalogue.find(code)) usable.push_back(*id);
    }
  }
  const auto is_usable = [&](IndicatorId id) {
    return std::find(usable.begin(), usable.end(), id) != usable.end();
  };
  for (const auto& name : options.sources) {
    const Profile* profile = &kGenericProfile;
    for (const auto& p : kKnownProfiles) {
      if (name == p.name) profile = &p;
    }
    profiles.push_back(profile);
    topics.push_back("signals." + name);
    std::vector<IndicatorId> ids;
    std::vector<double> cumulative;
    double total = 0;
    for (const auto& w : profile->mix) {
      auto id = catalogue.find(w.value);
      if (!id || !is_usable(*id)) continue;
      ids.push_back(*id);
      cumulative.push_back(total += w.weight);
    }
    if (ids.empty()) {  // unknown organisation, or a catalogue without its codes
      for (IndicatorId id : usable) {
        ids.push_back(id);
        cumulative.push_back(total += 1.0);
      }
    }
    mix_ids.push_back(std::move(ids));
    mix_cumulative.push_back(std::move(cumulative));
  }
  for (std::size_t s = 0; s < profiles.size(); ++s) {
    std::vector<std::size_t> rel;
    for (const char* r : profiles[s]->related) {
      for (std::size_t o = 0; o < profiles.size(); ++o) {
        if (o != s && options.sources[o] == r) rel.push_back(o);
      }
    }
    related.push_back(std::move(rel));
  }
  for (const auto& l : options.locations) {
    if (starts_with(l, "coa-")) reception.push_back(l);
    if (starts_with(l, "nidos-")) nidos_units.push_back(l);
  }
  if (reception.empty()) {
    for (const auto& l : options.locations) {
      if (!starts_with(l, "nidos-")) reception.push_back(l);
    }
  }
  if (reception.empty()) reception.assign(kDefaultLocations, kDefaultLocations + 4);
  for (const char* code : kUnknownCodes) {
    if (!catalogue.find(code)) unknown_codes.emplace_back(code);
  }
  if (unknown_codes.empty()) unknown_codes.emplace_back("zz_not_in_catalogue");

  // The person population, split over the sources that meet them.
  double volume = 0;
  for (const Profile* p : profiles) volume += p->volume;
  const double persons = std::max(static_cast<double>(options.signals) * kPersonsPerSignal, 1.0);
  std::uint64_t next_start = 0;
  for (const Profile* p : profiles) {
    pool_start.push_back(next_start);
    pool_size.push_back(std::max<std::uint64_t>(1, std::llround(persons * p->volume / volume)));
    next_start += pool_size.back();
  }
  vehicle_pool = std::max<std::uint64_t>(20, options.signals / 5);
  address_pool = std::max<std::uint64_t>(20, options.signals / 8);
}

std::int64_t SyntheticTraffic::Impl::observe_time(const Profile& p, Rng& rng) const {
  const std::int64_t start = to_ms(options.start);
  const std::int64_t span = std::max<std::int64_t>(options.span.count(), 1);
  std::int64_t day = floor_div(start + rng.below_ms(span), kDayMs);
  const std::int64_t dow = ((day + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday; 0 = Monday
  if (p.weekdays && dow >= 5 && rng.chance(0.85)) day -= dow - 4;  // weekend work shows on Friday
  const std::int64_t tod =
      p.night ? rng.below_ms(kDayMs) : 8 * kHourMs + rng.below_ms(10 * kHourMs);
  return std::max(to_second(day * kDayMs + tod), to_second(start));
}

std::int64_t SyntheticTraffic::Impl::report_time(const Profile& p, std::int64_t observed,
                                                 Rng& rng) const {
  const auto capped = [&](Millis mean, Millis cap) {
    return std::min(rng.exponential_ms(mean), cap.count());
  };
  std::int64_t reported = observed;
  switch (p.delay) {
    case Delay::batch14: {  // the forms of two weeks go out together on the next batch day
      const std::int64_t start = to_ms(options.start), period = 14 * kDayMs;
      std::int64_t batch = start + (floor_div(observed - start, period) + 1) * period;
      batch += 10 * kHourMs;
      while (batch <= observed) batch += period;
      reported = batch + rng.below_ms(90 * 60'000);
      break;
    }
    case Delay::nightly:  // incident records are searched the next night
      reported = (floor_div(observed, kDayMs) + 1) * kDayMs + 2 * kHourMs;
      reported += rng.below_ms(2 * kHourMs);
      break;
    case Delay::hours: reported = observed + 600'000 + capped(hours(3), hours(36)); break;
    case Delay::within_day:
      reported = observed + 1'800'000 + rng.below_ms(23 * kHourMs);
      break;
    case Delay::days_short: reported = observed + 4 * kHourMs + capped(hours(36), days(10)); break;
    // Capped below the usual allowed lateness, so only a few land in too_late.
    case Delay::days: reported = observed + kDayMs + capped(days(4), days(25)); break;
    case Delay::weeks: reported = observed + 2 * kDayMs + capped(days(6), days(45)); break;
  }
  return std::max(to_second(reported), observed + 1000);
}

void SyntheticTraffic::Impl::plan_noise() {
  Rng rng(mix(options.seed ^ 0x6e6f697365ULL));
  double volume = 0;
  for (const Profile* p : profiles) volume += p->volume;
  // Malformed records are spread evenly (stratified), so the share is exact
  // up to rounding whatever the volume.
  double malformed_acc = rng.uniform();
  double cumulative = 0;
  std::int64_t assigned = 0;
  std::vector<std::int64_t> times;
  for (std::size_t s = 0; s < profiles.size(); ++s) {
    const Profile& p = *profiles[s];
    cumulative += p.volume;
    const auto upto = std::llround(static_cast<double>(options.signals) * cumulative / volume);
    const std::int64_t count = upto - assigned;
    assigned = upto;
    if (mix_ids[s].empty()) continue;
    times.clear();
    for (std::int64_t i = 0; i < count; ++i) times.push_back(observe_time(p, rng));
    std::sort(times.begin(), times.end());  // each source produces in event order
    const auto& cum = mix_cumulative[s];
    for (std::int64_t observed : times) {
      const double x = rng.uniform() * cum.back();
      const auto pos = static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), x) -
                                                cum.begin());
      PlannedRecord r{};
      r.observed_ms = observed;
      r.reported_ms = report_time(p, observed, rng);
      r.salt = rng.next();
      r.source = static_cast<std::uint16_t>(s);
      r.indicator = mix_ids[s][std::min(pos, cum.size() - 1)];
      r.kind = kNoise;
      malformed_acc += options.malformed_share;
      if (malformed_acc >= 1.0) {
        malformed_acc -= 1.0;
        r.kind = static_cast<std::uint8_t>(kTruncated + (r.salt >> 60) % 4);
        ++malformed;
      }
      plan.push_back(r);
    }
  }
}

namespace {

// An identifier in the scheme's format; BSNs pass the eleven-test like real ones.
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

struct PersonAttrs {
  std::string_view scheme;
  std::uint64_t id_hash;
  const char* age_group;
  const char* nationality;  // nullptr: not recorded
};

void append_person_json(std::string& out, const PersonAttrs& a, const char* role) {
  out += "{\"type\":\"person\",\"id\":\"";
  append_person_id(out, a.scheme, a.id_hash);
  out += "\",\"id_scheme\":\"";
  out += a.scheme;
  out += '"';
  if (role != nullptr) append_field(out, "role", role);
  append_field(out, "age_group", a.age_group);
  if (a.nationality != nullptr) append_field(out, "nationality", a.nationality);
  out += '}';
}

void append_vehicle_json(std::string& out, std::string_view plate, std::string_view country) {
  out += "{\"type\":\"vehicle\",\"plate\":\"";
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

struct CaseSubject {
  SubjectType type;
  std::string json;
};

CaseSubject person_subject(const PersonAttrs& a, const char* role) {
  CaseSubject s{SubjectType::person, {}};
  append_person_json(s.json, a, role);
  return s;
}
CaseSubject vehicle_subject(std::string_view plate, std::string_view country) {
  CaseSubject s{SubjectType::vehicle, {}};
  append_vehicle_json(s.json, plate, country);
  return s;
}
CaseSubject location_subject(std::string_view id, const char* kind) {
  CaseSubject s{SubjectType::location, "{\"type\":\"location\",\"id\":\""};
  append_escaped(s.json, id);
  s.json += "\",\"kind\":\"";
  s.json += kind;
  s.json += "\"}";
  return s;
}

// Numbers from 5000 up: noise addresses stay below, so a case's address is its own.
std::string planted_address(std::uint64_t h) {
  std::string id = "addr-";
  id += kMunicipalities[h % std::size(kMunicipalities)];
  id += '-';
  append_uint(id, 5000 + (h >> 8) % 4000, 0);
  return id;
}

std::string person_raw_id(const PersonAttrs& a) {
  std::string s(a.scheme);
  s += ':';
  append_person_id(s, a.scheme, a.id_hash);
  return s;
}

}  // namespace

void SyntheticTraffic::Impl::plan_cases() {
  Rng rng(mix(options.seed ^ 0x6361736573ULL));
  const auto at = [&](std::int64_t day, std::int64_t hour, std::int64_t minute) {
    return to_ms(options.start) + day * kDayMs + hour * kHourMs + minute * 60'000;
  };
  const auto allows = [&](const char* code, SubjectType t) {
    auto id = catalogue.find(code);
    return id && (catalogue.at(*id).subjects_mask & bit(t)) != 0;
  };
  // One planted signal; skipped when its source or indicator is not
  // configured, and subjects the indicator does not allow are left out.
  const auto add = [&](std::size_t case_index, std::string_view source, const char* code,
                       std::int64_t observed, std::vector<CaseSubject> subjects,
                       std::string unit = {}) {
    auto s = std::find(options.sources.begin(), options.sources.end(), source);
    auto id = catalogue.find(code);
    if (s == options.sources.end() || !id) return;
    const auto& only = options.indicators;
    if (!only.empty() && std::find(only.begin(), only.end(), code) == only.end()) return;
    PlantedSignal ps{case_index, "[", std::move(unit), {}};
    for (const auto& subject : subjects) {
      if ((catalogue.at(*id).subjects_mask & bit(subject.type)) == 0) continue;
      if (ps.subjects.size() > 1) ps.subjects += ',';
      ps.subjects += subject.json;
    }
    if (ps.subjects.size() == 1) return;
    ps.subjects += ']';
    PlannedRecord r{};
    r.source = static_cast<std::uint16_t>(s - options.sources.begin());
    r.observed_ms = observed;
    r.reported_ms = report_time(*profiles[r.source], observed, rng);
    r.salt = rng.next();
    r.indicator = *id;
    r.kind = kPlanted;
    r.aux = static_cast<std::uint32_t>(planted_signals.size());
    planted_signals.push_back(std::move(ps));
    plan.push_back(r);
  };
  const std::uint64_t h = mix(options.seed ^ 0x706c616e746564ULL);

  // (1) James (the brief's worked case): a Sudanese minor at a small COA site.
  // COA's pieces come in two-weekly batches, Nidos's within days; together
  // they converge weeks before he leaves.
  const PersonAttrs james{"v-number", mix(h ^ 1), "minor", "SD"};
  std::string site = reception.back();
  for (const auto& l : reception) {  // small-scale: not the application centre or the shelter
    if (l.find("ter-apel") == std::string::npos && l.find("beschermd") == std::string::npos &&
        l.find("protected") == std::string::npos) {
      site = l;
    }
  }
  const std::string french_plate = plate_for("FR", mix(h ^ 2));
  const std::string nidos = nidos_units.empty() ? std::string() : nidos_units.front();
  cases.push_back({"james", "person", person_raw_id(james), "", {}});
  add(0, "coa", "behaviour_change", at(15, 10, 30), {person_subject(james, "resident")}, site);
  add(0, "coa", "weight_loss_or_neglect", at(17, 14, 0), {person_subject(james, "resident")}, site);
  add(0, "coa", "many_foreign_calls", at(24, 11, 15), {person_subject(james, "resident")}, site);
  add(0, "coa", "outside_contacts", at(26, 16, 40), {person_subject(james, "resident")}, site);
  add(0, "coa", "visitor_vehicle", at(33, 19, 5),
      {vehicle_subject(french_plate, "FR"), location_subject(site, "reception"),
       person_subject(james, "passenger")},
      site);
  add(0, "nidos", "unexplained_money", at(36, 15, 0), {person_subject(james, nullptr)}, nidos);
  add(0, "nidos", "fear_or_distress", at(44, 13, 30), {person_subject(james, nullptr)}, nidos);
  add(0, "nidos", "too_good_promise", at(53, 11, 0), {person_subject(james, nullptr)}, nidos);
  add(0, "nidos", "intends_onward_travel", at(81, 14, 20), {person_subject(james, nullptr)}, nidos);
  add(0, "coa", "worrying_departure", at(84, 20, 0),
      {person_subject(james, "resident"), location_subject(site, "reception")}, site);

  // (2) The pickup van (the Gilze case): one Polish van collects residents at
  // three reception sites; the labour inspectorate finds one of them at work.
  const std::string van = plate_for("PL", mix(h ^ 3));
  const std::string& a = reception[1 % reception.size()];
  const std::string& b = reception[2 % reception.size()];
  const std::string& c = reception[0];
  const PersonAttrs r1{"v-number", mix(h ^ 4), "adult", "ER"};
  const PersonAttrs r2{"v-number", mix(h ^ 5), "adult", "SY"};
  const std::string workplace = planted_address(mix(h ^ 6));
  cases.push_back({"pickup_van", "vehicle", van, "PL", {}});
  add(1, "coa", "pickup_van", at(20, 6, 45),
      {vehicle_subject(van, "PL"), location_subject(a, "reception"),
       person_subject(r1, "passenger")},
      a);
  add(1, "coa", "pickup_van", at(27, 6, 30),
      {vehicle_subject(without_separators(van), "PL"), location_subject(b, "reception")}, b);
  add(1, "coa", "pickup_van", at(34, 6, 50),
      {vehicle_subject(van, "PL"), location_subject(c, "reception"),
       person_subject(r2, "passenger")},
      c);
  if (!allows("underpaid_work", SubjectType::vehicle)) {  // the inspector sees the van arrive
    add(1, "nla", "pickup_van", at(38, 7, 0),
        {vehicle_subject(van, "PL"), location_subject(workplace, "workplace"),
         person_subject(r2, "worker")});
  }
  add(1, "nla", "underpaid_work", at(38, 11, 0),
      {person_subject(r2, "worker"), location_subject(workplace, "workplace"),
       vehicle_subject(van, "PL")});

  // (3) The address hot-spot: an overcrowded address where workers sleep and
  // the same Romanian plate keeps coming back.
  const std::string address = planted_address(mix(h ^ 8));
  const std::string ro_plate = plate_for("RO", mix(h ^ 10));
  const PersonAttrs w1{"passport", mix(h ^ 11), "adult", "RO"};
  const PersonAttrs w2{"passport", mix(h ^ 12), "adult", "BG"};
  cases.push_back({"hotspot", "location", address, "", {}});
  add(2, "municipality", "overcrowded_address", at(45, 10, 0),
      {location_subject(address, "address")});
  add(2, "nla", "sleeps_at_workplace", at(49, 9, 30),
      {person_subject(w1, "worker"), location_subject(address, "workplace")});
  add(2, "municipality", "foreign_plate_recurring", at(55, 7, 15),
      {vehicle_subject(ro_plate, "RO"), location_subject(address, "address")});
  add(2, "police", "foreign_plate_recurring", at(58, 22, 40),
      {vehicle_subject(without_separators(ro_plate), "RO"), location_subject(address, "address")});
  add(2, "fairwork", "underpaid_work", at(62, 14, 0),
      {person_subject(w2, "worker"), location_subject(address, "workplace")});
}

void SyntheticTraffic::Impl::assign_ids_and_sort() {
  // Signal ids follow event order within a source, as a partner's system numbers them.
  std::sort(plan.begin(), plan.end(), [](const PlannedRecord& x, const PlannedRecord& y) {
    if (x.source != y.source) return x.source < y.source;
    if (x.observed_ms != y.observed_ms) return x.observed_ms < y.observed_ms;
    return x.salt < y.salt;
  });
  std::uint32_t seq = 0;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (i == 0 || plan[i].source != plan[i - 1].source) seq = 0;
    plan[i].seq = ++seq;
    if (plan[i].kind == kPlanted) append_signal_id(planted_signals[plan[i].aux].id, plan[i]);
  }
  for (const auto& ps : planted_signals) cases[ps.case_index].signal_ids.push_back(ps.id);
  std::erase_if(cases, [](const PlantedCase& c) { return c.signal_ids.empty(); });
  std::sort(plan.begin(), plan.end(), [](const PlannedRecord& x, const PlannedRecord& y) {
    if (x.reported_ms != y.reported_ms) return x.reported_ms < y.reported_ms;
    if (x.source != y.source) return x.source < y.source;
    return x.seq < y.seq;
  });
}

void SyntheticTraffic::Impl::append_signal_id(std::string& out, const PlannedRecord& r) const {
  out += options.sources[r.source];
  out += '-';
  append_uint(out, r.seq, 6);
}

// A noise person's attributes follow from its index alone, so the same
// person looks the same whichever organisation names it.
void SyntheticTraffic::Impl::append_person(std::string& out, std::uint64_t idx,
                                           const char* role) const {
  const auto home = static_cast<std::size_t>(
      std::upper_bound(pool_start.begin(), pool_start.end(), idx) - pool_start.begin() - 1);
  const Population& pop = *profiles[home]->population;
  Rng rng(mix(options.seed ^ 0x706572736f6eULL) ^ idx);
  PersonAttrs a{pick(pop.schemes, rng.uniform()), rng.next(), "adult", nullptr};
  const double age = rng.uniform();
  if (age < pop.minor) {
    a.age_group = "minor";
  } else if (age < pop.minor + pop.unknown_age) {
    a.age_group = "unknown";
  }
  if (rng.uniform() < 0.95) a.nationality = pick(pop.nationalities, rng.uniform());
  append_person_json(out, a, role);
}

// Reception sites are not equal: Ter Apel-like first sites house most people.
std::string_view SyntheticTraffic::Impl::site_of(std::uint64_t person) const {
  const double u = unit_interval(mix(person ^ options.seed));
  const auto i = static_cast<std::size_t>(static_cast<double>(reception.size()) * std::pow(u, 1.7));
  return reception[std::min(i, reception.size() - 1)];
}

// Partners spell plates and countries every which way; spelling == nullptr
// writes the registration form.
void SyntheticTraffic::Impl::append_vehicle(std::string& out, std::uint64_t idx,
                                            Rng* spelling) const {
  const std::uint64_t h = mix(options.seed ^ 0x76656869636c65ULL ^ idx);
  const std::string_view country = pick(kPlateCountries, unit_interval(h));
  std::string plate = plate_for(country, mix(h));
  if (spelling == nullptr) {
    append_vehicle_json(out, plate, country);
    return;
  }
  const double u = spelling->uniform();
  const double c = spelling->uniform();
  char lower[3] = {static_cast<char>(country[0] | 0x20), static_cast<char>(country[1] | 0x20), 0};
  if (u < 0.25) {
    plate = without_separators(plate);
  } else if (u < 0.40) {
    for (char& ch : plate) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
  } else if (u < 0.45) {  // "fr ab-123-cd": the country sticker typed into the plate
    for (char& ch : plate) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch);
    plate = std::string(lower) + " " + plate;
    append_vehicle_json(out, plate, c < 0.5 ? distinguishing_sign(country) : country);
    return;
  }
  std::string_view written = country;
  if (c < 0.05) {
    written = lower;
  } else if (c < 0.12) {
    written = distinguishing_sign(country);
  } else if (c < 0.20) {
    written = {};  // not recorded
  }
  append_vehicle_json(out, plate, written);
}

// Returns the noise person named first, or kNoPerson.
std::uint64_t SyntheticTraffic::Impl::render_subjects(const PlannedRecord& r, Rng& rng,
                                                     std::string& out) const {
  const Profile& p = *profiles[r.source];
  const Indicator& ind = catalogue.at(r.indicator);
  const bool has_p = (ind.subjects_mask & bit(SubjectType::person)) != 0;
  const bool has_v = (ind.subjects_mask & bit(SubjectType::vehicle)) != 0;
  const bool has_l = (ind.subjects_mask & bit(SubjectType::location)) != 0;
  const bool transports = ind.code == "transports_persons_with_documents";
  bool want_p = has_p && rng.chance(has_v && has_l ? 0.45 : 0.95);
  bool want_v = has_v && rng.chance(transports ? 1.0 : has_l ? 0.95 : 0.35);
  // A resident's signal seldom names the site itself (the unit says where);
  // a departure always does, and so do vehicles seen at the gate.
  const std::string_view code = ind.code;
  const bool at_reception = p.population == &kAsylum || p.population == &kMinors ||
                            code == "visitor_vehicle" || code == "pickup_van" ||
                            code == "recruited_near_reception";
  bool want_l = has_l && rng.chance(!has_p || code == "worrying_departure" ? 1.0
                                    : has_v                                ? 0.9
                                    : at_reception                         ? 0.1
                                                                           : 0.5);
  if (!want_p && !want_v && !want_l) {
    want_p = has_p;
    want_v = !has_p && has_v;
    want_l = !has_p && !has_v;
  }
  const auto choose_person = [&]() {
    std::size_t home = r.source;
    if (!related[home].empty() && rng.chance(kCrossSource)) {
      home = related[home][rng.below(related[home].size())];
    }
    return pool_start[home] + rng.below(pool_size[home]);
  };
  const std::uint64_t person = want_p ? choose_person() : kNoPerson;
  bool first = true;
  const auto sep = [&]() {
    if (!first) out += ',';
    first = false;
  };
  out += '[';
  if (person != kNoPerson) {
    sep();
    const char* role = p.unit == Unit::reception ? "resident"
                       : p.population == &kLabour ? "worker"
                       : transports ? "driver"
                       : nullptr;
    append_person(out, person, role);
    if (transports && rng.chance(0.5)) {
      out += ',';
      append_person(out, choose_person(), "passenger");
    }
  }
  if (want_v) {
    sep();
    append_vehicle(out, rng.below(vehicle_pool), &rng);
  }
  if (want_l) {
    sep();
    out += "{\"type\":\"location\",\"id\":\"";
    if (at_reception) {
      append_escaped(out, person != kNoPerson ? site_of(person)
                                              : reception[rng.below(reception.size())]);
      out += "\",\"kind\":\"reception\"}";
    } else {
      const std::uint64_t a = mix(options.seed ^ rng.below(address_pool));
      out += "addr-";
      out += kMunicipalities[a % std::size(kMunicipalities)];
      out += '-';
      append_uint(out, 1 + (a >> 8) % 4999, 0);
      const bool work = code == "underpaid_work" || code == "no_contract" ||
                        code == "sleeps_at_workplace" || code == "living_signs_at_workplace";
      const bool business = code == "business_without_customers" || code == "unlicensed_sex_work";
      out += work ? "\",\"kind\":\"workplace\"}" : business ? "\",\"kind\":\"business\"}"
                                                           : "\",\"kind\":\"address\"}";
    }
  }
  out += ']';
  return person;
}

// RFC 3339 via format_rfc3339, but only once per day: the clock part is
// patched in, which keeps next() cheap.
void SyntheticTraffic::Impl::append_time(std::string& out, std::int64_t ms) {
  if (ms % 1000 != 0) {
    out += format_rfc3339(event_time_from_ms(ms));
    return;
  }
  const std::int64_t day = floor_div(ms, kDayMs);
  DayCache& cache = day_cache[static_cast<std::uint64_t>(day) % 64];
  if (cache.day != day) {
    const std::string text = format_rfc3339(event_time_from_ms(day * kDayMs));
    std::copy_n(text.data(), sizeof cache.text, cache.text);
    cache.day = day;
  }
  out.append(cache.text, sizeof cache.text);
  const std::int64_t sod = (ms - day * kDayMs) / 1000;
  append_uint(out, static_cast<std::uint64_t>(sod / 3600), 2);
  out += ':';
  append_uint(out, static_cast<std::uint64_t>(sod / 60 % 60), 2);
  out += ':';
  append_uint(out, static_cast<std::uint64_t>(sod % 60), 2);
  out += 'Z';
}

void SyntheticTraffic::Impl::render(const PlannedRecord& r, std::string& out) {
  static constexpr const char* kFormNames[] = {"sexual", "labour", "criminal", "organ"};
  const Profile& p = *profiles[r.source];
  const Indicator& ind = catalogue.at(r.indicator);
  const PlantedSignal* planted = r.kind == kPlanted ? &planted_signals[r.aux] : nullptr;
  Rng rng(r.salt);
  scratch.clear();
  std::uint64_t person = kNoPerson;
  if (planted != nullptr) {
    scratch = planted->subjects;
  } else if (r.kind == kNoSubjects) {
    scratch = "[]";
  } else {
    person = render_subjects(r, rng, scratch);
  }

  out.clear();
  out += "{\"schema\":\"mozaiek.signal/v1\",\"signal_id\":\"";
  append_escaped(out, options.sources[r.source]);
  out += '-';
  append_uint(out, r.seq, 6);
  out += '"';
  append_field(out, "source", options.sources[r.source]);
  if (planted != nullptr) {
    if (!planted->unit.empty()) append_field(out, "unit", planted->unit);
  } else if (p.unit == Unit::reception) {
    append_field(out, "unit", person != kNoPerson ? site_of(person)
                                                  : reception[rng.below(reception.size())]);
  } else if (p.unit == Unit::nidos && !nidos_units.empty()) {
    append_field(out, "unit", nidos_units[rng.below(nidos_units.size())]);
  } else if (p.unit == Unit::fixed) {
    append_field(out, "unit", p.fixed_unit);
  }
  if (r.kind == kBadTimestamp) {
    append_field(out, "observed_at", kBadTimestamps[rng.below(std::size(kBadTimestamps))]);
  } else {
    out += ",\"observed_at\":\"";
    append_time(out, r.observed_ms);
    out += '"';
  }
  out += ",\"reported_at\":\"";
  append_time(out, r.reported_ms);
  out += '"';
  append_field(out, "indicator", r.kind == kUnknownIndicator
                                     ? unknown_codes[rng.below(unknown_codes.size())]
                                     : ind.code);
  if (p.explicit_strength) {  // TMM's own weak/strong scoring
    const bool strong = ind.strength == Strength::concrete || rng.chance(0.25);
    append_field(out, "strength", strong ? "concrete" : "soft");
  } else if (rng.chance(0.1)) {
    append_field(out, "strength", to_string(ind.strength));
  }
  if (ind.forms != 0 && (p.population == &kLabour || rng.chance(0.3))) {
    out += ",\"forms\":[";
    bool first = true;
    for (unsigned f = 0; f < 4; ++f) {
      if ((ind.forms & (1u << f)) == 0) continue;
      out += first ? "\"" : ",\"";
      out += kFormNames[f];
      out += '"';
      first = false;
    }
    out += ']';
  }
  if (p.consent_false > 0) {  // sources that record without consent say so
    out += planted == nullptr && rng.chance(p.consent_false) ? ",\"consent\":false"
                                                             : ",\"consent\":true";
  }
  out += ",\"subjects\":";
  out += scratch;
  out += '}';
  if (r.kind == kTruncated) {  // a cut-off write: any proper prefix of an object is invalid
    const std::size_t keep = out.size() / 4;
    out.resize(keep + rng.below(out.size() - keep));
  }
}

SyntheticTraffic::SyntheticTraffic(TrafficOptions options, const Catalogue& catalogue)
    : impl_(std::make_unique<Impl>(std::move(options), catalogue)) {
  impl_->configure();
  impl_->plan.reserve(impl_->options.signals + 32);
  impl_->plan_noise();
  if (impl_->options.plant_cases) impl_->plan_cases();
  impl_->assign_ids_and_sort();
}

SyntheticTraffic::~SyntheticTraffic() = default;

bool SyntheticTraffic::next(OutRecord& out) {
  Impl& m = *impl_;
  if (m.cursor >= m.plan.size()) return false;
  const PlannedRecord& r = m.plan[m.cursor++];
  out.topic.assign(m.topics[r.source]);
  out.key.clear();
  m.append_signal_id(out.key, r);
  m.render(r, out.value);
  m.last_reported = event_time_from_ms(r.reported_ms);
  return true;
}

const std::vector<PlantedCase>& SyntheticTraffic::planted() const { return impl_->cases; }
std::size_t SyntheticTraffic::generated() const { return impl_->cursor; }
std::size_t SyntheticTraffic::total() const { return impl_->plan.size(); }
std::size_t SyntheticTraffic::malformed() const { return impl_->malformed; }
EventTime SyntheticTraffic::last_reported_at() const { return impl_->last_reported; }

std::vector<OutRecord> generate_records(const TrafficOptions& options, const Catalogue& catalogue,
                                        std::size_t n) {
  TrafficOptions sized = options;
  sized.signals = n;
  SyntheticTraffic traffic(std::move(sized), catalogue);
  std::vector<OutRecord> records;
  records.reserve(n);
  OutRecord record;
  while (records.size() < n && traffic.next(record)) records.push_back(record);
  return records;
}

TrafficOptions benchmark_traffic(const OperatorConfig& config, std::size_t n, std::uint64_t seed) {
  TrafficOptions t;
  t.seed = seed;
  t.signals = n;
  t.malformed_share = 0.0;
  t.span = days(365);
  for (const auto& src : config.sources) t.sources.push_back(src.name);
  t.locations = config.locations;
  for (const auto& ind : config.catalogue.all()) t.indicators.push_back(ind.code);
  return t;
}

}  // namespace mozaiek
