// Binary encoding of a convergence Subject for the state store.
//
// Sources and indicators are stored by name, not by id: ids are positions in
// the configuration and shift when a partner or indicator is added, while
// state outlives configuration changes. Entries whose source or indicator
// is no longer configured are dropped on decode.
//
// Layout, version 1 (integers little-endian, "v" = LEB128 varint, "z" =
// zig-zag varint, times in ms since the epoch):
//   u8 version | i64 min_observed (INT64_MAX if none) | i64 last_alert
//   (INT64_MIN if none) | z anchor | u8 flags (1 = alerted)
//   [alerted: v level | z episode_start | f64 last_alert_score | u8 n | n x 32 hex]
//   v n_sources, n x (v len, bytes) | v n_indicators, n x (v len, bytes)
//   v n_entries, n x (v source# | v indicator# | u8 strength | z observed-anchor
//                     | z reported-observed | v id len | id bytes)
// The two fixed fields let expiry skip entries without decoding them.
//
// One codec per partition state: it keeps scratch tables, so it is not
// thread-safe, and it borrows the config, which must outlive it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "operators/convergence/subject_state.h"
#include "operators/model/model.h"

namespace mozaiek::convergence {

inline constexpr std::uint8_t kSubjectFormatVersion = 1;

// The fixed-position summary at the start of an encoded subject.
struct SubjectHeader {
  std::int64_t min_observed_ms = 0;  // INT64_MAX when there are no entries
  std::int64_t last_alert_ms = 0;    // INT64_MIN when never alerted
};

class SubjectCodec {
 public:
  explicit SubjectCodec(const OperatorConfig& config);

  void encode(const Subject& s, std::string& out);
  // Replaces s's persisted fields. Returns false on a malformed or unknown
  // version value (s is then left cleared).
  bool decode(std::string_view in, const RuleParams& params, Subject& s);
  static bool read_header(std::string_view in, SubjectHeader& header);

 private:
  const OperatorConfig& config_;
  // Per-encode tables from id to its position in the name table; a slot is
  // valid when its stamp equals the current generation.
  std::vector<std::uint32_t> source_stamp_, indicator_stamp_;
  std::vector<std::uint32_t> source_slot_, indicator_slot_;
  std::vector<SourceId> source_order_;
  std::vector<IndicatorId> indicator_order_;
  std::uint32_t generation_ = 0;
  std::vector<int> decoded_sources_;     // slot -> SourceId, -1 when unknown
  std::vector<int> decoded_indicators_;  // slot -> IndicatorId, -1 when unknown
};

}  // namespace mozaiek::convergence
