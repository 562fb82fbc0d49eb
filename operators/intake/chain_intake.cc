#include "operators/intake/chain_intake.h"

#include <array>
#include <bitset>

#include "operators/intake/intake_json.h"
#include "operators/intake/subject_normaliser.h"

namespace mozaiek {
namespace {

namespace od = simdjson::ondemand;
using Slot = JsonSlot;
using Failure = IntakeFailure;

enum class Field : std::uint8_t {
  schema,
  event_id,
  type,
  at,
  reported_at,
  org,
  melding_id,
  to,
  outcome,
  to_location,
  where,
  registry,
  reporter,
  forms,
  subjects,
  note,
  kCount
};
constexpr std::size_t kFieldCount = static_cast<std::size_t>(Field::kCount);
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "schema",  "event_id",    "type",  "at",       "reported_at", "org",   "melding_id", "to",
    "outcome", "to_location", "where", "registry", "reporter",    "forms", "subjects",   "note"};

}  // namespace

class ChainIntake::Parser {
 public:
  Parser(const OperatorConfig& config, const Pseudonymiser& pseudonymiser)
      : config_(config),
        document_(kMaxDocumentBytes),
        sniffer_(kMaxDocumentBytes),
        subjects_reader_(config, pseudonymiser) {}

  std::optional<Rejection> parse(std::string_view json, ChainEvent& out) {
    slots_.fill(Slot{});
    seen_.reset();
    forms_.reset();
    subjects_reader_.reset();
    walk_failure_ = Failure{};
    if (json.size() > kMaxDocumentBytes) {
      return to_rejection({DlqReason::field_too_large, "document"});
    }
    if (!walk(json)) return to_rejection(walk_failure_);
    if (auto f = check(out)) return to_rejection(*f);
    return std::nullopt;
  }

  bool claims_chain_schema(std::string_view json) {
    if (json.size() > kMaxDocumentBytes || json.find(kChainSchemaV1) == std::string_view::npos) {
      return false;
    }
    od::object root;
    Failure ignored;
    if (!sniffer_.open(json, root, ignored)) return false;
    for (auto member : root) {
      std::string_view key;
      if (member.unescaped_key().get(key)) return false;
      if (key != "schema") {
        od::value v;
        if (member.value().get(v) || !consume_valid(v, 1)) return false;
        continue;
      }
      std::string_view text;
      return !member.value().get_string().get(text) && text == kChainSchemaV1;
    }
    return false;
  }

 private:
  bool walk(std::string_view json) {
    od::object root;
    if (!document_.open(json, root, walk_failure_)) return false;
    return walk_members(root, kFieldNames, seen_, walk_failure_, [&](std::size_t i, od::value v) {
      switch (static_cast<Field>(i)) {
        case Field::forms: return forms_.read(v);
        case Field::subjects: return subjects_reader_.read(v, subjects_, walk_failure_);
        case Field::note: return consume_valid(v, 1);  // free text is dropped
        default: return read_string_slot(v, slots_[i]);
      }
    });
  }

  const Slot& slot(Field f) const { return slots_[static_cast<std::size_t>(f)]; }
  static Failure where(Field f, DlqReason r) {
    return Failure{r, kFieldNames[static_cast<std::size_t>(f)]};
  }
  std::optional<Failure> check_field(Field f, bool required) const {
    return check_string_slot(slot(f), where(f, DlqReason::missing_field), required,
                             config_.max_field_bytes);
  }
  // A required string that must also be non-empty.
  std::optional<Failure> require(Field f, DlqReason missing) const {
    if (auto fail = check_field(f, true)) {
      if (fail->reason == DlqReason::missing_field) fail->reason = missing;
      return fail;
    }
    if (slot(f).text.empty()) return where(f, missing);
    return std::nullopt;
  }

  // Checks in a fixed order, so one input always gets one reason.
  std::optional<Failure> check(ChainEvent& out) const {
    std::optional<ChainEventType> type;
    EventTime times[2];
    if (auto f = check_envelope(type, times)) return f;
    // The first person and the first location named.
    const SubjectRef* person = nullptr;
    const SubjectRef* location = nullptr;
    for (std::size_t i = 0; i < subjects_reader_.count(); ++i) {
      const SubjectRef& s = subjects_[i];
      if (s.type == SubjectType::person && person == nullptr) person = &s;
      if (s.type == SubjectType::location && location == nullptr) location = &s;
    }
    if (auto f = check_type_fields(*type, person, location)) return f;
    out.to_location.clear();
    if (*type == ChainEventType::person_transferred &&
        !normalise_location_id(slot(Field::to_location).text, out.to_location)) {
      return where(Field::to_location, DlqReason::bad_subject);
    }
    fill(*type, times, person, location, out);
    return std::nullopt;
  }

