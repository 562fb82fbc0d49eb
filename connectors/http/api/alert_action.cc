#include "connectors/http/api/alert_action.h"

#include <simdjson.h>

#include <array>

#include "connectors/http/api/record_reader.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

constexpr std::array<std::string_view, kActionKindCount> kNames = {"ack", "dismiss", "escalate"};
constexpr std::array<std::string_view, kActionKindCount> kStatuses = {"acknowledged", "dismissed",
                                                                      "escalated"};
// Limits on what is read back from the topic, so one odd record cannot grow
// the feed without bound.
constexpr std::size_t kMaxIdBytes = 256;
constexpr std::size_t kMaxUserBytes = 128;

}  // namespace

std::string_view to_string(ActionKind kind) { return kNames[static_cast<std::size_t>(kind)]; }

std::optional<ActionKind> action_kind_from(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ActionKind>(i);
  }
  return std::nullopt;
}

std::string_view status_after(ActionKind kind) { return kStatuses[static_cast<std::size_t>(kind)]; }

void write_action_json(const AlertAction& a, std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema").string(kAlertActionSchema);
  w.key("action_id").string(a.action_id);
  w.key("alert_id").string(a.alert_id);
  w.key("action").string(to_string(a.action));
  w.key("user").string(a.user);
  w.key("reason").string(a.reason);
  w.key("at").timestamp(to_ms(a.at));
  w.end_object();
}

void write_action_entry(JsonWriter& w, const AlertAction& a) {
  w.begin_object();
  w.key("action").string(to_string(a.action));
  w.key("user").string(a.user);
  w.key("reason").string(a.reason);
  w.key("at").timestamp(to_ms(a.at));
  w.end_object();
}

bool read_action_json(std::string_view json, AlertAction& out, std::string& error) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!open_record(parser, json, kAlertActionSchema, doc, error)) return false;
  std::string_view text;
  if (!read_text(doc, "action_id", kMaxIdBytes, false, out.action_id, error) ||
      !read_text(doc, "alert_id", kMaxIdBytes, false, out.alert_id, error) ||
      !read_text(doc, "user", kMaxUserBytes, false, out.user, error) ||
      !read_text(doc, "reason", kMaxActionReason, true, out.reason, error)) {
    return false;
  }
  std::optional<ActionKind> kind;
  if (doc["action"].get(text) || !(kind = action_kind_from(text))) {
    error = "action";
    return false;
  }
  out.action = *kind;
  std::optional<EventTime> at;
  if (doc["at"].get(text) || !(at = parse_rfc3339(text))) {
    error = "at";
    return false;
  }
  out.at = ProcTime{Millis{to_ms(*at)}};
  return true;
}

std::optional<BodyError> parse_action_body(std::string_view body, ActionBody& out) {
  if (body.size() > kMaxActionBody) return BodyError{"body", "at most 8192 bytes"};
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc)) {
    return BodyError{"body", "the body must be a JSON object in UTF-8"};
  }
  simdjson::dom::object fields;
  if (doc.get(fields)) return BodyError{"body", "the body must be a JSON object"};
  bool have_action = false;
  bool have_reason = false;
  out = ActionBody{};
  for (auto field : fields) {
    const std::string_view name = field.key;
    bool* seen = name == "action" ? &have_action : name == "reason" ? &have_reason : nullptr;
    if (seen == nullptr) {
      return BodyError{std::string(name), "unknown field; expected action and reason"};
    }
    if (*seen) return BodyError{std::string(name), "field given twice"};
    *seen = true;
    std::string_view text;
    if (field.value.get(text)) return BodyError{std::string(name), "must be a string"};
    if (seen == &have_action) {
      auto kind = action_kind_from(text);
      if (!kind) return BodyError{"action", "must be one of: ack, dismiss, escalate"};
      out.action = *kind;
    } else {
      if (text.size() > kMaxActionReason) {
        return BodyError{"reason", "at most 500 bytes of UTF-8"};
      }
      out.reason.assign(text);
    }
  }
  if (!have_action) return BodyError{"action", "required: one of ack, dismiss, escalate"};
  if (out.action != ActionKind::ack && out.reason.empty()) {
    return BodyError{"reason", "required for dismiss and escalate"};
  }
  return std::nullopt;
}

}  // namespace mozaiek
