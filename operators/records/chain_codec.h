// Binary encoding of a RoutedChainEvent: record kind 2 on the internal
// subjects topic (kind 1 is a routed signal, operators/records/routed_codec.h).
//
// Layout: u8 kind (2), u8 entity, u8 event type, u8 forms, u8 has_person;
// strings as varint length + bytes: entity key, event id, org, melding id,
// to, outcome, person key, person age group, person region, location,
// to_location, where, registry, reporter; zigzag varint milliseconds: at,
// reported_at, watermark. Age group and region travel by name, so intake and
// entity stage agree even when their label lists differ (unknown names map
// to the `unknown` entry).
#pragma once

#include <string>
#include <string_view>

#include "operators/model/chain_event.h"
#include "operators/model/model.h"

namespace mozaiek {

// Replaces `out` with the encoding (its capacity is reused).
void encode_routed_chain(const RoutedChainEvent& r, const OperatorConfig& config, std::string& out);

// False on anything but a complete, well-formed kind-2 record; `out` is
// then unspecified. Reuses out's strings.
[[nodiscard]] bool decode_routed_chain(std::string_view bytes, const OperatorConfig& config,
                                       RoutedChainEvent& out);

}  // namespace mozaiek
