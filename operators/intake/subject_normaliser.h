// Canonical keys for vehicles and locations, so the same plate or place
// written differently by different partners lands on one subject key.
// Pure functions; allocation-free once the output strings have capacity.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace mozaiek {

inline constexpr std::size_t kMaxPlateChars = 12;
inline constexpr std::size_t kMaxLocationIdChars = 64;

// ISO 3166 alpha-2 (upper case) for a country as partners write it: the
// international vehicle registration code ("F", "D", "NL", "UK", "EST"),
// an ISO alpha-3 code ("FRA"), or any two-letter code as-is, in any case.
// Empty or unrecognised -> "XX".
std::array<char, 2> vehicle_country(std::string_view country);

// Writes "<CC>-<PLATE>" ("FR-AB123CD"): the plate upper case without
// separators (space, '-', '.', middle dot). Returns false, leaving `out_key`
// unspecified, unless the plate is then 1..kMaxPlateChars of [A-Z0-9].
// A country prefix inside the plate is not stripped: "FR AB 123" is also a
// valid German (Freiburg) plate.
bool normalise_vehicle_key(std::string_view plate, std::string_view country, std::string& out_key);

// Writes the location id trimmed, lower case, whitespace runs as '-'.
// Returns false unless the result is 1..kMaxLocationIdChars of [a-z0-9._:-].
bool normalise_location_id(std::string_view id, std::string& out);

}  // namespace mozaiek
