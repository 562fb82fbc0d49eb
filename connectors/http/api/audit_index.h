// AuditIndex: the newest audit records in memory, found by subject or by
// principal, for the privacy officer's read-back (GET /api/audit, audit_api.h)
// and `mozaiek audit`.
//
// Bounded: holds at most `capacity` records (the oldest go first; dropped()
// counts them), so a trail older than that is read from the topic by
// `mozaiek audit`. Fed by one reader of the audit topic
// (connectors/app/audit_topic_reader.h) and read by HTTP threads:
// thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/http/api/audit.h"

namespace mozaiek {

// Whose trail: a subject (persons by pseudonym) or a principal.
struct AuditQuery {
  std::optional<AuditSubject> subject;
  std::string principal;
  std::size_t limit = 100;
};

// Whether `keys` (of one record) belong to the trail `query` asks for.
bool audit_matches(const AuditQuery& query, const AuditKeys& keys);

class AuditIndex {
 public:
  explicit AuditIndex(std::size_t capacity) : capacity_(capacity) {}
  AuditIndex(const AuditIndex&) = delete;
  AuditIndex& operator=(const AuditIndex&) = delete;

  // Keeps one record as read from the topic; false (with the bad field in
  // `error`) when it is not a mozaiek.audit/v2 record, which is not kept.
  bool add(std::string_view json, std::string& error);

  struct Found {
    std::vector<std::string> records;  // newest first, at most query.limit
    bool more = false;                 // older matching records were left out
  };
  Found find(const AuditQuery& query) const;

  std::size_t size() const;
  std::uint64_t dropped() const;

 private:
  struct Entry {
    AuditKeys keys;
    std::string json;
  };
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // oldest first
  std::uint64_t dropped_ = 0;
};

}  // namespace mozaiek
