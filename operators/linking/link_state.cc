#include "operators/linking/link_state.h"

#include "operators/wire_format.h"

namespace mozaiek::linking {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint64_t kMaxItems = 1 << 20;

std::string_view source_name(const OperatorConfig& c, SourceId s) {
  return s < c.sources.size() ? std::string_view(c.sources[s].name) : "";
}
std::string_view indicator_code(const OperatorConfig& c, IndicatorId i) {
  return i < c.catalogue.size() ? std::string_view(c.catalogue.at(i).code) : "";
}

void put_signal(const LinkSignal& s, const OperatorConfig& c, std::string& out) {
  wire::put_string(s.signal_id, out);
  wire::put_string(source_name(c, s.source), out);
  wire::put_string(indicator_code(c, s.indicator), out);
  wire::put_signed(s.observed_ms, out);
  wire::put_signed(s.reported_ms, out);
}

// False when malformed; `known` false when it names an unknown source or indicator.
bool get_signal(wire::Reader& in, const OperatorConfig& c, LinkSignal& s, bool& known) {
  std::string_view id, source, indicator;
  if (!in.view(id) || !in.view(source) || !in.view(indicator) ||
      !in.signed_varint(s.observed_ms) || !in.signed_varint(s.reported_ms)) {
    return false;
  }
  const auto src = c.find_source(source);
  const auto ind = c.catalogue.find(indicator);
  known = src && ind;
  if (known) {
    s.signal_id.assign(id);
    s.source = *src;
    s.indicator = *ind;
  }
  return true;
}

bool count(wire::Reader& in, std::uint64_t& n) {
  return in.varint(n) && n <= kMaxItems && n <= in.remaining();
}

}  // namespace

std::size_t link_type_index(SubjectType a, SubjectType b) {
  auto x = static_cast<std::size_t>(a), y = static_cast<std::size_t>(b);
  if (x > y) std::swap(x, y);
  // (0,0) (0,1) (0,2) (1,1) (1,2) (2,2)
  static constexpr std::size_t kIndex[3][3] = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};
  return kIndex[x][y];
}

void encode_links(const EntityLinks& e, const OperatorConfig& c, std::string& out) {
  out.clear();
  out.push_back(static_cast<char>(kVersion));
  wire::put_double(e.noticed_score, out);
  for (const auto& r : e.rules) {
    out.push_back(static_cast<char>(r.alerted ? 1 : 0));
    wire::put_signed(r.last_alert_ms, out);
    wire::put_double(r.last_alert_score, out);
    wire::put_varint(static_cast<std::uint64_t>(r.level), out);
    wire::put_signed(r.episode_start_ms, out);
  }
  wire::put_varint(e.alert_ids.size(), out);
  for (const auto& id : e.alert_ids) wire::put_string(id, out);
  wire::put_varint(e.sources_seen.size(), out);
  for (const auto& s : e.sources_seen) put_signal(s, c, out);
  wire::put_varint(e.links.size(), out);
  for (const auto& l : e.links) {
    out.push_back(static_cast<char>(l.type));
    wire::put_string(l.key, out);
    wire::put_signed(l.first_ms, out);
    wire::put_signed(l.last_ms, out);
    wire::put_signed(l.peer_at_ms, out);
    wire::put_double(l.peer_score, out);
    out.push_back(static_cast<char>((l.peer_has_own ? 1 : 0) | (l.told_own ? 2 : 0)));
    wire::put_varint(l.peer_sources.size(), out);
    for (SourceId s : l.peer_sources) wire::put_string(source_name(c, s), out);
    wire::put_varint(l.signals.size(), out);
    for (const auto& s : l.signals) put_signal(s, c, out);
  }
}

bool decode_links(std::string_view bytes, const OperatorConfig& c, EntityLinks& e) {
  wire::Reader in(bytes);
  std::uint8_t version, b;
  if (!in.byte(version) || version != kVersion) return false;
  e = EntityLinks{};
  if (!in.real(e.noticed_score)) return false;
  for (auto& r : e.rules) {
    std::uint64_t level;
    if (!in.byte(b) || b > 1 || !in.signed_varint(r.last_alert_ms) || !in.real(r.last_alert_score) ||
        !in.varint(level) || level > 1'000'000 || !in.signed_varint(r.episode_start_ms)) {
      return false;
    }
    r.alerted = b == 1;
    r.level = static_cast<int>(level);
  }
  std::uint64_t n;
  std::string_view text;
  if (!count(in, n)) return false;
  e.alert_ids.resize(n);
  for (auto& id : e.alert_ids) {
    if (!in.view(text)) return false;
    id.assign(text);
  }
  if (!count(in, n)) return false;
  LinkSignal s;
  bool known = false;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!get_signal(in, c, s, known)) return false;
    if (known) e.sources_seen.push_back(s);
  }
  if (!count(in, n)) return false;
  e.links.resize(n);
  for (auto& l : e.links) {
    if (!in.byte(b) || b >= kSubjectTypeCount || !in.view(text) || text.empty()) return false;
    l.type = static_cast<SubjectType>(b);
    l.key.assign(text);
    if (!in.signed_varint(l.first_ms) || !in.signed_varint(l.last_ms) ||
        !in.signed_varint(l.peer_at_ms) || !in.real(l.peer_score) || !in.byte(b) || b > 3) {
      return false;
    }
    l.peer_has_own = (b & 1) != 0;
    l.told_own = (b & 2) != 0;
    std::uint64_t m;
    if (!count(in, m)) return false;
    for (std::uint64_t i = 0; i < m; ++i) {
      if (!in.view(text)) return false;
      if (auto src = c.find_source(text)) l.peer_sources.push_back(*src);
    }
    if (!count(in, m)) return false;
    for (std::uint64_t i = 0; i < m; ++i) {
      if (!get_signal(in, c, s, known)) return false;
      if (known) l.signals.push_back(s);
    }
  }
  return in.remaining() == 0;
}

}  // namespace mozaiek::linking
