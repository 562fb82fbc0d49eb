// HttpServer: the service's HTTP surface on cpp-httplib.
//
//   GET /metrics             Prometheus text format (registry + extra collectables)
//   GET /healthz             200 "ok" while the process serves HTTP
//   GET /readyz              200 after set_ready(true), else 503
//   GET /api/alerts?limit=N  recent alerts, newest first, with status and actions
//   GET /api/alerts/stream   Server-Sent Events: `alert` for each new or re-raised
//                            alert, `action` (the action record) for each action
//   GET /api/rules           the current rules (JSON set by the owner)
//   GET /, /console/<file>   the analysts' web console (connectors/http/console.h)
// Other components add routes with route() before start().
//
// Lifecycle: construct, route(), start() (binds, then serves on its own
// thread pool), stop() (also run by the destructor: stops accepting, ends
// live streams, joins). Handlers run on the pool threads and only touch
// thread-safe objects; an exception in a handler becomes a 500, never
// escapes the thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/status.h"

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace mozaiek {

class AlertFeed;

struct HttpRequest {
  std::string method;
  std::string path;
  std::vector<std::string> matches;  // [0] whole path, [1..] the route pattern's groups
  std::multimap<std::string, std::string> params;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value of query parameter `key`, or empty.
  std::string param(const std::string& key) const;
  // The first value of header `name` (case-insensitive), or empty.
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// {"error": message} with `status`, for handlers added with route().
HttpResponse json_error(int status, std::string_view message);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // `listen` is "host:port" (port 0 picks a free port). The registry and
  // feed are borrowed and must outlive the server.
  HttpServer(std::string listen, prometheus::Registry& registry, AlertFeed& alerts);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Also exposes `c` on /metrics (borrowed; call before start()).
  void add_collectable(const prometheus::Collectable& c);

  // Adds a route; `pattern` is a regular expression over the path, its
  // groups land in HttpRequest::matches. Call before start().
  void route(std::string method, std::string pattern, HttpHandler handler);

  // Binds and starts serving. Fails with a message naming the address when
  // it cannot bind.
  [[nodiscard]] Status start();
  // Idempotent; safe to call when start() failed or was never called.
  void stop();

  // "host:port" actually bound (the real port when 0 was asked); empty
  // before start().
  std::string address() const;
  int port() const;

  void set_ready(bool ready);
  // The document served on /api/rules.
  void set_rules_json(std::string json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" ("[::1]:8080", ":8080" = all interfaces). Returns false
// when the port is missing or not in 0..65535.
bool parse_listen_address(std::string_view listen, std::string& host, int& port);

}  // namespace mozaiek
