// Why a consumed record went to the DLQ instead of being processed. The names
// are part of the DLQ contract (config/schemas/dlq.v2.schema.json) and a
// metric label, so they stay snake_case and stable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mozaiek {

enum class DlqReason : std::uint8_t {
  malformed_json,
  wrong_schema,
  missing_field,
  bad_type,
  field_too_large,
  unknown_source,
  source_mismatch,
  unknown_indicator,
  bad_strength,
  bad_form,
  no_subjects,
  too_many_subjects,
  unknown_subject_type,
  bad_subject,
  bad_timestamp,
  too_late,
  unknown_topic,
  // chain events
  unknown_event_type,
  missing_melding_id,
  missing_person,
  missing_location,
  // a chain event whose org is not the partner its topic belongs to
  org_mismatch,
  kCount
};

inline constexpr std::size_t kDlqReasonCount = static_cast<std::size_t>(DlqReason::kCount);

std::string_view to_string(DlqReason r);
std::optional<DlqReason> dlq_reason_from(std::string_view name);

// A record's rejection. `detail` names the offending field ("subjects[1].plate")
// and never carries a field's value: it ends up in logs and on the DLQ topic.
struct Rejection {
  DlqReason reason = DlqReason::malformed_json;
  std::string detail;
};

}  // namespace mozaiek
