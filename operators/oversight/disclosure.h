// Disclosure control of the metrics about persons (privacy.min_cell_size,
// k below): no published cell ever shows a count between 1 and k-1, and a
// published series only moves in steps of at least k, so two scrapes never
// tell that one person left a named centre.
//
// Each kind of series keeps its true counts in plain numbers and publishes a
// disclosed view. A cell whose unshown count reaches k shows it in multiples
// of k; what stays below k is folded into the cell's coarser cells, finest
// first (location "other", then region "all", then age group "all"), shown
// there once the folded sum reaches k; what never reaches k is held back.
// Counts shown in a coarser cell than their own are the cost in detail, and
// are reported by folded() (a multiple of k).
//
// Owned by OversightMetrics, which serialises the calls (one mutex each).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace mozaiek {

// A fold hierarchy: for each cell index, the coarser cells it folds into,
// finest first (empty: held back until the cell itself reaches k). Cells
// that share a coarse cell must name it at the same level (a chain may
// name its own cell to stay aligned).
using FoldChains = std::vector<std::vector<std::size_t>>;

// Monotone counts (counters). A count once shown in a cell stays there.
class FoldedCounters {
 public:
  FoldedCounters(std::size_t min_cell, std::vector<prometheus::Counter*> cells, FoldChains folds);
  void add(std::size_t cell, std::uint64_t n = 1);
  std::uint64_t folded() const;
  std::uint64_t held_back() const;  // not shown anywhere yet (never published)

 private:
  void publish();

  const std::uint64_t k_;
  std::vector<prometheus::Counter*> cells_;
  FoldChains folds_;
  mutable std::mutex mu_;
  std::map<std::size_t, std::uint64_t> pending_;  // cell -> counts not shown yet
  std::uint64_t folded_ = 0;
};

// Snapshot counts (gauges): recomputed on every set(); each cell shows its
// count rounded down to a multiple of k, the remainders are summed into the
// coarser cells and shown there rounded down the same way.
class FoldedGauges {
 public:
  FoldedGauges(std::size_t min_cell, std::vector<prometheus::Gauge*> cells, FoldChains folds);
  void set(std::size_t cell, std::int64_t n);
  std::uint64_t folded() const;

 private:
  void publish();

  const std::int64_t k_;
  std::vector<prometheus::Gauge*> cells_;
  FoldChains folds_;
  mutable std::mutex mu_;
  std::vector<std::int64_t> counts_;  // true counts per cell
  std::uint64_t folded_ = 0;
};

// Observations (a histogram per cell): a cell's observations are held until
// k of them are pending, then observed together; when the pending
// observations of all cells reach k together, they go to the coarse cell
// `coarse`. The count (_count) moves in steps of at least k; a single
// bucket may move by fewer (the k observations of a step are mixed).
class FoldedHistograms {
 public:
  FoldedHistograms(std::size_t min_cell, std::vector<prometheus::Histogram*> cells,
                   std::vector<double> bounds, std::size_t coarse);
  void observe(std::size_t cell, double value);
  std::uint64_t folded() const;

 private:
  void flush(std::size_t into, std::vector<double>& values);

  const std::size_t k_;
  std::vector<prometheus::Histogram*> cells_;
  std::vector<double> bounds_;
  std::size_t coarse_;
  mutable std::mutex mu_;
  std::vector<std::vector<double>> pending_;  // per cell
  std::size_t pending_total_ = 0;
  std::uint64_t folded_ = 0;
};

// n rounded down to a multiple of k (k >= 1).
inline std::int64_t disclosed(std::int64_t n, std::int64_t k) { return n < k ? 0 : n / k * k; }

}  // namespace mozaiek
