#include "operators/records/dlq_reason.h"

#include <array>

namespace mozaiek {
namespace {

constexpr std::array<std::string_view, kDlqReasonCount> kNames = {
    "malformed_json",       "wrong_schema",       "missing_field",      "bad_type",
    "field_too_large",      "unknown_source",     "source_mismatch",    "unknown_indicator",
    "bad_strength",         "bad_form",           "no_subjects",        "too_many_subjects",
    "unknown_subject_type", "bad_subject",        "bad_timestamp",      "too_late",
    "unknown_topic",        "unknown_event_type", "missing_melding_id", "missing_person",
    "missing_location",     "org_mismatch",
};

}  // namespace

std::string_view to_string(DlqReason r) {
  const auto i = static_cast<std::size_t>(r);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

std::optional<DlqReason> dlq_reason_from(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<DlqReason>(i);
  }
  return std::nullopt;
}

}  // namespace mozaiek
