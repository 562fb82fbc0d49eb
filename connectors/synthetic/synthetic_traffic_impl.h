// Internals of SyntheticTraffic, shared by its source files and no one else:
// the planned record, the small JSON writers (inline, they run per record),
// the identifier and subject writers of synthetic_subjects.cc, and the Impl
// struct whose members are defined in synthetic_traffic.cc (configuration,
// noise planning, rendering) and synthetic_cases.cc (the planted cases).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/synthetic/synthetic_profiles.h"
#include "connectors/synthetic/synthetic_random.h"
#include "connectors/synthetic/synthetic_traffic.h"

namespace mozaiek {
namespace synthetic {

inline constexpr std::uint64_t kNoPerson = ~std::uint64_t{0};

// What a planned record becomes: a noise signal, a planted one, or one of the
// four malformed kinds (kTruncated .. kBadTimestamp, in this order).
enum Kind : std::uint8_t {
  kNoise,
  kPlanted,
  kTruncated,
  kUnknownIndicator,
  kNoSubjects,
  kBadTimestamp
};

constexpr unsigned bit(SubjectType t) { return 1u << static_cast<unsigned>(t); }

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

// --- JSON pieces ----------------------------------------------------------------

// v in decimal, zero-padded to width.
inline void append_uint(std::string& out, std::uint64_t v, int width) {
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
inline void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
}

// ,"name":"value"
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  append_escaped(out, value);
  out += '"';
}

// --- subjects (synthetic_subjects.cc) -------------------------------------------

struct PersonAttrs {
  std::string_view scheme;
  std::uint64_t id_hash;
  const char* age_group;
  const char* nationality;  // nullptr: not recorded
};

// An identifier in the scheme's format; BSNs pass the eleven-test like real ones.
void append_person_id(std::string& out, std::string_view scheme, std::uint64_t h);
void append_person_json(std::string& out, const PersonAttrs& a, const char* role);
void append_vehicle_json(std::string& out, std::string_view plate, std::string_view country);
// The plate as written in the registration of its country.
std::string plate_for(std::string_view country, std::uint64_t h);
// The oval sticker's code where it differs from ISO alpha-2 (D, F, B).
std::string_view distinguishing_sign(std::string_view iso2);
std::string without_separators(std::string_view plate);

}  // namespace synthetic

struct SyntheticTraffic::Impl {
  Impl(TrafficOptions o, const Catalogue& c) : options(std::move(o)), catalogue(c) {}

  TrafficOptions options;
  const Catalogue& catalogue;
  std::vector<const synthetic::Profile*> profiles;  // per configured source
  std::vector<std::string> topics;
  std::vector<std::uint64_t> pool_start;  // persons homed at each source: [start, start+size)
  std::vector<std::uint64_t> pool_size;
  std::vector<std::vector<IndicatorId>> mix_ids;
  std::vector<std::vector<double>> mix_cumulative;
  std::vector<std::vector<std::size_t>> related;  // per source: related configured sources
  std::vector<std::string> reception;
  std::vector<std::string> nidos_units;
  std::vector<synthetic::PlannedRecord> plan;
  std::vector<synthetic::PlantedSignal> planted_signals;
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

  // synthetic_traffic.cc
  void configure();
  std::vector<IndicatorId> usable_indicators() const;
  void match_sources(const std::vector<IndicatorId>& usable);
  void plan_noise();
  std::int64_t observe_time(const synthetic::Profile& p, synthetic::Rng& rng) const;
  std::int64_t report_time(const synthetic::Profile& p, std::int64_t observed,
                           synthetic::Rng& rng) const;
  void assign_ids_and_sort();
  void render(const synthetic::PlannedRecord& r, std::string& out);
  std::uint64_t render_subjects(const synthetic::PlannedRecord& r, synthetic::Rng& rng,
                                std::string& out) const;
  void append_person(std::string& out, std::uint64_t idx, const char* role) const;
  void append_vehicle(std::string& out, std::uint64_t idx, synthetic::Rng* spelling) const;
  std::string_view site_of(std::uint64_t person) const;
  void append_time(std::string& out, std::int64_t ms);
  void append_signal_id(std::string& out, const synthetic::PlannedRecord& r) const;
  // synthetic_cases.cc
  struct CasePlanner;
  void plan_cases();
};

}  // namespace mozaiek
