// Plain per-batch counters kept by the stages on the hot path. The task loop
// hands them to the metrics probe after each batch and resets them, so no
// prometheus call happens per record.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "operators/model/chain_event.h"
#include "operators/model/model.h"
#include "operators/records/dlq_reason.h"

namespace mozaiek {

struct StageCounters {
  // Indexed by SourceId; the extra last slot counts records whose source is unknown.
  std::vector<std::uint64_t> in;
  std::vector<std::uint64_t> processed;
  std::vector<std::array<std::uint64_t, static_cast<std::size_t>(DlqReason::kCount)>> dlq;
  std::uint64_t duplicates = 0;
  std::uint64_t routed = 0;
  std::uint64_t alerts = 0;
  // Accepted signals by source and indicator (intake):
  // signals[source * (indicators + 1) + indicator]; the last slot of each is "other".
  std::vector<std::uint64_t> signals;
  std::size_t indicators = 0;
  // Valid chain events by type (intake); chain events are also in in/processed/dlq,
  // under the source named by their `org` (or the unknown slot).
  std::array<std::uint64_t, kChainEventTypeCount> chain_events{};
  // Erasure requests applied (entity stage), by SubjectType.
  std::array<std::uint64_t, kSubjectTypeCount> erasures{};

  explicit StageCounters(std::size_t sources, std::size_t indicator_count = 0)
      : in(sources + 1, 0),
        processed(sources + 1, 0),
        dlq(sources + 1),
        signals((sources + 1) * (indicator_count + 1), 0),
        indicators(indicator_count) {
    for (auto& row : dlq) row.fill(0);
  }
  std::size_t other_source() const { return in.size() - 1; }

  void count_signal(SourceId source, IndicatorId indicator) {
    const std::size_t s = source < other_source() ? source : other_source();
    const std::size_t i = indicator < indicators ? indicator : indicators;
    ++signals[s * (indicators + 1) + i];
  }

  void reset() {
    std::fill(in.begin(), in.end(), 0);
    std::fill(processed.begin(), processed.end(), 0);
    for (auto& row : dlq) row.fill(0);
    std::fill(signals.begin(), signals.end(), 0);
    duplicates = routed = alerts = 0;
    chain_events.fill(0);
    erasures.fill(0);
  }

  void add(const StageCounters& o) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      in[i] += o.in[i];
      processed[i] += o.processed[i];
      for (std::size_t r = 0; r < dlq[i].size(); ++r) dlq[i][r] += o.dlq[i][r];
    }
    for (std::size_t i = 0; i < signals.size() && i < o.signals.size(); ++i) {
      signals[i] += o.signals[i];
    }
    duplicates += o.duplicates;
    routed += o.routed;
    alerts += o.alerts;
    for (std::size_t t = 0; t < chain_events.size(); ++t) chain_events[t] += o.chain_events[t];
    for (std::size_t t = 0; t < erasures.size(); ++t) erasures[t] += o.erasures[t];
  }

  std::uint64_t total_in() const { return sum(in); }
  std::uint64_t total_processed() const { return sum(processed); }
  std::uint64_t total_dlq() const {
    std::uint64_t n = 0;
    for (const auto& row : dlq)
      for (auto v : row) n += v;
    return n;
  }

 private:
  static std::uint64_t sum(const std::vector<std::uint64_t>& v) {
    std::uint64_t n = 0;
    for (auto x : v) n += x;
    return n;
  }
};

}  // namespace mozaiek
