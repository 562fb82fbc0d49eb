#include "connectors/http/api/whoami_api.h"

#include <string>

#include "connectors/http/api/alert_actions_api.h"
#include "connectors/http/api/alert_feed_api.h"
#include "connectors/http/api/audit_api.h"
#include "connectors/http/api/entity_api.h"
#include "connectors/http/api/erasure_api.h"
#include "connectors/http/api/rules_api.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

bool holds_any(const Principal& p, std::initializer_list<std::string_view> roles) {
  for (auto r : roles) {
    if (p.has_role(r)) return true;
  }
  return false;
}

}  // namespace

HttpResponse whoami(const HttpRequest& req) {
  const Principal& p = req.principal;
  HttpResponse res;
  JsonWriter w(res.body);
  w.begin_object();
  w.key("name").string(p.name);
  w.key("roles").begin_array();
  for (const auto& r : p.roles) w.string(r);
  w.end_array();
  w.key("via").string(p.via);
  w.key("may").begin_object();
  w.key("alerts").boolean(holds_any(p, kAlertReaderRoles));
  w.key("actions").boolean(holds_any(p, kAlertActorRoles));
  w.key("entities").boolean(holds_any(p, kEntityViewerRoles));
  w.key("rules").boolean(holds_any(p, kRulesReaderRoles));
  w.key("audit").boolean(holds_any(p, kAuditReaderRoles));
  w.key("erasure").boolean(holds_any(p, kErasureRoles));
  w.end_object();
  w.end_object();
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

}  // namespace mozaiek
