// FakeGate: a test double of AccessGate. The test decides which principal
// each request is: the one its bearer token names (add_token), the one its
// verified client certificate subject names (add_subject), else the default
// principal (if any); then the route's roles are checked as a real gate
// would (403 without one of them). Not an identity provider: no token is
// verified. Thread-safe once set up; counts its checks.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "connectors/http/access.h"
#include "connectors/http/http_server.h"

namespace mozaiek::test {

class FakeGate final : public AccessGate {
 public:
  // Every request without a known token is `p`.
  static std::shared_ptr<FakeGate> granting(Principal p) {
    auto g = std::make_shared<FakeGate>();
    g->default_ = std::move(p);
    return g;
  }
  // Every request is `name` with every role mozaiek knows.
  static std::shared_ptr<FakeGate> granting_all_roles(std::string name = "tester") {
    return granting(Principal{std::move(name),
                              {std::string(role::kAnalyst), std::string(role::kCare),
                               std::string(role::kOversight), std::string(role::kPrivacyOfficer),
                               std::string(role::kOperator), std::string(role::kMetrics)},
                              "test"});
  }

  // Every request is named by its X-Test-Principal header (kTestPrincipalHeader
  // in identity.h) and holds every role; without the header it is refused 401.
  static std::shared_ptr<FakeGate> naming_by_test_header() {
    auto g = std::make_shared<FakeGate>();
    g->by_test_header_ = true;
    return g;
  }

  // Call before the server starts.
  void add_token(std::string token, Principal p) { tokens_[std::move(token)] = std::move(p); }
  void add_subject(std::string subject, Principal p) {
    subjects_[std::move(subject)] = std::move(p);
  }

  AccessDecision check(const HttpRequest& request, const Roles& roles) const override {
    ++checks_;
    AccessDecision d;
    const Principal* who = nullptr;
    const std::string auth = request.header("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) {
      auto it = tokens_.find(auth.substr(7));
      if (it == tokens_.end()) {
        d.reason = "unknown token";
        return d;
      }
      who = &it->second;
    } else if (auto it = subjects_.find(request.client_subject);
               !request.client_subject.empty() && it != subjects_.end()) {
      who = &it->second;
    } else if (default_) {
      who = &*default_;
    }
    Principal named;
    if (who == nullptr && by_test_header_) {
      const std::string name = request.header("X-Test-Principal");
      if (!name.empty()) {
        named = granting_all_roles(name)->default_.value();
        who = &named;
      }
    }
    if (who == nullptr) {
      d.reason = "no identity";
      return d;
    }
    d.principal = *who;
    for (const auto& r : roles.any_of()) {
      if (who->has_role(r)) {
        d.status = 200;
        return d;
      }
    }
    d.status = 403;
    d.reason = "missing role";
    return d;
  }

  int checks() const { return checks_.load(); }

 private:
  bool by_test_header_ = false;
  std::optional<Principal> default_;
  std::map<std::string, Principal> tokens_;
  std::map<std::string, Principal> subjects_;
  mutable std::atomic<int> checks_{0};
};

}  // namespace mozaiek::test
