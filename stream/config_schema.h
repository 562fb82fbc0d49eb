// Declarative YAML options: every option is declared once, with its name,
// unit, default, description, validation and whether it can change at
// runtime. The same declaration parses the YAML (errors carry the YAML path:
// "rules.person.half_life_days: must be > 0") and renders the Markdown config
// reference (`mozaiek config-reference`), so docs and parser cannot drift.
//
// Usage: build a Section<T> per YAML map, declare options against members of
// T, call parse() on the node. Sections are cheap values; build them where
// they are used. Not thread-safe while being declared; parse() is const.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/time.h"

namespace mozaiek::config {

// One option as shown in the config reference.
struct OptionDoc {
  std::string name;
  std::string type;          // "number", "integer", "boolean", "string", "list of strings", "map"
  std::string unit;          // "days", "seconds", "bytes" or empty
  std::string default_text;  // empty when there is no default
  std::string constraint;    // "> 0", "one of: soft, concrete"
  std::string description;
  bool required = false;
  bool dynamic = false;  // takes effect without a restart
};

// One YAML map ("rules.<subject type>") and its options.
struct SectionDoc {
  std::string path;
  std::string description;
  std::vector<OptionDoc> options;
};

// A numeric range check; renders as "> 0" or ">= 1 and <= 1024".
struct Bound {
  std::optional<double> min;
  bool min_inclusive = true;
  std::optional<double> max;
  bool max_inclusive = true;

  bool contains(double v) const;
  std::string describe() const;
};
inline Bound any_value() { return {}; }
inline Bound greater_than(double v) { return Bound{v, false, std::nullopt, true}; }
inline Bound at_least(double v) { return Bound{v, true, std::nullopt, true}; }
inline Bound between(double lo, double hi) { return Bound{lo, true, hi, true}; }

// A value check for strings: returns an error message, or empty when valid.
using TextCheck = std::function<std::string(const std::string&)>;

// ---- Paths and errors ---------------------------------------------------

std::string join_path(std::string_view parent, std::string_view key);  // "a" + "b" -> "a.b"
std::string index_path(std::string_view parent, std::size_t i);        // "a" + 3 -> "a[3]"

// Appends "<path>: <message>", plus " (line N)" when `at` has a position.
void add_error(std::vector<std::string>& errors, std::string_view path, std::string_view message,
               const YAML::Node& at = YAML::Node());

// " (did you mean 'x'?)" for the closest candidate within a small edit
// distance or sharing a long prefix; empty when nothing is close.
std::string did_you_mean(std::string_view key, const std::vector<std::string>& candidates);

// Reports "<path>.<key>: unknown key" for every key of `map` not in `known`.
// Also reports duplicate keys (YAML allows them to parse; they are mistakes).
bool check_keys(const YAML::Node& map, std::string_view path, const std::vector<std::string>& known,
                std::vector<std::string>& errors);

// ---- Scalar readers: nullopt (and an error) when the value is malformed ---

std::optional<double> read_number(const YAML::Node& n, std::string_view path,
                                  std::vector<std::string>& errors);
std::optional<std::int64_t> read_integer(const YAML::Node& n, std::string_view path,
                                         std::vector<std::string>& errors);
std::optional<bool> read_bool(const YAML::Node& n, std::string_view path,
                              std::vector<std::string>& errors);
std::optional<std::string> read_string(const YAML::Node& n, std::string_view path,
                                       std::vector<std::string>& errors);
// A sequence of strings; `check` (optional) validates each item.
std::optional<std::vector<std::string>> read_string_list(const YAML::Node& n, std::string_view path,
                                                         std::vector<std::string>& errors,
                                                         const TextCheck& check = {});

// Formats numbers for docs and messages without trailing zeros ("45", "0.5").
std::string format_number(double v);

// Common string checks.
std::string check_identifier(const std::string& s);  // [a-z0-9_-]+, used as metric labels
std::string check_not_empty(const std::string& s);

// Renders sections as one Markdown document. Sections with the same path
// (declared by different owners) are merged.
std::string render_markdown(std::string_view title, std::string_view intro,
                            const std::vector<SectionDoc>& sections);

// ---- Sections -----------------------------------------------------------

// The options of one YAML map, parsed into a T. Absent keys keep the value
// already in T, which is also the documented default (taken from `prototype`).
template <class T>
class Section {
 public:
  using Parser = std::function<void(const YAML::Node& value, const std::string& path, T& out,
                                    std::vector<std::string>& errors)>;

