#include "operators/records/routed_codec.h"

#include "operators/records/wire_format.h"

namespace mozaiek {
using wire::put_string;
using wire::put_time;
using wire::put_varint;
using wire::Reader;

void encode_routed(const RoutedSignal& r, const OperatorConfig& config, std::string& out) {
  // An id outside the config is a programmer error; an empty name makes the
  // record undecodable instead of silently meaning something else.
  const std::string_view source = r.source < config.sources.size()
                                      ? std::string_view(config.sources[r.source].name)
                                      : "";
  const std::string_view indicator = r.indicator < config.catalogue.size()
                                         ? std::string_view(config.catalogue.at(r.indicator).code)
                                         : "";
  out.clear();
  out.push_back(static_cast<char>(kRoutedCodecVersion));
  out.push_back(static_cast<char>(r.subject_type));
  out.push_back(static_cast<char>(r.strength));
  put_string(r.subject_key, out);
  put_string(r.signal_id, out);
  put_string(source, out);
  put_string(indicator, out);
  put_time(r.observed_at, out);
  put_time(r.reported_at, out);
  put_time(r.watermark, out);
  put_varint(r.co_subjects.size(), out);
  for (const auto& [type, key] : r.co_subjects) {
    out.push_back(static_cast<char>(type));
    put_string(key, out);
  }
  // Appended, so records written before purposes existed still decode
  // (as investigation); investigation records stay byte-identical.
  // Reception marks (a location's `kind`) follow the purpose, which is
  // then written for investigation too; records without marks are as before.
  if (r.subject_reception || r.co_reception != 0) {
    out.push_back(static_cast<char>(r.purpose));
    out.push_back(static_cast<char>(r.subject_reception ? 1 : 0));
    put_varint(r.co_reception, out);
  } else if (r.purpose != Purpose::investigation) {
    out.push_back(static_cast<char>(r.purpose));
  }
}

bool decode_routed(std::string_view bytes, const OperatorConfig& config, RoutedSignal& out) {
  Reader in(bytes);
  std::uint8_t version, type, strength;
  if (!in.byte(version) || version != kRoutedCodecVersion) return false;
  if (!in.byte(type) || type >= kSubjectTypeCount) return false;
  if (!in.byte(strength) || strength > static_cast<std::uint8_t>(Strength::concrete)) return false;
  out.subject_type = static_cast<SubjectType>(type);
  out.strength = static_cast<Strength>(strength);

  std::string_view key, signal_id, source, indicator;
  if (!in.view(key) || key.empty() || !in.view(signal_id) || signal_id.empty() ||
      !in.view(source) || !in.view(indicator)) {
    return false;
  }
  const auto source_id = config.find_source(source);
  const auto indicator_id = config.catalogue.find(indicator);
  if (!source_id || !indicator_id) return false;
  out.subject_key.assign(key);
  out.signal_id.assign(signal_id);
  out.source = *source_id;
  out.indicator = *indicator_id;

  if (!in.time(out.observed_at) || !in.time(out.reported_at) || !in.time(out.watermark)) {
    return false;
  }
  std::uint64_t count;
  // Each co-subject takes at least two bytes: a bound before resizing.
  if (!in.varint(count) || count > in.remaining() / 2) return false;
  out.co_subjects.resize(count);
  for (auto& [co_type, co_key] : out.co_subjects) {
    std::uint8_t t;
    std::string_view k;
    if (!in.byte(t) || t >= kSubjectTypeCount || !in.view(k) || k.empty()) return false;
    co_type = static_cast<SubjectType>(t);
    co_key.assign(k);
  }
  out.purpose = Purpose::investigation;
  out.subject_reception = false;
  out.co_reception = 0;
  if (in.remaining() == 1) {
    std::uint8_t purpose;
    if (!in.byte(purpose) || purpose != static_cast<std::uint8_t>(Purpose::care)) return false;
    out.purpose = Purpose::care;
  } else if (in.remaining() > 1) {
    std::uint8_t purpose, flags;
    std::uint64_t mask;
    if (!in.byte(purpose) || purpose > static_cast<std::uint8_t>(Purpose::care) ||
        !in.byte(flags) || flags > 1 || !in.varint(mask) || mask > 0xFFFFFFFFULL) {
      return false;
    }
    out.purpose = static_cast<Purpose>(purpose);
    out.subject_reception = flags == 1;
    out.co_reception = static_cast<std::uint32_t>(mask);
  }
  return in.remaining() == 0;
}

}  // namespace mozaiek
