// Alert actions: an analyst acknowledges, dismisses or escalates an alert.
//
// The action record v1 (config/schemas/alert-action.v1.schema.json) is what
// goes on the alert-actions topic (key: the alert id) and what every
// instance reads back to know an alert's status. This file holds the record,
// its JSON both ways and the check of a POST body; all stateless and
// thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "stream/time.h"

namespace mozaiek {

class JsonWriter;

inline constexpr std::string_view kAlertActionSchema = "mozaiek.alert-action/v1";
// Longest reason accepted, in bytes of UTF-8.
inline constexpr std::size_t kMaxActionReason = 500;
// Longest POST body read at all (room for a reason written as \u escapes).
inline constexpr std::size_t kMaxActionBody = 8192;

enum class ActionKind { ack, dismiss, escalate };
inline constexpr std::size_t kActionKindCount = 3;

std::string_view to_string(ActionKind kind);
std::optional<ActionKind> action_kind_from(std::string_view name);
// The alert status an action leaves: acknowledged, dismissed, escalated.
std::string_view status_after(ActionKind kind);

struct AlertAction {
  std::string action_id;
  std::string alert_id;
  ActionKind action = ActionKind::ack;
  std::string user;
  std::string reason;  // free text: may hold personal data, never logged
  ProcTime at{};
};

// The action record v1 as one JSON object, appended to `out`.
void write_action_json(const AlertAction& a, std::string& out);
// The short form kept in an alert's `actions` array: {action, user, reason, at}.
void write_action_entry(JsonWriter& w, const AlertAction& a);

// Reads an action record v1. On failure returns false and names the field
// that is missing or wrong in `error` (never its value).
bool read_action_json(std::string_view json, AlertAction& out, std::string& error);

// The body of POST /api/alerts/<id>/actions: {"action": ..., "reason": ...}.
struct ActionBody {
  ActionKind action = ActionKind::ack;
  std::string reason;
};
struct BodyError {
  std::string field;    // the offending field ("body" when it is not an object)
  std::string message;  // says what is wrong with it
};

// Checks a request body; on success fills `out`. `reason` is required for
// dismiss and escalate, optional for ack, at most kMaxActionReason bytes;
// unknown or repeated fields are refused by name.
std::optional<BodyError> parse_action_body(std::string_view body, ActionBody& out);

}  // namespace mozaiek
