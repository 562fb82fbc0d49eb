// Alert v1 JSON (PRODUCT.md "Messages"; schema in config/schemas/alert.v1.schema.json).
//
// write_alert_json is the one place that renders alerts: the alerts topic,
// NDJSON output and the HTTP API all use it. read_alert_json reads back the
// fields tests and tools look at. Both are stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "operators/model/model.h"

namespace mozaiek {

class JsonWriter;

inline constexpr std::string_view kAlertSchema = "mozaiek.alert/v1";

// Appends the alert as one JSON object (no trailing newline) to out. Source
// and indicator ids are rendered as their configured names.
void write_alert_json(const Alert& alert, const OperatorConfig& config, std::string& out);

// One human-readable line for consoles and the demo ("ALERT <id> <rule>
// <type>:<key prefix> ..."); person keys are pseudonyms, cut to 12 hex.
std::string alert_line(const Alert& alert);

// One contribution object as in alerts; shared with the entity view.
void write_contribution_json(JsonWriter& w, const Contribution& c, const OperatorConfig& config);

// Parses an alert v1 document: alert_id, rule, subject, score, sources,
// first_seen/last_seen/raised_at, detection_delay_seconds, contributions
// (signal_id, observed_at, weight, decayed_weight; source and indicator ids
// are left 0), linked, status and level. Returns false on malformed JSON,
// a different schema, or a missing required field.
bool read_alert_json(std::string_view json, Alert& out);

}  // namespace mozaiek
