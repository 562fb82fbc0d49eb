// SignalIntake: parses and validates one partner signal (signal v1 JSON, see
// config/schemas/signal.v1.schema.json) into a Signal: catalogue and source
// policy applied, plates and locations normalised, persons pseudonymised.
// Everything else becomes a Rejection naming the reason and the field.
//
// One instance per intake task, called on that task's thread only: parse()
// reuses its JSON parser, its input copy and the output Signal's buffers, so
// after warm-up a record costs no heap allocation. Never throws on input.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "operators/intake/pseudonymiser.h"
#include "operators/model/model.h"
#include "operators/records/dlq_reason.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kSignalSchemaV1 = "mozaiek.signal/v1";

class SignalIntake {
 public:
  // Larger records are rejected unread (field_too_large, "document"): bounds
  // the parser's memory whatever a partner sends.
  static constexpr std::size_t kMaxDocumentBytes = std::size_t{1} << 20;
  // Clock skew tolerated between a partner's observed_at and reported_at.
  static constexpr Millis kReportedBeforeObservedSlack = seconds(60);

  // Borrows config and pseudonymiser; both must outlive this object.
  SignalIntake(const OperatorConfig& config, const Pseudonymiser& pseudonymiser);
  ~SignalIntake();
  SignalIntake(const SignalIntake&) = delete;
  SignalIntake& operator=(const SignalIntake&) = delete;

  // Parses and validates one signal v1. topic_source: the source implied by
  // the topic name ("signals.coa" -> coa), or nullopt when the record has no
  // topic (files). On success fills `out` (reusing its buffers) and returns
  // nullopt; otherwise returns the rejection and `out` is unspecified.
  std::optional<Rejection> parse(std::string_view json, std::optional<SourceId> topic_source,
                                 Signal& out);

 private:
  class Parser;  // keeps simdjson out of this header
  std::unique_ptr<Parser> parser_;
};

}  // namespace mozaiek
