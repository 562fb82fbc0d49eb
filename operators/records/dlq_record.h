// The DLQ record written for every rejected input record
// (config/schemas/dlq.v1.schema.json): why, where it came from, and the
// original bytes, so a partner or operator can fix and resend it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "operators/records/dlq_reason.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kDlqSchemaV1 = "mozaiek.dlq/v1";

// Replaces `out_json` with one DLQ v1 JSON object. The original goes in as a
// JSON string when it is valid UTF-8 ("original_encoding": "utf8"), else
// base64-encoded ("original_encoding": "base64").
void write_dlq_record(const Rejection& rejection, std::string_view topic, std::int32_t partition,
                      std::int64_t offset, std::string_view original, ProcTime now,
                      std::string& out_json);

}  // namespace mozaiek
