// RulesRegistry: the rule set in force (catalogue, source policies,
// convergence, linking and oversight rules: the whole OperatorConfig), its
// version and the history of reloads, shared by the tasks that run the
// stages and the reload paths (POST /api/rules, SIGHUP).
//
// Hand-over: a reload swaps in a new immutable OperatorConfig (a
// shared_ptr<const>: each task keeps the one it runs on alive until it
// takes the next) and bumps generation(). Each task compares generation()
// between batches (an atomic load) and, when it moved, takes current() and
// reconfigures its stage at a batch boundary (ConvergenceStage::
// reconfigure, IntakeStage::reconfigure), then reports it with
// task_applied(). State is keyed by subject, not by rule, so it carries on.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek {

// What became of one attempt to put a rule set in force.
enum class RulesOutcome : std::uint8_t { started = 0, applied = 1, unchanged = 2, refused = 3 };
std::string_view to_string(RulesOutcome o);

struct RulesHistoryEntry {
  ProcTime at{};
  std::string principal;  // who asked ("(startup)", a principal's name, "(sighup)")
  std::string via;        // "startup", "http", "sighup"
  RulesOutcome outcome = RulesOutcome::started;
  std::string version;              // in force afterwards
  std::vector<std::string> errors;  // refused: why (each naming its YAML key)
};

class RulesRegistry {
 public:
  // History entries kept (the oldest go first).
  static constexpr std::size_t kHistory = 100;

  // `initial` goes in force as version 1 (its rules_version is set here).
  RulesRegistry(OperatorConfig initial, ProcTime at);
  RulesRegistry(const RulesRegistry&) = delete;
  RulesRegistry& operator=(const RulesRegistry&) = delete;

  // The rule set in force; never null.
  std::shared_ptr<const OperatorConfig> current() const;
  // Bumped by every applied reload: tasks compare it between batches.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::string version() const;

  // What putting `candidate` in force would do: refused (with the reasons
  // it could not replace the running set without a restart), unchanged
  // (same fingerprint) or applied. Changes nothing.
  struct Decision {
    RulesOutcome outcome = RulesOutcome::refused;
    std::vector<std::string> errors;
    std::string version;  // in force afterwards, if offered next
  };
  Decision decide(const OperatorConfig& candidate) const;

  // Decides again and records the attempt; applied: `candidate` goes in
  // force as the next version (the running pseudonym key version kept).
  // load_errors (from validating the YAML) refuse it outright. Returns the
  // history entry recorded.
  RulesHistoryEntry offer(OperatorConfig candidate, std::vector<std::string> load_errors,
                          std::string principal, std::string via, ProcTime at);

  // A task reports the version it now runs on.
  void task_applied(const std::string& task, const std::string& version);

  struct Snapshot {
    std::shared_ptr<const OperatorConfig> config;
    std::string version;
    std::vector<RulesHistoryEntry> history;    // oldest first
    std::map<std::string, std::string> tasks;  // task -> version it runs on
  };
  Snapshot snapshot() const;

 private:
  Decision decide_locked(const OperatorConfig& candidate) const;

  mutable std::mutex mu_;
  std::shared_ptr<const OperatorConfig> current_;
  std::string fingerprint_;
  std::uint64_t number_ = 1;  // the n of "<n>-<fingerprint>"
  std::deque<RulesHistoryEntry> history_;
  std::map<std::string, std::string> tasks_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace mozaiek
