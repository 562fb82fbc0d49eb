#include "operators/model/chain_event.h"

#include <array>

namespace mozaiek {
namespace {

constexpr std::array<std::string_view, kChainEventTypeCount> kTypeNames = {
    "melding.sent",       "melding.acknowledged",    "melding.feedback",  "person.arrived",
    "person.transferred", "person.departed_unknown", "person.reappeared", "victim.registered"};

}  // namespace

std::string_view to_string(ChainEventType t) {
  const auto i = static_cast<std::size_t>(t);
  return i < kTypeNames.size() ? kTypeNames[i] : std::string_view("unknown");
}

std::optional<ChainEventType> chain_event_type_from(std::string_view s) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == s) return static_cast<ChainEventType>(i);
  }
  return std::nullopt;
}

bool is_melding_event(ChainEventType t) {
  return t == ChainEventType::melding_sent || t == ChainEventType::melding_acknowledged ||
         t == ChainEventType::melding_feedback;
}

std::string_view to_string(ChainEntity e) {
  switch (e) {
    case ChainEntity::melding: return "melding";
    case ChainEntity::person: return "person";
    case ChainEntity::location: return "location";
  }
  return "unknown";
}

}  // namespace mozaiek
