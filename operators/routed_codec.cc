#include "operators/routed_codec.h"

namespace mozaiek {
namespace {

void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_time(EventTime t, std::string& out) {
  const auto ms = static_cast<std::uint64_t>(to_ms(t));
  // Zigzag, so the negative sentinel kMinEventTime stays a short-ish varint.
  put_varint((ms << 1) ^ static_cast<std::uint64_t>(to_ms(t) >> 63), out);
}

void put_string(std::string_view s, std::string& out) {
  put_varint(s.size(), out);
  out.append(s);
}

// Bounds-checked reader: every get fails once the input is exhausted.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : p_(bytes) {}

  bool byte(std::uint8_t& v) {
    if (p_.empty()) return false;
    v = static_cast<std::uint8_t>(p_[0]);
    p_.remove_prefix(1);
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!byte(b)) return false;
      if (shift == 63 && b > 1) return false;  // beyond 64 bits
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool view(std::string_view& s) {
    std::uint64_t n;
    if (!varint(n) || n > p_.size()) return false;
    s = p_.substr(0, n);
    p_.remove_prefix(n);
    return true;
  }
  bool time(EventTime& t) {
    std::uint64_t z;
    if (!varint(z)) return false;
    const auto ms = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
    t = event_time_from_ms(ms);
    return true;
  }
  std::size_t remaining() const { return p_.size(); }

 private:
  std::string_view p_;
};

}  // namespace

void encode_routed(const RoutedSignal& r, const OperatorConfig& config, std::string& out) {
  // An id outside the config is a programmer error; an empty name makes the
  // record undecodable instead of silently meaning something else.
  const std::string_view source =
      r.source < config.sources.size() ? std::string_view(config.sources[r.source].name) : "";
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
  return in.remaining() == 0;
}

}  // namespace mozaiek
