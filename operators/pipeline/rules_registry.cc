#include "operators/pipeline/rules_registry.h"

#include "operators/model/rules_version.h"

namespace mozaiek {

std::string_view to_string(RulesOutcome o) {
  switch (o) {
    case RulesOutcome::started: return "started";
    case RulesOutcome::applied: return "applied";
    case RulesOutcome::unchanged: return "unchanged";
    case RulesOutcome::refused: return "refused";
  }
  return "refused";
}

RulesRegistry::RulesRegistry(OperatorConfig initial, ProcTime at) {
  fingerprint_ = rules_fingerprint(initial);
  initial.rules_version = rules_version_string(number_, fingerprint_);
  RulesHistoryEntry e;
  e.at = at;
  e.principal = "(startup)";
  e.via = "startup";
  e.outcome = RulesOutcome::started;
  e.version = initial.rules_version;
  history_.push_back(std::move(e));
  current_ = std::make_shared<const OperatorConfig>(std::move(initial));
}

std::shared_ptr<const OperatorConfig> RulesRegistry::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::string RulesRegistry::version() const {
  std::lock_guard lock(mu_);
  return current_->rules_version;
}

RulesRegistry::Decision RulesRegistry::decide(const OperatorConfig& candidate) const {
  std::lock_guard lock(mu_);
  return decide_locked(candidate);
}

RulesRegistry::Decision RulesRegistry::decide_locked(const OperatorConfig& candidate) const {
  Decision d;
  d.errors = reload_incompatibilities(*current_, candidate);
  if (!d.errors.empty()) {
    d.outcome = RulesOutcome::refused;
    d.version = current_->rules_version;
  } else if (const std::string fp = rules_fingerprint(candidate); fp == fingerprint_) {
    d.outcome = RulesOutcome::unchanged;
    d.version = current_->rules_version;
  } else {
    d.outcome = RulesOutcome::applied;
    d.version = rules_version_string(number_ + 1, fp);
  }
  return d;
}

RulesHistoryEntry RulesRegistry::offer(OperatorConfig candidate,
                                       std::vector<std::string> load_errors, std::string principal,
                                       std::string via, ProcTime at) {
  std::lock_guard lock(mu_);
  RulesHistoryEntry e;
  e.at = at;
  e.principal = std::move(principal);
  e.via = std::move(via);
  if (!load_errors.empty()) {
    e.outcome = RulesOutcome::refused;
    e.errors = std::move(load_errors);
  } else {
    Decision d = decide_locked(candidate);
    e.outcome = d.outcome;
    e.errors = std::move(d.errors);
  }
  if (e.outcome == RulesOutcome::applied) {
    fingerprint_ = rules_fingerprint(candidate);
    ++number_;
    candidate.pseudonym_key_version = current_->pseudonym_key_version;
    candidate.rules_version = rules_version_string(number_, fingerprint_);
    current_ = std::make_shared<const OperatorConfig>(std::move(candidate));
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  e.version = current_->rules_version;
  history_.push_back(e);
  while (history_.size() > kHistory) history_.pop_front();
  return e;
}

void RulesRegistry::task_applied(const std::string& task, const std::string& version) {
  std::lock_guard lock(mu_);
  tasks_[task] = version;
}

RulesRegistry::Snapshot RulesRegistry::snapshot() const {
  std::lock_guard lock(mu_);
  return Snapshot{current_, current_->rules_version, {history_.begin(), history_.end()}, tasks_};
}

}  // namespace mozaiek
