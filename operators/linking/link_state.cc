#include "operators/linking/link_state.h"

#include <algorithm>

#include "operators/records/wire_format.h"

namespace mozaiek::linking {
namespace {

constexpr std::uint8_t kVersionNamesInline = 1;       // read only
constexpr std::uint8_t kVersionNoEarlierNotices = 2;  // read only
constexpr std::uint8_t kVersion = 3;
constexpr std::uint64_t kMaxItems = 1 << 20;

std::string_view source_name(const OperatorConfig& c, SourceId s) {
  return s < c.sources.size() ? std::string_view(c.sources[s].name) : "";
}
std::string_view indicator_code(const OperatorConfig& c, IndicatorId i) {
  return i < c.catalogue.size() ? std::string_view(c.catalogue.at(i).code) : "";
}

bool count(wire::Reader& in, std::uint64_t& n) {
  return in.varint(n) && n <= kMaxItems && n <= in.remaining();
}

// A position in one of the entity's name tables; false when malformed.
bool position(wire::Reader& in, std::size_t table_size, std::uint64_t& pos) {
  return in.varint(pos) && pos < table_size;
}

}  // namespace

std::size_t link_type_index(SubjectType a, SubjectType b) {
  auto x = static_cast<std::size_t>(a), y = static_cast<std::size_t>(b);
  if (x > y) std::swap(x, y);
  // (0,0) (0,1) (0,2) (1,1) (1,2) (2,2)
  static constexpr std::size_t kIndex[3][3] = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};
  return kIndex[x][y];
}

LinkCodec::LinkCodec(const OperatorConfig& config)
    : config_(config),
      source_pos_(config.sources.size(), 0),
      indicator_pos_(config.catalogue.size(), 0) {}

namespace {

// The position of `id` in a per-entity name table, appending it on first
// use; pos[id] holds position + 1 (0 = not in the table yet).
template <typename Id>
std::uint64_t table_slot(Id id, std::vector<std::uint32_t>& pos, std::vector<Id>& table) {
  if (id >= pos.size()) pos.resize(id + 1, 0);
  if (pos[id] == 0) {
    table.push_back(id);
    pos[id] = static_cast<std::uint32_t>(table.size());
  }
  return pos[id] - 1;
}

}  // namespace

std::uint64_t LinkCodec::source_slot(SourceId s) { return table_slot(s, source_pos_, sources_); }

std::uint64_t LinkCodec::indicator_slot(IndicatorId i) {
  return table_slot(i, indicator_pos_, indicators_);
}

void LinkCodec::encode(const EntityLinks& e, std::string& out) {
  // The name tables first: every source and indicator the entity mentions,
  // in order of first mention.
  for (const auto& s : e.sources_seen) {
    source_slot(s.source);
    indicator_slot(s.indicator);
  }
  for (const auto& l : e.links) {
    for (SourceId s : l.peer_sources) source_slot(s);
    for (const auto& s : l.signals) {
      source_slot(s.source);
      indicator_slot(s.indicator);
    }
  }
  out.clear();
  out.push_back(static_cast<char>(kVersion));
  wire::put_varint(sources_.size(), out);
  for (SourceId s : sources_) wire::put_string(source_name(config_, s), out);
  wire::put_varint(indicators_.size(), out);
  for (IndicatorId i : indicators_) wire::put_string(indicator_code(config_, i), out);

  auto put_signal = [&](const LinkSignal& s) {
    wire::put_string(s.signal_id, out);
    wire::put_varint(source_pos_[s.source] - 1, out);
    wire::put_varint(indicator_pos_[s.indicator] - 1, out);
    wire::put_signed(s.observed_ms, out);
    wire::put_signed(s.reported_ms - s.observed_ms, out);  // a delay: fewer bytes
  };
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
  for (const auto& s : e.sources_seen) put_signal(s);
  wire::put_varint(e.links.size(), out);
  for (const auto& l : e.links) {
    out.push_back(static_cast<char>(l.type));
    wire::put_string(l.key, out);
    wire::put_signed(l.first_ms, out);
    wire::put_signed(l.last_ms, out);
    wire::put_signed(l.peer_at_ms, out);
    wire::put_double(l.peer_score, out);
    wire::put_varint(l.earlier_notices.size(), out);
    for (const auto& p : l.earlier_notices) {
      wire::put_signed(l.peer_at_ms - p.at_ms, out);  // a positive gap: fewer bytes
      wire::put_double(p.score, out);
    }
    out.push_back(static_cast<char>((l.peer_has_own ? 1 : 0) | (l.told_own ? 2 : 0)));
    wire::put_varint(l.peer_sources.size(), out);
    for (SourceId s : l.peer_sources) wire::put_varint(source_pos_[s] - 1, out);
    wire::put_varint(l.signals.size(), out);
    for (const auto& s : l.signals) put_signal(s);
  }

  // Clean tables for the next entity.
  for (SourceId s : sources_) source_pos_[s] = 0;
  for (IndicatorId i : indicators_) indicator_pos_[i] = 0;
  sources_.clear();
  indicators_.clear();
}

