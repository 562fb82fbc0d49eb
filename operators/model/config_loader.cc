#include "operators/model/config_loader.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace mozaiek {
namespace {

using config::add_error;
using config::join_path;
using config::Section;

// Bounds that keep metric label sets and per-record work small.
constexpr std::size_t kMaxIndicators = 1024;
constexpr std::size_t kMaxSources = 256;
constexpr std::size_t kMaxLabelValues = 255;  // indices are stored in a uint8_t
constexpr std::size_t kMaxLocations = 1000;

std::string check_location_id(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 128) return "must be at most 128 characters";
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == ':' || c == '-';
    if (!ok) return "'" + s + "' is not a normalised location id (lower case a-z 0-9 . _ : -)";
  }
  return "";
}

// Reports repeated entries of a list at their own index.
void check_unique(const std::vector<std::string>& items, const YAML::Node& node,
                  const std::string& path, std::vector<std::string>& errors) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!seen.insert(items[i]).second) {
      add_error(errors, config::index_path(path, i), "duplicate entry '" + items[i] + "'", node[i]);
    }
  }
}

// Iterates a map of named entries (sources, indicators), checking the names.
template <class F>
void for_each_named(const YAML::Node& node, const std::string& path, std::size_t max,
                    const char* what, std::vector<std::string>& errors, F&& f) {
  if (!node.IsMap()) {
    add_error(errors, path, std::string("must be a map of ") + what + " names", node);
    return;
  }
  if (node.size() == 0) {
    add_error(errors, path, std::string("must name at least one ") + what, node);
  }
  if (node.size() > max) {
    add_error(errors, path, "at most " + std::to_string(max) + " entries are allowed", node);
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      add_error(errors, path, "keys must be plain names", kv.first);
      continue;
    }
    const std::string name = kv.first.Scalar();
    const std::string entry_path = join_path(path, name);
    if (!seen.insert(name).second) {
      add_error(errors, entry_path, std::string("duplicate ") + what + " name", kv.first);
      continue;
    }
    if (std::string msg = config::check_identifier(name); !msg.empty()) {
      add_error(errors, entry_path, msg, kv.first);
      continue;
    }
    f(name, kv.second, entry_path);
  }
}

// ---- catalogue ----------------------------------------------------------

struct CatalogueDraft {
  std::string catalogue_file;
  int version = 1;
  bool has_indicators = false;
  Catalogue catalogue;
  std::vector<std::string> age_groups = OperatorConfig{}.age_groups;
  std::vector<std::string> nationality_regions = OperatorConfig{}.nationality_regions;
};

Section<Indicator> indicator_section() {
  Section<Indicator> s("catalogue.indicators.<code>",
                       "One indicator: what a partner observed. The map key is the code partners "
                       "put in a signal's `indicator` field (a-z, 0-9, '_').");
  s.custom({"strength", "string", "", "soft", "one of: soft, concrete",
            "Strength used when a signal does not say. Concrete signals may alert alone where "
            "the rule has `concrete_alone`."},
           [](const YAML::Node& v, const std::string& path, Indicator& out,
              std::vector<std::string>& errors) {
             auto str = config::read_string(v, path, errors);
             if (!str) return;
             if (auto st = strength_from(*str)) {
               out.strength = *st;
             } else {
               add_error(errors, path,
                         "'" + *str + "' is not one of: soft concrete" +
                             config::did_you_mean(*str, {"soft", "concrete"}),
                         v);
             }
           });
  s.number("weight", &Indicator::weight, config::greater_than(0),
           "Score contribution of one signal before decay.")
      .required();
  s.custom({"subjects", "list of strings", "", "", "non-empty; person, vehicle, location",
            "Subject types the indicator is about; a signal's subjects of other types do not "
            "score on it."},
           [](const YAML::Node& v, const std::string& path, Indicator& out,
              std::vector<std::string>& errors) {
             const std::vector<std::string> types{"person", "vehicle", "location"};
             auto list = config::read_string_list(v, path, errors);
             if (!list) return;
             if (list->empty()) add_error(errors, path, "must name at least one subject type", v);
             std::uint8_t mask = 0;
             for (std::size_t i = 0; i < list->size(); ++i) {
               if (auto t = subject_type_from((*list)[i])) {
                 mask |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(*t));
               } else {
                 add_error(errors, config::index_path(path, i),
                           "'" + (*list)[i] +
                               "' is not a subject type (person, vehicle, location)" +
                               config::did_you_mean((*list)[i], types),
                           v[i]);
               }
             }
             out.subjects_mask = mask;
           })
      .required();
  s.custom({"forms", "list of strings", "", "[]", "sexual, labour, criminal, organ",
            "Suspected exploitation forms."},
           [](const YAML::Node& v, const std::string& path, Indicator& out,
              std::vector<std::string>& errors) {
             const std::vector<std::string> forms{"sexual", "labour", "criminal", "organ"};
             auto list = config::read_string_list(v, path, errors);
             if (!list) return;
             std::uint8_t bits = 0;
             for (std::size_t i = 0; i < list->size(); ++i) {
               if (auto f = form_from((*list)[i])) {
                 bits |= *f;
               } else {
                 add_error(errors, config::index_path(path, i),
                           "'" + (*list)[i] + "' is not an exploitation form" +
                               config::did_you_mean((*list)[i], forms),
                           v[i]);
               }
             }
             out.forms = bits;
           });
  return s;
}

