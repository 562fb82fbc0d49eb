// The labels file of a backtest: persons known to be cases, one JSON object
// per line, by pseudonym or by raw id (pseudonymised on reading exactly as
// intake does; the raw id is not kept):
//   {"type":"person","key":"<64-hex pseudonym>"}
//   {"type":"person","id_scheme":"v-number","id":"...","outcome_at":"<RFC 3339>","shape":"fast"}
// outcome_at (when the case came to light) and shape are optional; other
// members (outcome, pieces: `mozaiek generate --labelled` writes them) are
// ignored. Errors name the line and the field, never a value.
#pragma once

#include <string>

#include "connectors/backtest/backtest_compare.h"
#include "operators/intake/pseudonymiser.h"
#include "stream/status.h"

namespace mozaiek {

[[nodiscard]] Status load_labels(const std::string& path, const Pseudonymiser& pseudonymiser,
                                 KnownCases& cases);

}  // namespace mozaiek
