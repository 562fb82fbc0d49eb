#include "operators/pipeline/convergence_stage.h"

#include "operators/alert_json.h"
#include "operators/linking/entity_view.h"

namespace mozaiek {

ConvergenceStage::ConvergenceStage(const OperatorConfig& config, StateStoreFactory& stores,
                                   const Clock& clock, AlertOutput& output)
    : config_(config),
      stores_(stores),
      clock_(clock),
      output_(output),
      scorer_(config),
      linker_(config, scorer_),
      counters_(config.sources.size()) {}

ConvergenceStage::~ConvergenceStage() = default;

ConvergenceStage::PartitionState& ConvergenceStage::ensure(Partition p) {
  auto it = partitions_.find(raw(p));
  if (it != partitions_.end()) return it->second;
  PartitionState ps;
  ps.store = stores_.open("convergence-p" + std::to_string(raw(p)));
  ps.state = scorer_.make_state(*ps.store);
  ps.links_store = stores_.open("links-p" + std::to_string(raw(p)));
  ps.links = linker_.make_state(*ps.links_store);
  return partitions_.emplace(raw(p), std::move(ps)).first->second;
}

void ConvergenceStage::assign(Partition p) { ensure(p); }

Status ConvergenceStage::revoke(Partition p) {
  auto it = partitions_.find(raw(p));
  if (it == partitions_.end()) return Status::ok();
  Status s = scorer_.flush(*it->second.state);
  Status l = linker_.flush(*it->second.links);
  if (s && !l) s = l;
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
  notices_.clear();
  auto result = scorer_.process(*ps.state, signal, clock_.now(), alerts_);
  if (result.kind == ConvergenceScorer::Result::Kind::duplicate) ++counters_.duplicates;
  ++counters_.processed[slot];
  if (result.kind == ConvergenceScorer::Result::Kind::scored ||
      result.kind == ConvergenceScorer::Result::Kind::alerted) {
    linker_.on_signal(*ps.links, *ps.state, signal, result.score, clock_.now(), alerts_, notices_);
  }
  emit(ps);
}

void ConvergenceStage::process_notice(Partition p, const EntityNotice& notice) {
  auto& ps = ensure(p);
  alerts_.clear();
  notices_.clear();
  linker_.on_notice(*ps.links, *ps.state, notice, clock_.now(), alerts_, notices_);
  emit(ps);
}

void ConvergenceStage::emit(PartitionState& ps) {
  for (const auto& alert : alerts_) {
    json_.clear();
    write_alert_json(alert, config_, json_);
    ++counters_.alerts;
    output_.on_alert(alert, json_);
  }
  for (const auto& notice : notices_) output_.on_notice(notice);
  // Counted per record into the stage's totals, reset by whoever publishes.
  LinkCounters& c = linker_.counters(*ps.links);
  for (std::size_t i = 0; i < c.created.size(); ++i) {
    link_counters_.created[i] += c.created[i];
    link_counters_.expired[i] += c.expired[i];
  }
  link_counters_.notices_sent += c.notices_sent;
  link_counters_.notices_received += c.notices_received;
  link_counters_.notices_unmatched += c.notices_unmatched;
  c.reset();
}

Status ConvergenceStage::flush() {
  for (auto& [p, ps] : partitions_) {
    Status s = scorer_.flush(*ps.state);
    if (s) s = linker_.flush(*ps.links);
    if (!s) return Status::error("flushing state of partition " + std::to_string(p) + ": " +
                                 s.message());
  }
  return Status::ok();
}

std::size_t ConvergenceStage::expire() {
  if (!watermark_.known()) return 0;
  std::size_t n = 0;
  for (auto& [p, ps] : partitions_) {
    n += scorer_.expire(*ps.state, watermark_.time);
    n += linker_.expire(*ps.links, watermark_.time);
    LinkCounters& c = linker_.counters(*ps.links);
    for (std::size_t i = 0; i < c.expired.size(); ++i) link_counters_.expired[i] += c.expired[i];
    c.expired = {};
  }
  return n;
}

std::size_t ConvergenceStage::state_entries() {
  std::size_t n = 0;
  for (auto& [p, ps] : partitions_) n += ps.store->approximate_entries();
  return n;
}

std::size_t ConvergenceStage::link_state_entries() {
  std::size_t n = 0;
  for (auto& [p, ps] : partitions_) n += ps.links_store->approximate_entries();
  return n;
}

bool ConvergenceStage::entity_view(SubjectType type, std::string_view key, std::string& json) {
  const EventTime at = watermark_.known() ? watermark_.time
                                          : EventTime{clock_.now().time_since_epoch()};
  for (auto& [p, ps] : partitions_) {
    auto scores = scorer_.inspect(*ps.state, type, key, at);
    auto links = linker_.inspect(*ps.links, type, key, at);
    if (!scores && !links) continue;
    json.clear();
    write_entity_json(type, key, at, scores ? &*scores : nullptr, links ? &*links : nullptr,
                      config_, json);
    return true;
  }
  return false;
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