  Section(std::string doc_path, std::string description, T prototype = T{})
      : doc_{std::move(doc_path), std::move(description), {}}, prototype_(std::move(prototype)) {}

  Section& number(std::string name, double T::*field, Bound bound, std::string description,
                  std::string unit = "") {
    return add(OptionDoc{std::move(name), "number", std::move(unit),
                         format_number(prototype_.*field), bound.describe(),
                         std::move(description)},
               [field, bound](const YAML::Node& v, const std::string& path, T& out,
                              std::vector<std::string>& errors) {
                 auto d = read_number(v, path, errors);
                 if (d && in_bound(*d, bound, v, path, errors)) out.*field = *d;
               });
  }

  // Integers of any width (int, std::size_t, ...).
  template <class I>
  Section& integer(std::string name, I T::*field, Bound bound, std::string description,
                   std::string unit = "") {
    return add(OptionDoc{std::move(name), "integer", std::move(unit),
                         std::to_string(static_cast<std::int64_t>(prototype_.*field)),
                         bound.describe(), std::move(description)},
               [field, bound](const YAML::Node& v, const std::string& path, T& out,
                              std::vector<std::string>& errors) {
                 auto i = read_integer(v, path, errors);
                 if (i && in_bound(static_cast<double>(*i), bound, v, path, errors))
                   out.*field = static_cast<I>(*i);
               });
  }

  // A duration written as a (possibly fractional) number of `unit`s.
  Section& duration(std::string name, Millis T::*field, Millis unit, std::string unit_name,
                    Bound bound, std::string description) {
    const auto per = static_cast<double>(unit.count());
    return add(OptionDoc{std::move(name), "number", std::move(unit_name),
                         format_number(static_cast<double>((prototype_.*field).count()) / per),
                         bound.describe(), std::move(description)},
               [field, bound, per](const YAML::Node& v, const std::string& path, T& out,
                                   std::vector<std::string>& errors) {
                 auto d = read_number(v, path, errors);
                 if (!d || !in_bound(*d, bound, v, path, errors)) return;
                 if (std::fabs(*d * per) > kMaxDurationMs) {
                   add_error(errors, path, "is too large", v);
                   return;
                 }
                 out.*field = Millis{std::llround(*d * per)};
               });
  }
  Section& days(std::string name, Millis T::*field, Bound bound, std::string description) {
    return duration(std::move(name), field, mozaiek::days(1), "days", bound,
                    std::move(description));
  }
  Section& seconds(std::string name, Millis T::*field, Bound bound, std::string description) {
    return duration(std::move(name), field, mozaiek::seconds(1), "seconds", bound,
                    std::move(description));
  }

  Section& flag(std::string name, bool T::*field, std::string description) {
    return add(OptionDoc{std::move(name), "boolean", "", prototype_.*field ? "true" : "false", "",
                         std::move(description)},
               [field](const YAML::Node& v, const std::string& path, T& out,
                       std::vector<std::string>& errors) {
                 if (auto b = read_bool(v, path, errors)) out.*field = *b;
               });
  }

  Section& text(std::string name, std::string T::*field, std::string description,
                TextCheck check = {}, std::string constraint = "") {
    return add(OptionDoc{std::move(name), "string", "", quoted(prototype_.*field),
                         std::move(constraint), std::move(description)},
               [field, check = std::move(check)](const YAML::Node& v, const std::string& path,
                                                 T& out, std::vector<std::string>& errors) {
                 auto s = read_string(v, path, errors);
                 if (!s) return;
                 if (check) {
                   if (std::string msg = check(*s); !msg.empty()) {
                     add_error(errors, path, msg, v);
                     return;
                   }
                 }
                 out.*field = std::move(*s);
               });
  }

