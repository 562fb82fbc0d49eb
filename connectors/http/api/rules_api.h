// The rules in force and their live reload.
//
// GET /api/rules (operator or analyst): the version in force, the rules,
// the version each task runs on and the history of reloads (time,
// principal, outcome), from the RulesRegistry (operators/pipeline/
// rules_registry.h). Each read is audited (rules_read) before the answer.
//
// POST /api/rules (operator): body {"config": "<a whole mozaiek config as
// YAML>", "reason": "..."}; the config is validated as `mozaiek check-config`
// validates a file (the same errors) and its operator sections (catalogue,
// sources, rules, linking, oversight, privacy, limits, metrics) go in force;
// the tasks take them at their next batch boundary. A config that is
// invalid, or changes what needs a restart (operators/model/
// rules_version.h), is refused with 400 and its errors; the running rules
// stay. Every attempt is audited (rules_reload) before it is applied or
// answered; without the audit record it is not applied (503).
//
// RulesApi::reload() is the same for SIGHUP (connectors/app/service.cc).
// Reloads are serialised; any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/http/api/audit.h"
#include "connectors/http/http_server.h"
#include "operators/model/model.h"
#include "operators/pipeline/rules_registry.h"

namespace mozaiek {

// The rules of `config` as a JSON array, durations in days.
std::string rules_json(const OperatorConfig& config);

// The GET /api/rules document: {"version", "rules", "tasks", "history",
// "backtest_report"} (backtest_report: the newest report's file name, or
// null).
std::string rules_state_json(const RulesRegistry::Snapshot& snapshot,
                             const std::string& backtest_report);

// The roles a rules read acts under, and a reload.
inline constexpr std::initializer_list<std::string_view> kRulesReaderRoles = {role::kOperator,
                                                                              role::kAnalyst};
inline constexpr std::initializer_list<std::string_view> kRulesReloaderRoles = {role::kOperator};

// mozaiek_rules_reloads_total{outcome}: applied, unchanged, refused.
class RulesReloadProbe {
 public:
  explicit RulesReloadProbe(prometheus::Registry& registry);
  void record(RulesOutcome outcome);

 private:
  std::array<prometheus::Counter*, 4> outcomes_{};
};

// Validates a whole config document as check-config does; fills `out`
// with its operator sections. False with every error (each naming its key).
using RulesValidator = std::function<bool(const std::string& yaml, OperatorConfig& out,
                                          std::vector<std::string>& errors)>;

// The policy a backtest report is served under: a sandbox of its own
// (opaque origin: no access to the console's storage or the API), nothing
// fetched from anywhere, inline styles, scripts and data: images of the
// self-contained report allowed.
inline constexpr std::string_view kBacktestReportCsp =
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'";

// GET /api/rules/backtest-report: the newest report `newest` (a file name)
// of `dir`, audited (rules_read; reports name subjects by pseudonym); 404
// when there is none.
HttpResponse serve_backtest_report(const std::string& dir, const std::string& newest, AuditLog& log,
                                   const Clock& clock, const HttpRequest& req);

class RulesApi {
 public:
  // log: null when the service serves no HTTP (then reloads are not audited).
  // newest_report: the newest backtest report's file name ("" when none).
  RulesApi(RulesRegistry& registry, RulesValidator validate, AuditLog* log, RulesReloadProbe& probe,
           const Clock& clock, std::function<std::string()> newest_report = {});
  RulesApi(const RulesApi&) = delete;
  RulesApi& operator=(const RulesApi&) = delete;

  HttpResponse get(const HttpRequest& req);
  HttpResponse post(const HttpRequest& req);

  struct Reload {
    RulesHistoryEntry entry;
    bool audited = true;  // false: the audit record could not be written; nothing applied
  };
  // Validates `yaml`, audits the attempt as `by` (its action, outcome and
  // reason filled here) and applies it; SIGHUP and POST.
  Reload reload(const std::string& yaml, AuditRecord by, const std::string& reason);

 private:
  RulesRegistry& registry_;
  RulesValidator validate_;
  AuditLog* log_;
  RulesReloadProbe& probe_;
  const Clock& clock_;
  std::function<std::string()> newest_report_;
  std::mutex reload_mu_;
};

}  // namespace mozaiek
