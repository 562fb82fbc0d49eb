// Chain event routing: a validated chain event becomes one RoutedChainEvent
// per entity whose state it changes, keyed like routed signals so a person's
// chain events and signals meet on one partition of the internal topic:
// melding.* -> "melding:<melding id>"; person.* and victim.registered ->
// "person:<pseudonym>"; person.departed_unknown also -> "location:<id>" (the
// per-location spike rule). Pure functions, called on the intake thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "operators/model/chain_event.h"
#include "stream/time.h"

namespace mozaiek {

// Writes the routed copies to out[0..n) (entries and strings reused; `out`
// only grows) and returns n.
std::size_t route_chain_event(const ChainEvent& e, EventTime watermark,
                              std::vector<RoutedChainEvent>& out);

// "<entity>:<key>": the Kafka key on the internal subjects topic.
void chain_routing_key(const RoutedChainEvent& r, std::string& out);

}  // namespace mozaiek
