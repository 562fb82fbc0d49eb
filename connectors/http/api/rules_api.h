// GET /api/rules: the rules in force (convergence rules, then the network
// rules of linking), as the console's rules tab shows them. The document
// is rendered once from the configuration, which does not change while the
// service runs.
#pragma once

#include <string>

#include "connectors/http/http_server.h"
#include "operators/model/model.h"

namespace mozaiek {

// The rules of `config` as a JSON array, durations in days.
std::string rules_json(const OperatorConfig& config);

// Adds GET /api/rules serving `json`.
void add_rules_route(HttpServer& server, std::string json);

}  // namespace mozaiek
