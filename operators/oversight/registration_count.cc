#include "operators/oversight/registration_count.h"

#include <algorithm>
#include <chrono>
#include <set>

namespace mozaiek {
namespace {

constexpr std::pair<std::uint8_t, const char*> kForms[] = {{kFormSexual, "sexual"},
                                                           {kFormLabour, "labour"},
                                                           {kFormCriminal, "criminal"},
                                                           {kFormOrgan, "organ"}};

}  // namespace

int utc_year(EventTime t) {
  const auto day = std::chrono::floor<std::chrono::days>(
      std::chrono::sys_time<Millis>(t.time_since_epoch()));
  return static_cast<int>(std::chrono::year_month_day(day).year());
}

bool counts_under(const CountingRule& rule, const std::vector<const Registration*>& regs) {
  if (regs.empty()) return false;
  if (rule.exclude_only_reporters.empty()) return true;
  for (const Registration* r : regs) {
    const bool excluded_reporter = std::find(rule.exclude_only_reporters.begin(),
                                             rule.exclude_only_reporters.end(),
                                             r->reporter) != rule.exclude_only_reporters.end();
    const bool excluded_forms = rule.exclude_only_forms == 0 ||
                                (r->forms != 0 && (r->forms & ~rule.exclude_only_forms) == 0);
    if (!excluded_reporter || !excluded_forms) return true;  // one registration outside
  }
  return false;
}

void RegistrationTally::add_person(const std::vector<Registration>& regs, std::uint8_t region) {
  std::set<int> years;
  for (const auto& r : regs) years.insert(r.year);
  std::vector<const Registration*> in_year;
  const std::string region_label = region < config_.nationality_regions.size()
                                       ? config_.nationality_regions[region]
                                       : std::string("other");
  for (int year : years) {
    in_year.clear();
    std::uint8_t forms = 0;
    std::set<std::string> reporters;
    for (const auto& r : regs) {
      if (r.year != year) continue;
      in_year.push_back(&r);
      forms |= r.forms;
      reporters.insert(config_.find_source(r.reporter) ? r.reporter : std::string("other"));
    }
    for (std::size_t rule = 0; rule < config_.oversight.counting_rules.size(); ++rule) {
      if (!counts_under(config_.oversight.counting_rules[rule], in_year)) continue;
      ++counts_[{rule, year, "total", "all"}];
      for (const auto& [bit, name] : kForms) {
        if (forms & bit) ++counts_[{rule, year, "form", name}];
      }
      ++counts_[{rule, year, "region", region_label}];
      for (const auto& rep : reporters) ++counts_[{rule, year, "reporter", rep}];
    }
  }
}

std::int64_t RegistrationTally::get(std::size_t rule, int year, const std::string& dimension,
                                    const std::string& value) const {
  auto it = counts_.find({rule, year, dimension, value});
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace mozaiek
