// The domain model shared by all operators: the indicator catalogue, source
// policies, convergence rules, signals after intake, and alerts.
//
// These are plain values. Operators hold them as immutable definitions; the
// per-key state lives in the operators' own .cc files.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "stream/hash.h"
#include "stream/time.h"

namespace mozaiek {

enum class SubjectType : std::uint8_t { person = 0, vehicle = 1, location = 2 };
inline constexpr std::size_t kSubjectTypeCount = 3;
std::string_view to_string(SubjectType t);
std::optional<SubjectType> subject_type_from(std::string_view s);

// What a source's signals may be used for (its legal basis). investigation:
// scored, linked and alerted on `mozaiek.alerts`; care: scored apart, never
// linked, alerted on the care topic only; aggregate_only: counted in the
// aggregate metrics, never used at the level of a person, vehicle or location.
enum class Purpose : std::uint8_t { investigation = 0, care = 1, aggregate_only = 2 };
inline constexpr std::size_t kPurposeCount = 3;
std::string_view to_string(Purpose p);
std::optional<Purpose> purpose_from(std::string_view s);
inline constexpr std::uint8_t purpose_bit(Purpose p) {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(p));
}
// The rule name alerts of `purpose` carry: the configured name for
// investigation, "care_<name>" for care (it also enters the alert id).
std::string rule_name(std::string_view configured, Purpose purpose);

enum class Strength : std::uint8_t { soft = 0, concrete = 1 };
std::string_view to_string(Strength s);
std::optional<Strength> strength_from(std::string_view s);

// Exploitation forms as a bit set.
enum Form : std::uint8_t { kFormSexual = 1, kFormLabour = 2, kFormCriminal = 4, kFormOrgan = 8 };
std::optional<std::uint8_t> form_from(std::string_view s);

using IndicatorId = std::uint16_t;
using SourceId = std::uint16_t;

struct Indicator {
  std::string code;
  Strength strength = Strength::soft;
  double weight = 1.0;
  std::uint8_t subjects_mask = 0;  // bit (1 << SubjectType)
  std::uint8_t forms = 0;
};

// The configured indicator catalogue; ids are positions in declaration order.
class Catalogue {
 public:
  IndicatorId add(Indicator ind);
  std::optional<IndicatorId> find(std::string_view code) const;
  const Indicator& at(IndicatorId id) const { return indicators_[id]; }
  std::size_t size() const { return indicators_.size(); }
  const std::vector<Indicator>& all() const { return indicators_; }

 private:
  std::vector<Indicator> indicators_;
  StringMap<IndicatorId> by_code_;
};

// What one partner organisation may send and how its signals are treated.
struct SourcePolicy {
  std::string name;                    // "coa"; the topic is <signals_prefix><name>
  Millis allowed_lateness = days(30);  // later than this behind the watermark -> too_late
  bool consent_default = true;         // when a signal omits `consent`
  // Indicators this source may correlate at person level; empty = all.
  std::vector<IndicatorId> person_level;
  // Purposes its signals may be used for, as purpose_bit()s.
  std::uint8_t purposes = purpose_bit(Purpose::investigation);
  Millis idle_timeout = hours(1);  // silent longer than this -> ignored by the watermark
};

// Convergence rule for one subject type.
struct ConvergenceRule {
  std::string name;  // "person_convergence"
  SubjectType subject_type = SubjectType::person;
  Millis window = days(90);
  Millis half_life = days(30);
  double threshold = 6.0;
  int min_sources = 2;
  bool concrete_alone = false;  // one concrete signal may alert without min_sources
  Millis cooldown = days(14);
  double escalation_step = 3.0;
  std::size_t max_contributions = 64;  // bound per key
  // Reception locations (linking.reception_locations) are not scored: every
  // resident's signals name the site, so its score measures occupancy.
  bool skip_reception = false;
};

// A way of counting unique presumed victims (victim.registered). A person
// counts in a year unless every registration of theirs that year is by one
// of `exclude_only_reporters` and for no form outside `exclude_only_forms`
// (the NRM leaves out persons reported for sexual exploitation only by KMar).
// Empty lists exclude nobody.
struct CountingRule {
  std::string name;  // metric label `count`
  std::vector<std::string> exclude_only_reporters;
  std::uint8_t exclude_only_forms = 0;  // Form bits; 0 with reporters set = any form
};

