// The state the oversight tracker keeps per entity, and its encoding in the
// partition's "oversight-p<N>" store. Keys: "m:<melding id>", "p:<person
// pseudonym>", "l:<location id>", and "a:erased" (the registration counts
// of erased persons, per partition, with no pseudonym). Values: u8 format version (1) followed by
// the fields in declaration order (operators/records/wire_format.h primitives).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "operators/oversight/registration_count.h"
#include "stream/time.h"

namespace mozaiek::oversight {

// Event ids already applied to an entity, newest last (bounded): a redelivered
// or repeated chain event changes nothing.
struct SeenIds {
  static constexpr std::size_t kMax = 32;
  std::vector<std::string> ids;
  bool contains(std::string_view id) const;
  void add(std::string_view id);
};

// One melding: sent -> acknowledged -> feedback, in whatever order they arrive.
struct Melding {
  std::string from;                   // the sender (org of melding.sent, `to` of the answers)
  std::string to;                     // the receiver
  EventTime sent_at = kMinEventTime;  // kMinEventTime: not (yet) seen
  EventTime ack_at = kMinEventTime;
  EventTime feedback_at = kMinEventTime;
  std::string sent_event_id;
  bool ack_observed = false;  // latency histogram updated
  bool feedback_observed = false;
  bool breached = false;  // counted unanswered, sla_breach raised
  SeenIds seen;
};

enum class PersonStatus : std::uint8_t { unknown = 0, present = 1, missing = 2 };

struct Person {
  PersonStatus status = PersonStatus::unknown;
  EventTime arrived_at = kMinEventTime;   // latest arrival
  EventTime departed_at = kMinEventTime;  // latest MOB departure
  std::string location;                   // where the person is (or left from)
  std::string age_group = "unknown";      // label names, so a config change keeps meaning
  std::string region = "unknown";
  bool converging = false;  // a person convergence alert was raised
  // The latest departure was counted without an arrival before it; an
  // arrival processed later (partners report late) is matched to it then.
  bool departure_unmatched = false;
  // The locations the person left from (MOB), oldest first, at most
  // kMaxDepartedFrom: their departures name the person, so an erasure must
  // reach each of them.
  std::vector<std::string> departed_from;
  static constexpr std::size_t kMaxDepartedFrom = 16;
  EventTime last_at = kMinEventTime;  // latest event time of any of their chain events
  std::vector<Registration> registrations;
  SeenIds seen;
};

// One recorded MOB departure at a location (for the spike rule).
struct Departure {
  EventTime at{};
  std::string event_id;
  std::string org;
  std::string person_key;
};

struct LocationState {
  std::vector<Departure> departures;  // sorted by `at`, bounded
  EventTime last_spike_at = kMinEventTime;
  static constexpr std::size_t kMaxDepartures = 2048;
};

// Unique-person counts (RegistrationTally's keys) kept after the persons
// behind them were erased.
using ErasedCounts = std::map<RegistrationTally::Key, std::int64_t>;

void encode(const Melding& m, std::string& out);
void encode(const ErasedCounts& counts, std::string& out);
[[nodiscard]] bool decode(std::string_view bytes, ErasedCounts& counts);
void encode(const Person& p, std::string& out);
void encode(const LocationState& l, std::string& out);
[[nodiscard]] bool decode(std::string_view bytes, Melding& m);
[[nodiscard]] bool decode(std::string_view bytes, Person& p);
[[nodiscard]] bool decode(std::string_view bytes, LocationState& l);

}  // namespace mozaiek::oversight
