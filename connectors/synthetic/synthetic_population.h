// SyntheticPopulation: a labelled population for measuring the rules
// (`mozaiek generate --labelled`, `mozaiek backtest`): background persons
// with coincidental signals from the organisations that meet them, and
// planted cases of several shapes whose pieces converge, each ending in an
// outcome (a victim.registered or person.departed_unknown chain event). The
// labels say which persons are cases, of which shape, and when their outcome
// came. Deterministic per seed: the same options and catalogue give the same
// bytes.
//
// Lifecycle: the constructor plans and renders every record (sorted by
// reported_at); records() and labels() hand them out. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operators/model/model.h"
#include "stream/record.h"
#include "stream/time.h"

namespace mozaiek {

struct PopulationOptions {
  std::uint64_t seed = 1;
  EventTime start = event_time_from_ms(1'735'689'600'000);  // 2025-01-01T00:00:00Z
  Millis span = days(365);                                  // when background signals fall
  std::size_t persons = 20000;                              // background persons
  std::size_t cases = 200;                                  // planted cases on top
  std::string chain_topic = "chain.events";
  std::string signals_prefix = "signals.";
};

// The shapes of planted cases, in the order they are dealt out.
enum class CaseShape : std::uint8_t {
  fast,        // 4-6 pieces from 2-3 organisations within three weeks
  slow,        // 5-8 pieces from 2-3 organisations over two to four months
  single_org,  // 4-6 pieces from one organisation within a month
  vehicle,     // 2-3 pieces of his own, and a car seen with him and at reception sites
};
inline constexpr std::size_t kCaseShapeCount = 4;
std::string_view to_string(CaseShape s);

// One planted case as written to the labels file.
struct PopulationLabel {
  std::string id_scheme;
  std::string id;  // the raw id as sent in the signals (synthetic)
  CaseShape shape = CaseShape::fast;
  std::string outcome;  // "victim.registered" or "person.departed_unknown"
  EventTime outcome_at{};
  std::size_t pieces = 0;  // his own signals
};

class SyntheticPopulation {
 public:
  // Uses the configured sources whose policy lets them correlate every
  // indicator for investigation, and the catalogue's person indicators.
  SyntheticPopulation(const PopulationOptions& options, const OperatorConfig& config);

  // Signals and chain events in reporting order.
  const std::vector<OutRecord>& records() const { return records_; }
  const std::vector<PopulationLabel>& labels() const { return labels_; }
  // One JSON object per label (labels file format, README "Backtest").
  static std::string label_json(const PopulationLabel& label);

 private:
  std::vector<OutRecord> records_;
  std::vector<PopulationLabel> labels_;
};

}  // namespace mozaiek
