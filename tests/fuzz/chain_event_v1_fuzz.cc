// Chain event v1 (partner bytes on chain.<org> and chain.events) through
// intake. Properties: parse and the schema sniffing never throw or read out
// of bounds; an accepted event routes, and each routed copy survives its
// internal-record codec (decode(encode(x)) encodes to the same bytes).
#include <string>
#include <vector>

#include "operators/intake/chain_intake.h"
#include "operators/records/chain_codec.h"
#include "operators/records/chain_router.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  const OperatorConfig& config = fuzz::shipped_config();
  static ChainIntake intake(config, fuzz::pseudonymiser());
  static ChainEvent event;
  static std::vector<RoutedChainEvent> routed;
  const std::string_view json = fuzz::bytes(data, size);
  (void)intake.claims_chain_schema(json);
  if (intake.parse(json, event)) return 0;
  const std::size_t n = route_chain_event(event, event.at, routed);
  std::string first, second, key;
  RoutedChainEvent back;
  for (std::size_t i = 0; i < n; ++i) {
    chain_routing_key(routed[i], key);
    encode_routed_chain(routed[i], config, first);
    FUZZ_CHECK(decode_routed_chain(first, config, back));
    FUZZ_CHECK(back.entity_key == routed[i].entity_key);
    FUZZ_CHECK(back.event.event_id == routed[i].event.event_id);
    encode_routed_chain(back, config, second);
    FUZZ_CHECK(first == second);
  }
  return 0;
}
