// Access control at the HTTP edge: who is asking (Principal), what a route
// needs (Roles) and the gate that decides (AccessGate).
//
// Every route declares its roles when it is added; the server asks the
// gate before the handler runs and answers 401 (no valid identity) or 403
// (identity without a needed role) itself. Only /healthz, /readyz and the
// console's static page and assets (which hold no data and must load before
// a browser can log in) are public. The gate is set once before start() and must be thread-safe:
// pool threads call check() concurrently.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace mozaiek {

struct HttpRequest;

// The roles mozaiek knows. A route needs any one of its roles.
namespace role {
inline constexpr std::string_view kAnalyst = "analyst";      // investigation alerts, entities
inline constexpr std::string_view kCare = "care";            // care-purpose alerts only
inline constexpr std::string_view kOversight = "oversight";  // aggregate figures only
inline constexpr std::string_view kPrivacyOfficer = "privacy_officer";  // erasure, audit
inline constexpr std::string_view kOperator = "operator";               // rules, config, health
inline constexpr std::string_view kMetrics = "metrics";                 // /metrics scrape
}  // namespace role

// The authenticated identity of one request.
struct Principal {
  std::string name;                // token subject or certificate subject
  std::vector<std::string> roles;  // after the configured role mapping
  std::string via;                 // "oidc", "mtls" or "demo"

  bool has_role(std::string_view r) const {
    for (const auto& mine : roles) {
      if (mine == r) return true;
    }
    return false;
  }
};

// What a route needs: any one of `any_of`, or nothing at all (public).
class Roles {
 public:
  Roles(std::initializer_list<std::string_view> any_of) {
    for (auto r : any_of) any_of_.emplace_back(r);
  }
  // No identity needed: /healthz, /readyz and the console's static files only.
  static Roles anyone() {
    Roles r{};
    r.public_ = true;
    return r;
  }
  bool is_public() const { return public_; }
  const std::vector<std::string>& any_of() const { return any_of_; }

 private:
  std::vector<std::string> any_of_;
  bool public_ = false;
};

struct AccessDecision {
  int status = 401;     // 200 granted, 401 no valid identity, 403 missing role
  Principal principal;  // set when the identity was valid (200 and 403)
  std::string reason;   // for the answer and the audit; never a token or key
};

class AccessGate {
 public:
  virtual ~AccessGate() = default;
  // Decides whether `request` may use a route that needs `roles`; reads
  // the Authorization header and the verified client certificate subject.
  virtual AccessDecision check(const HttpRequest& request, const Roles& roles) const = 0;
};

// Told of every refusal (401 and 403), to count and audit it.
using DenialObserver = std::function<void(const HttpRequest&, const Roles&, const AccessDecision&)>;

}  // namespace mozaiek
