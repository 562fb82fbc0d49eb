// The erasure record: internal record kind 4 on the internal subjects topic,
// keyed by the entity's routing key ("<type>:<key>", subject_router.h) like
// the entity's routed signals, so the partition that owns the entity
// applies it in order with them. Written by `POST /api/erasure` and
// `mozaiek erase`; applied by ConvergenceStage::process_erasure.
//
// Layout: u8 kind (4), u8 version (1), u8 subject type, string key (varint
// length + bytes), zigzag varint ms of the request's processing time. Who
// asked and why go to the audit topic, not here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "operators/model/model.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::uint8_t kErasureRecordVersion = 1;

struct ErasureRecord {
  SubjectType type = SubjectType::person;
  std::string key;
  ProcTime requested_at{};
};

// Replaces `out` with the encoding.
void encode_erasure(const ErasureRecord& r, std::string& out);
// False on anything but a complete, well-formed version-1 record with a key.
[[nodiscard]] bool decode_erasure(std::string_view bytes, ErasureRecord& out);

}  // namespace mozaiek
