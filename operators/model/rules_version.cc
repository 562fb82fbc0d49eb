#include "operators/model/rules_version.h"

#include <cinttypes>
#include <cstdio>
#include <tuple>

namespace mozaiek {
namespace {

// Appends values as text with an unambiguous separator; doubles exactly.
class Canon {
 public:
  Canon& s(std::string_view v) {
    out_ += std::to_string(v.size());
    out_ += ':';
    out_ += v;
    out_ += ';';
    return *this;
  }
  Canon& i(std::int64_t v) {
    out_ += std::to_string(v);
    out_ += ';';
    return *this;
  }
  Canon& d(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%a;", v);
    out_ += buf;
    return *this;
  }
  Canon& ms(Millis v) { return i(v.count()); }
  Canon& list(const std::vector<std::string>& v) {
    i(static_cast<std::int64_t>(v.size()));
    for (const auto& x : v) s(x);
    return *this;
  }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

void network_rule(Canon& c, const NetworkRule& r) {
  c.s(r.name)
      .i(r.enabled)
      .ms(r.window)
      .i(r.min_count)
      .d(r.weight)
      .ms(r.cooldown)
      .d(r.escalation_step);
}

std::string names(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return "[" + out + "]";
}

template <typename T, typename F>
std::vector<std::string> names_of(const std::vector<T>& v, F name) {
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& x : v) out.push_back(name(x));
  return out;
}

}  // namespace

std::string rules_fingerprint(const OperatorConfig& config) {
  Canon c;
  c.s("catalogue").i(static_cast<std::int64_t>(config.catalogue.size()));
  for (const auto& ind : config.catalogue.all()) {
    c.s(ind.code).i(static_cast<int>(ind.strength)).d(ind.weight).i(ind.subjects_mask).i(ind.forms);
  }
  c.s("sources").i(static_cast<std::int64_t>(config.sources.size()));
  for (const auto& src : config.sources) {
    c.s(src.name)
        .ms(src.allowed_lateness)
        .i(src.consent_default)
        .i(src.purposes)
        .ms(src.idle_timeout);
    c.i(static_cast<std::int64_t>(src.person_level.size()));
    for (IndicatorId id : src.person_level) c.s(config.catalogue.at(id).code);
  }
  c.s("rules");
  for (const auto& r : config.rules) {
    c.s(r.name).i(static_cast<int>(r.subject_type)).ms(r.window).ms(r.half_life).d(r.threshold);
    c.i(r.min_sources).i(r.concrete_alone).ms(r.cooldown).d(r.escalation_step);
    c.i(static_cast<std::int64_t>(r.max_contributions)).i(r.skip_reception);
  }
  c.s("privacy").ms(config.retention).i(static_cast<std::int64_t>(config.min_cell_size));
  c.list(config.age_groups).list(config.nationality_regions).list(config.locations);
  c.s("limits").i(static_cast<std::int64_t>(config.max_subjects_per_signal));
  c.i(static_cast<std::int64_t>(config.max_field_bytes));
  const OversightConfig& o = config.oversight;
  c.s("oversight").ms(o.melding_deadline).ms(o.allowed_lateness).ms(o.spike_window);
  c.ms(o.spike_baseline).d(o.spike_floor_per_day).d(o.spike_p_value).i(o.spike_min_departures);
  c.list(o.reappearance_places).i(static_cast<std::int64_t>(o.counting_rules.size()));
  for (const auto& r : o.counting_rules)
    c.s(r.name).list(r.exclude_only_reporters).i(r.exclude_only_forms);
  const LinkingConfig& l = config.linking;
  c.s("linking").i(l.enabled).ms(l.link_window).i(static_cast<std::int64_t>(l.max_links));
  c.i(static_cast<std::int64_t>(l.max_link_signals)).d(l.notice_step).list(l.reception_locations);
  network_rule(c, l.pickup_van);
  network_rule(c, l.linked_persons);
  network_rule(c, l.address_hotspot);
  const LiftRule& p = l.person_lift;
  c.s(p.name)
      .i(p.enabled)
      .d(p.share)
      .d(p.threshold)
      .list(p.from)
      .ms(p.cooldown)
      .d(p.escalation_step);

  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a 64
  for (unsigned char ch : c.text()) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
  return std::string(buf, 12);
}

std::string rules_version_string(std::uint64_t n, const std::string& fingerprint) {
  return std::to_string(n) + "-" + fingerprint;
}

std::vector<std::string> reload_incompatibilities(const OperatorConfig& running,
                                                  const OperatorConfig& next) {
  std::vector<std::string> errors;
  const std::string restart = " (a restart is needed to change it)";
  auto same = [&](const std::string& key, const std::vector<std::string>& a,
                  const std::vector<std::string>& b) {
    if (a != b) {
      errors.push_back(key + ": " + names(b) + " differs from " + names(a) + " in force" + restart);
    }
  };
  same("sources", names_of(running.sources, [](const SourcePolicy& s) { return s.name; }),
       names_of(next.sources, [](const SourcePolicy& s) { return s.name; }));
  same("catalogue.indicators",
       names_of(running.catalogue.all(), [](const Indicator& i) { return i.code; }),
       names_of(next.catalogue.all(), [](const Indicator& i) { return i.code; }));
  for (std::size_t t = 0; t < kSubjectTypeCount; ++t) {
    if (running.rules[t].name != next.rules[t].name) {
      errors.push_back("rules." + std::string(to_string(static_cast<SubjectType>(t))) + ".name: '" +
                       next.rules[t].name + "' differs from '" + running.rules[t].name +
                       "' in force" + restart);
    }
  }
  const LinkingConfig& a = running.linking;
  const LinkingConfig& b = next.linking;
  for (const auto& [key, x, y] :
       {std::tuple{"linking.pickup_van.name", &a.pickup_van.name, &b.pickup_van.name},
        std::tuple{"linking.linked_persons.name", &a.linked_persons.name, &b.linked_persons.name},
        std::tuple{"linking.address_hotspot.name", &a.address_hotspot.name,
                   &b.address_hotspot.name},
        std::tuple{"linking.person_lift.name", &a.person_lift.name, &b.person_lift.name}}) {
    if (*x != *y) {
      errors.push_back(std::string(key) + ": '" + *y + "' differs from '" + *x + "' in force" +
                       restart);
    }
  }
  same("metrics.locations", running.locations, next.locations);
  same("catalogue.age_groups", running.age_groups, next.age_groups);
  same("catalogue.nationality_regions", running.nationality_regions, next.nationality_regions);
  same("oversight.reappearance_places", running.oversight.reappearance_places,
       next.oversight.reappearance_places);
  auto rule_names = [](const CountingRule& r) { return r.name; };
  same("oversight.counting_rules", names_of(running.oversight.counting_rules, rule_names),
       names_of(next.oversight.counting_rules, rule_names));
  if (running.min_cell_size != next.min_cell_size) {
    errors.push_back("privacy.min_cell_size: " + std::to_string(next.min_cell_size) +
                     " differs from " + std::to_string(running.min_cell_size) + " in force" +
                     restart);
  }
  return errors;
}

}  // namespace mozaiek
