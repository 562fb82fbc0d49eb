#include "operators/pipeline/convergence_stage.h"

#include <algorithm>

#include "operators/linking/entity_view.h"
#include "operators/records/alert_json.h"

namespace mozaiek {

ConvergenceStage::ConvergenceStage(const OperatorConfig& config, StateStoreFactory& stores,
                                   const Clock& clock, AlertOutput& output, std::size_t link_cache)
    : config_(&config),
      stores_(stores),
      clock_(clock),
      output_(output),
      counters_(config.sources.size()),
      link_cache_(link_cache) {
  make_operators();
}

void ConvergenceStage::make_operators() {
  linker_.reset();
  oversight_.reset();
  care_scorer_.reset();
  scorer_.reset();
  scorer_ = std::make_unique<ConvergenceScorer>(*config_);
  care_scorer_ = std::make_unique<ConvergenceScorer>(*config_, Purpose::care);
  oversight_ = std::make_unique<OversightTracker>(*config_, *scorer_);
  linker_ = std::make_unique<LinkTracker>(*config_, *scorer_);
}

void ConvergenceStage::make_states(PartitionState& ps) {
  ps.state = scorer_->make_state(*ps.store);
  ps.care = care_scorer_->make_state(*ps.care_store);
  ps.oversight = oversight_->make_state(*ps.oversight_store);
  ps.links = linker_->make_state(*ps.links_store, link_cache_);
}

Status ConvergenceStage::reconfigure(const OperatorConfig& config) {
  // Everything the old operators hold in memory goes to the stores first,
  // so the new ones read it back: state is keyed by subject, not by rule.
  if (Status f = flush(); !f) return f;
  for (auto& [p, ps] : partitions_) {
    ps.links.reset();
    ps.oversight.reset();
    ps.care.reset();
    ps.state.reset();
  }
  config_ = &config;
  make_operators();
  for (auto& [p, ps] : partitions_) make_states(ps);
  return Status::ok();
}

ConvergenceStage::~ConvergenceStage() = default;

ConvergenceStage::PartitionState& ConvergenceStage::ensure(Partition p) {
  auto it = partitions_.find(raw(p));
  if (it != partitions_.end()) return it->second;
  PartitionState ps;
  ps.store = stores_.open("convergence-p" + std::to_string(raw(p)));
  ps.care_store = stores_.open("care-p" + std::to_string(raw(p)));
  ps.oversight_store = stores_.open("oversight-p" + std::to_string(raw(p)));
  ps.links_store = stores_.open("links-p" + std::to_string(raw(p)));
  make_states(ps);
  return partitions_.emplace(raw(p), std::move(ps)).first->second;
}

std::size_t ConvergenceStage::cached_link_entities() const {
  std::size_t n = 0;
  for (const auto& [p, ps] : partitions_) n += linker_->cached_entities(*ps.links);
  return n;
}

void ConvergenceStage::assign(Partition p) { ensure(p); }

Status ConvergenceStage::revoke(Partition p) {
  auto it = partitions_.find(raw(p));
  if (it == partitions_.end()) return Status::ok();
  Status s = scorer_->flush(*it->second.state);
  Status c = care_scorer_->flush(*it->second.care);
  Status o = oversight_->flush(*it->second.oversight);
  Status l = linker_->flush(*it->second.links);
  if (s && !c) s = c;
  if (s && !o) s = o;
  if (s && !l) s = l;
  partitions_.erase(it);
  return s;
}

void ConvergenceStage::process(Partition p, const RoutedSignal& signal) {
  auto& ps = ensure(p);
  if (signal.watermark > watermark_.time) {
    watermark_.time = signal.watermark;
    watermark_moved_at_ = clock_.now();
  }
  const std::size_t slot = signal.source < counters_.in.size() - 1 ? signal.source
                                                                   : counters_.other_source();
  ++counters_.in[slot];
  alerts_.clear();
  notices_.clear();
  const ProcTime now = clock_.now();  // one clock read per record
  if (signal.purpose == Purpose::care) {
    // Scored apart and never linked: care convergence stays a care matter.
    auto result = care_scorer_->process(*ps.care, signal, now, alerts_);
    if (result.kind == ConvergenceScorer::Result::Kind::duplicate) ++counters_.duplicates;
    ++counters_.processed[slot];
    emit(ps);
    return;
  }
  auto result = scorer_->process(*ps.state, signal, now, alerts_, observer_ != nullptr);
  if (result.kind == ConvergenceScorer::Result::Kind::duplicate) ++counters_.duplicates;
  ++counters_.processed[slot];
  if (observer_ != nullptr) observer_->on_scored(signal, result.eligible_score);
  if (result.kind == ConvergenceScorer::Result::Kind::scored ||
      result.kind == ConvergenceScorer::Result::Kind::alerted) {
    linker_->on_signal(*ps.links, *ps.state, signal, result.score, now, alerts_, notices_);
  }
  emit(ps);
}

void ConvergenceStage::process_notice(Partition p, const EntityNotice& notice) {
  auto& ps = ensure(p);
  alerts_.clear();
  notices_.clear();
  if (notice.erased && notice.from_type == SubjectType::person &&
      notice.to_type == SubjectType::location) {
    oversight_->forget_person_at(*ps.oversight, notice.to_key, notice.from_key);
  }
  withdrawals_.clear();
  linker_->on_notice(*ps.links, *ps.state, notice, clock_.now(), alerts_, notices_, withdrawals_);
  emit(ps);
  emit_withdrawals();
}

void ConvergenceStage::emit_withdrawals() {
  for (const auto& w : withdrawals_) {
    json_.clear();
    write_withdrawal_json(w, json_);
    output_.on_withdrawal(w, json_);
  }
}

ConvergenceStage::ErasureOutcome ConvergenceStage::process_erasure(Partition p,
                                                                   const ErasureRecord& r) {
  auto& ps = ensure(p);
  alerts_.clear();
  notices_.clear();
  erasure_locations_.clear();
  withdrawals_.clear();
  ErasureOutcome outcome;
  // The ids of the alerts this entity's state knows: its own (both
  // purposes) and the network alerts on or listing it. One v2 withdrawal
  // each; the other ends re-issue theirs when told below.
  auto withdraw = [&](const std::vector<std::string>& ids, const std::string& rule) {
    for (const auto& id : ids) {
      const bool known = std::any_of(withdrawals_.begin(), withdrawals_.end(),
                                     [&](const AlertWithdrawal& w) { return w.alert_id == id; });
      if (known) continue;
      AlertWithdrawal& w = withdrawals_.emplace_back();
      w.alert_id = id;
      w.rule = rule;
      w.at = r.requested_at;
    }
  };
  const EventTime any_time = event_time_from_ms(to_ms(r.requested_at));  // ids do not depend on it
  if (auto view = scorer_->inspect(*ps.state, r.type, r.key, any_time)) {
    withdraw(view->alert_ids, config_->rule_for(r.type).name);
  }
  if (auto view = care_scorer_->inspect(*ps.care, r.type, r.key, any_time)) {
    withdraw(view->alert_ids, rule_name(config_->rule_for(r.type).name, Purpose::care));
  }
  if (auto view = linker_->inspect(*ps.links, r.type, r.key, any_time)) {
    withdraw(view->alert_ids, "");
  }
  scorer_->erase(*ps.state, r.type, r.key);
  care_scorer_->erase(*ps.care, r.type, r.key);
  outcome.links = linker_->erase(*ps.links, r.type, r.key, r.requested_at, notices_);
  oversight_->erase(*ps.oversight, r.type, r.key, erasure_locations_);
  // The location a person left from names them in its departures; it may
  // also be a linked end already told.
  for (const auto& location : erasure_locations_) {
    const bool told = std::any_of(notices_.begin(), notices_.end(), [&](const EntityNotice& n) {
      return n.to_type == SubjectType::location && n.to_key == location;
    });
    if (told) continue;
    EntityNotice& n = notices_.emplace_back();
    n.from_type = r.type;
    n.from_key = r.key;
    n.to_type = SubjectType::location;
    n.to_key = location;
    n.erased = true;
    ++linker_->counters(*ps.links).notices_sent;
  }
  outcome.notices = notices_.size();
  ++counters_.erasures[static_cast<std::size_t>(r.type)];
  emit(ps);
  emit_withdrawals();
  outcome.withdrawn = withdrawals_.size();
  AlertWithdrawal withdrawal;
  withdrawal.subject_type = r.type;
  withdrawal.subject_key = r.key;
  withdrawal.at = r.requested_at;
  json_.clear();
  write_withdrawal_json(withdrawal, json_);
  output_.on_withdrawal(withdrawal, json_);
  return outcome;
}

void ConvergenceStage::emit(PartitionState& ps) {
  for (const auto& alert : alerts_) {
    if (alert.subject_type == SubjectType::person && alert.purpose == Purpose::investigation) {
      oversight_->note_person_alert(*ps.oversight, alert.subject_key, alert.last_seen);
    }
  }
  emit_alerts(alerts_);
  for (const auto& notice : notices_) output_.on_notice(notice);
  // Counted per record into the stage's totals, reset by whoever publishes.
  LinkCounters& c = linker_->counters(*ps.links);
  for (std::size_t i = 0; i < c.created.size(); ++i) {
    link_counters_.created[i] += c.created[i];
    link_counters_.expired[i] += c.expired[i];
  }
  link_counters_.notices_sent += c.notices_sent;
  link_counters_.notices_received += c.notices_received;
  link_counters_.notices_unmatched += c.notices_unmatched;
  c.reset();
}

void ConvergenceStage::emit_alerts(const std::vector<Alert>& alerts) {
  for (const auto& alert : alerts) {
    json_.clear();
    write_alert_json(alert, *config_, json_);
    ++counters_.alerts;
    output_.on_alert(alert, json_);
    if (observer_ != nullptr) observer_->on_alert(alert);
  }
}

void ConvergenceStage::process_chain(Partition p, const RoutedChainEvent& event) {
  auto& ps = ensure(p);
  if (event.watermark > watermark_.time) {
    watermark_.time = event.watermark;
    watermark_moved_at_ = clock_.now();
  }
  alerts_.clear();
  if (observer_ != nullptr) observer_->on_chain(event);
  if (oversight_->process(*ps.oversight, event, ps.state.get(), clock_.now(), alerts_,
                          oversight_metrics_) == OversightTracker::Result::duplicate) {
    ++counters_.duplicates;
  }
  emit_alerts(alerts_);
}

namespace {

// The oversight gauges and registration counts; series published last time
// (`published`) and gone now are set to 0.
void publish_oversight_gauges(const OversightTracker::Gauges& gauges,
                              const std::map<RegistrationTally::Key, std::int64_t>& registrations,
                              std::map<RegistrationTally::Key, std::int64_t>& published,
                              OversightMetrics& metrics) {
  metrics.set_meldingen_open(gauges.open);
  for (std::size_t age = 0; age < gauges.missing.size(); ++age) {
    metrics.set_missing_open(age, gauges.missing[age]);
  }
  metrics.set_converging_persons(gauges.converging, gauges.converging_unregistered);
  for (const auto& entry : published) {
    const auto& key = entry.first;
    if (!registrations.count(key)) {
      metrics.set_registrations(std::get<0>(key), std::get<1>(key), std::get<2>(key),
                                std::get<3>(key), 0);
    }
  }
  for (const auto& [key, n] : registrations) {
    metrics.set_registrations(std::get<0>(key), std::get<1>(key), std::get<2>(key),
                              std::get<3>(key), n);
  }
  published = registrations;
}

}  // namespace

void ConvergenceStage::maintain_oversight() {
  alerts_.clear();
  for (auto& [p, ps] : partitions_) {
    if (watermark_.known()) {
      oversight_->advance(*ps.oversight, watermark_.time, clock_.now(), alerts_,
                          oversight_metrics_);
    }
  }
  emit_alerts(alerts_);
  if (oversight_metrics_ == nullptr) return;
  OversightTracker::Gauges gauges;
  RegistrationTally registrations(*config_);
  for (auto& [p, ps] : partitions_) {
    oversight_->tally(*ps.oversight, watermark_.time, *oversight_metrics_, gauges, registrations);
  }
  if (gauge_totals_ != nullptr) {
    gauge_totals_->publish(gauge_index_, gauges, registrations.counts(), *oversight_metrics_);
    return;
  }
  publish_oversight_gauges(gauges, registrations.counts(), published_registrations_,
                           *oversight_metrics_);
}

void OversightGaugeTotals::publish(
    std::size_t stage, const OversightTracker::Gauges& gauges,
    const std::map<RegistrationTally::Key, std::int64_t>& registrations,
    OversightMetrics& metrics) {
  std::lock_guard lock(mu_);
  if (stage >= stages_.size()) return;
  stages_[stage] = gauges;
  registrations_[stage] = registrations;
  OversightTracker::Gauges sum;
  std::map<RegistrationTally::Key, std::int64_t> counts;
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    const auto& g = stages_[i];
    if (sum.open.size() < g.open.size()) sum.open.resize(g.open.size());
    if (sum.missing.size() < g.missing.size()) sum.missing.resize(g.missing.size());
    for (std::size_t k = 0; k < g.open.size(); ++k) sum.open[k] += g.open[k];
    for (std::size_t k = 0; k < g.missing.size(); ++k) sum.missing[k] += g.missing[k];
    sum.converging += g.converging;
    sum.converging_unregistered += g.converging_unregistered;
    for (const auto& [key, n] : registrations_[i]) counts[key] += n;
  }
  publish_oversight_gauges(sum, counts, published_, metrics);
}

