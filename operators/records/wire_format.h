// Building blocks of the binary encodings on the internal topic and in
// state: varints, zigzag times, length-prefixed strings, and a
// bounds-checked reader. Header-only; stateless and thread-safe.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>

#include "stream/time.h"

namespace mozaiek::wire {

inline void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Zigzag, so the negative sentinel kMinEventTime stays a short-ish varint.
inline void put_signed(std::int64_t v, std::string& out) {
  put_varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63), out);
}

inline void put_time(EventTime t, std::string& out) { put_signed(to_ms(t), out); }

inline void put_string(std::string_view s, std::string& out) {
  put_varint(s.size(), out);
  out.append(s);
}

// A double as its 8 IEEE bytes, little end first.
inline void put_double(double d, std::string& out) {
  auto bits = std::bit_cast<std::uint64_t>(d);
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>(bits & 0xff));
    bits >>= 8;
  }
}

// Every get fails once the input is exhausted or malformed.
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
  bool signed_varint(std::int64_t& v) {
    std::uint64_t z;
    if (!varint(z)) return false;
    v = static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
    return true;
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
    std::int64_t ms;
    if (!signed_varint(ms)) return false;
    t = event_time_from_ms(ms);
    return true;
  }
  bool real(double& d) {
    if (p_.size() < 8) return false;
    std::uint64_t bits = 0;
    for (int i = 7; i >= 0; --i) bits = (bits << 8) | static_cast<std::uint8_t>(p_[i]);
    p_.remove_prefix(8);
    d = std::bit_cast<double>(bits);
    return true;
  }
  std::size_t remaining() const { return p_.size(); }

 private:
  std::string_view p_;
};

}  // namespace mozaiek::wire
