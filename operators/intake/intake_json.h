// The parts of partner-message intake that signal v1 and chain event v1
// share: where a document failed (as a DlqReason plus a field path, never a
// value), string field checks, the padded simdjson document, the `forms`
// array and the `subjects` array (normalised and pseudonymised as it is
// read). One piece of code, so a person, plate or place means the same
// whichever message names it.
//
// Included by intake .cc files only (simdjson is a heavy header). Each
// reader is owned by one intake parser and used on its thread.
#pragma once

#include <array>
#include <bitset>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/intake/json_wellformed.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/model/model.h"
#include "operators/model/nationality_regions.h"
#include "operators/records/dlq_reason.h"

namespace mozaiek {

// Where validation failed, as literals and indices only: "forms[2]",
// "subjects[1].plate". A field's value never goes into a rejection.
struct IntakeFailure {
  IntakeFailure() = default;
  IntakeFailure(DlqReason r, std::string_view f, int i = -1, std::string_view s = {},
                std::string_view n = {})
      : reason(r), field(f), index(i), sub(s), note(n) {}

  DlqReason reason = DlqReason::malformed_json;
  std::string_view field = "document";
  int index = -1;
  std::string_view sub;
  std::string_view note;  // for malformed_json: what was wrong
};

Rejection to_rejection(const IntakeFailure& f);

// The simdjson On-Demand kernel intake parses with ("haswell", "fallback",
// ...), fixed when intake was compiled (see MOZAIEK_NATIVE_JSON).
std::string_view json_kernel();

// Type and size check of a string field; nullopt when acceptable. `where`
// names the field; its reason is replaced by bad_type, missing_field or
// field_too_large.
std::optional<IntakeFailure> check_string_slot(const JsonSlot& s, IntakeFailure where,
                                               bool required, std::size_t max_bytes);

// A reusable, padded copy of one document and its ondemand iterator.
class JsonDocumentReader {
 public:
  explicit JsonDocumentReader(std::size_t max_document_bytes);
  // Opens `json` as an object. False when it is malformed or not an object;
  // `failure` then says why (malformed_json or wrong_schema).
  bool open(std::string_view json, simdjson::ondemand::object& root, IntakeFailure& failure);

  // The cheap way in for the common, well-formed document: opens `json` as
  // an object without first skipping over the whole of it to look for
  // trailing content. Once the root object has been read to its end,
  // at_end() says whether only whitespace follows. When either is false the
  // caller reads the document again through open(), which says what is
  // wrong, so both ways give one verdict per input.
  bool open_unchecked(std::string_view json, simdjson::ondemand::object& root);
  bool at_end();

 private:
  // Copies `json` into the padded buffer and starts the iterator on it.
  bool start(std::string_view json);

  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
};

// A member's key. A key without escapes (short keys are checked, and
// partners send plain ones) is a view into the document, so the parser need
// not copy it out; any other key is unescaped as usual. False on malformed
// JSON.
inline bool member_key(simdjson::simdjson_result<simdjson::ondemand::field>& member,
                       std::string_view& key) {
  if (member.error()) return false;
  simdjson::ondemand::field& field = member.value_unsafe();
  // Bounded so the scan stays within the document's padding whatever it holds.
  constexpr std::size_t kPlainKeyScan = 32;
  static_assert(kPlainKeyScan < simdjson::SIMDJSON_PADDING);
  const char* raw = field.key().raw();
  for (std::size_t n = 0; n < kPlainKeyScan; ++n) {
    if (raw[n] == '"') {
      key = std::string_view(raw, n);
      return true;
    }
    if (raw[n] == '\\') break;
  }
  return !field.unescaped_key().get(key);
}

// The index of `key` in `names`, or N when it is not there. The first
// byte is compared before the rest: most keys differ there already.
template <std::size_t N>
std::size_t name_index(const std::array<std::string_view, N>& names, std::string_view key) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i].size() == key.size() && !key.empty() && names[i][0] == key[0] && names[i] == key) {
      return i;
    }
  }
  return N;
}

// Walks the members of a document's root object. Members named in `names`
// go to on_field(index, value) once each (a repeated name is malformed_json,
// "<name>: duplicate key"); other members are only checked to be well-formed.
// on_field returns false on malformed JSON. False on malformed JSON;
// `failure` then says where when it knows.
template <std::size_t N, class OnField>
bool walk_members(simdjson::ondemand::object root, const std::array<std::string_view, N>& names,
                  std::bitset<N>& seen, IntakeFailure& failure, OnField&& on_field) {
  for (auto member : root) {
    std::string_view key;
    if (!member_key(member, key)) return false;
    simdjson::ondemand::value v;
    if (member.value().get(v)) return false;
    const std::size_t i = name_index(names, key);
    if (i == N) {
      if (!consume_valid(v, 1)) return false;
      continue;
    }
    if (seen[i]) {
      failure = IntakeFailure{DlqReason::malformed_json, names[i], -1, {}, "duplicate key"};
      return false;
    }
    seen[i] = true;
    if (!on_field(i, v)) return false;
  }
  return true;
}

// The `forms` array: exploitation forms as a bit set (model.h Form).
struct FormsReader {
  std::uint8_t bits = 0;
  std::optional<IntakeFailure> failure;  // bad_type or bad_form, judged after the walk
  void reset() {
    bits = 0;
    failure.reset();
  }
  // False on malformed JSON only.
  bool read(simdjson::ondemand::value v);
};

// The `subjects` array: persons (pseudonymised), vehicles and locations
// (normalised). Borrows config and pseudonymiser.
class SubjectsReader {
 public:
  SubjectsReader(const OperatorConfig& config, const Pseudonymiser& pseudonymiser);

  void reset();
  // Reads the array into out[0..count()) (entries reused; `out` only grows).
  // False on malformed JSON; `malformed` then says where.
  bool read(simdjson::ondemand::value v, std::vector<SubjectRef>& out, IntakeFailure& malformed);

  std::size_t count() const { return count_; }
  // The first invalid subject (or a bad type of the array), if any.
  const std::optional<IntakeFailure>& failure() const { return failure_; }

 private:
  bool read_subject(simdjson::ondemand::value v, int index, SubjectRef& ref,
                    IntakeFailure& malformed);
  std::optional<IntakeFailure> normalise_subject(const std::array<JsonSlot, 9>& slots, int index,
                                                 SubjectRef& ref);
  std::uint8_t age_group_index(std::string_view text) const;

  const OperatorConfig& config_;
  const Pseudonymiser& pseudonymiser_;
  const NationalityRegionIndex regions_;
  std::uint8_t unknown_age_ = 0;
  std::string id_scratch_;
  std::string scheme_scratch_;
  std::size_t count_ = 0;
  std::optional<IntakeFailure> failure_;
};

}  // namespace mozaiek
