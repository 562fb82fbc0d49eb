// Signal v1 (partner bytes on signals.<source>) through intake as the
// service reads it, with and without a topic source. Properties: parse never
// throws or reads out of bounds; an accepted signal routes, and each routed
// copy survives its internal-record codec (decode(encode(x)) encodes to the
// same bytes).
#include <optional>
#include <string>
#include <vector>

#include "operators/intake/signal_intake.h"
#include "operators/records/routed_codec.h"
#include "operators/records/subject_router.h"
#include "tests/fuzz/fuzz_support.h"

namespace mozaiek::fuzz {
namespace {

void check_routed_round_trip(const Signal& signal) {
  const OperatorConfig& config = shipped_config();
  std::vector<RoutedSignal> routed;
  const std::size_t n = route_signal(signal, signal.observed_at, routed);
  std::string first, second;
  RoutedSignal back;
  for (std::size_t i = 0; i < n; ++i) {
    encode_routed(routed[i], config, first);
    FUZZ_CHECK(decode_routed(first, config, back));
    FUZZ_CHECK(back.subject_key == routed[i].subject_key);
    FUZZ_CHECK(back.signal_id == routed[i].signal_id);
    encode_routed(back, config, second);
    FUZZ_CHECK(first == second);
  }
}

}  // namespace
}  // namespace mozaiek::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  static SignalIntake intake(fuzz::shipped_config(), fuzz::pseudonymiser());
  static Signal signal;
  const std::string_view json = fuzz::bytes(data, size);
  if (!intake.parse(json, std::nullopt, signal)) fuzz::check_routed_round_trip(signal);
  // As read from the first partner's topic: a source mismatch is judged too.
  if (!intake.parse(json, SourceId{0}, signal)) fuzz::check_routed_round_trip(signal);
  return 0;
}
