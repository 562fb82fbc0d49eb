#include "operators/signal_intake.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstring>

#include "operators/json_wellformed.h"
#include "operators/nationality_regions.h"
#include "operators/subject_normaliser.h"

namespace mozaiek {
namespace {

namespace od = simdjson::ondemand;
using Slot = JsonSlot;

enum class Field : std::uint8_t {
  schema, signal_id, source, unit, observed_at, reported_at, indicator, strength, forms,
  consent, subjects, note, kCount
};
constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::kCount);
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "schema",    "signal_id", "source", "unit",    "observed_at", "reported_at",
    "indicator", "strength",  "forms",  "consent", "subjects",    "note"};

enum class SubjectField : std::uint8_t {
  type, id, id_scheme, role, age_group, nationality, plate, country, kind, kCount
};
constexpr std::size_t kSubjectFieldCount = static_cast<std::size_t>(SubjectField::kCount);
constexpr std::array<std::string_view, kSubjectFieldCount> kSubjectFieldNames = {
    "type", "id", "id_scheme", "role", "age_group", "nationality", "plate", "country", "kind"};

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<std::string_view, N>& names, std::string_view key) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == key) return static_cast<E>(i);
  }
  return std::nullopt;
}

// Where validation failed, as literals and indices only: "forms[2]",
// "subjects[1].plate". A field's value never goes into a rejection.
struct Failure {
  Failure() = default;
  Failure(DlqReason r, std::string_view f, int i = -1, std::string_view s = {},
          std::string_view n = {})
      : reason(r), field(f), index(i), sub(s), note(n) {}

  DlqReason reason = DlqReason::malformed_json;
  std::string_view field = "document";
  int index = -1;
  std::string_view sub;
  std::string_view note;  // for malformed_json: what was wrong
};

Rejection to_rejection(const Failure& f) {
  Rejection r;
  r.reason = f.reason;
  r.detail.append(f.field);
  if (f.index >= 0) {
    r.detail.push_back('[');
    r.detail.append(std::to_string(f.index));
    r.detail.push_back(']');
  }
  if (!f.sub.empty()) {
    r.detail.push_back('.');
    r.detail.append(f.sub);
  }
  if (!f.note.empty()) {
    r.detail.append(": ");
    r.detail.append(f.note);
  }
  return r;
}

