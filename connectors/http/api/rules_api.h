// GET /api/rules: the rules in force (convergence rules, then the network
// rules of linking), as the console's rules tab shows them. The document
// is rendered once from the configuration, which does not change while the
// service runs. Each read is audited (audit.h) before the answer.
#pragma once

#include <string>

#include "connectors/http/api/audit.h"
#include "connectors/http/http_server.h"
#include "operators/model/model.h"

namespace mozaiek {

// The rules of `config` as a JSON array, durations in days.
std::string rules_json(const OperatorConfig& config);

// The roles a rules read acts under.
inline constexpr std::initializer_list<std::string_view> kRulesReaderRoles = {role::kOperator,
                                                                              role::kAnalyst};

// GET /api/rules: `json`, once the read is audited through `log` (else 503).
HttpResponse read_rules(const std::string& json, AuditLog& log, const Clock& clock,
                        const HttpRequest& req);

}  // namespace mozaiek
