// Erasure requests in: `POST /api/erasure` (the service's HTTP pool
// threads) and `mozaiek erase` (the CLI) both end in
// write_erasure_request(), which puts the erasure record (internal record
// kind 4, operators/records/erasure_record.h) on the internal subjects
// topic keyed by the entity, exactly as intake keys the entity's signals,
// and the mozaiek.audit/v2 record on the audit topic keyed by the principal, and
// waits until both are acknowledged. The partition owning the entity then
// applies it (ConvergenceStage::process_erasure).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/http/api/audit.h"
#include "connectors/http/api/request_producer.h"
#include "connectors/http/http_server.h"
#include "operators/erasure/erasure_request.h"
#include "operators/intake/pseudonymiser.h"
#include "stream/io.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

struct ErasureTopics {
  std::string subjects;  // kafka.topics.subjects
  std::string audit;     // kafka.topics.audit
};

// The roles an erasure acts under.
inline constexpr std::initializer_list<std::string_view> kErasureRoles = {role::kPrivacyOfficer};

// Produces the erasure record and its audit record (`by`: who asked, with
// the subject, reason, time and status 202 added), then flushes `sink`: ok
// only once both are durably written. No raw identifier is in either.
[[nodiscard]] Status write_erasure_request(RecordSink& sink, const ErasureTopics& topics,
                                           const ErasureRequest& request, const AuditRecord& by,
                                           ProcTime now, Millis flush_timeout);

// Who asks from the command line: request.user, via "cli", method "CLI",
// route "mozaiek erase".
AuditRecord cli_erasure_requester(const ErasureRequest& request);

// The audit record of an erasure request (action "erasure").
void write_erasure_audit_json(const ErasureRequest& request, const AuditRecord& by, ProcTime at,
                              std::string& out);

// The HTTP side: needs an authenticated principal, checks the JSON body, writes
// the request through its own producer, answers 202 with the entity's
// subject type (and key, for a vehicle or location; never a person's
// pseudonym) once written, 400 naming the
// bad field, 503 when it could not be written. handle() may be called from
// several HTTP threads; writes are serialised. The producer is made on
// first use and made anew after a failed write (a Kafka producer's delivery
// failure is sticky), so one outage does not refuse every later request.
class ErasureApi {
 public:
  using SinkFactory = RequestProducer::SinkFactory;
  // Borrows the pseudonymiser and clock.
  ErasureApi(SinkFactory make_sink, ErasureTopics topics, const Pseudonymiser& pseudonymiser,
             const Clock& clock);
  HttpResponse handle(const HttpRequest& request);

 private:
  RequestProducer producer_;
  const ErasureTopics topics_;
  const Pseudonymiser& pseudonymiser_;
  const Clock& clock_;
};

}  // namespace mozaiek