void parse_indicators(const YAML::Node& v, const std::string& path, CatalogueDraft& d,
                      std::vector<std::string>& errors) {
  const auto section = indicator_section();
  d.has_indicators = true;
  for_each_named(v, path, kMaxIndicators, "indicator", errors,
                 [&](const std::string& code, const YAML::Node& body, const std::string& p) {
                   Indicator ind;
                   ind.code = code;
                   if (section.parse(body, p, ind, errors)) d.catalogue.add(std::move(ind));
                 });
}

config::TextCheck label_check() { return config::check_identifier; }

// The catalogue map, inline in the config or as a file of its own (then
// without `catalogue_file`).
Section<CatalogueDraft> catalogue_section(bool inline_in_config) {
  Section<CatalogueDraft> s(
      "catalogue",
      "The indicator catalogue: the codes partners may send, with their weights. Give it "
      "inline (`indicators`) or in a separate file (`catalogue_file`).");
  if (inline_in_config) {
    s.text("catalogue_file", &CatalogueDraft::catalogue_file,
           "A file holding the catalogue instead of the inline `indicators`: either a catalogue "
           "file (`indicators`, `age_groups`, `nationality_regions` at the top) or another "
           "mozaiek config whose `catalogue` is used. Relative to this config file.",
           config::check_not_empty);
  }
  s.integer("version", &CatalogueDraft::version, config::between(1, 1),
            "Catalogue format version.");
  s.custom({"indicators", "map", "", "", "1 to 1024 entries",
            "Indicator code -> {strength, weight, subjects, forms}; see "
            "`catalogue.indicators.<code>`."},
           parse_indicators);
  s.list("age_groups", &CatalogueDraft::age_groups,
         "Age groups partners may send; the only age values used in metrics.", label_check(),
         "unique identifiers");
  s.list("nationality_regions", &CatalogueDraft::nationality_regions,
         "World regions of nationality (CoMensha grouping); metrics never show nationalities.",
         label_check(), "unique identifiers");
  return s;
}

void check_label_list(const std::vector<std::string>& items, const YAML::Node& node,
                      const std::string& path, std::vector<std::string>& errors) {
  if (!node) return;
  if (items.empty()) add_error(errors, path, "must name at least one value", node);
  if (items.size() > kMaxLabelValues) {
    add_error(errors, path, "at most " + std::to_string(kMaxLabelValues) + " values are allowed",
              node);
  }
  check_unique(items, node, path, errors);
}

// Loads `catalogue.catalogue_file`; errors inside it are prefixed with the
// key and the file name.
void load_catalogue_file(const std::string& file, const std::string& base_dir, CatalogueDraft& d,
                         std::vector<std::string>& errors) {
  namespace fs = std::filesystem;
  const std::string key = "catalogue.catalogue_file";
  fs::path p(file);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  YAML::Node loaded;
  try {
    loaded = YAML::LoadFile(p.string());
  } catch (const YAML::BadFile&) {
    add_error(errors, key, "cannot read '" + p.string() + "'");
    return;
  } catch (const YAML::ParserException& e) {
    errors.push_back(key + ": " + file + ":" + std::to_string(e.mark.line + 1) + ":" +
                     std::to_string(e.mark.column + 1) + ": " + e.msg);
    return;
  }
  // A full mozaiek config lends its catalogue section. (Const lookups: a
  // non-const operator[] on a yaml-cpp node inserts the key.)
  const YAML::Node& doc = loaded;
  const bool full_config = doc.IsMap() && doc["catalogue"];
  const YAML::Node root = full_config ? doc["catalogue"] : doc;
  const std::string prefix = full_config ? "catalogue" : "";
  std::vector<std::string> file_errors;
  catalogue_section(false).parse(root, prefix, d, file_errors);
  if (!d.has_indicators && file_errors.empty()) {
    add_error(file_errors, join_path(prefix, "indicators"), "required", root);
  }
  if (root.IsMap()) {
    check_label_list(d.age_groups, root["age_groups"], join_path(prefix, "age_groups"),
                     file_errors);
    check_label_list(d.nationality_regions, root["nationality_regions"],
                     join_path(prefix, "nationality_regions"), file_errors);
  }
  for (const auto& e : file_errors) {
    errors.emplace_back(key).append(": ").append(file).append(": ").append(e);
  }
}

