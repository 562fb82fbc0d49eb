#include "connectors/app/demo_gate.h"

namespace mozaiek {

AccessDecision DemoGate::check(const HttpRequest&, const Roles& roles) const {
  AccessDecision d;
  d.principal = principal_;
  d.status = 200;
  if (roles.is_public()) return d;
  for (const auto& r : roles.any_of()) {
    if (principal_.has_role(r)) return d;
  }
  d.status = 403;
  d.reason = "the demo identity lacks the role";
  return d;
}

DemoIdentity default_demo_identity() {
  DemoIdentity id;
  id.name = "demo";
  for (auto r : {role::kAnalyst, role::kCare, role::kOversight, role::kPrivacyOfficer,
                 role::kOperator, role::kMetrics}) {
    id.roles.emplace_back(r);
  }
  return id;
}

Status make_demo_gate(const DemoIdentity& identity, const std::string& listen,
                      std::shared_ptr<const AccessGate>& out) {
  if (!is_loopback_listen(listen)) {
    return Status::error("service.demo_identity grants every request its roles and is allowed "
                         "only on a loopback service.http_listen, not '" +
                         listen + "'");
  }
  out = std::make_shared<DemoGate>(Principal{identity.name, identity.roles, "demo"});
  return Status::ok();
}

}  // namespace mozaiek
