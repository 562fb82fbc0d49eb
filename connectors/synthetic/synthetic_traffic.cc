// SyntheticTraffic itself: configuration (the configured sources matched to
// their profiles, person pools, indicator mixes), planning the noise (when each
// source observes and reports, which records are malformed), signal ids and
// the reporting order, and rendering one planned record as signal v1 JSON.
// Profiles are in synthetic_profiles.cc, the planted cases in
// synthetic_cases.cc, identifiers and plates in synthetic_subjects.cc.
#include "connectors/synthetic/synthetic_traffic.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "connectors/synthetic/synthetic_traffic_impl.h"

namespace mozaiek {
using namespace synthetic;
namespace {

constexpr const char* kDefaultLocations[] = {"coa-ter-apel", "coa-budel", "coa-gilze",
                                             "coa-zevenaar", "nidos-amsterdam"};
// Typos and local codes partners send that the catalogue does not know.
constexpr const char* kUnknownCodes[] = {"behavior_change", "general_concern", "loverboy_contact"};
constexpr const char* kBadTimestamps[] = {"2025-02-30T10:00:00Z", "06-02-2025 10:15", "",
                                          "yesterday", "2025-03-01T25:61:00Z"};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

void SyntheticTraffic::Impl::configure() {
  if (options.sources.empty()) {
    for (const auto& p : kKnownProfiles) options.sources.emplace_back(p.name);
  }
  if (options.locations.empty()) {
    for (const char* l : kDefaultLocations) options.locations.emplace_back(l);
  }
  const std::vector<IndicatorId> usable = usable_indicators();
  match_sources(usable);
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

// The indicators the traffic may use: the catalogue's, or those asked for.
std::vector<IndicatorId> SyntheticTraffic::Impl::usable_indicators() const {
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
  return usable;
}

// Each source's profile, topic, indicator mix (only usable indicators; all
// of them, evenly, when none of its own is) and related sources.
void SyntheticTraffic::Impl::match_sources(const std::vector<IndicatorId>& usable) {
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
}

std::int64_t SyntheticTraffic::Impl::observe_time(const Profile& p, Rng& rng) const {
  const std::int64_t start = to_ms(options.start);
  const std::int64_t span = std::max<std::int64_t>(options.span.count(), 1);
  std::int64_t day = floor_div(start + rng.below_ms(span), kDayMs);
  const std::int64_t dow = ((day + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday; 0 = Monday
  if (p.weekdays && dow >= 5 && rng.chance(0.85)) day -= dow - 4;  // weekend work shows on Friday
  const std::int64_t tod = p.night ? rng.below_ms(kDayMs)
                                   : 8 * kHourMs + rng.below_ms(10 * kHourMs);
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
      reported = batch + rng.below_ms(std::int64_t{90} * 60'000);
      break;
    }
    case Delay::nightly:  // incident records are searched the next night
      reported = (floor_div(observed, kDayMs) + 1) * kDayMs + 2 * kHourMs;
      reported += rng.below_ms(2 * kHourMs);
      break;
    case Delay::hours: reported = observed + 600'000 + capped(hours(3), hours(36)); break;
    case Delay::within_day: reported = observed + 1'800'000 + rng.below_ms(23 * kHourMs); break;
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
    const char* role = p.unit == Unit::reception  ? "resident"
                       : p.population == &kLabour ? "worker"
                       : transports               ? "driver"
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
    out += R"({"type":"location","id":")";
    if (at_reception) {
      append_escaped(out, person != kNoPerson ? site_of(person)
                                              : reception[rng.below(reception.size())]);
      out += R"(","kind":"reception"})";
    } else {
      const std::uint64_t a = mix(options.seed ^ rng.below(address_pool));
      out += "addr-";
      out += kMunicipalities[a % std::size(kMunicipalities)];
      out += '-';
      append_uint(out, 1 + (a >> 8) % 4999, 0);
      const bool work = code == "underpaid_work" || code == "no_contract" ||
                        code == "sleeps_at_workplace" || code == "living_signs_at_workplace";
      const bool business = code == "business_without_customers" || code == "unlicensed_sex_work";
      out += work       ? R"(","kind":"workplace"})"
             : business ? R"(","kind":"business"})"
                        : R"(","kind":"address"})";
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
  out += R"({"schema":"mozaiek.signal/v1","signal_id":")";
  append_escaped(out, options.sources[r.source]);
  out += '-';
  append_uint(out, r.seq, 6);
  out += '"';
  append_field(out, "source", options.sources[r.source]);
  if (planted != nullptr) {
    if (!planted->unit.empty()) append_field(out, "unit", planted->unit);
  } else if (p.unit == Unit::reception) {
    append_field(out, "unit",
                 person != kNoPerson ? site_of(person) : reception[rng.below(reception.size())]);
  } else if (p.unit == Unit::nidos && !nidos_units.empty()) {
    append_field(out, "unit", nidos_units[rng.below(nidos_units.size())]);
  } else if (p.unit == Unit::fixed) {
    append_field(out, "unit", p.fixed_unit);
  }
  if (r.kind == kBadTimestamp) {
    append_field(out, "observed_at", kBadTimestamps[rng.below(std::size(kBadTimestamps))]);
  } else {
    out += R"(,"observed_at":")";
    append_time(out, r.observed_ms);
    out += '"';
  }
  out += R"(,"reported_at":")";
  append_time(out, r.reported_ms);
  out += '"';
  append_field(out, "indicator",
               r.kind == kUnknownIndicator ? unknown_codes[rng.below(unknown_codes.size())]
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
