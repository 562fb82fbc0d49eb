#include "connectors/http/api/alert_feed_api.h"

#include <charconv>
#include <optional>

namespace mozaiek {
namespace {

constexpr std::size_t kDefaultAlertLimit = 50;

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

HttpResponse recent_alerts(const AlertFeed& feed, const HttpRequest& req) {
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
  return r;
}

// The feed's events after `after`: alerts published and actions applied
// since the request (or since Last-Event-ID when a browser reconnects).
class FeedEvents final : public EventStream {
 public:
  FeedEvents(const AlertFeed& feed, std::uint64_t after) : feed_(feed), after_(after) {}
  void read(std::chrono::milliseconds wait, std::string& out) override {
    for (const auto& e : feed_.wait_after(after_, wait)) {
      const bool action = e.kind == AlertFeed::EventKind::action;
      out += sse_event(e.sequence, action ? "action" : "alert", e.json);
      after_ = e.sequence;
    }
  }

 private:
  const AlertFeed& feed_;
  std::uint64_t after_;
};

}  // namespace

void add_alert_feed_routes(HttpServer& server, AlertFeed& feed) {
  server.route("GET", "/api/alerts", Roles{role::kAnalyst, role::kCare},
               [&feed](const HttpRequest& req) { return recent_alerts(feed, req); });
  server.event_stream(
      "/api/alerts/stream", Roles{role::kAnalyst, role::kCare},
      [&feed](const HttpRequest& req) -> std::unique_ptr<EventStream> {
        std::uint64_t after = feed.last_sequence();
        if (auto id = parse_u64(req.header("Last-Event-ID")); id && *id < after) after = *id;
        return std::make_unique<FeedEvents>(feed, after);
      },
      [&feed] { feed.wake_all(); });
}

}  // namespace mozaiek
