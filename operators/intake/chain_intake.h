// ChainIntake: parses and validates one chain event v1 (JSON, see
// config/schemas/chain.v1.schema.json) into a ChainEvent: persons
// pseudonymised and places normalised by the same subject reader as signals
// (operators/intake/intake_json.h). Everything else becomes a Rejection naming the
// reason and the field, never a value.
//
// One instance per intake task, called on that task's thread only; buffers
// are reused, so after warm-up a record costs no heap allocation. Never
// throws on input.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "operators/intake/pseudonymiser.h"
#include "operators/model/chain_event.h"
#include "operators/model/model.h"
#include "operators/records/dlq_reason.h"

namespace mozaiek {

class ChainIntake {
 public:
  static constexpr std::size_t kMaxDocumentBytes = std::size_t{1} << 20;

  // Borrows config and pseudonymiser; both must outlive this object.
  ChainIntake(const OperatorConfig& config, const Pseudonymiser& pseudonymiser);
  ~ChainIntake();
  ChainIntake(const ChainIntake&) = delete;
  ChainIntake& operator=(const ChainIntake&) = delete;

  // On success fills `out` (reusing its buffers) and returns nullopt.
  std::optional<Rejection> parse(std::string_view json, ChainEvent& out);

  // Whether a record in a mixed file (replay) claims to be a chain event:
  // its top-level `schema` is "mozaiek.chain/v1". Records that do not are
  // read as signals, whose parser judges them.
  bool claims_chain_schema(std::string_view json);

 private:
  class Parser;
  std::unique_ptr<Parser> parser_;
};

}  // namespace mozaiek
