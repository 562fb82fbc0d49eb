#include "operators/records/chain_router.h"

namespace mozaiek {

std::size_t route_chain_event(const ChainEvent& e, EventTime watermark,
                              std::vector<RoutedChainEvent>& out) {
  std::size_t n = 0;
  auto add = [&](ChainEntity entity, const std::string& key) {
    if (key.empty()) return;
    if (out.size() <= n) out.resize(n + 1);
    RoutedChainEvent& r = out[n++];
    r.entity = entity;
    r.entity_key.assign(key);
    r.watermark = watermark;
    r.event = e;  // copy-assign reuses the strings' capacity
  };
  if (is_melding_event(e.type)) {
    add(ChainEntity::melding, e.melding_id);
  } else if (e.has_person) {
    add(ChainEntity::person, e.person.key);
    if (e.type == ChainEventType::person_departed_unknown) add(ChainEntity::location, e.location);
  }
  return n;
}

void chain_routing_key(const RoutedChainEvent& r, std::string& out) {
  out.assign(to_string(r.entity));
  out.push_back(':');
  out.append(r.entity_key);
}

}  // namespace mozaiek
