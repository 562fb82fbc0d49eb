// What a live reload of the rules may change, and the version of a rule set.
//
// A reload (POST /api/rules, SIGHUP) swaps the whole OperatorConfig at a
// batch boundary. Values may change (weights, thresholds, windows,
// half-lives, source policies, reception locations, ...); the names that
// made topics and metric series at start and that operators hold by
// position may not: sources and indicators (names and order), rule names,
// the metric label sets (locations, age groups, regions, reappearance
// places, counting rules). Changing those needs a restart.
//
// Pure functions; any thread.
#pragma once

#include <string>
#include <vector>

#include "operators/model/model.h"

namespace mozaiek {

// 12 hex digits of a 64-bit FNV-1a hash over a canonical rendering of every
// value of `config` that operators read (not the YAML text: comments, key
// order and number spelling do not change it; a catalogue file's content
// does). Equal configs give equal fingerprints on every instance.
std::string rules_fingerprint(const OperatorConfig& config);

// "<n>-<fingerprint>": the n-th rule set this process put in force.
std::string rules_version_string(std::uint64_t n, const std::string& fingerprint);

// Why `next` cannot replace `running` without a restart, one error per
// difference, each naming its YAML key; empty when it can.
std::vector<std::string> reload_incompatibilities(const OperatorConfig& running,
                                                  const OperatorConfig& next);

}  // namespace mozaiek
