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

// Reads one entity's links (versions 1 to 3) step by step; every step is
// false on malformed input. The name tables are the codec's reused vectors.
class LinkReader {
 public:
  LinkReader(std::string_view bytes, const OperatorConfig& config,
             std::vector<std::optional<SourceId>>& sources,
             std::vector<std::optional<IndicatorId>>& indicators)
      : in_(bytes), config_(config), sources_(sources), indicators_(indicators) {}

  bool read(EntityLinks& e) {
    std::uint8_t version = 0;
    if (!in_.byte(version) || version < kVersionNamesInline || version > kVersion) return false;
    tables_ = version != kVersionNamesInline;
    earlier_ = version > kVersionNoEarlierNotices;
    e = EntityLinks{};
    return name_tables() && rules(e) && alert_ids(e) && signals(e.sources_seen) && links(e) &&
           in_.remaining() == 0;
  }

 private:
  // Versions 2 and 3 name each source and indicator once, up front.
  bool name_tables() {
    sources_.clear();
    indicators_.clear();
    if (!tables_) return true;
    std::uint64_t n = 0;
    std::string_view text;
    if (!count(in_, n)) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!in_.view(text)) return false;
      sources_.push_back(config_.find_source(text));
    }
    if (!count(in_, n)) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!in_.view(text)) return false;
      indicators_.push_back(config_.catalogue.find(text));
    }
    return true;
  }

  // A source or indicator by table position (versions 2 and 3) or by name
  // (version 1); `out` empty when this config lacks it.
  bool source(std::optional<SourceId>& out) {
    if (tables_) return from_table(sources_, out);
    std::string_view name;
    if (!in_.view(name)) return false;
    out = config_.find_source(name);
    return true;
  }
  bool indicator(std::optional<IndicatorId>& out) {
    if (tables_) return from_table(indicators_, out);
    std::string_view code;
    if (!in_.view(code)) return false;
    out = config_.catalogue.find(code);
    return true;
  }
  template <class Table, class Out>
  bool from_table(const Table& table, Out& out) {
    std::uint64_t pos = 0;
    if (!position(in_, table.size(), pos)) return false;
    out = table[pos];
    return true;
  }

  bool rules(EntityLinks& e) {
    if (!in_.real(e.noticed_score)) return false;
    for (auto& r : e.rules) {
      std::uint8_t b = 0;
      std::uint64_t level = 0;
      if (!in_.byte(b) || b > 1 || !in_.signed_varint(r.last_alert_ms) ||
          !in_.real(r.last_alert_score) || !in_.varint(level) || level > 1'000'000 ||
          !in_.signed_varint(r.episode_start_ms)) {
        return false;
      }
      r.alerted = b == 1;
      r.level = static_cast<int>(level);
    }
    return true;
  }

  bool alert_ids(EntityLinks& e) {
    std::uint64_t n = 0;
    std::string_view text;
    if (!count(in_, n)) return false;
    e.alert_ids.resize(n);
    for (auto& id : e.alert_ids) {
      if (!in_.view(text)) return false;
      id.assign(text);
    }
    return true;
  }

  // A count, then that many signals; those whose source and indicator this
  // config knows are appended to `out`.
  bool signals(std::vector<LinkSignal>& out) {
    std::uint64_t n = 0;
    if (!count(in_, n)) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string_view id;
      std::optional<SourceId> src;
      std::optional<IndicatorId> ind;
      LinkSignal& s = scratch_;
      if (!in_.view(id) || !source(src) || !indicator(ind) || !in_.signed_varint(s.observed_ms) ||
          !in_.signed_varint(s.reported_ms)) {
        return false;
      }
      if (tables_) s.reported_ms += s.observed_ms;  // a delay since version 2
      if (!src || !ind) continue;
      s.signal_id.assign(id);
      s.source = *src;
      s.indicator = *ind;
      out.push_back(s);
    }
    return true;
  }

  bool links(EntityLinks& e) {
    std::uint64_t n = 0;
    if (!count(in_, n)) return false;
    e.links.resize(n);
    for (auto& l : e.links) {
      if (!link(l)) return false;
    }
    return true;
  }

  bool link(Link& l) {
    std::uint8_t b = 0;
    std::string_view text;
    if (!in_.byte(b) || b >= kSubjectTypeCount || !in_.view(text) || text.empty()) return false;
    l.type = static_cast<SubjectType>(b);
    l.key.assign(text);
    if (!in_.signed_varint(l.first_ms) || !in_.signed_varint(l.last_ms) ||
        !in_.signed_varint(l.peer_at_ms) || !in_.real(l.peer_score)) {
      return false;
    }
    if (earlier_ && !earlier_notices(l)) return false;
    if (!in_.byte(b) || b > 7) return false;
    l.peer_has_own = (b & 1) != 0;
    l.told_own = (b & 2) != 0;
    l.reception = (b & 4) != 0;
    std::uint64_t m = 0;
    if (!count(in_, m)) return false;
    for (std::uint64_t i = 0; i < m; ++i) {
      std::optional<SourceId> src;
      if (!source(src)) return false;
      if (src) l.peer_sources.push_back(*src);
    }
    return signals(l.signals);
  }

  // Version 3: the score notices a person's link keeps before the newest.
  bool earlier_notices(Link& l) {
    std::uint64_t m = 0;
    if (!count(in_, m) || m > kMaxEarlierNotices) return false;
    l.earlier_notices.resize(m);
    for (auto& p : l.earlier_notices) {
      std::int64_t gap = 0;
      if (!in_.signed_varint(gap) || !in_.real(p.score)) return false;
      p.at_ms = l.peer_at_ms - gap;
    }
    return true;
  }

  wire::Reader in_;
  const OperatorConfig& config_;
  std::vector<std::optional<SourceId>>& sources_;
  std::vector<std::optional<IndicatorId>>& indicators_;
  bool tables_ = false;
  bool earlier_ = false;
  LinkSignal scratch_;  // reused: a signal's id keeps its capacity
};

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
    out.push_back(
        static_cast<char>((l.peer_has_own ? 1 : 0) | (l.told_own ? 2 : 0) | (l.reception ? 4 : 0)));
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
  return LinkReader(bytes, config_, read_sources_, read_indicators_).read(e);
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
