#include "operators/records/erasure_record.h"

#include "operators/records/internal_record.h"
#include "operators/records/wire_format.h"

namespace mozaiek {

void encode_erasure(const ErasureRecord& r, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(InternalRecordKind::erasure));
  out.push_back(static_cast<char>(kErasureRecordVersion));
  out.push_back(static_cast<char>(r.type));
  wire::put_string(r.key, out);
  wire::put_signed(to_ms(r.requested_at), out);
}

bool decode_erasure(std::string_view bytes, ErasureRecord& out) {
  wire::Reader in(bytes);
  std::uint8_t kind, version, type;
  if (!in.byte(kind) || kind != static_cast<std::uint8_t>(InternalRecordKind::erasure)) {
    return false;
  }
  if (!in.byte(version) || version != kErasureRecordVersion) return false;
  if (!in.byte(type) || type >= kSubjectTypeCount) return false;
  std::string_view key;
  if (!in.view(key) || key.empty()) return false;
  std::int64_t ms;
  if (!in.signed_varint(ms)) return false;
  out.type = static_cast<SubjectType>(type);
  out.key.assign(key);
  out.requested_at = ProcTime{Millis{ms}};
  return in.remaining() == 0;
}

}  // namespace mozaiek
