#include "operators/oversight/disclosure.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>

namespace mozaiek {
namespace {

std::size_t depth(const FoldChains& folds) {
  std::size_t d = 0;
  for (const auto& chain : folds) d = std::max(d, chain.size());
  return d;
}

}  // namespace

// ---- FoldedCounters ---------------------------------------------------------

FoldedCounters::FoldedCounters(std::size_t min_cell, std::vector<prometheus::Counter*> cells,
                               FoldChains folds)
    : k_(std::max<std::size_t>(min_cell, 1)), cells_(std::move(cells)), folds_(std::move(folds)) {
  folds_.resize(cells_.size());
}

void FoldedCounters::add(std::size_t cell, std::uint64_t n) {
  if (n == 0 || cell >= cells_.size()) return;
  std::lock_guard lock(mu_);
  pending_[cell] += n;
  publish();
}

void FoldedCounters::publish() {
  // Own cells first: the finest detail that is safe to show.
  for (auto& [cell, n] : pending_) {
    if (n < k_) continue;
    const std::uint64_t shown = n / k_ * k_;
    cells_[cell]->Increment(static_cast<double>(shown));
    n -= shown;
  }
  const std::size_t levels = depth(folds_);
  for (std::size_t level = 0; level < levels; ++level) {
    std::map<std::size_t, std::uint64_t> sums;  // coarse cell -> pending folded into it
    for (const auto& [cell, n] : pending_) {
      if (n != 0 && level < folds_[cell].size()) sums[folds_[cell][level]] += n;
    }
    for (const auto& [target, sum] : sums) {
      if (sum < k_) continue;
      std::uint64_t shown = sum / k_ * k_;
      cells_[target]->Increment(static_cast<double>(shown));
      // Taken from the folded cells in index order: deterministic on replay.
      for (auto& [cell, n] : pending_) {
        if (shown == 0) break;
        if (n == 0 || level >= folds_[cell].size() || folds_[cell][level] != target) continue;
        const std::uint64_t take = std::min(n, shown);
        n -= take;
        shown -= take;
        if (cell != target) folded_ += take;
      }
    }
  }
  std::erase_if(pending_, [](const auto& entry) { return entry.second == 0; });
}

std::uint64_t FoldedCounters::folded() const {
  std::lock_guard lock(mu_);
  return folded_;
}

std::uint64_t FoldedCounters::held_back() const {
  std::lock_guard lock(mu_);
  std::uint64_t n = 0;
  for (const auto& [cell, count] : pending_) n += count;
  return n;
}

// ---- FoldedGauges -----------------------------------------------------------

FoldedGauges::FoldedGauges(std::size_t min_cell, std::vector<prometheus::Gauge*> cells,
                           FoldChains folds)
    : k_(static_cast<std::int64_t>(std::max<std::size_t>(min_cell, 1))),
      cells_(std::move(cells)),
      folds_(std::move(folds)),
      counts_(cells_.size(), 0) {
  folds_.resize(cells_.size());
}

void FoldedGauges::set(std::size_t cell, std::int64_t n) {
  if (cell >= cells_.size()) return;
  std::lock_guard lock(mu_);
  counts_[cell] = std::max<std::int64_t>(n, 0);
  publish();
}

void FoldedGauges::publish() {
  std::vector<std::int64_t> shown(cells_.size(), 0);
  std::vector<std::int64_t> rest(cells_.size(), 0);
  for (std::size_t c = 0; c < cells_.size(); ++c) {
    shown[c] = disclosed(counts_[c], k_);
    rest[c] = counts_[c] - shown[c];
  }
  std::uint64_t folded = 0;
  const std::size_t levels = depth(folds_);
  for (std::size_t level = 0; level < levels; ++level) {
    std::map<std::size_t, std::int64_t> sums;
    for (std::size_t c = 0; c < cells_.size(); ++c) {
      if (rest[c] != 0 && level < folds_[c].size()) sums[folds_[c][level]] += rest[c];
    }
    for (const auto& [target, sum] : sums) {
      std::int64_t moved = disclosed(sum, k_);
      if (moved == 0) continue;
      shown[target] += moved;
      for (std::size_t c = 0; c < cells_.size() && moved > 0; ++c) {
        if (rest[c] == 0 || level >= folds_[c].size() || folds_[c][level] != target) continue;
        const std::int64_t take = std::min(rest[c], moved);
        rest[c] -= take;
        moved -= take;
        if (c != target) folded += static_cast<std::uint64_t>(take);
      }
    }
  }
  for (std::size_t c = 0; c < cells_.size(); ++c) cells_[c]->Set(static_cast<double>(shown[c]));
  folded_ = folded;
}

std::uint64_t FoldedGauges::folded() const {
  std::lock_guard lock(mu_);
  return folded_;
}

// ---- FoldedHistograms -------------------------------------------------------

FoldedHistograms::FoldedHistograms(std::size_t min_cell, std::vector<prometheus::Histogram*> cells,
                                   std::vector<double> bounds, std::size_t coarse)
    : k_(std::max<std::size_t>(min_cell, 1)),
      cells_(std::move(cells)),
      bounds_(std::move(bounds)),
      coarse_(coarse),
      pending_(cells_.size()) {}

void FoldedHistograms::observe(std::size_t cell, double value) {
  if (cell >= cells_.size()) return;
  std::lock_guard lock(mu_);
  pending_[cell].push_back(value);
  ++pending_total_;
  if (pending_[cell].size() >= k_) {
    pending_total_ -= pending_[cell].size();
    flush(cell, pending_[cell]);
    return;
  }
  if (pending_total_ < k_ || coarse_ >= cells_.size()) return;
  std::vector<double> all;
  for (auto& values : pending_) {
    all.insert(all.end(), values.begin(), values.end());
    values.clear();
  }
  folded_ += all.size();
  pending_total_ = 0;
  flush(coarse_, all);
}

void FoldedHistograms::flush(std::size_t into, std::vector<double>& values) {
  std::vector<double> buckets(bounds_.size() + 1, 0.0);
  double sum = 0;
  for (double v : values) {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    buckets[static_cast<std::size_t>(it - bounds_.begin())] += 1.0;
    sum += v;
  }
  cells_[into]->ObserveMultiple(buckets, sum);
  values.clear();
}

std::uint64_t FoldedHistograms::folded() const {
  std::lock_guard lock(mu_);
  return folded_;
}

}  // namespace mozaiek