// Chain oversight: meldingen, missing persons, registrations.
struct OversightConfig {
  // A melding without feedback this long after melding.sent (event time)
  // is counted unanswered and raises one sla_breach alert.
  Millis melding_deadline = days(60);
  // The entity stage's event-time clock for chain events: the latest `at`
  // seen minus this (late chain events within it still count on time).
  Millis allowed_lateness = days(7);
  // mob_spike: departures in `spike_window` at one location against that
  // location's own mean rate over the `spike_baseline` before it.
  Millis spike_window = days(7);
  Millis spike_baseline = days(180);
  double spike_floor_per_day = 0.05;  // baseline rate never below this
  double spike_p_value = 0.001;       // Poisson upper tail at or below this -> spike
  int spike_min_departures = 4;
  std::vector<std::string> reappearance_places{"location", "police", "eurodac", "registry",
                                               "abroad"};
  std::vector<CountingRule> counting_rules{
      CountingRule{"registry", {}, 0},
      CountingRule{"nrm", {"kmar"}, kFormSexual},
  };
};

// One network rule of the linking layer (see operators/linking/): it fires
// on an entity when at least `min_count` distinct linked entities (or
// organisations) qualify within `window`; its score is weight * that count.
struct NetworkRule {
  std::string name;
  bool enabled = true;
  Millis window = days(60);
  int min_count = 3;
  double weight = 2.0;
  Millis cooldown = days(14);
  double escalation_step = 4.0;  // score rise that re-raises it during the cooldown
};

// The lift of a person's score: own score + share * the own scores (as last
// noticed, decayed by the linked type's half-life) of entities of the types
// in `from` linked to the person by a live link. An alert when the lifted
// score reaches the threshold and the lift is part of it.
struct LiftRule {
  std::string name = "person_linked";
  bool enabled = true;
  double share = 0.5;
  double threshold = 6.0;
  std::vector<std::string> from{"vehicle"};  // subject types whose scores lift
  Millis cooldown = days(14);
  double escalation_step = 3.0;
};

// The linking layer: links between subjects named by the same signal, the
// network rules over them, and the lift of a person's score by the own
// scores of linked entities.
struct LinkingConfig {
  bool enabled = true;
  Millis link_window = days(60);     // a link expires this long after its last signal
  std::size_t max_links = 64;        // links kept per entity (the oldest go first)
  std::size_t max_link_signals = 8;  // signal ids kept per link (the newest)
  double notice_step = 1.0;          // own-score change that re-notifies linked entities
  // Location ids counting as reception (pickup_van): exact ids or prefixes ending in '-'.
  std::vector<std::string> reception_locations{"coa-", "nidos-"};
  // Whether a location id is one of reception_locations (exact, or by a
  // prefix ending in '-').
  bool is_reception(std::string_view location) const;
  NetworkRule pickup_van{"pickup_van", true, days(60), 3, 2.0, days(14), 4.0};
  NetworkRule linked_persons{"linked_persons", true, days(60), 3, 2.0, days(14), 4.0};
  NetworkRule address_hotspot{"address_hotspot", true, days(30), 4, 2.0, days(60), 4.0};
  LiftRule person_lift;
};

// Everything operators need from the configuration.
struct OperatorConfig {
  Catalogue catalogue;
  std::vector<SourcePolicy> sources;
  std::array<ConvergenceRule, kSubjectTypeCount> rules;
  Millis retention = days(180);
  // privacy.min_cell_size: smallest count a metric cell about persons shows.
  std::size_t min_cell_size = 5;
  std::vector<std::string> age_groups{"minor", "adult", "unknown"};
  std::vector<std::string> nationality_regions{"africa",        "asia",    "europe",
                                               "north_america", "oceania", "latin_america",
                                               "unknown"};
  std::vector<std::string> locations;  // configured location ids (metric label set)
  std::size_t max_subjects_per_signal = 16;
  std::size_t max_field_bytes = 256;  // any string field longer -> field_too_large
  OversightConfig oversight;
  LinkingConfig linking;
  // The version of the pseudonym key persons are keyed under (not from the
  // YAML: set from the key list at start), written into alerts and entity
  // views that name persons.
  int pseudonym_key_version = 1;
  // The version of these rules (operators/model/rules_version.h; not from
  // the YAML: set by the service when it starts and at each live reload),
  // written into every alert as `rules_version`. Empty: not written.
  std::string rules_version;

