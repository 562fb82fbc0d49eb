#include "connectors/http/api/entity_api.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "operators/erasure/erasure_request.h"
#include "operators/intake/pseudonymiser.h"

namespace mozaiek {
namespace {

constexpr std::size_t kMaxReason = kMaxAuditReasonChars;
constexpr std::size_t kMaxKey = 256;

}  // namespace

std::optional<HttpResponse> check_entity_request(const HttpRequest& req, EntityLookup& lookup) {
  if (req.principal.name.empty()) return json_error(401, "authentication required");
  if (req.matches.size() < 3) return json_error(404, "use /api/entities/<type>/<key>");
  const auto type = subject_type_from(req.matches[1]);
  if (!type) return json_error(400, "type must be one of: person, vehicle, location");
  const std::string& key = req.matches[2];
  if (key.empty() || key.size() > kMaxKey) {
    return json_error(400, "key must be 1 to 256 characters");
  }
  if (*type == SubjectType::person && !is_pseudonym(key)) {
    return json_error(400, "persons are looked up by pseudonym only (64 hex digits)");
  }
  std::string reason = req.param("reason");
  if (reason.empty() || reason.size() > kMaxReason) {
    return json_error(400, "query parameter reason (1 to 512 characters) is required: lookups are "
                           "audited");
  }
  lookup.type = *type;
  lookup.key = key;
  lookup.audit = audit_record(req, audit_action::kEntityView, kEntityViewerRoles, ProcTime{});
  lookup.audit.reason = std::move(reason);
  lookup.audit.subject = AuditSubject{*type, key};
  return std::nullopt;
}

EntityLookupProbe::EntityLookupProbe(prometheus::Registry& registry) {
  auto& family = prometheus::BuildCounter()
                     .Name("mozaiek_entity_lookups_total")
                     .Help("Entity view lookups through the API by outcome: found, not_found "
                           "(no state) or unaudited (the audit record could not be written, "
                           "answered 503). found + not_found audit records were written.")
                     .Register(registry);
  found_ = &family.Add({{"outcome", "found"}});
  not_found_ = &family.Add({{"outcome", "not_found"}});
  unaudited_ = &family.Add({{"outcome", "unaudited"}});
}

void EntityLookupProbe::record(const EntityLookupCounts& counts) {
  if (counts.found) found_->Increment(static_cast<double>(counts.found));
  if (counts.not_found) not_found_->Increment(static_cast<double>(counts.not_found));
  if (counts.unaudited) unaudited_->Increment(static_cast<double>(counts.unaudited));
}

HttpResponse EntityRequests::ask(EntityLookup lookup, std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<Pending>();
  pending->lookup = std::move(lookup);
  auto answer = pending->answer.get_future();
  {
    std::lock_guard lock(mu_);
    if (closed_) return json_error(503, "the service is stopping");
    queue_.push_back(pending);
  }
  if (answer.wait_for(timeout) != std::future_status::ready) {
    return json_error(503, "the entity state is busy; try again");
  }
  return answer.get();
}

EntityLookupCounts EntityRequests::serve(ConvergenceStage& stage, RecordSink& sink,
                                         const std::string& audit_topic, const Clock& clock,
                                         std::size_t server, std::size_t servers) {
  EntityLookupCounts counts;
  std::deque<std::shared_ptr<Pending>> batch;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return counts;
    batch.swap(queue_);
  }
  const std::uint64_t all = servers >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << servers) - 1;
  std::vector<HttpResponse> answers(batch.size());
  std::vector<bool> answered(batch.size(), true);
  std::deque<std::shared_ptr<Pending>> passed;  // for the other servers to look
  std::string audit;
  Status written = Status::ok();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EntityLookup& l = batch[i]->lookup;
    HttpResponse& r = answers[i];
    const bool found = stage.entity_view(l.type, l.key, r.body);
    if (!found) {
      batch[i]->looked |= std::uint64_t{1} << (server % 64);
      if ((batch[i]->looked & all) != all) {
        answered[i] = false;
        passed.push_back(batch[i]);
        continue;
      }
      r = json_error(404, "no state for this entity (never seen, expired or erased)");
    }
    l.audit.at = clock.now();
    l.audit.found = found;
    l.audit.status = r.status;
    if (Status s = write_audit(sink, audit_topic, l.audit, audit); !s && written) {
      written = s;
    }
  }
  if (!passed.empty()) {
    std::lock_guard lock(mu_);
    for (auto& p : passed) {
      if (closed_) {
        p->answer.set_value(json_error(503, "the service is stopping"));
      } else {
        queue_.push_back(std::move(p));
      }
    }
  }
  if (written) written = sink.flush(seconds(10));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!answered[i]) continue;
    if (!written) {
      spdlog::error("entity view: audit record not written: {}", written.message());
      batch[i]->answer.set_value(json_error(503, "the audit record could not be written"));
      ++counts.unaudited;
    } else {
      ++(answers[i].status == 200 ? counts.found : counts.not_found);
      batch[i]->answer.set_value(std::move(answers[i]));
    }
  }
  return counts;
}

void EntityRequests::close() {
  std::deque<std::shared_ptr<Pending>> rest;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    rest.swap(queue_);
  }
  for (auto& p : rest) p->answer.set_value(json_error(503, "the service is stopping"));
}

}  // namespace mozaiek
