// Who SyntheticTraffic's partners meet and how they report, with the numbers
// from the domain brief: the person populations (nationalities, identifier
// schemes, share of minors), one profile per known organisation (volume,
// reporting delay, indicator mix, related organisations, unit, consent and
// strength habits), and the vehicle and address populations. Data only; the
// generator in synthetic_traffic.cc draws from it.
#pragma once

#include <span>

#include "connectors/synthetic/synthetic_random.h"

namespace mozaiek::synthetic {

// Who a source meets: nationality (ISO 3166 alpha-2), identifier schemes, ages.
struct Population {
  std::span<const Weighted> nationalities;
  std::span<const Weighted> schemes;
  double minor;
  double unknown_age;
};

extern const Population kAsylum;  // asylum seekers (COA, IND, AVIM, KMar)
extern const Population kMinors;  // unaccompanied minors (Nidos)
extern const Population kLabour;  // labour migrants (NLA, FairWork)
extern const Population kLocal;   // whom police, municipalities and RIECs meet
extern const Population kCare;    // care and Veilig Thuis clients

// How long after observing a source reports.
enum class Delay { batch14, nightly, hours, within_day, days_short, days, weeks };
// What a source writes as the signal's unit.
enum class Unit { none, reception, nidos, fixed };

struct Profile {
  const char* name;
  double volume;  // relative share of the noise
  Delay delay;
  const Population* population;
  std::span<const Weighted> mix;         // indicator codes this organisation observes
  std::span<const char* const> related;  // sources whose persons it may also meet
  double consent_false;                  // >0: sends consent explicitly, false at this rate
  bool explicit_strength;                // AVIM's TMM scores weak/strong itself
  bool weekdays;                         // observes mostly on working days
  bool night;                            // observes around the clock
  Unit unit;
  const char* fixed_unit;
};

// The organisations of the brief, in their default order.
extern const std::span<const Profile> kKnownProfiles;
// Any other configured source: the whole catalogue, reported after days.
extern const Profile kGenericProfile;

// Municipalities that noise and planted addresses are in.
extern const std::span<const char* const> kMunicipalities;
// Countries of the vehicles partners see, weighted.
extern const std::span<const Weighted> kPlateCountries;

// Share of person mentions that name someone another organisation knows;
// tuned so a few percent of noise persons are seen by two sources.
inline constexpr double kCrossSource = 0.04;
// Noise persons per noise signal: most persons get one or two signals from one
// organisation. Denser populations make single-source persons with two
// concrete signals alert by themselves (concrete_alone) and drown the cases.
inline constexpr double kPersonsPerSignal = 1.0;

}  // namespace mozaiek::synthetic
