#include "operators/records/internal_time.h"

#include "operators/records/internal_record.h"
#include "operators/records/wire_format.h"

namespace mozaiek {
namespace {

// Skips `bytes` single bytes and `strings` length-prefixed strings.
bool skip(wire::Reader& in, int bytes, int strings) {
  std::uint8_t b;
  for (int i = 0; i < bytes; ++i) {
    if (!in.byte(b)) return false;
  }
  std::string_view s;
  for (int i = 0; i < strings; ++i) {
    if (!in.view(s)) return false;
  }
  return true;
}

}  // namespace

std::optional<EventTime> internal_record_watermark(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  wire::Reader in(bytes);
  // The layouts of routed_codec.cc and chain_codec.cc up to the watermark:
  // kind and flag bytes, the strings, then event time, reported_at, watermark.
  bool ok = false;
  switch (static_cast<InternalRecordKind>(bytes[0])) {
    case InternalRecordKind::routed_signal:
      ok = skip(in, 3, 4);  // kind, type, strength; subject, signal id, source, indicator
      break;
    case InternalRecordKind::chain_event:
      ok = skip(in, 5, 14);  // kind, entity, type, forms, has_person; 14 strings
      break;
    default: return std::nullopt;
  }
  EventTime at, reported, watermark;
  if (!ok || !in.time(at) || !in.time(reported) || !in.time(watermark)) return std::nullopt;
  return watermark;
}

}  // namespace mozaiek
