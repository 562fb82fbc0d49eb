// Counting unique presumed victims the way the chain counts them: one
// person (pseudonym) counts once per year whatever the number of reporters,
// and a counting rule may leave persons out (the NRM leaves out persons
// whose only registrations that year are sexual exploitation reported by
// KMar). Pure functions over a person's registrations.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek {

// One victim.registered, as kept in the person's state.
struct Registration {
  std::string event_id;
  int year = 0;  // UTC year of `at`
  std::uint8_t forms = 0;
  std::string reporter;
  std::string registry;
};

// UTC calendar year of an event time.
int utc_year(EventTime t);

// Whether a person whose registrations in one year are `regs` counts under `rule`.
bool counts_under(const CountingRule& rule, const std::vector<const Registration*>& regs);

// Unique persons per (rule index, year, dimension, value). Dimensions:
// "total" (value "all"), "form" (sexual, labour, criminal, organ), "region"
// (the person's nationality region) and "reporter" (a configured source or
// "other"). A person with several forms or reporters counts once in each.
class RegistrationTally {
 public:
  using Key = std::tuple<std::size_t, int, std::string, std::string>;
  explicit RegistrationTally(const OperatorConfig& config) : config_(config) {}

  void add_person(const std::vector<Registration>& regs, std::uint8_t region);
  // Counts tallied before (erased persons' share): added as they are.
  void add_counts(const std::map<Key, std::int64_t>& counts) {
    for (const auto& [key, n] : counts) counts_[key] += n;
  }
  const std::map<Key, std::int64_t>& counts() const { return counts_; }
  std::int64_t get(std::size_t rule, int year, const std::string& dimension,
                   const std::string& value) const;
  void clear() { counts_.clear(); }

 private:
  const OperatorConfig& config_;
  std::map<Key, std::int64_t> counts_;
};

}  // namespace mozaiek