void load_catalogue(const YAML::Node& node, const std::string& base_dir, OperatorConfig& cfg,
                    std::vector<std::string>& errors) {
  if (!node) {
    add_error(errors, "catalogue",
              "required: give the indicators inline (catalogue.indicators) or in a file "
              "(catalogue.catalogue_file)");
    return;
  }
  CatalogueDraft inline_draft;
  catalogue_section(true).parse(node, "catalogue", inline_draft, errors);
  if (!node.IsMap()) return;
  CatalogueDraft result;
  if (!inline_draft.catalogue_file.empty()) {
    if (inline_draft.has_indicators) {
      add_error(errors, "catalogue.catalogue_file",
                "give either catalogue.indicators or catalogue.catalogue_file, not both",
                node["catalogue_file"]);
      return;
    }
    load_catalogue_file(inline_draft.catalogue_file, base_dir, result, errors);
  } else if (!inline_draft.has_indicators) {
    add_error(errors, "catalogue.indicators",
              "required (or name a file in catalogue.catalogue_file)", node);
    return;
  } else {
    result.catalogue = std::move(inline_draft.catalogue);
  }
  // Inline label lists apply on top of a catalogue file.
  if (node["age_groups"]) {
    result.age_groups = inline_draft.age_groups;
    check_label_list(result.age_groups, node["age_groups"], "catalogue.age_groups", errors);
  }
  if (node["nationality_regions"]) {
    result.nationality_regions = inline_draft.nationality_regions;
    check_label_list(result.nationality_regions, node["nationality_regions"],
                     "catalogue.nationality_regions", errors);
  }
  cfg.catalogue = std::move(result.catalogue);
  cfg.age_groups = std::move(result.age_groups);
  cfg.nationality_regions = std::move(result.nationality_regions);
}

// ---- sources ------------------------------------------------------------

// `catalogue` resolves person_level_indicators; null when the catalogue did
// not load (then the names are not checked, to avoid a cascade of errors).
Section<SourcePolicy> source_section(const Catalogue* catalogue) {
  Section<SourcePolicy> s("sources.<name>",
                          "One partner organisation. The map key is the source name: signals "
                          "arrive on topic `<kafka.topics.signals_prefix><name>` and must carry "
                          "it in `source`.");
  s.days("allowed_lateness_days", &SourcePolicy::allowed_lateness, config::at_least(0),
         "How far behind the event-time watermark a signal may arrive and still score (as if it "
         "had arrived on time). Later signals go to the DLQ as `too_late`. Set it above the "
         "source's reporting rhythm (COA sends two-weekly batches).");
  s.flag("consent_default", &SourcePolicy::consent_default,
         "Consent assumed when a signal omits `consent`. Signals without consent count in "
         "aggregate metrics only, never at person level.");
  s.custom({"purposes", "list of strings", "", "[investigation]",
            "non-empty; investigation, care, aggregate_only; aggregate_only alone",
            "What the source's signals may be used for (its legal basis). `investigation`: "
            "scored per person, vehicle and location, linked, alerted on "
            "`kafka.topics.alerts`. `care`: scored apart from investigation, never linked, "
            "alerted on `kafka.topics.alerts_care` only. `aggregate_only`: counted in the "
            "aggregate metrics, never used for any person, vehicle or location."},
           [](const YAML::Node& v, const std::string& path, SourcePolicy& out,
              std::vector<std::string>& errors) {
             auto list = config::read_string_list(v, path, errors);
             if (!list) return;
             if (list->empty()) {
               add_error(errors, path, "must name at least one purpose", v);
               return;
             }
             check_unique(*list, v, path, errors);
             out.purposes = 0;
             for (std::size_t i = 0; i < list->size(); ++i) {
               if (auto p = purpose_from((*list)[i])) {
                 out.purposes |= purpose_bit(*p);
               } else {
                 add_error(errors, config::index_path(path, i),
                           "unknown purpose '" + (*list)[i] +
                               "'; one of: investigation, care, aggregate_only",
                           v[i]);
               }
             }
             if ((out.purposes & purpose_bit(Purpose::aggregate_only)) != 0 &&
                 out.purposes != purpose_bit(Purpose::aggregate_only)) {
               add_error(errors, path, "aggregate_only excludes every other purpose", v);
             }
           });
  s.custom({"person_level_indicators", "list of strings", "", "all indicators",
            "non-empty; catalogue codes",
            "Indicators this source may correlate (its legal basis). A signal with any other "
            "indicator is used for none of its subjects (persons, vehicles, locations) and "
            "counts in aggregate metrics only; list place- and plate-only indicators too. Omit "
            "the key to allow all."},
           [catalogue](const YAML::Node& v, const std::string& path, SourcePolicy& out,
                       std::vector<std::string>& errors) {
             auto list = config::read_string_list(v, path, errors);
             if (!list) return;
             if (list->empty()) {
               add_error(errors, path,
                         "must name at least one indicator; omit the key to allow all", v);
               return;
             }
             check_unique(*list, v, path, errors);
             if (catalogue == nullptr) return;
             std::vector<std::string> codes;
             for (const auto& ind : catalogue->all()) codes.push_back(ind.code);
             out.person_level.clear();
             for (std::size_t i = 0; i < list->size(); ++i) {
               if (auto id = catalogue->find((*list)[i])) {
                 out.person_level.push_back(*id);
               } else {
                 add_error(errors, config::index_path(path, i),
                           "unknown indicator '" + (*list)[i] + "'" +
                               config::did_you_mean((*list)[i], codes),
                           v[i]);
               }
             }
           });
  s.seconds("idle_timeout_seconds", &SourcePolicy::idle_timeout, config::greater_than(0),
            "Wall-clock silence after which the source no longer holds back the global "
            "watermark.");
  return s;
}

