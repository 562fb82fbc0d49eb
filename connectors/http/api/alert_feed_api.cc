#include "connectors/http/api/alert_feed_api.h"

#include <charconv>
#include <optional>

namespace mozaiek {
namespace {

constexpr std::size_t kDefaultAlertLimit = 50;
// Bounds on the filter an audit record repeats.
constexpr std::size_t kMaxAuditedParams = 16;
constexpr std::size_t kMaxAuditedValue = 256;

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string_view event_name(AlertFeed::EventKind kind) {
  switch (kind) {
    case AlertFeed::EventKind::action: return "action";
    case AlertFeed::EventKind::withdrawn: return "withdrawn";
    case AlertFeed::EventKind::alert: break;
  }
  return "alert";
}

// The feed's events after `after`: alerts published and actions applied
// since the request (or since Last-Event-ID when a browser reconnects).
// Its end is audited with the number of events it sent.
class FeedEvents final : public EventStream {
 public:
  FeedEvents(const AlertFeed& feed, std::uint64_t after, AuditLog& log, const Clock& clock,
             AuditRecord closing)
      : feed_(feed), after_(after), log_(log), clock_(clock), closing_(std::move(closing)) {}
  FeedEvents(const FeedEvents&) = delete;
  FeedEvents& operator=(const FeedEvents&) = delete;
  ~FeedEvents() override {
    closing_.at = clock_.now();
    closing_.count = sent_;
    (void)log_.write(closing_);  // the events are gone: a failed write is logged
  }
  void read(std::chrono::milliseconds wait, std::string& out) override {
    for (const auto& e : feed_.wait_after(after_, wait)) {
      out += sse_event(e.sequence, event_name(e.kind), e.json);
      after_ = e.sequence;
      ++sent_;
    }
  }

 private:
  const AlertFeed& feed_;
  std::uint64_t after_;
  AuditLog& log_;
  const Clock& clock_;
  AuditRecord closing_;
  std::uint64_t sent_ = 0;
};

}  // namespace

HttpResponse list_alerts(const AlertFeed& feed, AuditLog& log, const Clock& clock,
                         const HttpRequest& req) {
  if (req.principal.name.empty()) return refuse_unauthenticated(log, req, clock);
  std::size_t limit = kDefaultAlertLimit;
  if (req.params.count("limit")) {
    auto n = parse_u64(req.param("limit"));
    if (!n || *n < 1 || *n > feed.capacity()) {
      return json_error(400,
                        "limit must be an integer from 1 to " + std::to_string(feed.capacity()));
    }
    limit = static_cast<std::size_t>(*n);
  }
  HttpResponse r;
  r.body = "[";
  const auto recent = feed.recent(limit);
  for (std::size_t i = 0; i < recent.size(); ++i) {
    if (i) r.body += ',';
    r.body += recent[i];
  }
  r.body += ']';

  AuditRecord record = audit_record(req, audit_action::kAlertList, kAlertReaderRoles, clock.now());
  for (const auto& [k, v] : req.params) {
    if (record.query.size() == kMaxAuditedParams) break;
    record.query.emplace_back(k.substr(0, kMaxAuditedValue), v.substr(0, kMaxAuditedValue));
  }
  record.count = recent.size();
  if (!log.write(record)) return json_error(503, "the audit record could not be written");
  return r;
}

std::unique_ptr<EventStream> open_alert_stream(const AlertFeed& feed, AuditLog& log,
                                               const Clock& clock, const HttpRequest& req) {
  if (req.principal.name.empty()) {
    (void)refuse_unauthenticated(log, req, clock);
    throw StreamRefused(401, "authentication required");
  }
  std::uint64_t after = feed.last_sequence();
  if (auto id = parse_u64(req.header("Last-Event-ID")); id && *id < after) after = *id;
  AuditRecord record = audit_record(req, audit_action::kStreamOpen, kAlertReaderRoles, clock.now());
  if (!log.write(record)) throw AuditUnavailable("the stream's opening could not be audited");
  record.action = std::string(audit_action::kStreamClose);
  return std::make_unique<FeedEvents>(feed, after, log, clock, std::move(record));
}

}  // namespace mozaiek
