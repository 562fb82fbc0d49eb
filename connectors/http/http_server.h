// HttpServer: an HTTP/1.1 server (HTTPS with a certificate) on Boost.Beast
// that knows no feature.
//
//   GET /metrics             Prometheus text format (registry + extra
//                            collectables); needs role `metrics`
//   GET /healthz             200 "ok" while the process serves HTTP; public
//   GET /readyz              200 after set_ready(true), else 503; public
// Features add their routes with route() and event_stream() before start(),
// each with the Roles it needs; the server asks the AccessGate before a
// protected handler runs and answers 401/403 itself.
//
// Before a handler runs the server has also checked the Host header, a POST's
// Origin and Content-Type, and the limits in HttpLimits (body, headers,
// connections, queue, time), so a handler sees only a well-formed, bounded
// request from an allowed identity.
//
// Threads: one I/O thread reads and writes every connection; handlers and
// live streams run on a bounded pool of workers. Lifecycle: construct,
// route(), set_access_gate(), start() (binds, then serves), stop() (also
// run by the destructor: stops accepting, ends live streams, joins). An
// exception in a handler becomes a 500, never escapes the thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/http/access.h"
#include "connectors/http/http_options.h"
#include "stream/status.h"

namespace prometheus {
class Collectable;
class Registry;
}  // namespace prometheus

namespace mozaiek {

struct HttpRequest {
  std::string method;
  std::string path;
  std::vector<std::string> matches;  // [0] whole path, [1..] the route pattern's groups
  std::multimap<std::string, std::string> params;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Subject of the client certificate the TLS handshake verified (mutual
  // TLS), as OpenSSL prints it one-line (e.g. "/O=Politie/CN=prometheus");
  // empty without one.
  std::string client_subject;
  std::string remote_address;
  // Who is asking, set by the server from the access gate before a
  // protected route's handler runs.
  Principal principal;

  // The first value of query parameter `key`, or empty.
  std::string param(const std::string& key) const;
  // The first value of header `name` (case-insensitive), or empty.
  std::string header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";  // empty: no body at all (a 304)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
};

// {"error": message} with `status`, for handlers added with route().
HttpResponse json_error(int status, std::string_view message);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// One live Server-Sent Events stream, opened per request and read on that
// request's pool thread until the client leaves or the server stops.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Appends the events that arrived since the last call (each rendered by
  // sse_event()), waiting up to `wait` for one; may append nothing.
  virtual void read(std::chrono::milliseconds wait, std::string& out) = 0;
};

// Opens the stream of a request (its Last-Event-ID header says where a
// reconnecting browser left off); never returns null.
using EventStreamOpener = std::function<std::unique_ptr<EventStream>(const HttpRequest&)>;

// Thrown by an EventStreamOpener that refuses the stream for a reason the
// caller should know (401 without a principal, 503 when its opening cannot
// be audited): the server answers `status()` with the message. Any other
// exception from an opener is a 500.
class StreamRefused : public std::runtime_error {
 public:
  StreamRefused(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// One event in the text/event-stream format: id, event name and `data`,
// split into data lines at its newlines.
std::string sse_event(std::uint64_t id, std::string_view event, std::string_view data);

class HttpServer {
 public:
  // `listen` is "host:port" (port 0 picks a free port). The registry is
  // borrowed and must outlive the server. Plain HTTP unless
  // options.tls.enabled().
  HttpServer(std::string listen, prometheus::Registry& registry, HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Also exposes `c` on /metrics (borrowed; call before start()).
  void add_collectable(const prometheus::Collectable& c);

  // Who decides access to the protected routes, and who hears of each
  // refusal (besides the mozaiek_http_denied_total counter). Without a gate
  // every protected route answers 401. Call before start().
  void set_access_gate(std::shared_ptr<const AccessGate> gate, DenialObserver on_denied = {});

  // Adds a route that needs any one of `roles`; `pattern` is a regular
  // expression over the (decoded) path, its groups land in
  // HttpRequest::matches and the pattern itself labels the route in metrics.
  // Call before start().
  void route(std::string method, std::string pattern, Roles roles, HttpHandler handler);

  // Adds a GET route answering with a Server-Sent Events stream. The
  // server greets each client, sends keep-alives while the stream is quiet
  // (which is also how a vanished client is noticed) and caps how many
  // streams are open at once, in total and per principal (each holds a
  // worker). `wake` must make every open stream's read() return now; stop()
  // calls it. Call before start().
  void event_stream(const std::string& pattern, Roles roles, EventStreamOpener open,
                    std::function<void()> wake);

  // Loads the certificate, binds and starts serving. Fails with a message
  // naming the address when it cannot bind, or the service.tls key whose
  // file it cannot use.
  [[nodiscard]] Status start();
  // Idempotent; safe to call when start() failed or was never called.
  void stop();

  // "host:port" actually bound (the real port when 0 was asked); empty
  // before start().
  std::string address() const;
  int port() const;

  void set_ready(bool ready);
  bool tls() const;

  // Answers one request given as raw HTTP/1.1 bytes the way a connection
  // does (the parser under the header and body limits, the checks, the
  // router, the gate, the handler), on the calling thread and without a
  // socket: for the fuzzer (tests/fuzz/http_request_fuzz.cc) and tests.
  // A live stream's route answers 200 once admitted, without opening the
  // stream. nullopt when the bytes are not one complete request (a
  // connection would wait for more, or drop it). Needs no start().
  std::optional<HttpResponse> answer_raw(std::string_view bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" ("[::1]:8080", ":8080" = all interfaces). Returns false
// when the port is missing or not in 0..65535.
bool parse_listen_address(std::string_view listen, std::string& host, int& port);

}  // namespace mozaiek
