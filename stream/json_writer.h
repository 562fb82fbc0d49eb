// A minimal streaming JSON writer that appends to a caller-owned string.
//
// It keeps no buffers of its own (nesting state is a bit stack), so with a
// reused output string writing a message allocates nothing once the string
// has grown to size. Keys and values are written in call order; the caller
// is responsible for a well-formed sequence (key before each object member).
//
//   JsonWriter w(out);
//   w.begin_object().key("score").number(7.25, 3).key("tags").begin_array()
//    .string("a").end_array().end_object();
//
// Not thread-safe; a writer lives for one message.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace mozaiek {

class JsonWriter {
 public:
  static constexpr int kMaxDepth = 64;

  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }

  // An object member's name; the next call writes its value.
  JsonWriter& key(std::string_view name) {
    separate();
    append_string(out_, name);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }

  JsonWriter& string(std::string_view s) {
    separate();
    append_string(out_, s);
    return *this;
  }
  JsonWriter& boolean(bool b) {
    separate();
    out_.append(b ? "true" : "false");
    return *this;
  }
  JsonWriter& null() {
    separate();
    out_.append("null");
    return *this;
  }
  JsonWriter& integer(std::int64_t v) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  // A number rounded to at most max_decimals decimals, trailing zeros
  // trimmed ("7.25", "3", "0.001"). NaN and infinities become null.
  JsonWriter& number(double v, int max_decimals = 6) {
    separate();
    append_number(out_, v, max_decimals);
    return *this;
  }
  // A timestamp (ms since the epoch) as an RFC 3339 UTC string, the same
  // text as format_rfc3339() in stream/time.h, without allocating.
  JsonWriter& timestamp(std::int64_t ms) {
    separate();
    append_rfc3339(out_, ms);
    return *this;
  }
  // A pre-rendered JSON value, written verbatim.
  JsonWriter& raw(std::string_view json) {
    separate();
    out_.append(json);
    return *this;
  }

  // Appends s as a JSON string literal (quotes included): escapes quotes,
  // backslashes and every control character.
  static void append_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    std::size_t run = 0;  // start of the pending run of plain bytes
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (!kNeedsEscape[c]) continue;
      out.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        default: {
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
          out.append(esc, sizeof esc);
        }
      }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
  }

  // "2024-03-01T12:00:00Z" or "...:00.250Z" (milliseconds only when non-zero),
  // quotes included; years outside 0000-9999 as signed/wider numbers.
  static void append_rfc3339(std::string& out, std::int64_t ms) {
    const std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    const int frac = static_cast<int>(ms - secs * 1000);
    const std::int64_t day = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    const int sod = static_cast<int>(secs - day * 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    const std::int64_t z = day + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);

    char buf[48];
    char* p = buf;
    *p++ = '"';
    if (y >= 0 && y <= 9999) {
      p = two(p, static_cast<int>(y / 100));
      p = two(p, static_cast<int>(y % 100));
    } else {
      p = std::to_chars(p, buf + 24, y).ptr;
    }
    *p++ = '-';
    p = two(p, static_cast<int>(m));
    *p++ = '-';
    p = two(p, static_cast<int>(d));
    *p++ = 'T';
    p = two(p, sod / 3600);
    *p++ = ':';
    p = two(p, sod / 60 % 60);
    *p++ = ':';
    p = two(p, sod % 60);
    if (frac != 0) {
      *p++ = '.';
      *p++ = static_cast<char>('0' + frac / 100);
      p = two(p, frac % 100);
    }
    *p++ = 'Z';
    *p++ = '"';
    out.append(buf, static_cast<std::size_t>(p - buf));
  }

  static void append_number(std::string& out, double v, int max_decimals) {
    if (!std::isfinite(v)) {
      out.append("null");
      return;
    }
    if (max_decimals < 0) max_decimals = 0;
    if (max_decimals > 17) max_decimals = 17;
    char buf[384];  // fixed notation of any double with 17 decimals fits
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, max_decimals);
    if (r.ec != std::errc()) {
      out.append("null");
      return;
    }
    char* end = r.ptr;
    if (max_decimals > 0) {
      while (end[-1] == '0') --end;
      if (end[-1] == '.') --end;
    }
    std::string_view text(buf, static_cast<std::size_t>(end - buf));
    if (text == "-0") text = "0";
    out.append(text);
  }

 private:
  // Bytes that cannot appear raw in a JSON string.
  static constexpr auto kNeedsEscape = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
    t['"'] = t['\\'] = true;
    return t;
  }();

  static char* two(char* p, int v) {
    *p++ = static_cast<char>('0' + v / 10);
    *p++ = static_cast<char>('0' + v % 10);
    return p;
  }

  JsonWriter& open(char c) {
    separate();
    out_.push_back(c);
    if (depth_ < kMaxDepth) first_ |= std::uint64_t{1} << depth_;
    ++depth_;
    return *this;
  }
  JsonWriter& close(char c) {
    out_.push_back(c);
    if (depth_ > 0) --depth_;
    if (depth_ < kMaxDepth) first_ &= ~(std::uint64_t{1} << depth_);  // the closed level
    return *this;
  }
  // Writes the comma between siblings; nothing after a key or at a
  // container's first element.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ == 0 || depth_ > kMaxDepth) return;
    const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
    if (first_ & bit) {
      first_ &= ~bit;
    } else {
      out_.push_back(',');
    }
  }

  std::string& out_;
  std::uint64_t first_ = 0;  // bit d set: nothing written yet at depth d+1
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace mozaiek
