#include "connectors/http/api/audit_index.h"

namespace mozaiek {

bool audit_matches(const AuditQuery& query, const AuditKeys& keys) {
  if (query.subject) {
    if (!keys.subject || keys.subject->type != query.subject->type ||
        keys.subject->key != query.subject->key) {
      return false;
    }
  }
  return query.principal.empty() || keys.principal == query.principal;
}

bool AuditIndex::add(std::string_view json, std::string& error) {
  Entry e;
  if (!read_audit_keys(json, e.keys, error)) return false;
  e.json = std::string(json);
  std::lock_guard lock(mu_);
  entries_.push_back(std::move(e));
  while (entries_.size() > capacity_) {
    entries_.pop_front();
    ++dropped_;
  }
  return true;
}

AuditIndex::Found AuditIndex::find(const AuditQuery& query) const {
  Found found;
  std::lock_guard lock(mu_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (!audit_matches(query, it->keys)) continue;
    if (found.records.size() == query.limit) {
      found.more = true;
      break;
    }
    found.records.push_back(it->json);
  }
  return found;
}

std::size_t AuditIndex::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::uint64_t AuditIndex::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace mozaiek
