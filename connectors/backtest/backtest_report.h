// The backtest's outputs: NDJSON records for tools (schema
// mozaiek.backtest/v1, README "Backtest"), a self-contained HTML report with
// inline SVG plots (no script, font or image fetched from anywhere), and a
// one-line summary. Persons appear by pseudonym only. Pure functions.
#pragma once

#include <string>

#include "connectors/backtest/backtest_compare.h"

namespace mozaiek {

inline constexpr std::string_view kBacktestSchema = "mozaiek.backtest/v1";

// One JSON object per line: summary, rule, diff (only_baseline,
// only_candidate, changed), quality and pr records.
std::string backtest_ndjson(const BacktestReport& report);

// The HTML report: summary, alerts per week per rule, detection delays, the
// difference per rule, detection quality and the precision-recall curve,
// then the differing episodes with their contributions (the first
// max_listed of each kind; the NDJSON has all).
std::string backtest_html(const BacktestReport& report, std::size_t max_listed = 300);

// "backtest: baseline 12 alerts (9 episodes), candidate 15 (11): +3 only in
// candidate, -1 only in baseline, 2 changed; ..." (no newline).
std::string backtest_summary(const BacktestReport& report);

}  // namespace mozaiek