bool LinkCodec::decode(std::string_view bytes, EntityLinks& e) {
  wire::Reader in(bytes);
  std::uint8_t version, b;
  if (!in.byte(version) || version < kVersionNamesInline || version > kVersion) return false;
  const bool tables = version != kVersionNamesInline;
  const bool earlier = version > kVersionNoEarlierNotices;
  e = EntityLinks{};
  std::uint64_t n;
  std::string_view text;
  read_sources_.clear();
  read_indicators_.clear();
  if (tables) {
    if (!count(in, n)) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!in.view(text)) return false;
      read_sources_.push_back(config_.find_source(text));
    }
    if (!count(in, n)) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!in.view(text)) return false;
      read_indicators_.push_back(config_.catalogue.find(text));
    }
  }
  // A source or indicator from its table position (version 2) or its name
  // (version 1); false when malformed, `out` empty when this config lacks it.
  auto get_named = [&](const auto& table, auto find, auto& out) {
    if (tables) {
      std::uint64_t pos;
      if (!position(in, table.size(), pos)) return false;
      out = table[pos];
      return true;
    }
    std::string_view name;
    if (!in.view(name)) return false;
    out = find(name);
    return true;
  };
  auto find_source = [&](std::string_view name) { return config_.find_source(name); };
  auto find_indicator = [&](std::string_view code) { return config_.catalogue.find(code); };
  auto get_source = [&](std::optional<SourceId>& out) {
    return get_named(read_sources_, find_source, out);
  };
  auto get_indicator = [&](std::optional<IndicatorId>& out) {
    return get_named(read_indicators_, find_indicator, out);
  };
  LinkSignal s;
  bool known = false;
  auto get_signal = [&]() {
    std::string_view id;
    std::optional<SourceId> src;
    std::optional<IndicatorId> ind;
    if (!in.view(id) || !get_source(src) || !get_indicator(ind) ||
        !in.signed_varint(s.observed_ms) || !in.signed_varint(s.reported_ms)) {
      return false;
    }
    if (tables) s.reported_ms += s.observed_ms;
    known = src && ind;
    if (known) {
      s.signal_id.assign(id);
      s.source = *src;
      s.indicator = *ind;
    }
    return true;
  };

  if (!in.real(e.noticed_score)) return false;
  for (auto& r : e.rules) {
    std::uint64_t level;
    if (!in.byte(b) || b > 1 || !in.signed_varint(r.last_alert_ms) ||
        !in.real(r.last_alert_score) || !in.varint(level) || level > 1'000'000 ||
        !in.signed_varint(r.episode_start_ms)) {
      return false;
    }
    r.alerted = b == 1;
    r.level = static_cast<int>(level);
  }
  if (!count(in, n)) return false;
  e.alert_ids.resize(n);
  for (auto& id : e.alert_ids) {
    if (!in.view(text)) return false;
    id.assign(text);
  }
  if (!count(in, n)) return false;
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!get_signal()) return false;
    if (known) e.sources_seen.push_back(s);
  }
  if (!count(in, n)) return false;
  e.links.resize(n);
  for (auto& l : e.links) {
    if (!in.byte(b) || b >= kSubjectTypeCount || !in.view(text) || text.empty()) return false;
    l.type = static_cast<SubjectType>(b);
    l.key.assign(text);
    if (!in.signed_varint(l.first_ms) || !in.signed_varint(l.last_ms) ||
        !in.signed_varint(l.peer_at_ms) || !in.real(l.peer_score)) {
      return false;
    }
    std::uint64_t m;
    if (earlier) {
      if (!count(in, m) || m > kMaxEarlierNotices) return false;
      l.earlier_notices.resize(m);
      for (auto& p : l.earlier_notices) {
        std::int64_t gap;
        if (!in.signed_varint(gap) || !in.real(p.score)) return false;
        p.at_ms = l.peer_at_ms - gap;
      }
    }
    if (!in.byte(b) || b > 3) return false;
    l.peer_has_own = (b & 1) != 0;
    l.told_own = (b & 2) != 0;
    if (!count(in, m)) return false;
    for (std::uint64_t i = 0; i < m; ++i) {
      std::optional<SourceId> src;
      if (!get_source(src)) return false;
      if (src) l.peer_sources.push_back(*src);
    }
    if (!count(in, m)) return false;
    for (std::uint64_t i = 0; i < m; ++i) {
      if (!get_signal()) return false;
      if (known) l.signals.push_back(s);
    }
  }
  return in.remaining() == 0;
}