void load_sources(const YAML::Node& node, OperatorConfig& cfg, bool catalogue_ok,
                  std::vector<std::string>& errors) {
  if (!node) {
    add_error(errors, "sources", "required: at least one partner organisation");
    return;
  }
  const auto section = source_section(catalogue_ok ? &cfg.catalogue : nullptr);
  for_each_named(node, "sources", kMaxSources, "source", errors,
                 [&](const std::string& name, const YAML::Node& body, const std::string& p) {
                   if (name == "unknown" || name == "other") {
                     add_error(errors, p, "'" + name + "' is reserved for metric labels", body);
                     return;
                   }
                   SourcePolicy policy;
                   policy.name = name;
                   if (section.parse(body, p, policy, errors)) cfg.sources.push_back(policy);
                 });
}

// ---- rules --------------------------------------------------------------

std::string default_rule_name(SubjectType t) { return std::string(to_string(t)) + "_convergence"; }

Section<ConvergenceRule> rule_section() {
  ConvergenceRule prototype;
  prototype.name = "<subject type>_convergence";
  Section<ConvergenceRule> s(
      "rules.<subject type>",
      "Convergence rule per subject type (`person`, `vehicle`, `location`). Score at event time "
      "T: sum of weight * 0.5^((T - t) / half-life) over the signals in (T - window, T]. An "
      "alert when score >= threshold and at least `min_sources` organisations contributed (or, "
      "with `concrete_alone`, a concrete signal is among the contributions).",
      prototype);
  s.text("name", &ConvergenceRule::name,
         "Rule name in alerts, alert ids and metric labels. Changing it changes alert ids.",
         config::check_identifier, "a-z 0-9 _ -");
  s.days("window_days", &ConvergenceRule::window, config::greater_than(0),
         "Sliding event-time window of contributing signals.");
  s.days("half_life_days", &ConvergenceRule::half_life, config::greater_than(0),
         "Age at which a signal counts for half its weight.");
  s.number("threshold", &ConvergenceRule::threshold, config::greater_than(0),
           "Score at which an alert is raised.");
  s.integer("min_sources", &ConvergenceRule::min_sources, config::between(1, 64),
            "Distinct organisations needed for an alert (0+0+0=1: pieces from several "
            "partners). At most the number of configured sources.");
  s.flag("concrete_alone", &ConvergenceRule::concrete_alone,
         "With a concrete contribution, `min_sources` does not apply (the score must still reach "
         "the threshold).");
  s.days("cooldown_days", &ConvergenceRule::cooldown, config::at_least(0),
         "Event-time quiet period after an alert; within it only an escalation is raised.");
  s.number("escalation_step", &ConvergenceRule::escalation_step, config::greater_than(0),
           "Score rise over the last alert that re-raises it as an escalation during the "
           "cooldown.");
  s.integer("max_contributions", &ConvergenceRule::max_contributions, config::between(1, 10000),
            "Contributions kept per subject (the oldest are dropped): bounds state and work "
            "per signal.");
  s.flag("skip_reception", &ConvergenceRule::skip_reception,
         "Location rule: do not score the sites in `linking.reception_locations`. Every "
         "resident's signals name the site, so its score measures occupancy; vehicles and "
         "persons seen there are still linked to it (`pickup_van`).");
  return s;
}

