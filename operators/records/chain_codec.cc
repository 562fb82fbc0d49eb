#include "operators/records/chain_codec.h"

#include <algorithm>

#include "operators/records/internal_record.h"
#include "operators/records/routed_codec.h"
#include "operators/records/wire_format.h"

namespace mozaiek {
namespace {

using wire::put_string;
using wire::put_time;
using wire::Reader;

std::string_view label_at(const std::vector<std::string>& labels, std::uint8_t i) {
  return i < labels.size() ? std::string_view(labels[i]) : std::string_view("unknown");
}

std::uint8_t label_index(const std::vector<std::string>& labels, std::string_view name) {
  auto it = std::find(labels.begin(), labels.end(), name);
  if (it == labels.end()) it = std::find(labels.begin(), labels.end(), "unknown");
  if (it == labels.end()) return labels.empty() ? 0 : static_cast<std::uint8_t>(labels.size() - 1);
  return static_cast<std::uint8_t>(it - labels.begin());
}

}  // namespace

void encode_routed_chain(const RoutedChainEvent& r, const OperatorConfig& config,
                         std::string& out) {
  const ChainEvent& e = r.event;
  out.clear();
  out.push_back(static_cast<char>(InternalRecordKind::chain_event));
  out.push_back(static_cast<char>(r.entity));
  out.push_back(static_cast<char>(e.type));
  out.push_back(static_cast<char>(e.forms));
  out.push_back(static_cast<char>(e.has_person ? 1 : 0));
  put_string(r.entity_key, out);
  put_string(e.event_id, out);
  put_string(e.org, out);
  put_string(e.melding_id, out);
  put_string(e.to, out);
  put_string(e.outcome, out);
  put_string(e.has_person ? std::string_view(e.person.key) : std::string_view(), out);
  put_string(label_at(config.age_groups, e.person.age_group), out);
  put_string(label_at(config.nationality_regions, e.person.region), out);
  put_string(e.location, out);
  put_string(e.to_location, out);
  put_string(e.where, out);
  put_string(e.registry, out);
  put_string(e.reporter, out);
  put_time(e.at, out);
  put_time(e.reported_at, out);
  put_time(r.watermark, out);
}

bool decode_routed_chain(std::string_view bytes, const OperatorConfig& config,
                         RoutedChainEvent& out) {
  Reader in(bytes);
  std::uint8_t kind, entity, type, forms, has_person;
  if (!in.byte(kind) || kind != static_cast<std::uint8_t>(InternalRecordKind::chain_event))
    return false;
  if (!in.byte(entity) || entity > static_cast<std::uint8_t>(ChainEntity::location)) return false;
  if (!in.byte(type) || type >= kChainEventTypeCount) return false;
  if (!in.byte(forms) || forms > 15) return false;
  if (!in.byte(has_person) || has_person > 1) return false;
  ChainEvent& e = out.event;
  out.entity = static_cast<ChainEntity>(entity);
  e.type = static_cast<ChainEventType>(type);
  e.forms = forms;
  e.has_person = has_person == 1;
  std::string_view age, region;
  if (!in.string(out.entity_key) || out.entity_key.empty() || !in.string(e.event_id) ||
      e.event_id.empty() || !in.string(e.org) || !in.string(e.melding_id) || !in.string(e.to) ||
      !in.string(e.outcome) || !in.string(e.person.key) || !in.view(age) || !in.view(region) ||
      !in.string(e.location) || !in.string(e.to_location) || !in.string(e.where) ||
      !in.string(e.registry) || !in.string(e.reporter)) {
    return false;
  }
  if (e.has_person == e.person.key.empty()) return false;
  e.person.type = SubjectType::person;
  e.person.age_group = label_index(config.age_groups, age);
  e.person.region = label_index(config.nationality_regions, region);
  if (!in.time(e.at) || !in.time(e.reported_at) || !in.time(out.watermark)) return false;
  return in.remaining() == 0;
}

}  // namespace mozaiek
