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
// The plate may carry its own country in front, as the ISO alpha-2 code
// followed by a separator ("FR-GH-482-KL" or "FR GH 482 KL" with country
// FR): that prefix is dropped, so the key is the one without it
// ("FR-GH482KL"). Only then: without a separator ("FRGH482KL") or with
// another country ("FR AB 123" with country D is a Freiburg plate) the
// letters are part of the plate.
bool normalise_vehicle_key(std::string_view plate, std::string_view country, std::string& out_key);

// Whether a location's `kind` marks it as a reception centre
// ("reception_centre", "reception_center" or "reception", any case).
bool is_reception_kind(std::string_view kind);

// Writes the location id trimmed, lower case, whitespace runs as '-'.
// Returns false unless the result is 1..kMaxLocationIdChars of [a-z0-9._:-].
bool normalise_location_id(std::string_view id, std::string& out);

}  // namespace mozaiek