OversightTracker::State* ConvergenceStage::oversight_state(Partition p) {
  auto it = partitions_.find(raw(p));
  return it == partitions_.end() ? nullptr : it->second.oversight.get();
}

Status ConvergenceStage::flush() {
  for (auto& [p, ps] : partitions_) {
    Status s = scorer_->flush(*ps.state);
    if (s) s = care_scorer_->flush(*ps.care);
    if (s) s = oversight_->flush(*ps.oversight);
    if (s) s = linker_->flush(*ps.links);
    if (!s)
      return Status::error("flushing state of partition " + std::to_string(p) + ": " + s.message());
  }
  return Status::ok();
}

std::optional<EventTime> ConvergenceStage::wall_clock_floor(Millis grace) const {
  if (!watermark_.known()) return std::nullopt;
  const auto quiet = std::chrono::duration_cast<Millis>(clock_.now() - watermark_moved_at_);
  if (quiet <= grace) return std::nullopt;
  return watermark_.time + (quiet - grace);
}

std::size_t ConvergenceStage::expire(std::optional<EventTime> at_least) {
  if (!watermark_.known() && !at_least) return 0;
  EventTime at = watermark_.known() ? watermark_.time : *at_least;
  if (at_least) at = std::max(at, *at_least);
  std::size_t n = 0;
  for (auto& [p, ps] : partitions_) {
    n += scorer_->expire(*ps.state, at);
    n += care_scorer_->expire(*ps.care, at);
    n += oversight_->expire(*ps.oversight, at);
    n += linker_->expire(*ps.links, at);
    LinkCounters& c = linker_->counters(*ps.links);
    for (std::size_t i = 0; i < c.expired.size(); ++i) link_counters_.expired[i] += c.expired[i];
    c.expired = {};
  }
  return n;
}

std::size_t ConvergenceStage::state_entries() {
  std::size_t n = 0;
  for (auto& [p, ps] : partitions_) {
    n += ps.store->approximate_entries() + ps.care_store->approximate_entries() +
         ps.oversight_store->approximate_entries();
  }
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
    auto scores = scorer_->inspect(*ps.state, type, key, at);
    auto links = linker_->inspect(*ps.links, type, key, at);
    if (!scores && !links) continue;
    json.clear();
    write_entity_json(type, key, at, scores ? &*scores : nullptr, links ? &*links : nullptr,
                      *config_, json);
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
