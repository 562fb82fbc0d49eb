#include "operators/intake/intake_json.h"

#include <algorithm>
#include <cstring>

#include "operators/intake/subject_normaliser.h"

namespace mozaiek {

#define MOZAIEK_TEXT_OF(x) #x
#define MOZAIEK_NAME_OF(x) MOZAIEK_TEXT_OF(x)
std::string_view json_kernel() {
  // The kernel the On-Demand code in this file was compiled for (the
  // library's own builtin_implementation() speaks for the library's flags).
  return MOZAIEK_NAME_OF(SIMDJSON_BUILTIN_IMPLEMENTATION);
}
#undef MOZAIEK_NAME_OF
#undef MOZAIEK_TEXT_OF
namespace {

namespace od = simdjson::ondemand;

enum class SubjectField : std::uint8_t {
  type,
  id,
  id_scheme,
  role,
  age_group,
  nationality,
  plate,
  country,
  kind,
  kCount
};
constexpr std::size_t kSubjectFieldCount = static_cast<std::size_t>(SubjectField::kCount);
static_assert(kSubjectFieldCount == 9, "SubjectsReader::normalise_subject takes 9 slots");
constexpr std::array<std::string_view, kSubjectFieldCount> kSubjectFieldNames = {
    "type", "id", "id_scheme", "role", "age_group", "nationality", "plate", "country", "kind"};

std::optional<SubjectField> subject_field(std::string_view key) {
  const std::size_t i = name_index(kSubjectFieldNames, key);
  if (i == kSubjectFieldCount) return std::nullopt;
  return static_cast<SubjectField>(i);
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

Rejection to_rejection(const IntakeFailure& f) {
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

std::optional<IntakeFailure> check_string_slot(const JsonSlot& s, IntakeFailure where,
                                               bool required, std::size_t max_bytes) {
  if (s.kind == JsonSlot::Kind::other) {
    where.reason = DlqReason::bad_type;
    return where;
  }
  if (s.kind != JsonSlot::Kind::string) {
    if (!required) return std::nullopt;
    where.reason = DlqReason::missing_field;
    return where;
  }
  if (s.text.size() > max_bytes) {
    where.reason = DlqReason::field_too_large;
    return where;
  }
  return std::nullopt;
}

// ---- documents ------------------------------------------------------------

JsonDocumentReader::JsonDocumentReader(std::size_t max_document_bytes)
    : parser_(max_document_bytes) {}

bool JsonDocumentReader::start(std::string_view json) {
  const std::size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
  if (capacity_ < needed) {
    capacity_ = std::max(needed, 2 * capacity_);
    buffer_ = std::make_unique<char[]>(capacity_);
  }
  std::memcpy(buffer_.get(), json.data(), json.size());
  return !parser_.iterate(buffer_.get(), json.size(), capacity_).get(doc_);
}

bool JsonDocumentReader::open_unchecked(std::string_view json, od::object& root) {
  return start(json) && !doc_.get_object().get(root);
}

bool JsonDocumentReader::at_end() {
  // The iterator reports "out of bounds" exactly when no token is left.
  const char* next = nullptr;
  return doc_.current_location().get(next) == simdjson::OUT_OF_BOUNDS;
}

bool JsonDocumentReader::open(std::string_view json, od::object& root, IntakeFailure& failure) {
  failure = IntakeFailure{};
  if (!start(json)) return false;
  // ondemand does not look past the root value: check for trailing content here.
  std::string_view root_text;
  if (doc_.raw_json().get(root_text)) return false;
  const std::size_t root_end = static_cast<std::size_t>(root_text.data() - buffer_.get()) +
                               root_text.size();
  for (std::size_t i = std::min(root_end, json.size()); i < json.size(); ++i) {
    if (!is_json_space(json[i])) {
      failure.note = "trailing content";
      return false;
    }
  }
  doc_.rewind();
  if (const auto error = doc_.get_object().get(root)) {
    // Other errors abandon the iterator: no rewind possible, and the input is malformed anyway.
    if (error != simdjson::INCORRECT_TYPE) return false;
    // A valid non-object document is JSON, just not a partner message.
    doc_.rewind();
    if (!consume_valid(doc_)) return false;
    failure = IntakeFailure{DlqReason::wrong_schema, "document"};
    return false;
  }
  return true;
}

// ---- forms ----------------------------------------------------------------

namespace {

// The opening every array field shares: null is accepted as absent, another
// type is a bad_type failure on `field` (the value is skipped), an array is
// handed out in `arr`. Returns false on malformed input; `is_array` says
// whether there is an array to read. `field` must outlive the failure (a literal).
bool open_array_field(od::value v, std::string_view field, std::optional<IntakeFailure>& failure,
                      od::array& arr, bool& is_array) {
  is_array = false;
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t == od::json_type::null) {
    bool is_null = false;
    return !v.is_null().get(is_null) && is_null;
  }
  if (t != od::json_type::array) {
    failure = IntakeFailure{DlqReason::bad_type, field};  // field: a literal
    return consume_valid(v, 1);
  }
  if (v.get_array().get(arr)) return false;
  is_array = true;
  return true;
}

}  // namespace

bool FormsReader::read(od::value v) {
  od::array arr;
  bool is_array = false;
  if (!open_array_field(v, "forms", failure, arr, is_array)) return false;
  if (!is_array) return true;
  int i = 0;
  for (auto element : arr) {
    od::value e;
    if (element.get(e)) return false;
    JsonSlot s;
    if (!read_string_slot(e, s)) return false;
    if (!failure) {
      if (s.kind != JsonSlot::Kind::string) {
        failure = IntakeFailure{DlqReason::bad_type, "forms", i};
      } else if (auto bit = form_from(s.text)) {
        bits |= *bit;
      } else {
        failure = IntakeFailure{DlqReason::bad_form, "forms", i};
      }
    }
    ++i;
  }
  return true;
}

// ---- subjects -------------------------------------------------------------

SubjectsReader::SubjectsReader(const OperatorConfig& config, const Pseudonymiser& pseudonymiser)
    : config_(config), pseudonymiser_(pseudonymiser), regions_(config.nationality_regions) {
  const std::size_t n = std::min<std::size_t>(config.age_groups.size(), 255);
  unknown_age_ = n == 0 ? 0 : static_cast<std::uint8_t>(n - 1);
  for (std::size_t i = 0; i < n; ++i) {
    if (config.age_groups[i] == "unknown") unknown_age_ = static_cast<std::uint8_t>(i);
  }
}

void SubjectsReader::reset() {
  count_ = 0;
  failure_.reset();
}

bool SubjectsReader::read(od::value v, std::vector<SubjectRef>& out, IntakeFailure& malformed) {
  od::array arr;
  bool is_array = false;
  if (!open_array_field(v, "subjects", failure_, arr, is_array)) return false;
  if (!is_array) return true;
  const std::size_t max = config_.max_subjects_per_signal;
  std::size_t i = 0;
  for (auto element : arr) {
    od::value e;
    if (element.get(e)) return false;
    if (i >= max) {
      failure_ = IntakeFailure{DlqReason::too_many_subjects, "subjects"};
      if (!consume_valid(e, 1)) return false;
    } else {
      if (out.size() <= i) out.resize(i + 1);
      if (!read_subject(e, static_cast<int>(i), out[i], malformed)) return false;
    }
    ++i;
  }
  count_ = std::min(i, max);
  return true;
}

bool SubjectsReader::read_subject(od::value v, int index, SubjectRef& ref,
                                  IntakeFailure& malformed) {
  od::json_type t;
  if (v.type().get(t)) return false;
  if (t != od::json_type::object) {
    if (!failure_) failure_ = IntakeFailure{DlqReason::bad_type, "subjects", index};
    return consume_valid(v, 1);
  }
  od::object obj;
  if (v.get_object().get(obj)) return false;
  std::array<JsonSlot, kSubjectFieldCount> slots{};
  for (auto member : obj) {
    std::string_view key;
    if (!member_key(member, key)) return false;
    od::value child;
    if (member.value().get(child)) return false;
    const auto f = subject_field(key);
    if (!f) {
      if (!consume_valid(child, 1)) return false;
      continue;
    }
    JsonSlot& slot = slots[static_cast<std::size_t>(*f)];
    if (slot.kind != JsonSlot::Kind::absent) {
      malformed = IntakeFailure{DlqReason::malformed_json, "subjects", index,
                                kSubjectFieldNames[static_cast<std::size_t>(*f)], "duplicate key"};
      return false;
    }
    if (!read_string_slot(child, slot)) return false;
  }
  // Only the first bad subject is reported; later ones need not be normalised.
  if (!failure_) failure_ = normalise_subject(slots, index, ref);
  return true;
}

std::optional<IntakeFailure> SubjectsReader::normalise_subject(
    const std::array<JsonSlot, kSubjectFieldCount>& slots, int index, SubjectRef& ref) {
  auto at = [&](SubjectField f) -> const JsonSlot& { return slots[static_cast<std::size_t>(f)]; };
  auto where = [&](SubjectField f) {
    return IntakeFailure{DlqReason::bad_subject, "subjects", index,
                         kSubjectFieldNames[static_cast<std::size_t>(f)]};
  };
  auto check = [&](SubjectField f, bool required) {
    return check_string_slot(at(f), where(f), required, config_.max_field_bytes);
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
  ref.reception = false;
  switch (*type) {
    case SubjectType::person: {
      for (auto field : {SubjectField::id, SubjectField::id_scheme}) {
        if (auto f = check(field, true)) return f;
      }
      for (auto field : {SubjectField::role, SubjectField::age_group, SubjectField::nationality}) {
        if (auto f = check(field, false)) return f;
      }
      switch (pseudonymise_person(pseudonymiser_, at(SubjectField::id_scheme).text,
                                  at(SubjectField::id).text, scheme_scratch_, id_scratch_,
                                  ref.key)) {
        case PersonIdProblem::bad_scheme: return where(SubjectField::id_scheme);
        case PersonIdProblem::empty_id: return where(SubjectField::id);
        case PersonIdProblem::none: break;
      }
      if (at(SubjectField::age_group).kind == JsonSlot::Kind::string) {
        ref.age_group = age_group_index(at(SubjectField::age_group).text);
      }
      if (at(SubjectField::nationality).kind == JsonSlot::Kind::string) {
        ref.region = regions_.index_of(at(SubjectField::nationality).text);
      }
      return std::nullopt;
    }
    case SubjectType::vehicle: {
      if (auto f = check(SubjectField::plate, true)) return f;
      if (auto f = check(SubjectField::country, false)) return f;
      const std::string_view country = at(SubjectField::country).kind == JsonSlot::Kind::string
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
      ref.reception = at(SubjectField::kind).kind == JsonSlot::Kind::string &&
                      is_reception_kind(at(SubjectField::kind).text);
      return std::nullopt;
    }
  }
  return where(SubjectField::type);
}

std::uint8_t SubjectsReader::age_group_index(std::string_view text) const {
  const std::size_t n = std::min<std::size_t>(config_.age_groups.size(), 255);
  for (std::size_t i = 0; i < n; ++i) {
    if (iequals(config_.age_groups[i], text)) return static_cast<std::uint8_t>(i);
  }
  return unknown_age_;
}

}  // namespace mozaiek