bool is_space(char c) { return is_json_space(c) || c == '\f' || c == '\v'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

class SignalIntake::Parser {
 public:
  Parser(const OperatorConfig& config, const Pseudonymiser& pseudonymiser)
      : config_(config),
        pseudonymiser_(pseudonymiser),
        regions_(config.nationality_regions),
        parser_(kMaxDocumentBytes) {
    const std::size_t n = std::min<std::size_t>(config.age_groups.size(), 255);
    unknown_age_ = n == 0 ? 0 : static_cast<std::uint8_t>(n - 1);
    for (std::size_t i = 0; i < n; ++i) {
      if (config.age_groups[i] == "unknown") unknown_age_ = static_cast<std::uint8_t>(i);
    }
  }

  std::optional<Rejection> parse(std::string_view json, std::optional<SourceId> topic_source,
                                 Signal& out) {
    reset();
    if (json.size() > kMaxDocumentBytes) {
      return to_rejection({DlqReason::field_too_large, "document"});
    }
    if (!walk(json, out)) return to_rejection(walk_failure_);
    if (auto f = check(topic_source, out)) return to_rejection(*f);
    return std::nullopt;
  }

 private:
  struct SubjectsState {
    std::size_t count = 0;
    std::optional<Failure> failure;
  };

  void reset() {
    slots_.fill(Slot{});
    seen_.reset();
    forms_ = 0;
    forms_failure_.reset();
    consent_.reset();
    consent_failure_.reset();
    subjects_ = SubjectsState{};
    walk_failure_ = Failure{};
  }

  // The single pass over the document in order: syntax, structure, types of
  // arrays and booleans, and the subjects (normalised as they are read).
  // Returns false when the document is malformed or not an object (walk_failure_ says why).
  bool walk(std::string_view json, Signal& out) {
    const std::size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
    if (buffer_capacity_ < needed) {
      buffer_capacity_ = std::max(needed, 2 * buffer_capacity_);
      buffer_ = std::make_unique<char[]>(buffer_capacity_);
    }
    std::memcpy(buffer_.get(), json.data(), json.size());

    od::document doc;
    if (parser_.iterate(buffer_.get(), json.size(), buffer_capacity_).get(doc)) return false;
    // ondemand does not look past the root value: check for trailing content here.
    std::string_view root_text;
    if (doc.raw_json().get(root_text)) return false;
    const std::size_t root_end =
        static_cast<std::size_t>(root_text.data() - buffer_.get()) + root_text.size();
    for (std::size_t i = std::min(root_end, json.size()); i < json.size(); ++i) {
      if (!is_json_space(json[i])) {
        walk_failure_.note = "trailing content";
        return false;
      }
    }
    doc.rewind();

    od::object root;
    if (const auto error = doc.get_object().get(root)) {
      // Other errors abandon the iterator: no rewind possible, and the input is malformed anyway.
      if (error != simdjson::INCORRECT_TYPE) return false;
      // A valid non-object document is JSON, just not a signal.
      doc.rewind();
      if (!consume_valid(doc)) return false;
      walk_failure_ = Failure{DlqReason::wrong_schema, "document"};
      return false;
    }
    for (auto member : root) {
      std::string_view key;
      if (member.unescaped_key().get(key)) return false;
      od::value v;
      if (member.value().get(v)) return false;
      const auto f = lookup<Field>(kFieldNames, key);
      if (!f) {
        if (!consume_valid(v, 1)) return false;
        continue;
      }
      const auto i = static_cast<std::size_t>(*f);
      if (seen_[i]) {
        walk_failure_ = Failure{DlqReason::malformed_json, kFieldNames[i], -1, {}, "duplicate key"};
        return false;
      }
      seen_[i] = true;
      bool ok = true;
      switch (*f) {
        case Field::forms: ok = read_forms(v); break;
        case Field::consent: ok = read_consent(v); break;
        case Field::subjects: ok = read_subjects(v, out); break;
        case Field::note: ok = consume_valid(v, 1); break;  // free text is dropped
        default: ok = read_string_slot(v, slots_[i]); break;
      }
      if (!ok) return false;
    }
    return true;
  }

  bool read_forms(od::value v) {
    od::json_type t;
    if (v.type().get(t)) return false;
    if (t == od::json_type::null) {
      bool is_null = false;
      return !v.is_null().get(is_null) && is_null;
    }
    if (t != od::json_type::array) {
      forms_failure_ = Failure{DlqReason::bad_type, "forms"};
      return consume_valid(v, 1);
    }
    od::array arr;
    if (v.get_array().get(arr)) return false;
    int i = 0;
    for (auto element : arr) {
      od::value e;
      if (element.get(e)) return false;
      Slot s;
      if (!read_string_slot(e, s)) return false;
      if (!forms_failure_) {
        if (s.kind != Slot::Kind::string) {
          forms_failure_ = Failure{DlqReason::bad_type, "forms", i};
        } else if (auto bit = form_from(s.text)) {
          forms_ |= *bit;
        } else {
          forms_failure_ = Failure{DlqReason::bad_form, "forms", i};
        }
      }
      ++i;
    }
    return true;
  }

  bool read_consent(od::value v) {
    od::json_type t;
    if (v.type().get(t)) return false;
    if (t == od::json_type::boolean) {
      bool b = false;
      if (v.get_bool().get(b)) return false;
      consent_ = b;
      return true;
    }
    if (t == od::json_type::null) {
      bool is_null = false;
      return !v.is_null().get(is_null) && is_null;
    }
    consent_failure_ = Failure{DlqReason::bad_type, "consent"};
    return consume_valid(v, 1);
  }

  bool read_subjects(od::value v, Signal& out) {
    od::json_type t;
    if (v.type().get(t)) return false;
    if (t == od::json_type::null) {
      bool is_null = false;
      return !v.is_null().get(is_null) && is_null;
    }
    if (t != od::json_type::array) {
      subjects_.failure = Failure{DlqReason::bad_type, "subjects"};
      return consume_valid(v, 1);
    }
    od::array arr;
    if (v.get_array().get(arr)) return false;
    const std::size_t max = config_.max_subjects_per_signal;
    std::size_t i = 0;
    for (auto element : arr) {
      od::value e;
      if (element.get(e)) return false;
      if (i >= max) {
        subjects_.failure = Failure{DlqReason::too_many_subjects, "subjects"};
        if (!consume_valid(e, 1)) return false;
      } else {
        if (out.subjects.size() <= i) out.subjects.resize(i + 1);
        if (!read_subject(e, static_cast<int>(i), out.subjects[i])) return false;
      }
      ++i;
    }
    subjects_.count = std::min(i, max);
    return true;
  }

  bool read_subject(od::value v, int index, SubjectRef& ref) {
    od::json_type t;
    if (v.type().get(t)) return false;
    if (t != od::json_type::object) {
      if (!subjects_.failure) subjects_.failure = Failure{DlqReason::bad_type, "subjects", index};
      return consume_valid(v, 1);
    }
    od::object obj;
    if (v.get_object().get(obj)) return false;
    std::array<Slot, kSubjectFieldCount> slots{};
    for (auto member : obj) {
      std::string_view key;
      if (member.unescaped_key().get(key)) return false;
      od::value child;
      if (member.value().get(child)) return false;
      const auto f = lookup<SubjectField>(kSubjectFieldNames, key);
      if (!f) {
        if (!consume_valid(child, 1)) return false;
        continue;
      }
      Slot& slot = slots[static_cast<std::size_t>(*f)];
      if (slot.kind != Slot::Kind::absent) {
        walk_failure_ = Failure{DlqReason::malformed_json, "subjects", index,
                             kSubjectFieldNames[static_cast<std::size_t>(*f)], "duplicate key"};
        return false;
      }
      if (!read_string_slot(child, slot)) return false;
    }
    // Only the first bad subject is reported; later ones need not be normalised.
    if (!subjects_.failure) subjects_.failure = normalise_subject(slots, index, ref);
    return true;
  }

  // Type and size check of a string field; nullopt when acceptable.
  std::optional<Failure> check_string(const Slot& s, Failure where, bool required) const {
    if (s.kind == Slot::Kind::other) {
      where.reason = DlqReason::bad_type;
      return where;
    }
    if (s.kind != Slot::Kind::string) {
      if (!required) return std::nullopt;
      where.reason = DlqReason::missing_field;
      return where;
    }
    if (s.text.size() > config_.max_field_bytes) {
      where.reason = DlqReason::field_too_large;
      return where;
    }
    return std::nullopt;
  }

  std::optional<Failure> normalise_subject(const std::array<Slot, kSubjectFieldCount>& slots,
                                           int index, SubjectRef& ref) {
    auto at = [&](SubjectField f) -> const Slot& { return slots[static_cast<std::size_t>(f)]; };
    auto where = [&](SubjectField f) {
      return Failure{DlqReason::bad_subject, "subjects", index,
                     kSubjectFieldNames[static_cast<std::size_t>(f)]};
    };
    auto check = [&](SubjectField f, bool required) {
      return check_string(at(f), where(f), required);
    };
    if (auto f = check(SubjectField::type, true)) return f;
    const auto type = subject_type_from(at(SubjectField::type).text);
    if (!type) {
      auto f = where(SubjectField::type);
      f.reason = DlqReason::unknown_subject_type;
      return f;
    }
    ref.type = *type;
    ref.age_group = unknown_age_;
    ref.region = regions_.unknown_index();
    switch (*type) {
      case SubjectType::person: {
        for (auto field : {SubjectField::id, SubjectField::id_scheme}) {
          if (auto f = check(field, true)) return f;
        }
        for (auto field :
             {SubjectField::role, SubjectField::age_group, SubjectField::nationality}) {
          if (auto f = check(field, false)) return f;
        }
        if (!normalise_scheme(at(SubjectField::id_scheme).text)) {
          return where(SubjectField::id_scheme);
        }
        normalise_person_id(at(SubjectField::id).text, id_scratch_);
        if (id_scratch_.empty()) return where(SubjectField::id);
        pseudonymiser_.pseudonymise(scheme_scratch_, id_scratch_, ref.key);
        // Do not keep the raw identifier around in a long-lived buffer.
        std::fill(id_scratch_.begin(), id_scratch_.end(), '\0');
        id_scratch_.clear();
        if (at(SubjectField::age_group).kind == Slot::Kind::string) {
          ref.age_group = age_group_index(at(SubjectField::age_group).text);
        }
        if (at(SubjectField::nationality).kind == Slot::Kind::string) {
          ref.region = regions_.index_of(at(SubjectField::nationality).text);
        }
        return std::nullopt;
      }
      case SubjectType::vehicle: {
        if (auto f = check(SubjectField::plate, true)) return f;
        if (auto f = check(SubjectField::country, false)) return f;
        const std::string_view country = at(SubjectField::country).kind == Slot::Kind::string
                                             ? at(SubjectField::country).text
                                             : std::string_view();
        if (!normalise_vehicle_key(at(SubjectField::plate).text, country, ref.key)) {
          return where(SubjectField::plate);
        }
        return std::nullopt;
      }
      case SubjectType::location: {
        if (auto f = check(SubjectField::id, true)) return f;
        if (auto f = check(SubjectField::kind, false)) return f;
        if (!normalise_location_id(at(SubjectField::id).text, ref.key)) {
          return where(SubjectField::id);
        }
        return std::nullopt;
      }
    }
    return where(SubjectField::type);
  }

  // id_scheme ("bsn", "v-number", "eurodac") trimmed and lower case; no ':'
  // so "<scheme>:<id>" stays unambiguous.
  bool normalise_scheme(std::string_view scheme) {
    std::size_t b = 0;
    std::size_t e = scheme.size();
    while (b < e && is_space(scheme[b])) ++b;
    while (e > b && is_space(scheme[e - 1])) --e;
    scheme_scratch_.clear();
    for (std::size_t i = b; i < e; ++i) {
      const char c = lower(scheme[i]);
      const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-';
      if (!ok) return false;
      scheme_scratch_.push_back(c);
    }
    return !scheme_scratch_.empty();
  }

  std::uint8_t age_group_index(std::string_view text) const {
    const std::size_t n = std::min<std::size_t>(config_.age_groups.size(), 255);
    for (std::size_t i = 0; i < n; ++i) {
      if (iequals(config_.age_groups[i], text)) return static_cast<std::uint8_t>(i);
    }
    return unknown_age_;
  }

  // Field checks after the walk, in a fixed order so one input always gets
  // one reason whatever the order of its fields.
  std::optional<Failure> check(std::optional<SourceId> topic_source, Signal& out) const {
    auto slot = [&](Field f) -> const Slot& { return slots_[static_cast<std::size_t>(f)]; };
    auto where = [](Field f, DlqReason r) {
      return Failure{r, kFieldNames[static_cast<std::size_t>(f)]};
    };
    auto check_field = [&](Field f, bool required) {
      return check_string(slot(f), where(f, DlqReason::missing_field), required);
    };

    const Slot& schema = slot(Field::schema);
    if (schema.kind != Slot::Kind::string || schema.text != kSignalSchemaV1) {
      return where(Field::schema, DlqReason::wrong_schema);
    }
    if (auto f = check_field(Field::signal_id, true)) return f;
    if (slot(Field::signal_id).text.empty()) {
      return where(Field::signal_id, DlqReason::missing_field);
    }

    if (auto f = check_field(Field::source, true)) return f;
    const auto source = config_.find_source(slot(Field::source).text);
    if (!source) return where(Field::source, DlqReason::unknown_source);
    if (topic_source && *topic_source != *source) {
      return where(Field::source, DlqReason::source_mismatch);
    }
    if (auto f = check_field(Field::unit, false)) return f;

    std::optional<EventTime> times[2];
    const Field time_fields[2] = {Field::observed_at, Field::reported_at};
    for (int k = 0; k < 2; ++k) {
      if (auto f = check_field(time_fields[k], true)) return f;
      times[k] = parse_rfc3339(slot(time_fields[k]).text);
      if (!times[k]) return where(time_fields[k], DlqReason::bad_timestamp);
    }

    if (auto f = check_field(Field::indicator, true)) return f;
    const auto indicator = config_.catalogue.find(slot(Field::indicator).text);
    if (!indicator) return where(Field::indicator, DlqReason::unknown_indicator);

    if (auto f = check_field(Field::strength, false)) return f;
    Strength strength = config_.catalogue.at(*indicator).strength;
    if (slot(Field::strength).kind == Slot::Kind::string) {
      const auto s = strength_from(slot(Field::strength).text);
      if (!s) return where(Field::strength, DlqReason::bad_strength);
      strength = *s;
    }
    if (forms_failure_) return forms_failure_;
    if (consent_failure_) return consent_failure_;

    if (subjects_.failure) return subjects_.failure;
    if (subjects_.count == 0) return where(Field::subjects, DlqReason::no_subjects);

    if (*times[1] < *times[0] - kReportedBeforeObservedSlack) {
      return where(Field::reported_at, DlqReason::bad_timestamp);
    }

    const SourcePolicy& policy = config_.sources[*source];
    out.signal_id.assign(slot(Field::signal_id).text);
    out.source = *source;
    out.indicator = *indicator;
    out.strength = strength;
    out.forms = forms_;
    out.consent = consent_.value_or(policy.consent_default);
    out.person_level =
        out.consent && (policy.person_level.empty() ||
                        std::find(policy.person_level.begin(), policy.person_level.end(),
                                  *indicator) != policy.person_level.end());
    out.observed_at = *times[0];
    out.reported_at = *times[1];
    out.subject_count = subjects_.count;
    return std::nullopt;
  }

  const OperatorConfig& config_;
  const Pseudonymiser& pseudonymiser_;
  const NationalityRegionIndex regions_;
  std::uint8_t unknown_age_ = 0;

  od::parser parser_;
  std::unique_ptr<char[]> buffer_;  // input copy with simdjson's padding
  std::size_t buffer_capacity_ = 0;
  std::string id_scratch_;
  std::string scheme_scratch_;

  // Per-document state, reset by parse().
  std::array<Slot, kFieldCount> slots_{};
  std::bitset<kFieldCount> seen_;
  std::uint8_t forms_ = 0;
  std::optional<Failure> forms_failure_;
  std::optional<bool> consent_;
  std::optional<Failure> consent_failure_;
  SubjectsState subjects_;
  Failure walk_failure_;
};

SignalIntake::SignalIntake(const OperatorConfig& config, const Pseudonymiser& pseudonymiser)
    : parser_(std::make_unique<Parser>(config, pseudonymiser)) {}

SignalIntake::~SignalIntake() = default;

std::optional<Rejection> SignalIntake::parse(std::string_view json,
                                             std::optional<SourceId> topic_source, Signal& out) {
  return parser_->parse(json, topic_source, out);
}

}  // namespace mozaiek
