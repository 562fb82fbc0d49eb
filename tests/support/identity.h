// Who a test request is: principals as the access gate would set them on
// HttpRequest::principal, and a request identity for a running Service
// (ServiceOptions::identify) so tests through HTTP do not depend on who
// fills the principal.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "connectors/http/access.h"
#include "connectors/http/http_server.h"

namespace mozaiek::test {

inline Principal principal(std::string name, std::initializer_list<std::string_view> roles,
                           std::string via = "oidc") {
  Principal p;
  p.name = std::move(name);
  for (auto r : roles) p.roles.emplace_back(r);
  p.via = std::move(via);
  return p;
}

// The test header that names a request's principal to a Service started
// with identify_by_test_header(); the principal holds every role.
inline constexpr std::string_view kTestPrincipalHeader = "X-Test-Principal";

inline Principal identify_by_test_header(const HttpRequest& request) {
  const std::string name = request.header(kTestPrincipalHeader);
  if (name.empty()) return {};
  return principal(name,
                   {role::kAnalyst, role::kCare, role::kOversight, role::kPrivacyOfficer,
                    role::kOperator, role::kMetrics},
                   "test");
}

}  // namespace mozaiek::test
