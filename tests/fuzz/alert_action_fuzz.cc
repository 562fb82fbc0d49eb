// Alert actions: the same bytes as a POST /api/alerts/<id>/actions body and
// as an action record v1 read back from mozaiek.alert-actions. Properties:
// neither reader throws or reads out of bounds; a record that reads writes
// JSON that reads again to the same record (write(read(write(x))) ==
// write(x)), and a body that passes has a known action and a bounded reason.
#include <string>

#include "connectors/http/api/alert_action.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  const std::string_view in = fuzz::bytes(data, size);

  ActionBody body;
  if (!parse_action_body(in, body)) {
    FUZZ_CHECK(body.reason.size() <= kMaxActionReason);
    FUZZ_CHECK(action_kind_from(to_string(body.action)) == body.action);
  }

  AlertAction action;
  std::string error;
  if (!read_action_json(in, action, error)) return 0;
  std::string first, second;
  write_action_json(action, first);
  AlertAction back;
  FUZZ_CHECK(read_action_json(first, back, error));
  FUZZ_CHECK(back.alert_id == action.alert_id && back.reason == action.reason &&
             back.user == action.user && back.action == action.action && back.at == action.at);
  write_action_json(back, second);
  FUZZ_CHECK(first == second);
  return 0;
}
