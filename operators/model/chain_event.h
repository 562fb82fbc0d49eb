// Chain event v1 (PRODUCT.md "Messages"; config/schemas/chain.v1.schema.json):
// the process around reports and persons. After intake a chain event is a
// plain value with persons pseudonymised and locations normalised, routed to
// the entity whose state it changes: a melding, a person or a location.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kChainSchemaV1 = "mozaiek.chain/v1";

enum class ChainEventType : std::uint8_t {
  melding_sent,
  melding_acknowledged,
  melding_feedback,
  person_arrived,
  person_transferred,
  person_departed_unknown,
  person_reappeared,
  victim_registered,
  kCount
};
inline constexpr std::size_t kChainEventTypeCount = static_cast<std::size_t>(
    ChainEventType::kCount);

// "melding.sent", "person.departed_unknown", ...
std::string_view to_string(ChainEventType t);
std::optional<ChainEventType> chain_event_type_from(std::string_view s);
bool is_melding_event(ChainEventType t);

// A validated chain event. Organisation names (org, to, reporter) are kept
// as sent: they are not personal, and metrics map names outside the
// configured sources to `other`. Reused across records by the intake.
struct ChainEvent {
  std::string event_id;
  ChainEventType type = ChainEventType::melding_sent;
  EventTime at{};
  EventTime reported_at{};
  std::string org;
  // melding.*
  std::string melding_id;
  std::string to;
  std::string outcome;  // melding.feedback
  // person.* and victim.registered: the person (pseudonym key, age group, region)
  bool has_person = false;
  SubjectRef person;
  std::string location;     // normalised location id; empty when none was named
  std::string to_location;  // person.transferred
  std::string where;        // person.reappeared: location, police, eurodac, ...
  // victim.registered
  std::string registry;
  std::string reporter;
  std::uint8_t forms = 0;
};

// Which entity a routed copy of a chain event belongs to.
enum class ChainEntity : std::uint8_t { melding = 0, person = 1, location = 2 };
std::string_view to_string(ChainEntity e);

// One chain event as seen by one entity: what crosses the internal topic as
// record kind 2, keyed by "<entity>:<key>".
struct RoutedChainEvent {
  ChainEntity entity = ChainEntity::melding;
  std::string entity_key;               // melding id, person pseudonym or location id
  EventTime watermark = kMinEventTime;  // intake's watermark when routed
  ChainEvent event;
};

}  // namespace mozaiek
