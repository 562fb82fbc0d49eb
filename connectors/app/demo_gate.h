// DemoGate: the access gate of a laptop or demo: every request is the one
// configured principal (service.demo_identity), with its roles. Allowed only
// when the service listens on loopback, so nobody else can reach it;
// `mozaiek run` and `mozaiek demo` announce it in the log at start. The
// OpenID Connect authenticator replaces it for real use.
//
// Immutable after construction; check() is called on the HTTP workers.
#pragma once

#include <memory>

#include "connectors/app/settings.h"
#include "connectors/http/access.h"
#include "connectors/http/http_server.h"
#include "stream/status.h"

namespace mozaiek {

class DemoGate final : public AccessGate {
 public:
  explicit DemoGate(Principal principal) : principal_(std::move(principal)) {}
  AccessDecision check(const HttpRequest& request, const Roles& roles) const override;

 private:
  Principal principal_;
};

// The identity `mozaiek demo` grants when the config names none: every role.
DemoIdentity default_demo_identity();

// A DemoGate for `identity`, or an error naming service.demo_identity when
// `listen` is not a loopback address.
[[nodiscard]] Status make_demo_gate(const DemoIdentity& identity, const std::string& listen,
                                    std::shared_ptr<const AccessGate>& out);

}  // namespace mozaiek