void load_rules(const YAML::Node& node, OperatorConfig& cfg, std::vector<std::string>& errors) {
  for (std::size_t i = 0; i < kSubjectTypeCount; ++i) {
    cfg.rules[i] = ConvergenceRule{};
    cfg.rules[i].subject_type = static_cast<SubjectType>(i);
    cfg.rules[i].name = default_rule_name(cfg.rules[i].subject_type);
  }
  if (!node || node.IsNull()) return;
  if (!node.IsMap()) {
    add_error(errors, "rules", "must be a map of subject type to rule", node);
    return;
  }
  config::check_keys(node, "rules", {"person", "vehicle", "location"}, errors);
  const auto section = rule_section();
  std::map<std::string, std::string> names;  // rule name -> path of its first use
  for (std::size_t i = 0; i < kSubjectTypeCount; ++i) {
    const std::string type(to_string(static_cast<SubjectType>(i)));
    const std::string path = "rules." + type;
    const YAML::Node body = node[type];
    if (body) section.parse(body, path, cfg.rules[i], errors);
    const ConvergenceRule& r = cfg.rules[i];
    const std::string name_path = path + ".name";
    if (auto [it, fresh] = names.emplace(r.name, name_path); !fresh) {
      add_error(errors, name_path, "duplicate rule name '" + r.name + "' (also " + it->second + ")",
                body ? body["name"] : YAML::Node());
    }
    if (!cfg.sources.empty() && static_cast<std::size_t>(r.min_sources) > cfg.sources.size()) {
      add_error(errors, path + ".min_sources",
                "must be <= the number of configured sources (" +
                    std::to_string(cfg.sources.size()) + ")",
                body ? body["min_sources"] : YAML::Node());
    }
  }
}

// ---- linking ------------------------------------------------------------

Section<NetworkRule> network_rule_section(const std::string& path, const NetworkRule& prototype,
                                          const std::string& what, const std::string& counted) {
  Section<NetworkRule> s(path, what, prototype);
  s.text("name", &NetworkRule::name,
         "Rule name in alerts, alert ids and metric labels. Changing it changes alert ids.",
         config::check_identifier, "a-z 0-9 _ -");
  s.flag("enabled", &NetworkRule::enabled, "Whether the rule raises alerts.");
  s.days("window_days", &NetworkRule::window, config::greater_than(0),
         "Event-time window in which a link or signal counts.");
  s.integer("min_count", &NetworkRule::min_count, config::between(1, 1000),
            "Distinct " + counted + " needed for an alert.");
  s.number("weight", &NetworkRule::weight, config::greater_than(0),
           "Score per distinct " + counted.substr(0, counted.size() - 1) +
               " (the alert's score is weight * count).");
  s.days("cooldown_days", &NetworkRule::cooldown, config::at_least(0),
         "Event-time quiet period after an alert; within it only an escalation is raised.");
  s.number("escalation_step", &NetworkRule::escalation_step, config::greater_than(0),
           "Score rise over the last alert that re-raises it during the cooldown.");
  return s;
}

std::string check_subject_type(const std::string& s) {
  if (subject_type_from(s)) return "";
  return "'" + s + "' is not one of: person vehicle location";
}

Section<LiftRule> lift_section() {
  Section<LiftRule> s(
      "linking.person_lift",
      "A person's score lifted by the own scores of linked entities: own score + share * the sum "
      "of the linked entities' own scores (without the signals they share with the person, "
      "decayed by their rule's half-life) over live links. An alert when the lifted score "
      "reaches the threshold.",
      LiftRule{});
  s.text("name", &LiftRule::name, "Rule name in alerts, alert ids and metric labels.",
         config::check_identifier, "a-z 0-9 _ -");
  s.flag("enabled", &LiftRule::enabled, "Whether lifted person alerts are raised.");
  s.number("share", &LiftRule::share, config::between(0, 1),
           "Share of a linked entity's own score added to the person's score.");
  s.number("threshold", &LiftRule::threshold, config::greater_than(0),
           "Lifted score at which an alert is raised.");
  s.list("from", &LiftRule::from, "Subject types whose scores lift a linked person.",
         check_subject_type, "person, vehicle, location");
  s.days("cooldown_days", &LiftRule::cooldown, config::at_least(0),
         "Event-time quiet period after a lifted alert.");
  s.number("escalation_step", &LiftRule::escalation_step, config::greater_than(0),
           "Score rise over the last lifted alert that re-raises it during the cooldown.");
  return s;
}