std::optional<PeerNotice> peer_notice_at(const Link& l, std::int64_t at) {
  if (l.peer_at_ms == kNever) return std::nullopt;
  if (l.peer_at_ms <= at) return PeerNotice{l.peer_at_ms, l.peer_score};
  // The latest earlier notice at or before `at`. (Not a range-for over
  // std::ranges::reverse_view: clang 14, which runs clang-tidy, cannot parse
  // libstdc++ 12's <ranges>.)
  const auto& earlier = l.earlier_notices;
  const auto it = std::find_if(earlier.rbegin(), earlier.rend(),
                               [at](const PeerNotice& p) { return p.at_ms <= at; });
  if (it != earlier.rend()) return *it;
  return std::nullopt;
}

bool record_peer_notice(Link& l, PeerNotice notice, bool keep_earlier) {
  auto& earlier = l.earlier_notices;
  if (l.peer_at_ms == kNever || notice.at_ms >= l.peer_at_ms) {
    if (keep_earlier && l.peer_at_ms != kNever && notice.at_ms > l.peer_at_ms) {
      earlier.push_back(PeerNotice{l.peer_at_ms, l.peer_score});
    }
    l.peer_at_ms = notice.at_ms;
    l.peer_score = notice.score;
  } else {
    if (!keep_earlier) return false;
    auto it = std::lower_bound(earlier.begin(), earlier.end(), notice.at_ms,
                               [](const PeerNotice& p, std::int64_t at) { return p.at_ms < at; });
    if (it != earlier.end() && it->at_ms == notice.at_ms) {
      it->score = notice.score;
      return true;
    }
    if (it == earlier.begin() && earlier.size() >= kMaxEarlierNotices) return false;
    earlier.insert(it, notice);
  }
  if (!keep_earlier) earlier.clear();
  while (earlier.size() > kMaxEarlierNotices) earlier.erase(earlier.begin());
  return true;
}

void encode_links(const EntityLinks& e, const OperatorConfig& config, std::string& out) {
  LinkCodec(config).encode(e, out);
}

bool decode_links(std::string_view bytes, const OperatorConfig& config, EntityLinks& out) {
  return LinkCodec(config).decode(bytes, out);
}

}  // namespace mozaiek::linking