  Section& choice(std::string name, std::string T::*field, std::vector<std::string> allowed,
                  std::string description) {
    std::string constraint = "one of: ";
    for (std::size_t i = 0; i < allowed.size(); ++i) constraint += (i ? ", " : "") + allowed[i];
    TextCheck check = [allowed](const std::string& s) -> std::string {
      for (const auto& a : allowed)
        if (a == s) return "";
      std::string msg = "'" + s + "' is not one of:";
      for (const auto& a : allowed) msg += " " + a;
      return msg + did_you_mean(s, allowed);
    };
    return text(std::move(name), field, std::move(description), std::move(check),
                std::move(constraint));
  }

  Section& list(std::string name, std::vector<std::string> T::*field, std::string description,
                TextCheck item_check = {}, std::string constraint = "") {
    std::string def;
    for (const auto& s : prototype_.*field) def += (def.empty() ? "" : ", ") + s;
    return add(OptionDoc{std::move(name), "list of strings", "", "[" + def + "]",
                         std::move(constraint), std::move(description)},
               [field, item_check = std::move(item_check)](const YAML::Node& v,
                                                           const std::string& path, T& out,
                                                           std::vector<std::string>& errors) {
                 if (auto l = read_string_list(v, path, errors, item_check))
                   out.*field = std::move(*l);
               });
  }

  // For shapes the helpers do not cover (enums, nested maps, lookups).
  Section& custom(OptionDoc doc, Parser parser) { return add(std::move(doc), std::move(parser)); }

  // A key that is valid here but parsed by another owner (both the service
  // settings and the operator config read `privacy:`). Not documented here.
  Section& handled_elsewhere(std::string name) {
    external_.push_back(std::move(name));
    return *this;
  }

  // Modify the option declared last.
  Section& required() {
    options_.back().doc.required = true;
    return *this;
  }
  Section& dynamic() {
    options_.back().doc.dynamic = true;
    return *this;
  }

  // Parses `node` (a map, or null for "all defaults") into `out`. Unknown
  // keys, type errors and bound violations are appended to `errors` with
  // their YAML path; valid keys are still applied. Returns true when this
  // call added no error.
  bool parse(const YAML::Node& node, const std::string& path, T& out,
             std::vector<std::string>& errors) const {
    const std::size_t before = errors.size();
    if (!node || node.IsNull()) {
      for (const auto& o : options_)
        if (o.doc.required) add_error(errors, join_path(path, o.doc.name), "required");
      return errors.size() == before;
    }
    if (!node.IsMap()) {
      add_error(errors, path.empty() ? "(top level)" : path, "must be a map of keys", node);
      return false;
    }
    std::vector<std::string> known = external_;
    for (const auto& o : options_) known.push_back(o.doc.name);
    check_keys(node, path, known, errors);
    for (const auto& o : options_) {
      const std::string key_path = join_path(path, o.doc.name);
      YAML::Node value = node[o.doc.name];
      if (!value) {
        if (o.doc.required) add_error(errors, key_path, "required", node);
        continue;
      }
      o.parse(value, key_path, out, errors);
    }
    return errors.size() == before;
  }

  SectionDoc doc() const {
    SectionDoc d = doc_;
    for (const auto& o : options_) d.options.push_back(o.doc);
    return d;
  }

 private:
  struct Option {
    OptionDoc doc;
    Parser parse;
  };

  Section& add(OptionDoc doc, Parser parser) {
    options_.push_back(Option{std::move(doc), std::move(parser)});
    return *this;
  }

  static bool in_bound(double v, const Bound& b, const YAML::Node& at, const std::string& path,
                       std::vector<std::string>& errors) {
    if (b.contains(v)) return true;
    add_error(errors, path, "must be " + b.describe(), at);
    return false;
  }
  // About 30,000 years: far beyond any sensible window, far below overflow.
  static constexpr double kMaxDurationMs = 1e15;

  static std::string quoted(const std::string& s) { return s.empty() ? "" : "\"" + s + "\""; }

  SectionDoc doc_;
  T prototype_;
  std::vector<Option> options_;
  std::vector<std::string> external_;
};

}  // namespace mozaiek::config
