#include "connectors/app/intake_order.h"

#include <charconv>

#include "operators/records/internal_time.h"

namespace mozaiek {
namespace {

constexpr std::string_view kPrefix = "mozaiek-watermarks/1";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::optional<std::int64_t> to_int(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::int64_t> partner_record_ms(const RecordView& record) {
  return reported_at_ms(record.value);
}

std::optional<std::int64_t> internal_record_ms(const RecordView& record) {
  const auto t = internal_record_watermark(record.value);
  if (!t) return std::nullopt;
  return to_ms(*t);
}

std::optional<std::int64_t> reported_at_ms(std::string_view record) {
  static constexpr std::string_view kField = "\"reported_at\"";
  const std::size_t at = record.find(kField);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + kField.size();
  while (i < record.size() && is_space(record[i])) ++i;
  if (i >= record.size() || record[i] != ':') return std::nullopt;
  ++i;
  while (i < record.size() && is_space(record[i])) ++i;
  if (i >= record.size() || record[i] != '"') return std::nullopt;
  const std::size_t end = record.find('"', i + 1);
  if (end == std::string_view::npos) return std::nullopt;
  const auto t = parse_rfc3339(record.substr(i + 1, end - i - 1));
  if (!t) return std::nullopt;
  return to_ms(*t);
}

std::string encode_watermarks(const WatermarkTracker& watermarks,
                              const std::vector<SourcePolicy>& sources) {
  std::string out(kPrefix);
  out += " floor=" + std::to_string(to_ms(watermarks.floor()));
  const std::vector<EventTime> maxima = watermarks.maxima();
  for (std::size_t i = 0; i < maxima.size() && i < sources.size(); ++i) {
    if (maxima[i] == kMinEventTime) continue;
    out += ' ' + sources[i].name + '=' + std::to_string(to_ms(maxima[i]));
  }
  return out;
}

std::size_t restore_watermarks(const std::vector<std::string>& encoded,
                               const std::vector<SourcePolicy>& sources,
                               WatermarkTracker& watermarks, ProcTime now) {
  std::size_t applied = 0;
  for (const std::string& text : encoded) {
    std::string_view rest(text);
    if (!rest.starts_with(kPrefix)) continue;
    rest.remove_prefix(kPrefix.size());
    ++applied;
    while (!rest.empty()) {
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      const std::size_t space = rest.find(' ');
      const std::string_view item = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space);
      const std::size_t eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view name = item.substr(0, eq);
      const auto ms = to_int(item.substr(eq + 1));
      if (!ms) continue;
      if (name == "floor") {
        watermarks.restore_floor(event_time_from_ms(*ms));
        continue;
      }
      for (std::size_t i = 0; i < sources.size(); ++i) {
        if (sources[i].name == name) watermarks.restore(i, event_time_from_ms(*ms), now);
      }
    }
  }
  return applied;
}

}  // namespace mozaiek
