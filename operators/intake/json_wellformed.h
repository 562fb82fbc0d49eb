// Well-formedness checks on simdjson ondemand values. The ondemand parser
// validates only what is read; intake must also reject malformed JSON in
// fields it ignores, so those are walked here without being kept.
// Included by .cc files only (simdjson is a heavy header).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string_view>

namespace mozaiek {

// Ignored values are walked recursively; deeper nesting than this is treated
// as malformed rather than risking the stack.
inline constexpr int kMaxIgnoredNesting = 32;

inline bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A field expected to hold a string, as read. Callers judge it only after the
// whole object was read, so the verdict does not depend on field order.
struct JsonSlot {
  enum class Kind : std::uint8_t { absent, string, null, other };
  Kind kind = Kind::absent;
  std::string_view text;  // into the parser's string buffer; valid for this document
};

// Consumes one value of any type; false unless it is well-formed JSON.
bool consume_valid(simdjson::ondemand::value v, int depth = 1);
// The same for a whole document (its root may be a scalar).
bool consume_valid(simdjson::ondemand::document& doc);

// Reads a string (kept in `slot.text`) or null; other types are consumed,
// checked and recorded as `other`. False on malformed JSON.
bool read_string_slot(simdjson::ondemand::value v, JsonSlot& slot);

}  // namespace mozaiek
