#include "operators/convergence/subject_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace mozaiek::convergence {
namespace {

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::min();

// Writes into a buffer sized in advance for the worst case, so encoding a
// subject does no per-byte capacity checks.
class Writer {
 public:
  explicit Writer(char* p) : p_(p) {}
  char* end() const { return p_; }

  void u8(std::uint8_t v) { *p_++ = static_cast<char>(v); }
  void fixed64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) *p_++ = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<char>(v);
  }
  void zigzag(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void bytes(std::string_view s) {
    varint(s.size());
    raw(s);
  }
  void raw(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void f64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    fixed64(bits);
  }

 private:
  char* p_;
};

constexpr std::size_t kMaxVarint = 10;

// Bounds-checked reading; any failure sticks and makes ok() false.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  void fail() { ok_ = false; }

  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::uint64_t fixed64() {
    if (!need(8)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in_[pos_ + i])) << (8 * i);
    }
    pos_ += 8;
    return v;
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!need(1)) return 0;
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    ok_ = false;
    return 0;
  }
  std::int64_t zigzag() {
    const std::uint64_t u = varint();
    return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
  }
  double f64() {
    const std::uint64_t bits = fixed64();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  std::string_view bytes() {
    const std::uint64_t n = varint();
    if (!need(n)) return {};
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count that cannot exceed the bytes left (each item takes >= 1 byte).
  std::size_t count() {
    const std::uint64_t n = varint();
    if (n > in_.size() - pos_) ok_ = false;
    return ok_ ? static_cast<std::size_t>(n) : 0;
  }

 private:
  bool need(std::uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) ok_ = false;
    return ok_;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

bool entry_less(const Entry& a, const Entry& b) {
  if (a.observed_ms != b.observed_ms) return a.observed_ms < b.observed_ms;
  if (a.signal_id != b.signal_id) return a.signal_id < b.signal_id;
  return a.source < b.source;
}

}  // namespace

SubjectCodec::SubjectCodec(const OperatorConfig& config)
    : config_(config),
      source_stamp_(config.sources.size(), 0),
      indicator_stamp_(config.catalogue.size(), 0),
      source_slot_(config.sources.size(), 0),
      indicator_slot_(config.catalogue.size(), 0) {}

void SubjectCodec::encode(const Subject& s, std::string& out) {
  if (++generation_ == 0) {  // wrapped: old stamps could collide
    std::fill(source_stamp_.begin(), source_stamp_.end(), 0);
    std::fill(indicator_stamp_.begin(), indicator_stamp_.end(), 0);
    generation_ = 1;
  }
  // Name tables, and the worst-case size on the way.
  std::size_t bound = 1 + 8 + 8 + kMaxVarint + 1 + 3 * kMaxVarint;
  bound += 2 * kMaxVarint + 8 + 1 + s.alert_ids.size() * sizeof(AlertIdText);
  source_order_.clear();
  indicator_order_.clear();
  for (const auto& e : s.entries) {
    if (source_stamp_[e.source] != generation_) {
      source_stamp_[e.source] = generation_;
      source_slot_[e.source] = static_cast<std::uint32_t>(source_order_.size());
      source_order_.push_back(e.source);
      bound += kMaxVarint + config_.sources[e.source].name.size();
    }
    if (indicator_stamp_[e.indicator] != generation_) {
      indicator_stamp_[e.indicator] = generation_;
      indicator_slot_[e.indicator] = static_cast<std::uint32_t>(indicator_order_.size());
      indicator_order_.push_back(e.indicator);
      bound += kMaxVarint + config_.catalogue.at(e.indicator).code.size();
    }
    bound += 6 * kMaxVarint + 1 + e.signal_id.size();
  }
  if (out.size() < bound) out.resize(bound);

  Writer w(out.data());
  w.u8(kSubjectFormatVersion);
  w.fixed64(static_cast<std::uint64_t>(s.entries.empty() ? kNone : s.entries.front().observed_ms));
  w.fixed64(static_cast<std::uint64_t>(s.alerted ? s.last_alert_ms : kNever));
  w.zigzag(s.anchor_ms);
  w.u8(s.alerted ? 1 : 0);
  if (s.alerted) {
    w.varint(static_cast<std::uint64_t>(std::max(0, s.level)));
    w.zigzag(s.episode_start_ms);
    w.f64(s.last_alert_score);
    w.u8(static_cast<std::uint8_t>(s.alert_ids.size()));
    for (const auto& id : s.alert_ids) w.raw(std::string_view(id.data(), id.size()));
  }
  w.varint(source_order_.size());
  for (SourceId id : source_order_) w.bytes(config_.sources[id].name);
  w.varint(indicator_order_.size());
  for (IndicatorId id : indicator_order_) w.bytes(config_.catalogue.at(id).code);
  w.varint(s.entries.size());
  for (const auto& e : s.entries) {
    w.varint(source_slot_[e.source]);
    w.varint(indicator_slot_[e.indicator]);
    w.u8(static_cast<std::uint8_t>(e.strength));
    w.zigzag(e.observed_ms - s.anchor_ms);
    w.zigzag(e.reported_ms - e.observed_ms);
    w.bytes(e.signal_id);
  }
  out.resize(static_cast<std::size_t>(w.end() - out.data()));
}

bool SubjectCodec::read_header(std::string_view in, SubjectHeader& header) {
  Reader r(in);
  if (r.u8() != kSubjectFormatVersion) return false;
  header.min_observed_ms = static_cast<std::int64_t>(r.fixed64());
  header.last_alert_ms = static_cast<std::int64_t>(r.fixed64());
  return r.ok();
}

bool SubjectCodec::decode(std::string_view in, const RuleParams& params, Subject& s) {
  s.entries.clear();
  s.alert_ids.clear();
  s.alerted = false;
  s.level = 0;
  s.episode_start_ms = s.last_alert_ms = 0;
  s.last_alert_score = 0;

  Reader r(in);
  if (r.u8() != kSubjectFormatVersion) return false;
  r.fixed64();  // min_observed: derived again from the entries
  const auto last_alert = static_cast<std::int64_t>(r.fixed64());
  s.anchor_ms = r.zigzag();
  const std::uint8_t flags = r.u8();
  if (flags & 1) {
    s.alerted = true;
    s.last_alert_ms = last_alert;
    s.level = static_cast<int>(std::min<std::uint64_t>(r.varint(), 1'000'000));
    s.episode_start_ms = r.zigzag();
    s.last_alert_score = r.f64();
    const std::size_t n = r.u8();
    for (std::size_t i = 0; i < n && r.ok(); ++i) {
      AlertIdText text{};
      for (auto& c : text) c = static_cast<char>(r.u8());
      if (i + kMaxAlertIds >= n) s.alert_ids.push_back(text);  // keep the newest
    }
  }

  decoded_sources_.clear();
  for (std::size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
    auto id = config_.find_source(r.bytes());
    decoded_sources_.push_back(id ? static_cast<int>(*id) : -1);
  }
  decoded_indicators_.clear();
  for (std::size_t i = 0, n = r.count(); i < n && r.ok(); ++i) {
    auto id = config_.catalogue.find(r.bytes());
    decoded_indicators_.push_back(id ? static_cast<int>(*id) : -1);
  }

  const std::size_t n = r.count();
  s.entries.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const std::uint64_t src = r.varint();
    const std::uint64_t ind = r.varint();
    const std::uint8_t strength = r.u8();
    const std::int64_t observed_delta = r.zigzag();
    const std::int64_t reported_delta = r.zigzag();
    std::string_view id = r.bytes();
    if (!r.ok()) break;
    // Times out of range are a corrupt value, not an overflow (found by fuzzing).
    std::int64_t observed = 0;
    std::int64_t reported = 0;
    if (__builtin_add_overflow(s.anchor_ms, observed_delta, &observed) ||
        __builtin_add_overflow(observed, reported_delta, &reported)) {
      r.fail();
      break;
    }
    if (src >= decoded_sources_.size() || ind >= decoded_indicators_.size()) {
      r.fail();  // a reference past the name tables
      break;
    }
    if (decoded_sources_[src] < 0 || decoded_indicators_[ind] < 0) continue;  // unconfigured now
    Entry& e = s.entries.emplace_back();
    e.signal_id.assign(id);
    e.observed_ms = observed;
    e.reported_ms = reported;
    e.source = static_cast<SourceId>(decoded_sources_[src]);
    e.indicator = static_cast<IndicatorId>(decoded_indicators_[ind]);
    e.strength = strength == 1 ? Strength::concrete : Strength::soft;
    e.weight = config_.catalogue.at(e.indicator).weight;
  }
  if (!r.ok()) {
    s.entries.clear();
    s.alert_ids.clear();
    s.alerted = false;
    return false;
  }
  if (!std::is_sorted(s.entries.begin(), s.entries.end(), entry_less)) {
    std::sort(s.entries.begin(), s.entries.end(), entry_less);
  }
  rescale(s, params);
  return true;
}

}  // namespace mozaiek::convergence
