#include "operators/intake/signal_intake.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstring>

#include "operators/intake/intake_json.h"

namespace mozaiek {
namespace {

namespace od = simdjson::ondemand;
using Slot = JsonSlot;

enum class Field : std::uint8_t {
  schema,
  signal_id,
  source,
  unit,
  observed_at,
  reported_at,
  indicator,
  strength,
  forms,
  consent,
  subjects,
  note,
  kCount
};
constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::kCount);
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "schema",    "signal_id", "source", "unit",    "observed_at", "reported_at",
    "indicator", "strength",  "forms",  "consent", "subjects",    "note"};

using Failure = IntakeFailure;

}  // namespace

class SignalIntake::Parser {
 public:
  Parser(const OperatorConfig& config, const Pseudonymiser& pseudonymiser)
      : config_(config), document_(kMaxDocumentBytes), subjects_(config, pseudonymiser) {}

  std::optional<Rejection> parse(std::string_view json, std::optional<SourceId> topic_source,
                                 Signal& out) {
    reset();
    if (json.size() > kMaxDocumentBytes) {
      return to_rejection({DlqReason::field_too_large, "document"});
    }
    if (!walk_unchecked(json, out)) {
      // Something is off with the document: read it again the careful way,
      // which names the problem exactly as it always has.
      reset();
      if (!walk(json, out)) return to_rejection(walk_failure_);
    }
    if (auto f = check(topic_source, out)) return to_rejection(*f);
    return std::nullopt;
  }

 private:
  // The same pass without the up-front skip over the document: trailing
  // content is looked for after the walk. False whenever anything is off.
  bool walk_unchecked(std::string_view json, Signal& out) {
    od::object root;
    return document_.open_unchecked(json, root) && walk_root(root, out) && document_.at_end();
  }

  void reset() {
    slots_.fill(Slot{});
    seen_.reset();
    forms_.reset();
    consent_.reset();
    consent_failure_.reset();
    subjects_.reset();
    walk_failure_ = Failure{};
  }

  // The single pass over the document in order: syntax, structure, types of
  // arrays and booleans, and the subjects (normalised as they are read).
  // Returns false when the document is malformed or not an object (walk_failure_ says why).
  bool walk(std::string_view json, Signal& out) {
    od::object root;
    if (!document_.open(json, root, walk_failure_)) return false;
    return walk_root(root, out);
  }

  bool walk_root(od::object root, Signal& out) {
    return walk_members(root, kFieldNames, seen_, walk_failure_, [&](std::size_t i, od::value v) {
      switch (static_cast<Field>(i)) {
        case Field::forms: return forms_.read(v);
        case Field::consent: return read_consent(v);
        case Field::subjects: return subjects_.read(v, out.subjects, walk_failure_);
        case Field::note: return consume_valid(v, 1);  // free text is dropped
        default: return read_string_slot(v, slots_[i]);
      }
    });
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

  // Field checks after the walk, in a fixed order so one input always gets
  // one reason whatever the order of its fields.
  std::optional<Failure> check(std::optional<SourceId> topic_source, Signal& out) const {
    auto slot = [&](Field f) -> const Slot& { return slots_[static_cast<std::size_t>(f)]; };
    auto where = [](Field f, DlqReason r) {
      return Failure{r, kFieldNames[static_cast<std::size_t>(f)]};
    };
    auto check_field = [&](Field f, bool required) {
      return check_string_slot(slot(f), where(f, DlqReason::missing_field), required,
                               config_.max_field_bytes);
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
    if (forms_.failure) return forms_.failure;
    if (consent_failure_) return consent_failure_;

    if (subjects_.failure()) return subjects_.failure();
    if (subjects_.count() == 0) return where(Field::subjects, DlqReason::no_subjects);

    if (*times[1] < *times[0] - kReportedBeforeObservedSlack) {
      return where(Field::reported_at, DlqReason::bad_timestamp);
    }

    const SourcePolicy& policy = config_.sources[*source];
    out.signal_id.assign(slot(Field::signal_id).text);
    out.source = *source;
    out.indicator = *indicator;
    out.strength = strength;
    out.forms = forms_.bits;
    out.consent = consent_.value_or(policy.consent_default);
    out.purposes = policy.purposes &
                   static_cast<std::uint8_t>(~purpose_bit(Purpose::aggregate_only));
    out.person_level = out.consent && out.purposes != 0 &&
                       (policy.person_level.empty() ||
                        std::find(policy.person_level.begin(), policy.person_level.end(),
                                  *indicator) != policy.person_level.end());
    out.observed_at = *times[0];
    out.reported_at = *times[1];
    out.subject_count = subjects_.count();
    return std::nullopt;
  }

  const OperatorConfig& config_;
  JsonDocumentReader document_;

  // Per-document state, reset by parse().
  std::array<Slot, kFieldCount> slots_{};
  std::bitset<kFieldCount> seen_;
  FormsReader forms_;
  std::optional<bool> consent_;
  std::optional<Failure> consent_failure_;
  SubjectsReader subjects_;
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
