// Little building blocks of the internal binary record formats
// (routed_codec, oversight/chain_codec): varints, zigzag event times,
// length-prefixed strings, and a bounds-checked reader. Header-only; pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stream/time.h"

namespace mozaiek::codec {

inline void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline void put_time(EventTime t, std::string& out) {
  const auto ms = static_cast<std::uint64_t>(to_ms(t));
  // Zigzag, so the negative sentinel kMinEventTime stays a short-ish varint.
  put_varint((ms << 1) ^ static_cast<std::uint64_t>(to_ms(t) >> 63), out);
}

inline void put_string(std::string_view s, std::string& out) {
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
  bool string(std::string& s) {
    std::string_view v;
    if (!view(v)) return false;
    s.assign(v);
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

}  // namespace mozaiek::codec
