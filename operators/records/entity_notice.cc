#include "operators/records/entity_notice.h"

#include "operators/records/internal_record.h"
#include "operators/records/wire_format.h"

namespace mozaiek {
namespace {
constexpr std::uint8_t kHasOwn = 1;
constexpr std::uint8_t kParticipation = 2;
constexpr std::uint8_t kErased = 4;
constexpr std::uint64_t kMaxSources = 1024;
}  // namespace

void encode_notice(const EntityNotice& n, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(InternalRecordKind::entity_notice));
  std::uint8_t flags = 0;
  if (n.has_own_signals) flags |= kHasOwn;
  if (n.participation) flags |= kParticipation;
  if (n.erased) flags |= kErased;
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>(n.from_type));
  wire::put_string(n.from_key, out);
  out.push_back(static_cast<char>(n.to_type));
  wire::put_string(n.to_key, out);
  wire::put_time(n.at, out);
  wire::put_double(n.own_score, out);
  wire::put_varint(n.sources.size(), out);
  for (const auto& s : n.sources) wire::put_string(s, out);
  wire::put_string(n.alert_id, out);
}

bool decode_notice(std::string_view bytes, EntityNotice& out) {
  wire::Reader in(bytes);
  std::uint8_t kind, flags, from, to;
  if (!in.byte(kind) || kind != static_cast<std::uint8_t>(InternalRecordKind::entity_notice)) {
    return false;
  }
  if (!in.byte(flags) || flags > (kHasOwn | kParticipation | kErased)) return false;
  std::string_view from_key, to_key, text;
  if (!in.byte(from) || from >= kSubjectTypeCount || !in.view(from_key) || from_key.empty())
    return false;
  if (!in.byte(to) || to >= kSubjectTypeCount || !in.view(to_key) || to_key.empty()) return false;
  out.from_type = static_cast<SubjectType>(from);
  out.from_key.assign(from_key);
  out.to_type = static_cast<SubjectType>(to);
  out.to_key.assign(to_key);
  out.has_own_signals = (flags & kHasOwn) != 0;
  out.participation = (flags & kParticipation) != 0;
  out.erased = (flags & kErased) != 0;
  if (!in.time(out.at) || !in.real(out.own_score)) return false;
  std::uint64_t count;
  if (!in.varint(count) || count > kMaxSources || count > in.remaining()) return false;
  out.sources.resize(count);
  for (auto& s : out.sources) {
    if (!in.view(text)) return false;
    s.assign(text);
  }
  if (!in.view(text)) return false;
  out.alert_id.assign(text);
  return in.remaining() == 0;
}

}  // namespace mozaiek
