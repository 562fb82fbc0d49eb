#include "operators/pipeline/convergence_stage.h"

#include "operators/alert_json.h"

namespace mozaiek {

ConvergenceStage::ConvergenceStage(const OperatorConfig& config, StateStoreFactory& stores,
                                   const Clock& clock, AlertOutput& output)
    : config_(config),
      stores_(stores),
      clock_(clock),
      output_(output),
      scorer_(config),
      counters_(config.sources.size()) {}

ConvergenceStage::~ConvergenceStage() = default;

ConvergenceStage::PartitionState& ConvergenceStage::ensure(Partition p) {
  auto it = partitions_.find(raw(p));
  if (it != partitions_.end()) return it->second;
  PartitionState ps;
  ps.store = stores_.open("convergence-p" + std::to_string(raw(p)));
  ps.state = scorer_.make_state(*ps.store);
  return partitions_.emplace(raw(p), std::move(ps)).first->second;
}

void ConvergenceStage::assign(Partition p) { ensure(p); }

Status ConvergenceStage::revoke(Partition p) {
  auto it = partitions_.find(raw(p));
  if (it == partitions_.end()) return Status::ok();
  Status s = scorer_.flush(*it->second.state);
  partitions_.erase(it);
  return s;
}

void ConvergenceStage::process(Partition p, const RoutedSignal& signal) {
  auto& ps = ensure(p);
  if (signal.watermark > watermark_.time) watermark_.time = signal.watermark;
  const std::size_t slot = signal.source < counters_.in.size() - 1
                               ? signal.source
                               : counters_.other_source();
  ++counters_.in[slot];
  alerts_.clear();
  auto result = scorer_.process(*ps.state, signal, clock_.now(), alerts_);
  if (result.kind == ConvergenceScorer::Result::Kind::duplicate) ++counters_.duplicates;
  ++counters_.processed[slot];
  for (const auto& alert : alerts_) {
    json_.clear();
    write_alert_json(alert, config_, json_);
    ++counters_.alerts;
    output_.on_alert(alert, json_);
  }
}

Status ConvergenceStage::flush() {
  for (auto& [p, ps] : partitions_) {
    Status s = scorer_.flush(*ps.state);
    if (!s) return Status::error("flushing state of partition " + std::to_string(p) + ": " +
                                 s.message());
  }
  return Status::ok();
}

std::size_t ConvergenceStage::expire() {
  if (!watermark_.known()) return 0;
  std::size_t n = 0;
  for (auto& [p, ps] : partitions_) n += scorer_.expire(*ps.state, watermark_.time);
  return n;
}

std::size_t ConvergenceStage::state_entries() {
  std::size_t n = 0;
  for (auto& [p, ps] : partitions_) n += ps.store->approximate_entries();
  return n;
}

ConvergenceScorer::State* ConvergenceStage::state(Partition p) {
  auto it = partitions_.find(raw(p));
  return it == partitions_.end() ? nullptr : it->second.state.get();
}

std::vector<Partition> ConvergenceStage::partitions() const {
  std::vector<Partition> out;
  for (const auto& [p, ps] : partitions_) out.push_back(Partition{p});
  return out;
}

}  // namespace mozaiek
