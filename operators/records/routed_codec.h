// Binary encoding of a RoutedSignal for the internal repartition topic
// (mozaiek.internal.subjects). Compact, versioned, and independent of config
// ids: source and indicator travel by name, so an intake and a convergence
// stage running different catalogue versions still agree on what they mean.
//
// Layout (version 1): u8 version, u8 subject type, u8 strength; strings as
// varint length + bytes: subject key, signal id, source name, indicator code;
// zigzag varint milliseconds: observed_at, reported_at, watermark; varint
// count of co-subjects, each u8 type + string key; then, for care signals
// only, one u8 purpose (absent = investigation). A signal that marks a
// location as a reception centre (its `kind`) adds, after the purpose (then
// written for investigation too), u8 flags (1 = the subject is one) and a
// varint bit set of the co-subjects that are.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "operators/model/model.h"

namespace mozaiek {

// The first byte, also the record kind (operators/records/internal_record.h).
inline constexpr std::uint8_t kRoutedCodecVersion = 1;

// Replaces `out` with the encoding (its capacity is reused).
void encode_routed(const RoutedSignal& r, const OperatorConfig& config, std::string& out);

// False on anything but a complete, well-formed version-1 encoding whose
// source and indicator exist in `config`; `out` is then unspecified. Reuses
// out's strings.
[[nodiscard]] bool decode_routed(std::string_view bytes, const OperatorConfig& config,
                                 RoutedSignal& out);

}  // namespace mozaiek
