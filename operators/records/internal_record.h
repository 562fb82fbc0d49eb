// What travels on the internal subjects topic (mozaiek.internal.subjects):
// the first byte of every record says its kind, so one consumer loop can
// dispatch with one switch. Each kind has its own codec and version inside.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mozaiek {

enum class InternalRecordKind : std::uint8_t {
  routed_signal = 1,  // operators/records/routed_codec.h
  chain_event = 2,    // operators/records/chain_codec.h
  entity_notice = 3,  // operators/records/entity_notice.h
  erasure = 4,        // operators/records/erasure_record.h
};

// The kind of an internal record; nullopt when empty or unknown.
inline std::optional<InternalRecordKind> internal_record_kind(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  const auto b = static_cast<std::uint8_t>(bytes[0]);
  if (b < 1 || b > 4) return std::nullopt;
  return static_cast<InternalRecordKind>(b);
}

}  // namespace mozaiek
