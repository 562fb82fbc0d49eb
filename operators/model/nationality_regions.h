// Nationality -> world region, as CoMensha groups them (Africa, Asia, Europe,
// North America, Oceania, Latin America, unknown incl. stateless). Only the
// region leaves intake: it is a bounded, non-identifying metric label, while
// a raw nationality is never stored.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mozaiek {

enum class NationalityRegion : std::uint8_t {
  africa,
  asia,
  europe,
  north_america,
  oceania,
  latin_america,
  unknown,
};
inline constexpr std::size_t kNationalityRegionCount = 7;

std::string_view to_string(NationalityRegion r);

// One country: its region and the ways partners write it, lower case,
// '|'-separated: ISO alpha-2, ISO alpha-3, English names and demonyms.
struct NationalityRow {
  NationalityRegion region;
  std::string_view aliases;
};
std::span<const NationalityRow> nationality_table();

// Case-insensitive, surrounding whitespace ignored; anything not in the table
// (including "stateless") -> unknown. Allocation-free.
NationalityRegion nationality_region(std::string_view nationality);

// Maps nationalities to indices of the configured region names
// (OperatorConfig::nationality_regions). A region missing from the
// configuration maps like an unknown nationality: to "unknown" if configured,
// else to the last configured region.
class NationalityRegionIndex {
 public:
  explicit NationalityRegionIndex(const std::vector<std::string>& configured_regions);
  std::uint8_t index_of(std::string_view nationality) const;
  std::uint8_t unknown_index() const { return unknown_; }

 private:
  std::uint8_t by_region_[kNationalityRegionCount] = {};
  std::uint8_t unknown_ = 0;
};

}  // namespace mozaiek