Section<NetworkRule> pickup_van_section() {
  return network_rule_section(
      "linking.pickup_van", LinkingConfig{}.pickup_van,
      "A vehicle linked to `min_count` or more distinct reception locations (see "
      "`linking.reception_locations`) within the window: the pickup van.",
      "reception locations");
}
Section<NetworkRule> linked_persons_section() {
  return network_rule_section(
      "linking.linked_persons", LinkingConfig{}.linked_persons,
      "A vehicle or location linked within the window to `min_count` or more distinct persons "
      "who have signals of their own (besides the ones naming the vehicle or location).",
      "persons");
}
Section<NetworkRule> address_hotspot_section() {
  return network_rule_section(
      "linking.address_hotspot", LinkingConfig{}.address_hotspot,
      "A location with signals from `min_count` or more distinct organisations within the "
      "window: the address hot-spot.",
      "organisations");
}

Section<LinkingConfig> linking_section() {
  Section<LinkingConfig> s(
      "linking",
      "Links between subjects named by the same signal (person-vehicle, person-location, "
      "vehicle-location, ...), network rules over them, and the lift of a person's score by "
      "linked entities.");
  s.flag("enabled", &LinkingConfig::enabled, "Keep links and evaluate the network rules.");
  s.days("link_window_days", &LinkingConfig::link_window, config::greater_than(0),
         "A link expires this long (event time) after the last signal naming both ends.");
  s.integer("max_links", &LinkingConfig::max_links, config::between(1, 10000),
            "Links kept per entity; the least recently refreshed go first.");
  s.integer("max_link_signals", &LinkingConfig::max_link_signals, config::between(1, 1000),
            "Signal ids kept per link (the newest).");
  s.number("notice_step", &LinkingConfig::notice_step, config::greater_than(0),
           "Own-score change after which an entity tells its linked entities again.");
  s.list("reception_locations", &LinkingConfig::reception_locations,
         "Location ids that are reception sites for `pickup_van`: an exact id, or a prefix "
         "ending in '-' (\"coa-\").",
         check_location_id, "normalised location ids or prefixes");
  struct RuleSection {
    const char* key;
    NetworkRule LinkingConfig::*rule;
    Section<NetworkRule> (*make)();
    const char* description;
  };
  for (const RuleSection& r :
       {RuleSection{"pickup_van", &LinkingConfig::pickup_van, pickup_van_section,
                    "Rule: a vehicle linked to reception locations."},
        RuleSection{"linked_persons", &LinkingConfig::linked_persons, linked_persons_section,
                    "Rule: a vehicle or location linked to persons with signals of their own."},
        RuleSection{"address_hotspot", &LinkingConfig::address_hotspot, address_hotspot_section,
                    "Rule: a location with signals from several organisations."}}) {
    s.custom({r.key, "map", "", "", "", r.description},
             [r](const YAML::Node& v, const std::string& path, LinkingConfig& out,
                 std::vector<std::string>& errors) {
               r.make().parse(v, path, out.*(r.rule), errors);
             });
  }
  s.custom({"person_lift", "map", "", "", "", "A person's score lifted by linked entities."},
           [](const YAML::Node& v, const std::string& path, LinkingConfig& out,
              std::vector<std::string>& errors) {
             lift_section().parse(v, path, out.person_lift, errors);
           });
  return s;
}

// ---- privacy, limits, metrics -------------------------------------------

Section<OperatorConfig> privacy_section() {
  Section<OperatorConfig> s("privacy",
                            "Data minimisation. Person identifiers are pseudonymised at intake; "
                            "raw identifiers never reach state, topics, logs or metrics.");
  s.days("retention_days", &OperatorConfig::retention, config::greater_than(0),
         "State of a subject expires this long after its last signal (event time). At least "
         "the longest rule window.");
  s.integer("min_cell_size", &OperatorConfig::min_cell_size, config::between(1, 1000),
            "Disclosure control of every metric about persons (MOB departures, days since "
            "arrival, prior signals, missing, re-appearances, registrations, converging "
            "persons): no cell shows a count between 1 and this; smaller cells are folded "
            "into a coarser one (location \"other\", then region \"all\", age group "
            "\"all\") and a series moves only in steps of this size. 5 is the Dutch "
            "statistics office's usual threshold; 1 turns the control off.",
            "persons");
  s.handled_elsewhere("pseudonym_key_file");
  // Read by the service's settings (connectors/app/settings.cc).
  s.handled_elsewhere("dlq_key_file");
  s.handled_elsewhere("dlq_max_sealed_bytes");
  s.handled_elsewhere("state_wall_clock_grace_days");
  return s;
}

