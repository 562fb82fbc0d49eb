// The entity view over HTTP: GET /api/entities/<type>/<key>?reason=...
// by an authenticated principal. Every lookup is audited on mozaiek.audit
// (audit.h; key: the principal) before the view is returned; no audit
// record, no view.
//
// The HTTP pool thread validates the request and queues it; the task thread
// that owns the entity state serves the queue between batches (serve()),
// writes the audit record, and completes the request. No state is read off
// the owning thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/http/api/audit.h"
#include "connectors/http/http_server.h"
#include "operators/erasure/erasure_request.h"
#include "operators/model/model.h"
#include "operators/pipeline/convergence_stage.h"
#include "stream/io.h"

namespace prometheus {
class Counter;
class Registry;
}  // namespace prometheus

namespace mozaiek {

// The roles an entity view acts under.
inline constexpr std::initializer_list<std::string_view> kEntityViewerRoles = {role::kAnalyst};

struct EntityLookup {
  SubjectType type = SubjectType::person;
  std::string key;
  // Its audit record: who, under which role, route and reason; the serving
  // thread adds the time, the outcome and the status.
  AuditRecord audit;
};

// Checks an entity request; on success fills `lookup`, else returns the
// 401 (no principal) or 400 response. Person keys must be pseudonyms (64
// hex digits): a raw identifier is refused before it can reach the audit
// topic.
std::optional<HttpResponse> check_entity_request(const HttpRequest& req, EntityLookup& lookup);

// Lookups answered by one EntityRequests::serve(): with the entity, without
// (404: no state), and refused because the audit record was not written (503).
struct EntityLookupCounts {
  std::uint64_t found = 0;
  std::uint64_t not_found = 0;
  std::uint64_t unaudited = 0;
};

// mozaiek_entity_lookups_total{outcome="found|not_found|unaudited"}: every
// entity view lookup that reached the owning task thread. found + not_found
// is the number of audit records written. Called by the task thread after
// serve(); the only part of the entity API that touches prometheus-cpp.
class EntityLookupProbe {
 public:
  explicit EntityLookupProbe(prometheus::Registry& registry);
  void record(const EntityLookupCounts& counts);

 private:
  prometheus::Counter* found_;
  prometheus::Counter* not_found_;
  prometheus::Counter* unaudited_;
};

class EntityRequests {
 public:
  // Called on an HTTP thread: queues and waits up to `timeout` for the task thread.
  HttpResponse ask(EntityLookup lookup, std::chrono::milliseconds timeout);
  // Called on the task thread between batches: answers every queued request
  // from `stage`, auditing each on `audit_topic` through `sink` (flushed
  // before any answer leaves). Returns how the lookups it answered ended.
  // With several task threads (`servers`, this one `server`, at most 64),
  // each holding some partitions: a request is answered by the first whose
  // stage holds the entity, and as not found by the last of them to look.
  EntityLookupCounts serve(ConvergenceStage& stage, RecordSink& sink,
                           const std::string& audit_topic, const Clock& clock,
                           std::size_t server = 0, std::size_t servers = 1);
  // Answers everything still queued with 503 (the task is stopping).
  void close();

 private:
  // Shared by the waiting HTTP thread and the serving task thread, either of
  // which may finish first (the HTTP side gives up after its timeout).
  struct Pending {
    EntityLookup lookup;
    std::promise<HttpResponse> answer;
    std::uint64_t looked = 0;  // servers that did not hold the entity
  };
  std::mutex mu_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool closed_ = false;
};

}  // namespace mozaiek
