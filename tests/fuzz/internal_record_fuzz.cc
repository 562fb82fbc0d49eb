// Records on mozaiek.internal.subjects as the convergence task reads them:
// the kind byte picks the codec (routed signal, chain event, entity notice,
// erasure). Properties: no decoder throws or reads out of bounds, and what
// decodes re-encodes to bytes that decode and encode to the same bytes
// again (encoding is a fixed point after one decode).
#include <string>

#include "operators/records/chain_codec.h"
#include "operators/records/entity_notice.h"
#include "operators/records/erasure_record.h"
#include "operators/records/internal_record.h"
#include "operators/records/routed_codec.h"
#include "tests/fuzz/fuzz_support.h"

namespace mozaiek::fuzz {
namespace {

// decode(in) succeeded into `value`: encode, decode, encode gives the same bytes.
template <class T, class Encode, class Decode>
void check_fixed_point(const T& value, Encode encode, Decode decode) {
  std::string first, second;
  encode(value, first);
  T back;
  FUZZ_CHECK(decode(first, back));
  encode(back, second);
  FUZZ_CHECK(first == second);
}

}  // namespace
}  // namespace mozaiek::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  const OperatorConfig& config = fuzz::shipped_config();
  const std::string_view in = fuzz::bytes(data, size);
  const auto kind = internal_record_kind(in);
  if (!kind) return 0;
  switch (*kind) {
    case InternalRecordKind::routed_signal: {
      RoutedSignal r;
      if (!decode_routed(in, config, r)) return 0;
      fuzz::check_fixed_point(
          r, [&](const RoutedSignal& v, std::string& out) { encode_routed(v, config, out); },
          [&](std::string_view b, RoutedSignal& v) { return decode_routed(b, config, v); });
      break;
    }
    case InternalRecordKind::chain_event: {
      RoutedChainEvent r;
      if (!decode_routed_chain(in, config, r)) return 0;
      fuzz::check_fixed_point(
          r,
          [&](const RoutedChainEvent& v, std::string& out) { encode_routed_chain(v, config, out); },
          [&](std::string_view b, RoutedChainEvent& v) {
            return decode_routed_chain(b, config, v);
          });
      break;
    }
    case InternalRecordKind::entity_notice: {
      EntityNotice n;
      if (!decode_notice(in, n)) return 0;
      fuzz::check_fixed_point(
          n, [](const EntityNotice& v, std::string& out) { encode_notice(v, out); },
          [](std::string_view b, EntityNotice& v) { return decode_notice(b, v); });
      break;
    }
    case InternalRecordKind::erasure: {
      ErasureRecord e;
      if (!decode_erasure(in, e)) return 0;
      fuzz::check_fixed_point(
          e, [](const ErasureRecord& v, std::string& out) { encode_erasure(v, out); },
          [](std::string_view b, ErasureRecord& v) { return decode_erasure(b, v); });
      break;
    }
  }
  return 0;
}