Section<OperatorConfig> limits_section() {
  Section<OperatorConfig> s("limits",
                            "Bounds on one signal; a signal beyond them goes to the DLQ.");
  s.integer("max_subjects_per_signal", &OperatorConfig::max_subjects_per_signal,
            config::between(1, 1024), "Subjects one signal may name.");
  s.integer("max_field_bytes", &OperatorConfig::max_field_bytes, config::between(16, 1 << 20),
            "Longest string field; longer -> DLQ reason `field_too_large`.", "bytes");
  return s;
}

Section<OperatorConfig> metrics_section() {
  Section<OperatorConfig> s("metrics",
                            "Metric label sets. Labels are bounded and never personal; values "
                            "outside these sets are reported as `other`.");
  s.list("locations", &OperatorConfig::locations,
         "Location ids (reception centres, sites) that get their own metric label.",
         check_location_id, "unique normalised location ids, at most 1000");
  return s;
}

// ---- oversight ----------------------------------------------------------

void parse_counting_rules(const YAML::Node& v, const std::string& path, OversightConfig& out,
                          std::vector<std::string>& errors) {
  const std::vector<std::string> forms{"sexual", "labour", "criminal", "organ"};
  std::vector<CountingRule> rules;
  for_each_named(
      v, path, 16, "counting rule", errors,
      [&](const std::string& name, const YAML::Node& body, const std::string& p) {
        CountingRule rule;
        rule.name = name;
        if (body.IsNull()) {
          rules.push_back(rule);
          return;
        }
        if (!body.IsMap()) {
          add_error(errors, p, "must be a map of keys", body);
          return;
        }
        config::check_keys(body, p, {"exclude_only_reporters", "exclude_only_forms"}, errors);
        if (body["exclude_only_reporters"]) {
          if (auto l = config::read_string_list(body["exclude_only_reporters"],
                                                p + ".exclude_only_reporters", errors,
                                                config::check_identifier)) {
            rule.exclude_only_reporters = *l;
          }
        }
        if (body["exclude_only_forms"]) {
          const std::string fp = p + ".exclude_only_forms";
          if (auto l = config::read_string_list(body["exclude_only_forms"], fp, errors)) {
            for (std::size_t i = 0; i < l->size(); ++i) {
              if (auto f = form_from((*l)[i])) {
                rule.exclude_only_forms |= *f;
              } else {
                add_error(errors, config::index_path(fp, i),
                          "'" + (*l)[i] + "' is not an exploitation form" +
                              config::did_you_mean((*l)[i], forms),
                          body["exclude_only_forms"][i]);
              }
            }
          }
        }
        rules.push_back(std::move(rule));
      });
  out.counting_rules = std::move(rules);
}

Section<OversightConfig> oversight_section() {
  Section<OversightConfig> s(
      "oversight",
      "Chain oversight from chain.events: feedback deadlines of meldingen, the MOB spike rule, "
      "re-appearance places and the rules for counting registered presumed victims.");
  s.days("melding_deadline_days", &OversightConfig::melding_deadline, config::greater_than(0),
         "A melding without feedback this long after it was sent (event time) counts in "
         "mozaiek_meldingen_unanswered_total and raises one sla_breach alert.");
  s.days("allowed_lateness_days", &OversightConfig::allowed_lateness, config::at_least(0),
         "How far behind the latest chain event time a chain event may arrive before deadlines "
         "are judged without it.");
  s.days("spike_window_days", &OversightConfig::spike_window, config::greater_than(0),
         "Window of MOB departures at one location tested against its baseline.");
  s.days("spike_baseline_days", &OversightConfig::spike_baseline, config::greater_than(0),
         "Trailing period before the window over which the location's own departure rate is "
         "averaged.");
  s.number("spike_floor_per_day", &OversightConfig::spike_floor_per_day, config::greater_than(0),
           "Lowest baseline rate (departures per day), so a quiet or new location does not "
           "spike on one departure.");
  s.number("spike_p_value", &OversightConfig::spike_p_value, config::between(1e-12, 0.5),
           "A window whose departure count has a Poisson upper-tail probability at or below "
           "this, given the baseline, is a spike.");
  s.integer("spike_min_departures", &OversightConfig::spike_min_departures,
            config::between(1, 1000), "Departures in the window needed for a spike at all.");
  s.list("reappearance_places", &OversightConfig::reappearance_places,
         "Values of `where` in person.reappeared that get their own metric label; others are "
         "reported as `other`.",
         config::check_identifier, "unique identifiers");
  s.custom({"counting_rules", "map", "",
            "registry: {}, nrm: {exclude_only_reporters: [kmar], "
            "exclude_only_forms: [sexual]}",
            "1 to 16 entries",
            "Ways of counting unique presumed victims per year (metric label `count`). A person "
            "counts unless all their registrations that year are by `exclude_only_reporters` "
            "and for no form outside `exclude_only_forms`."},
           parse_counting_rules);
  return s;
}

