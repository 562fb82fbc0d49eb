// One side of a backtest: a rule set (a config) run over a history of
// signals and chain events through the same operators as `mozaiek replay`
// (LocalPipeline, in-memory state), keeping what the comparison needs: every
// alert, each person's highest eligible score as it grew (for the threshold
// sweep), the subjects seen, and the outcomes the history carries
// (victim.registered, person.departed_unknown).
//
// run_side() runs on the caller's thread; the result is a plain value.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "connectors/app/settings.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/model/model.h"
#include "stream/status.h"

namespace mozaiek {

// The highest eligible score of a person, as it grew: (reported time of
// the signal that raised it, score), ascending in both.
using ScoreSteps = std::vector<std::pair<std::int64_t, double>>;

struct SideResult {
  std::string name;  // "baseline", "candidate"
  std::string config_path;
  OperatorConfig config;      // the operator settings the side ran with
  std::vector<Alert> alerts;  // in the order raised (care and oversight alerts included)
  // Every person seen in an investigation signal, with their score steps
  // under the person rule (empty: never eligible).
  std::unordered_map<std::string, ScoreSteps> persons;
  std::array<std::unordered_set<std::string>, kSubjectTypeCount> seen;  // vehicles, locations
  // The earliest outcome per person in the history (event time, ms).
  std::unordered_map<std::string, std::int64_t> registered;
  std::unordered_map<std::string, std::int64_t> departed;
  std::uint64_t records = 0;
  std::uint64_t dead_letters = 0;
  double seconds = 0;  // wall time of the run

  std::size_t subjects_seen(SubjectType t) const {
    return t == SubjectType::person ? persons.size() : seen[static_cast<std::size_t>(t)].size();
  }
};

// progress(fraction of input bytes read, records so far) at most once per second.
using BacktestProgress = std::function<void(double, std::uint64_t)>;

// Runs settings' operators over the inputs (NDJSON, in order) with a fixed
// processing time, so the same history gives the same alerts.
[[nodiscard]] Status run_side(const Settings& settings, const Pseudonymiser& pseudonymiser,
                              const std::vector<std::string>& inputs, SideResult& out,
                              const BacktestProgress& progress);

// When an alert would have been raised live: the newest piece's reporting
// time (event time of its last piece plus its detection delay), in ms.
std::int64_t alert_known_at_ms(const Alert& alert);

}  // namespace mozaiek
