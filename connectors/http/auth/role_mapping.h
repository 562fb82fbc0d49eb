// From what an identity says to mozaiek's roles (connectors/http/access.h):
// RoleMapping reads a token claim, SubjectMap a client certificate subject.
//
// Both are immutable after construction and safe on any thread.
#pragma once

#include <simdjson.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mozaiek::auth {

// The six roles of access.h, in the order of the role table.
const std::vector<std::string>& known_roles();
bool is_known_role(std::string_view role);

// Which claim carries the roles and how its values become mozaiek roles.
//
// `claim` is a dotted path into the token's claims: "roles", "groups",
// "realm_access.roles" (Keycloak), "resource_access.mozaiek.roles". The
// value there may be an array of strings or one string. Without a
// `role_map`, values that are mozaiek role names are taken as they are and
// others ignored; with one, only mapped values count, each giving its
// roles (e.g. "/politie/tfmm-analisten" -> [analyst]). Roles come out
// sorted, without duplicates.
struct RoleMapping {
  std::string claim = "roles";
  std::map<std::string, std::vector<std::string>, std::less<>> role_map;

  std::vector<std::string> roles_from(simdjson::dom::element claims) const;
  // The same for a JSON object of claims; no roles when it is not one.
  std::vector<std::string> roles_from_json(std::string_view claims_json) const;
};

// One machine client known by its certificate.
struct MtlsPrincipal {
  std::string subject;  // OpenSSL one-line form, e.g. "/O=Politie/CN=prometheus"
  std::string name;     // the principal name in audit records
  std::vector<std::string> roles;
};

// Client certificate subject -> principal, by exact match of the subject
// as the server reports it (HttpRequest::client_subject).
class SubjectMap {
 public:
  SubjectMap() = default;
  explicit SubjectMap(std::vector<MtlsPrincipal> principals);

  // nullptr when the subject is not configured.
  const MtlsPrincipal* find(std::string_view subject) const;
  bool empty() const { return principals_.empty(); }

 private:
  std::map<std::string, MtlsPrincipal, std::less<>> principals_;
};

}  // namespace mozaiek::auth
