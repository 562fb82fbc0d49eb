// Bounded label sets of the metric probes: the configured values followed
// by "other", and lookups that land on "other" for anything outside a set.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace mozaiek::metric_labels {

inline constexpr const char* kOther = "other";

// The label values of a set plus the trailing "other".
inline std::vector<std::string> with_other(std::vector<std::string> values) {
  values.emplace_back(kOther);
  return values;
}

// The index of `name` in `values`; values.size() (the "other" slot) when absent.
inline std::size_t find_index(const std::vector<std::string>& values, std::string_view name) {
  auto it = std::find(values.begin(), values.end(), name);
  return static_cast<std::size_t>(it - values.begin());
}

}  // namespace mozaiek::metric_labels