  std::optional<SourceId> find_source(std::string_view name) const;
  const ConvergenceRule& rule_for(SubjectType t) const {
    return rules[static_cast<std::size_t>(t)];
  }
};

// One subject named by a signal, after normalisation and pseudonymisation.
// key: person -> 64 hex chars HMAC-SHA256 pseudonym; vehicle -> "NL-AB123C"
// (country, dash, plate without separators, upper case; "XX" when unknown);
// location -> configured/normalised location id (lower case).
struct SubjectRef {
  SubjectType type = SubjectType::person;
  std::string key;
  std::uint8_t age_group = 0;  // index into OperatorConfig::age_groups
  std::uint8_t region = 0;     // index into OperatorConfig::nationality_regions
  // A location the signal marks as a reception centre (`kind`): treated as
  // one by the network rules and skip_reception, whatever its id.
  bool reception = false;
};

// A validated signal. Reused across records by the intake operator, so the
// strings keep their capacity; only the first subject_count subjects are valid.
struct Signal {
  std::string signal_id;
  SourceId source = 0;
  IndicatorId indicator = 0;
  Strength strength = Strength::soft;
  std::uint8_t forms = 0;
  bool consent = true;
  // Consent, the source's person_level_indicators and a person-level purpose
  // (investigation or care) allow correlation. When false the signal is
  // routed for no subject at all (person, vehicle or location): it counts in
  // the aggregate metrics only.
  bool person_level = true;
  // The person-level purposes it is routed for (purpose_bit()s; no
  // aggregate_only bit), when person_level.
  std::uint8_t purposes = purpose_bit(Purpose::investigation);
  EventTime observed_at{};
  EventTime reported_at{};
  std::vector<SubjectRef> subjects;
  std::size_t subject_count = 0;
};

// One signal as seen by one subject: the unit the convergence operator
// consumes, and what crosses the internal repartition topic.
struct RoutedSignal {
  SubjectType subject_type = SubjectType::person;
  std::string subject_key;
  std::string signal_id;
  SourceId source = 0;
  IndicatorId indicator = 0;
  Strength strength = Strength::soft;
  EventTime observed_at{};
  EventTime reported_at{};
  EventTime watermark = kMinEventTime;       // intake's watermark when routed
  Purpose purpose = Purpose::investigation;  // investigation or care: scored apart
  // The other subjects of the same signal (for linking).
  std::vector<std::pair<SubjectType, std::string>> co_subjects;
  // The signal marked the subject (a location) as a reception centre.
  bool subject_reception = false;
  // Bit i: co_subjects[i] is a location the signal marked as a reception
  // centre (the first 32).
  std::uint32_t co_reception = 0;
  bool co_is_reception(std::size_t i) const { return i < 32 && ((co_reception >> i) & 1U) != 0; }
};

struct Contribution {
  std::string signal_id;
  SourceId source = 0;
  IndicatorId indicator = 0;
  EventTime observed_at{};
  EventTime reported_at{};
  double weight = 0;
  double decayed_weight = 0;
};

struct LinkedEntity {
  SubjectType type = SubjectType::person;
  std::string key;
  std::string rule;
  std::vector<std::string> via;  // signal ids
};

// A chain event behind an oversight alert (sla_breach, worrying_departure,
// mob_spike): what happened, when, recorded by whom, about which entity
// (persons only by pseudonym).
struct AlertEvent {
  std::string event_id;
  std::string type;  // "melding.sent", "person.departed_unknown", ...
  EventTime at{};
  std::string org;
  std::string subject_key;  // melding id or person pseudonym
};

struct Alert {
  std::string alert_id;
  std::string rule;
  Purpose purpose = Purpose::investigation;  // care alerts go to the care topic only
  SubjectType subject_type = SubjectType::person;
  std::string subject_key;
  double score = 0;
  std::vector<std::string> sources;  // distinct organisation names, sorted
  EventTime first_seen{};
  EventTime last_seen{};
  ProcTime raised_at{};
  double detection_delay_seconds = 0;
  int level = 0;               // 0 first alert of an episode, +1 per escalation
  std::string status = "new";  // "new" | "escalated"
  std::vector<Contribution> contributions;
  std::vector<LinkedEntity> linked;
  // Oversight alerts: a subject type outside SubjectType ("melding"), when
  // not empty, and the chain events behind the alert.
  std::string subject_kind;
  std::vector<AlertEvent> events;
};

}  // namespace mozaiek
