#include "operators/records/dlq_record.h"

#include <simdjson.h>

#include "stream/json_writer.h"

namespace mozaiek {
namespace {

// Standard base64 (RFC 4648, padded).
void append_base64(std::string_view bytes, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 0x3f]);
    out.push_back(kAlphabet[(v >> 12) & 0x3f]);
    out.push_back(kAlphabet[(v >> 6) & 0x3f]);
    out.push_back(kAlphabet[v & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  std::uint32_t v = std::uint32_t{p[i]} << 16;
  if (rest == 2) v |= std::uint32_t{p[i + 1]} << 8;
  out.push_back(kAlphabet[(v >> 18) & 0x3f]);
  out.push_back(kAlphabet[(v >> 12) & 0x3f]);
  out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 0x3f] : '=');
  out.push_back('=');
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

}  // namespace

void write_dlq_record(const Rejection& rejection, std::string_view topic, std::int32_t partition,
                      std::int64_t offset, std::string_view original, ProcTime now,
                      std::string& out_json) {
  const bool utf8 = valid_utf8(original);
  out_json.clear();
  JsonWriter w(out_json);
  w.begin_object()
      .key("schema")
      .string(kDlqSchemaV1)
      .key("reason")
      .string(to_string(rejection.reason))
      // Details and topics are ours or the broker's, but the output must stay JSON regardless.
      .key("detail")
      .string(valid_utf8(rejection.detail) ? std::string_view(rejection.detail) : "")
      .key("source_topic")
      .string(valid_utf8(topic) ? topic : "")
      .key("partition")
      .integer(partition)
      .key("offset")
      .integer(offset)
      .key("rejected_at")
      .string(format_rfc3339(now))
      .key("original_encoding")
      .string(utf8 ? "utf8" : "base64")
      .key("original");
  if (utf8) {
    w.string(original);
  } else {
    // Written by hand to encode straight into the output, without a temporary.
    w.raw("\"");
    append_base64(original, out_json);
    out_json.push_back('"');
  }
  w.end_object();
}

}  // namespace mozaiek
