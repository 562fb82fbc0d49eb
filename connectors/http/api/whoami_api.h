// GET /api/whoami: who the service took the caller for (the principal the
// access gate set: name, roles, how it was authenticated) and which of the
// console's views those roles open, from the same role lists the routes
// are added with. The console shows it and hides what the caller may not
// do; the service still refuses on every route. Holds only the caller's own
// identity, so it is not audited.
#pragma once

#include <initializer_list>
#include <string_view>

#include "connectors/http/http_server.h"

namespace mozaiek {

// Any of mozaiek's roles may ask; a principal without a role gets 403.
inline constexpr std::initializer_list<std::string_view> kWhoamiRoles = {
    role::kAnalyst,        role::kCare,     role::kOversight,
    role::kPrivacyOfficer, role::kOperator, role::kMetrics};

// {"name", "roles": [...], "via", "may": {"alerts", "actions", "entities",
//  "rules", "audit", "erasure"}} for `req.principal`.
HttpResponse whoami(const HttpRequest& req);

}  // namespace mozaiek
