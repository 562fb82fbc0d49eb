#include "connectors/http/auth/role_mapping.h"

#include <algorithm>

#include "connectors/http/access.h"

namespace mozaiek::auth {
namespace {

// Follows "a.b.c" through nested objects.
bool at_path(simdjson::dom::element root, std::string_view path, simdjson::dom::element& out) {
  simdjson::dom::element cur = root;
  while (true) {
    const auto dot = path.find('.');
    const std::string_view key = path.substr(0, dot);
    simdjson::dom::object obj;
    if (key.empty() || cur.get(obj) != simdjson::SUCCESS) return false;
    if (obj.at_key(key).get(cur) != simdjson::SUCCESS) return false;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  out = cur;
  return true;
}

}  // namespace

const std::vector<std::string>& known_roles() {
  static const std::vector<std::string> roles{
      std::string(role::kAnalyst),   std::string(role::kCare),
      std::string(role::kOversight), std::string(role::kPrivacyOfficer),
      std::string(role::kOperator),  std::string(role::kMetrics)};
  return roles;
}

bool is_known_role(std::string_view role) {
  const auto& roles = known_roles();
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::vector<std::string> RoleMapping::roles_from(simdjson::dom::element claims) const {
  std::vector<std::string_view> values;
  simdjson::dom::element found;
  if (at_path(claims, claim, found)) {
    std::string_view one;
    simdjson::dom::array many;
    if (found.get(one) == simdjson::SUCCESS) {
      values.push_back(one);
    } else if (found.get(many) == simdjson::SUCCESS) {
      for (simdjson::dom::element e : many) {
        if (e.get(one) == simdjson::SUCCESS) values.push_back(one);
      }
    }
  }
  std::vector<std::string> roles;
  for (std::string_view v : values) {
    if (role_map.empty()) {
      if (is_known_role(v)) roles.emplace_back(v);
    } else if (auto it = role_map.find(v); it != role_map.end()) {
      roles.insert(roles.end(), it->second.begin(), it->second.end());
    }
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return roles;
}

std::vector<std::string> RoleMapping::roles_from_json(std::string_view claims_json) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(claims_json.data(), claims_json.size()).get(doc) != simdjson::SUCCESS) return {};
  return roles_from(doc);
}

SubjectMap::SubjectMap(std::vector<MtlsPrincipal> principals) {
  for (auto& p : principals) {
    std::string subject = p.subject;
    principals_.insert_or_assign(std::move(subject), std::move(p));
  }
}

const MtlsPrincipal* SubjectMap::find(std::string_view subject) const {
  if (subject.empty()) return nullptr;
  auto it = principals_.find(subject);
  return it == principals_.end() ? nullptr : &it->second;
}

}  // namespace mozaiek::auth