void check_cross_section(const YAML::Node& root, OperatorConfig& cfg,
                         std::vector<std::string>& errors) {
  Millis longest{0};
  for (const auto& r : cfg.rules) longest = std::max(longest, r.window);
  if (cfg.retention < longest) {
    const YAML::Node at = root["privacy"] && root["privacy"].IsMap()
                              ? root["privacy"]["retention_days"]
                              : YAML::Node();
    add_error(errors, "privacy.retention_days",
              "must be >= the longest rule window (" +
                  config::format_number(static_cast<double>(longest.count()) / 86'400'000.0) +
                  " days), or state expires before it stops scoring",
              at);
  }
  const YAML::Node metrics = root["metrics"];
  if (metrics && metrics.IsMap() && metrics["locations"]) {
    if (cfg.locations.size() > kMaxLocations) {
      add_error(errors, "metrics.locations",
                "at most " + std::to_string(kMaxLocations) + " locations are allowed",
                metrics["locations"]);
    }
    check_unique(cfg.locations, metrics["locations"], "metrics.locations", errors);
  }
}

// Network rule names share the metric label set and alert ids with the
// convergence rules: they must not collide.
void check_linking(const YAML::Node& root, const OperatorConfig& cfg,
                   std::vector<std::string>& errors) {
  std::map<std::string, std::string> names;
  for (const auto& r : cfg.rules) names.emplace(r.name, "rules");
  const LinkingConfig& l = cfg.linking;
  const std::pair<const std::string*, std::string> linking_names[] = {
      {&l.pickup_van.name, "pickup_van"},
      {&l.linked_persons.name, "linked_persons"},
      {&l.address_hotspot.name, "address_hotspot"},
      {&l.person_lift.name, "person_lift"}};
  const YAML::Node linking = root["linking"];
  for (const auto& [name, key] : linking_names) {
    const std::string path = "linking." + key + ".name";
    if (auto [it, fresh] = names.emplace(*name, path); !fresh) {
      YAML::Node at;
      if (linking && linking.IsMap() && linking[key] && linking[key].IsMap()) {
        at = linking[key]["name"];
      }
      add_error(errors, path, "duplicate rule name '" + *name + "' (also " + it->second + ")", at);
    }
  }
}

}  // namespace

const std::vector<std::string>& operator_config_sections() {
  static const std::vector<std::string> sections{"catalogue", "sources", "rules",     "privacy",
                                                 "limits",    "metrics", "oversight", "linking"};
  return sections;
}

bool load_operator_config(const YAML::Node& root, OperatorConfig& out,
                          std::vector<std::string>& errors, const std::string& base_dir) {
  const std::size_t before = errors.size();
  if (!root.IsMap()) {
    add_error(errors, "(top level)", "must be a map of sections", root);
    return false;
  }
  OperatorConfig cfg;
  load_catalogue(root["catalogue"], base_dir, cfg, errors);
  const bool catalogue_ok = errors.size() == before && cfg.catalogue.size() > 0;
  load_sources(root["sources"], cfg, catalogue_ok, errors);
  load_rules(root["rules"], cfg, errors);
  privacy_section().parse(root["privacy"], "privacy", cfg, errors);
  limits_section().parse(root["limits"], "limits", cfg, errors);
  metrics_section().parse(root["metrics"], "metrics", cfg, errors);
  oversight_section().parse(root["oversight"], "oversight", cfg.oversight, errors);
  linking_section().parse(root["linking"], "linking", cfg.linking, errors);
  check_linking(root, cfg, errors);
  check_cross_section(root, cfg, errors);
  if (errors.size() != before) return false;
  out = std::move(cfg);
  return true;
}

std::vector<config::SectionDoc> operator_config_reference() {
  return {catalogue_section(true).doc(),
          indicator_section().doc(),
          source_section(nullptr).doc(),
          rule_section().doc(),
          privacy_section().doc(),
          limits_section().doc(),
          metrics_section().doc(),
          oversight_section().doc(),
          linking_section().doc(),
          pickup_van_section().doc(),
          linked_persons_section().doc(),
          address_hotspot_section().doc(),
          lift_section().doc()};
}

}  // namespace mozaiek
