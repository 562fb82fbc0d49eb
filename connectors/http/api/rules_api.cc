#include "connectors/http/api/rules_api.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "stream/json_writer.h"

namespace mozaiek {
namespace {

constexpr std::size_t kMaxReasonBytes = 300;

void write_rules(JsonWriter& w, const OperatorConfig& config) {
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
}

// What the audit record says of a reload (the reason field, at most 512 bytes).
std::string audit_reason(RulesOutcome outcome, const std::string& version,
                         const std::vector<std::string>& errors, const std::string& reason) {
  std::string out(to_string(outcome));
  if (outcome == RulesOutcome::refused) {
    out += " (" + std::to_string(errors.size()) + " error(s)";
    if (!errors.empty()) out += ": " + errors.front();
    out += ")";
  } else {
    out += " " + version;
  }
  if (!reason.empty()) out += "; " + reason;
  if (out.size() > 512) out.resize(512);
  return out;
}

}  // namespace

std::string rules_json(const OperatorConfig& config) {
  std::string out;
  JsonWriter w(out);
  write_rules(w, config);
  return out;
}

std::string rules_state_json(const RulesRegistry::Snapshot& snapshot,
                             const std::string& backtest_report) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("version").string(snapshot.version);
  w.key("rules");
  write_rules(w, *snapshot.config);
  w.key("tasks").begin_object();
  for (const auto& [task, version] : snapshot.tasks) w.key(task).string(version);
  w.end_object();
  w.key("history").begin_array();
  // Newest first, as the console shows it.
  for (auto it = snapshot.history.rbegin(); it != snapshot.history.rend(); ++it) {
    w.begin_object();
    w.key("at").timestamp(to_ms(it->at));
    w.key("principal").string(it->principal);
    w.key("via").string(it->via);
    w.key("outcome").string(to_string(it->outcome));
    w.key("version").string(it->version);
    w.key("errors").begin_array();
    for (const auto& e : it->errors) w.string(e);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("backtest_report");
  if (backtest_report.empty()) {
    w.null();
  } else {
    w.string(backtest_report);
  }
  w.end_object();
  return out;
}

RulesReloadProbe::RulesReloadProbe(prometheus::Registry& registry) {
  auto& family = prometheus::BuildCounter()
                     .Name("mozaiek_rules_reloads_total")
                     .Help("Attempts to reload the rules (POST /api/rules, SIGHUP), by outcome: "
                           "applied, unchanged (the rules in force already), refused (invalid "
                           "or needing a restart; the running rules stay).")
                     .Register(registry);
  for (auto o : {RulesOutcome::applied, RulesOutcome::unchanged, RulesOutcome::refused}) {
    outcomes_[static_cast<std::size_t>(o)] = &family.Add({{"outcome", std::string(to_string(o))}});
  }
}

void RulesReloadProbe::record(RulesOutcome outcome) {
  if (auto* c = outcomes_[static_cast<std::size_t>(outcome)]) c->Increment();
}

RulesApi::RulesApi(RulesRegistry& registry, RulesValidator validate, AuditLog* log,
                   RulesReloadProbe& probe, const Clock& clock,
                   std::function<std::string()> newest_report)
    : registry_(registry),
      validate_(std::move(validate)),
      log_(log),
      probe_(probe),
      clock_(clock),
      newest_report_(std::move(newest_report)) {}

HttpResponse RulesApi::get(const HttpRequest& req) {
  if (!log_) return json_error(503, "the audit log is not available");
  if (req.principal.name.empty()) return refuse_unauthenticated(*log_, req, clock_);
  const AuditRecord record = audit_record(req, audit_action::kRulesRead, kRulesReaderRoles,
                                          clock_.now());
  if (!log_->write(record)) return json_error(503, "the audit record could not be written");
  return HttpResponse{200,
                      "application/json",
                      rules_state_json(registry_.snapshot(),
                                       newest_report_ ? newest_report_() : std::string()),
                      {}};
}

HttpResponse RulesApi::post(const HttpRequest& req) {
  if (!log_) return json_error(503, "the audit log is not available");
  if (req.principal.name.empty()) return refuse_unauthenticated(*log_, req, clock_);
  // A malformed request reads nothing and is not recorded (as elsewhere).
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object object;
  const simdjson::padded_string padded(req.body);
  if (parser.parse(padded).get(root) || root.get_object().get(object)) {
    return json_error(400, "body: must be a JSON object {\"config\": \"<YAML>\", \"reason\"}");
  }
  std::string_view yaml, reason;
  bool have_config = false;
  for (auto [name, value] : object) {
    std::string_view* slot = name == "config" ? &yaml : name == "reason" ? &reason : nullptr;
    if (!slot) return json_error(400, "body: has an unknown field (config, reason)");
    if (value.get_string().get(*slot)) {
      return json_error(400, std::string(name) + ": must be a string");
    }
    if (name == "config") have_config = true;
  }
  if (!have_config || yaml.empty()) {
    return json_error(400, "config: required (a whole mozaiek config as YAML)");
  }
  if (reason.size() > kMaxReasonBytes) return json_error(400, "reason: at most 300 bytes");
  AuditRecord by = audit_record(req, audit_action::kRulesReload, kRulesReloaderRoles, clock_.now());
  Reload r = reload(std::string(yaml), std::move(by), std::string(reason));
  if (!r.audited) return json_error(503, "the audit record could not be written; nothing changed");
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.key("outcome").string(to_string(r.entry.outcome));
  w.key("version").string(r.entry.version);
  if (r.entry.outcome == RulesOutcome::refused) {
    w.key("error").string("the config was refused; the rules in force stay");
    w.key("errors").begin_array();
    for (const auto& e : r.entry.errors) w.string(e);
    w.end_array();
  }
  w.end_object();
  return HttpResponse{r.entry.outcome == RulesOutcome::refused ? 400 : 200,
                      "application/json",
                      std::move(body),
                      {}};
}

RulesApi::Reload RulesApi::reload(const std::string& yaml, AuditRecord by,
                                  const std::string& reason) {
  std::lock_guard lock(reload_mu_);
  OperatorConfig candidate;
  std::vector<std::string> errors;
  const bool valid = validate_(yaml, candidate, errors);
  if (valid) errors.clear();
  if (!valid && errors.empty()) errors.emplace_back("the config is not valid");
  RulesRegistry::Decision d;
  if (valid) {
    d = registry_.decide(candidate);
  } else {
    d.outcome = RulesOutcome::refused;
    d.errors = errors;
    d.version = registry_.version();
  }
  Reload out;
  by.action = audit_action::kRulesReload;
  by.status = d.outcome == RulesOutcome::refused ? 400 : 200;
  // Reloads are serialised here, so the version decided is the one offer() makes.
  by.reason = audit_reason(d.outcome, d.version, d.errors, reason);
  if (log_) {
    if (Status s = log_->write(by); !s) {
      spdlog::error("rules reload by {} ({}) not applied: the audit record could not be written: "
                    "{}",
                    by.principal, by.via, s.message());
      out.audited = false;
      return out;
    }
  }
  out.entry = registry_.offer(std::move(candidate), valid ? std::vector<std::string>{} : errors,
                              by.principal, by.via, by.at);
  probe_.record(out.entry.outcome);
  if (out.entry.outcome == RulesOutcome::refused) {
    spdlog::error("rules reload by {} ({}) refused, rules {} stay in force: {} error(s)",
                  by.principal, by.via, out.entry.version, out.entry.errors.size());
    for (const auto& e : out.entry.errors) spdlog::error("rules reload: {}", e);
  } else {
    spdlog::info("rules reload by {} ({}): {}, rules {} in force", by.principal, by.via,
                 to_string(out.entry.outcome), out.entry.version);
  }
  return out;
}

HttpResponse serve_backtest_report(const std::string& dir, const std::string& newest, AuditLog& log,
                                   const Clock& clock, const HttpRequest& req) {
  if (req.principal.name.empty()) return refuse_unauthenticated(log, req, clock);
  if (newest.empty()) return json_error(404, "no backtest report (service.backtest_reports_dir)");
  std::ifstream in(std::filesystem::path(dir) / newest, std::ios::binary);
  if (!in) return json_error(404, "the backtest report cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  AuditRecord record = audit_record(req, audit_action::kRulesRead, kRulesReaderRoles, clock.now());
  record.reason = "backtest report " + newest;
  if (!log.write(record)) return json_error(503, "the audit record could not be written");
  HttpResponse res{200, "text/html; charset=utf-8", text.str(), {}};
  res.headers.emplace_back("Content-Security-Policy", std::string(kBacktestReportCsp));
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

}  // namespace mozaiek
