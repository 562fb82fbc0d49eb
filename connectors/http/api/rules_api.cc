#include "connectors/http/api/rules_api.h"

#include "stream/json_writer.h"

namespace mozaiek {

std::string rules_json(const OperatorConfig& config) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  for (const auto& r : config.rules) {
    w.begin_object();
    w.key("name").string(r.name);
    w.key("subject_type").string(to_string(r.subject_type));
    w.key("window_days").number(to_seconds(r.window) / 86400.0, 3);
    w.key("half_life_days").number(to_seconds(r.half_life) / 86400.0, 3);
    w.key("threshold").number(r.threshold, 3);
    w.key("min_sources").integer(r.min_sources);
    w.key("concrete_alone").boolean(r.concrete_alone);
    w.key("cooldown_days").number(to_seconds(r.cooldown) / 86400.0, 3);
    w.key("escalation_step").number(r.escalation_step, 3);
    w.key("max_contributions").integer(static_cast<std::int64_t>(r.max_contributions));
    w.end_object();
  }
  const LinkingConfig& l = config.linking;
  for (const auto& [r, type] :
       {std::pair{&l.pickup_van, "vehicle"}, std::pair{&l.linked_persons, "vehicle,location"},
        std::pair{&l.address_hotspot, "location"}}) {
    w.begin_object();
    w.key("name").string(r->name);
    w.key("subject_type").string(type);
    w.key("network").boolean(true);
    w.key("enabled").boolean(l.enabled && r->enabled);
    w.key("window_days").number(to_seconds(r->window) / 86400.0, 3);
    w.key("min_count").integer(r->min_count);
    w.key("weight").number(r->weight, 3);
    w.key("cooldown_days").number(to_seconds(r->cooldown) / 86400.0, 3);
    w.key("escalation_step").number(r->escalation_step, 3);
    w.end_object();
  }
  w.begin_object();
  w.key("name").string(l.person_lift.name);
  w.key("subject_type").string("person");
  w.key("network").boolean(true);
  w.key("enabled").boolean(l.enabled && l.person_lift.enabled);
  w.key("share").number(l.person_lift.share, 3);
  w.key("threshold").number(l.person_lift.threshold, 3);
  w.key("link_window_days").number(to_seconds(l.link_window) / 86400.0, 3);
  w.end_object();
  w.end_array();
  return out;
}

HttpResponse read_rules(const std::string& json, AuditLog& log, const Clock& clock,
                        const HttpRequest& req) {
  if (req.principal.name.empty()) return refuse_unauthenticated(log, req, clock);
  const AuditRecord record = audit_record(req, audit_action::kRulesRead, kRulesReaderRoles,
                                          clock.now());
  if (!log.write(record)) return json_error(503, "the audit record could not be written");
  return HttpResponse{200, "application/json", json, {}};
}

}  // namespace mozaiek
