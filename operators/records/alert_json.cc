#include "operators/records/alert_json.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>

#include "stream/json_writer.h"

namespace mozaiek {
namespace {

constexpr int kScoreDecimals = 3;
constexpr int kWeightDecimals = 4;
constexpr int kSecondsDecimals = 3;  // milliseconds

std::string_view source_name(const OperatorConfig& config, SourceId id) {
  return id < config.sources.size() ? std::string_view(config.sources[id].name) : "unknown";
}

std::string_view indicator_code(const OperatorConfig& config, IndicatorId id) {
  return id < config.catalogue.size() ? std::string_view(config.catalogue.at(id).code) : "unknown";
}

bool read_time(simdjson::dom::element e, std::string_view field, EventTime& out) {
  std::string_view text;
  if (e[field].get(text)) return false;
  auto t = parse_rfc3339(text);
  if (!t) return false;
  out = *t;
  return true;
}

bool read_subject(simdjson::dom::element e, SubjectType& type, std::string& key,
                  std::string* kind = nullptr) {
  std::string_view type_text, key_text;
  if (e["type"].get(type_text) || e["key"].get(key_text)) return false;
  auto t = subject_type_from(type_text);
  if (!t) {
    // The one subject outside SubjectType: an sla_breach's melding.
    if (kind == nullptr || type_text != "melding") return false;
    kind->assign(type_text);
  } else {
    type = *t;
  }
  key.assign(key_text);
  return true;
}

}  // namespace

void write_contribution_json(JsonWriter& w, const Contribution& c, const OperatorConfig& config) {
  w.begin_object();
  w.key("signal_id").string(c.signal_id);
  w.key("source").string(source_name(config, c.source));
  w.key("indicator").string(indicator_code(config, c.indicator));
  w.key("observed_at").timestamp(to_ms(c.observed_at));
  w.key("weight").number(c.weight, kWeightDecimals);
  w.key("decayed_weight").number(c.decayed_weight, kWeightDecimals);
  w.end_object();
}

void write_alert_json(const Alert& a, const OperatorConfig& config, std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  w.key("schema").string(kAlertSchema);
  w.key("alert_id").string(a.alert_id);
  w.key("rule").string(a.rule);
  w.key("purpose").string(to_string(a.purpose));
  w.key("subject").begin_object();
  w.key("type").string(a.subject_kind.empty() ? to_string(a.subject_type)
                                              : std::string_view(a.subject_kind));
  w.key("key").string(a.subject_key);
  w.end_object();
  w.key("score").number(a.score, kScoreDecimals);
  w.key("sources").begin_array();
  for (const auto& s : a.sources) w.string(s);
  w.end_array();
  w.key("first_seen").timestamp(to_ms(a.first_seen));
  w.key("last_seen").timestamp(to_ms(a.last_seen));
  w.key("raised_at").timestamp(to_ms(a.raised_at));
  w.key("detection_delay_seconds").number(a.detection_delay_seconds, kSecondsDecimals);
  w.key("contributions").begin_array();
  for (const auto& c : a.contributions) write_contribution_json(w, c, config);
  w.end_array();
  w.key("linked").begin_array();
  for (const auto& l : a.linked) {
    w.begin_object();
    w.key("type").string(to_string(l.type));
    w.key("key").string(l.key);
    w.key("rule").string(l.rule);
    w.key("via").begin_array();
    for (const auto& id : l.via) w.string(id);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  if (!a.events.empty()) {
    w.key("events").begin_array();
    for (const auto& e : a.events) {
      w.begin_object();
      w.key("event_id").string(e.event_id);
      w.key("type").string(e.type);
      w.key("at").timestamp(to_ms(e.at));
      w.key("org").string(e.org);
      w.key("subject_key").string(e.subject_key);
      w.end_object();
    }
    w.end_array();
  }
  w.key("status").string(a.status);
  w.key("level").integer(a.level);
  // Pseudonyms carry their key version, so a consumer never mixes two.
  const bool names_person = (a.subject_kind.empty() && a.subject_type == SubjectType::person) ||
                            !a.events.empty() ||
                            std::any_of(a.linked.begin(), a.linked.end(), [](const auto& l) {
                              return l.type == SubjectType::person;
                            });
  if (names_person) w.key("pseudonym_key_version").integer(config.pseudonym_key_version);
  // The rule set that raised it (set by the service; a live reload changes it).
  if (!config.rules_version.empty()) w.key("rules_version").string(config.rules_version);
  w.end_object();
}

std::string alert_line(const Alert& a) {
  const std::string_view type = a.subject_kind.empty() ? to_string(a.subject_type)
                                                       : std::string_view(a.subject_kind);
  // Pseudonyms are cut to 12 hex digits; other keys are shown whole (bounded).
  const int key_chars = a.subject_kind.empty() && a.subject_type == SubjectType::person ? 12 : 64;
  char buf[512];
  if (a.events.empty()) {
    std::snprintf(buf, sizeof buf,
                  "ALERT %s %s %.*s:%.*s score=%.2f sources=%zu level=%d "
                  "delay=%.0fs",
                  a.alert_id.c_str(), a.rule.c_str(), static_cast<int>(type.size()), type.data(),
                  key_chars, a.subject_key.c_str(), a.score, a.sources.size(), a.level,
                  a.detection_delay_seconds);
  } else {
    std::snprintf(buf, sizeof buf, "ALERT %s %s %.*s:%.*s score=%.2f events=%zu signals=%zu",
                  a.alert_id.c_str(), a.rule.c_str(), static_cast<int>(type.size()), type.data(),
                  key_chars, a.subject_key.c_str(), a.score, a.events.size(),
                  a.contributions.size());
  }
  return buf;
}

bool read_alert_json(std::string_view json, Alert& out) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc)) return false;

  std::string_view schema, text;
  if (doc["schema"].get(schema) || schema != kAlertSchema) return false;
  out = Alert{};
  if (doc["alert_id"].get(text)) return false;
  out.alert_id.assign(text);
  if (doc["rule"].get(text)) return false;
  out.rule.assign(text);
  // Alerts written before purposes existed are investigation alerts.
  if (!doc["purpose"].get(text)) {
    const auto purpose = purpose_from(text);
    if (!purpose || *purpose == Purpose::aggregate_only) return false;
    out.purpose = *purpose;
  }
  simdjson::dom::element subject;
  if (doc["subject"].get(subject) ||
      !read_subject(subject, out.subject_type, out.subject_key, &out.subject_kind)) {
    return false;
  }
  if (doc["score"].get(out.score)) return false;

  simdjson::dom::array array;
  if (doc["sources"].get(array)) return false;
  for (auto item : array) {
    if (item.get(text)) return false;
    out.sources.emplace_back(text);
  }
  // Optional for readers: times and the delay.
  read_time(doc, "first_seen", out.first_seen);
  read_time(doc, "last_seen", out.last_seen);
  EventTime raised{};
  if (read_time(doc, "raised_at", raised)) out.raised_at = ProcTime{raised.time_since_epoch()};
  double delay = 0;
  if (!doc["detection_delay_seconds"].get(delay)) out.detection_delay_seconds = delay;

  if (doc["contributions"].get(array)) return false;
  for (auto item : array) {
    Contribution& c = out.contributions.emplace_back();
    if (item["signal_id"].get(text)) return false;
    c.signal_id.assign(text);
    read_time(item, "observed_at", c.observed_at);
    double v = 0;
    if (!item["weight"].get(v)) c.weight = v;
    if (!item["decayed_weight"].get(v)) c.decayed_weight = v;
  }
  if (!doc["linked"].get(array)) {
    for (auto item : array) {
      LinkedEntity& l = out.linked.emplace_back();
      if (!read_subject(item, l.type, l.key)) return false;
      if (!item["rule"].get(text)) l.rule.assign(text);
      simdjson::dom::array via;
      if (!item["via"].get(via)) {
        for (auto id : via) {
          if (!id.get(text)) l.via.emplace_back(text);
        }
      }
    }
  }
  if (!doc["events"].get(array)) {
    for (auto item : array) {
      AlertEvent& e = out.events.emplace_back();
      if (!item["event_id"].get(text)) e.event_id.assign(text);
      if (!item["type"].get(text)) e.type.assign(text);
      read_time(item, "at", e.at);
      if (!item["org"].get(text)) e.org.assign(text);
      if (!item["subject_key"].get(text)) e.subject_key.assign(text);
    }
  }
  if (!doc["status"].get(text)) out.status.assign(text);
  std::int64_t level = 0;
  if (doc["level"].get(level)) return false;
  out.level = static_cast<int>(level);
  return true;
}

}  // namespace mozaiek