  // What every event carries: schema, id, a known type, its times, the
  // sending organisation, well-formed optional fields, forms and subjects.
  std::optional<Failure> check_envelope(std::optional<ChainEventType>& type,
                                        EventTime (&times)[2]) const {
    const Slot& schema = slot(Field::schema);
    if (schema.kind != Slot::Kind::string || schema.text != kChainSchemaV1) {
      return where(Field::schema, DlqReason::wrong_schema);
    }
    if (auto f = require(Field::event_id, DlqReason::missing_field)) return f;
    if (auto f = require(Field::type, DlqReason::missing_field)) return f;
    type = chain_event_type_from(slot(Field::type).text);
    if (!type) return where(Field::type, DlqReason::unknown_event_type);

    const Field time_fields[2] = {Field::at, Field::reported_at};
    for (int k = 0; k < 2; ++k) {
      if (auto f = check_field(time_fields[k], true)) return f;
      const auto t = parse_rfc3339(slot(time_fields[k]).text);
      if (!t) return where(time_fields[k], DlqReason::bad_timestamp);
      times[k] = *t;
    }
    if (times[1] < times[0] - seconds(60)) {
      return where(Field::reported_at, DlqReason::bad_timestamp);
    }
    if (auto f = require(Field::org, DlqReason::missing_field)) return f;
    for (Field optional : {Field::melding_id, Field::to, Field::outcome, Field::to_location,
                           Field::where, Field::registry, Field::reporter}) {
      if (auto f = check_field(optional, false)) return f;
    }
    if (forms_.failure) return forms_.failure;
    if (subjects_reader_.failure()) return subjects_reader_.failure();
    return std::nullopt;
  }

  // The fields and subjects each type of event needs.
  std::optional<Failure> check_type_fields(ChainEventType type, const SubjectRef* person,
                                           const SubjectRef* location) const {
    switch (type) {
      case ChainEventType::melding_feedback:
        if (auto f = require(Field::outcome, DlqReason::missing_field)) return f;
        [[fallthrough]];
      case ChainEventType::melding_sent:
      case ChainEventType::melding_acknowledged:
        if (auto f = require(Field::melding_id, DlqReason::missing_melding_id)) return f;
        if (auto f = require(Field::to, DlqReason::missing_field)) return f;
        break;
      case ChainEventType::person_arrived:
      case ChainEventType::person_departed_unknown:
        if (person == nullptr) return where(Field::subjects, DlqReason::missing_person);
        if (location == nullptr) return where(Field::subjects, DlqReason::missing_location);
        break;
      case ChainEventType::person_transferred:
        if (person == nullptr) return where(Field::subjects, DlqReason::missing_person);
        if (auto f = require(Field::to_location, DlqReason::missing_field)) return f;
        break;
      case ChainEventType::person_reappeared:
        if (person == nullptr) return where(Field::subjects, DlqReason::missing_person);
        if (auto f = require(Field::where, DlqReason::missing_field)) return f;
        break;
      case ChainEventType::victim_registered:
        if (person == nullptr) return where(Field::subjects, DlqReason::missing_person);
        if (auto f = require(Field::registry, DlqReason::missing_field)) return f;
        if (auto f = require(Field::reporter, DlqReason::missing_field)) return f;
        break;
      case ChainEventType::kCount: return where(Field::type, DlqReason::unknown_event_type);
    }
    return std::nullopt;
  }

  // The checked event as a value (persons by pseudonym, locations normalised).
  void fill(ChainEventType type, const EventTime (&times)[2], const SubjectRef* person,
            const SubjectRef* location, ChainEvent& out) const {
    auto text = [&](Field f) {
      return slot(f).kind == Slot::Kind::string ? slot(f).text : std::string_view();
    };
    out.event_id.assign(text(Field::event_id));
    out.type = type;
    out.at = times[0];
    out.reported_at = times[1];
    out.org.assign(text(Field::org));
    out.melding_id.assign(text(Field::melding_id));
    out.to.assign(text(Field::to));
    out.outcome.assign(text(Field::outcome));
    out.where.assign(text(Field::where));
    out.registry.assign(text(Field::registry));
    out.reporter.assign(text(Field::reporter));
    out.forms = forms_.bits;
    out.has_person = person != nullptr;
    if (person != nullptr) {
      out.person.type = SubjectType::person;
      out.person.key.assign(person->key);
      out.person.age_group = person->age_group;
      out.person.region = person->region;
    } else {
      out.person.key.clear();
    }
    out.location.assign(location != nullptr ? std::string_view(location->key) : std::string_view());
  }

  const OperatorConfig& config_;
  JsonDocumentReader document_;
  JsonDocumentReader sniffer_;
  SubjectsReader subjects_reader_;
  std::vector<SubjectRef> subjects_;

  std::array<Slot, kFieldCount> slots_{};
  std::bitset<kFieldCount> seen_;
  FormsReader forms_;
  Failure walk_failure_;
};

ChainIntake::ChainIntake(const OperatorConfig& config, const Pseudonymiser& pseudonymiser)
    : parser_(std::make_unique<Parser>(config, pseudonymiser)) {}

ChainIntake::~ChainIntake() = default;

std::optional<Rejection> ChainIntake::parse(std::string_view json, ChainEvent& out) {
  return parser_->parse(json, out);
}

bool ChainIntake::claims_chain_schema(std::string_view json) {
  return parser_->claims_chain_schema(json);
}

}  // namespace mozaiek
