// The state an HttpServer shares with its connections (internal to
// connectors/http/): routes, the access gate, limits, counters, the I/O
// context and the worker pool. http_server.cc owns and configures it;
// http_connection.cc accepts and serves connections on it.
//
// Threads: the I/O thread runs every connection's reads and writes; the
// workers run the gate, the handlers and the live streams. Routes, gate and
// options are fixed before start() and only read afterwards.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/http/access.h"
#include "connectors/http/http_options.h"
#include "connectors/http/http_server.h"
#include "connectors/http/worker_pool.h"

namespace mozaiek::http_detail {

struct Route {
  std::string method;
  std::string pattern;  // also the route's label in metrics: a bounded set
  std::regex re;
  Roles roles;
  HttpHandler handler;     // a plain route, or
  EventStreamOpener open;  // a live event stream
};

// Why a request was refused before a handler ran (mozaiek_http_refused_total).
enum class Refusal {
  kConnections,
  kQueueFull,
  kStreams,
  kBodyTooLarge,
  kHeadersTooLarge,
  kTimeout,
  kHost,
  kOrigin,
  kContentType,
  kContentEncoding,
  kBadRequest,
  kTls,
};

struct ServerCore {
  ServerCore(std::string listen, prometheus::Registry& registry, HttpServerOptions options);

  void refused(Refusal why);
  // The route for `method` and `path`: null with status 404 (no such path)
  // or 405 (path known, method not).
  const Route* find(const std::string& method, const std::string& path, int& status) const;
  bool host_allowed(std::string_view host_header) const;
  // A live stream slot for `principal` (total and per-principal caps).
  bool acquire_stream(const std::string& principal);
  void release_stream(const std::string& principal);
  // Runs the gate for a protected route: the decision, counted and
  // reported when it refuses.
  AccessDecision check_access(const Route& route, const HttpRequest& request) const;
  std::chrono::milliseconds request_timeout() const {
    return std::chrono::milliseconds(options.limits.request_timeout_ms);
  }

  const std::string listen;
  prometheus::Registry& registry;
  const HttpServerOptions options;
  std::vector<const prometheus::Collectable*> extra;
  std::vector<Route> routes;
  std::vector<std::function<void()>> wakes;  // of the event streams' sources
  std::shared_ptr<const AccessGate> gate;
  DenialObserver on_denied;
  prometheus::Family<prometheus::Counter>& denied;
  prometheus::Family<prometheus::Counter>& refusals;
  std::vector<std::string> allowed_hosts;  // lower case, "*.x" matches subdomains of x

  std::atomic<bool> stopping{false};
  std::atomic<bool> ready{false};
  std::atomic<int> connections{0};
  // Closers of the open connections, so stop() can end idle keep-alives.
  std::mutex live_mu;
  std::uint64_t next_live = 0;
  std::map<std::uint64_t, std::function<void()>> live;
  std::mutex streams_mu;
  int streams = 0;
  std::map<std::string, int> streams_by_principal;

  std::string host;
  int port = -1;
  std::unique_ptr<boost::asio::ssl::context> tls;
  std::unique_ptr<WorkerPool> pool;
  // Declared after everything a connection touches: destroying the context
  // destroys the connections its pending operations still hold.
  boost::asio::io_context ioc{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::thread io_thread;
  std::mutex io_mu;
  std::condition_variable io_cv;
  bool io_done = false;  // run() returned
};

// Accepts connections on core.acceptor until it closes (on the I/O thread).
void start_accepting(ServerCore& core);

// The steps of answering one request, shared by a connection
// (http_connection.cc) and HttpServer::answer_raw (no socket: the fuzzer).
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// What the header decides before the body is read: the route, or the answer
// now (a counted `refusal` closes the connection; 404/405 do not count).
struct HeaderCheck {
  const Route* route = nullptr;
  std::optional<Refusal> refusal;
  int status = 0;
  std::string message;
  std::string path;   // decoded
  std::string query;  // raw, after '?'
};
// Target, Host, route, Content-Encoding, a POST's Content-Type and Origin,
// Content-Length against max_body_bytes. `tls`: the connection is HTTPS.
HeaderCheck check_header(ServerCore& core, const RequestParser& parser, bool tls);
// The request a handler sees (matches, query parameters, headers, body).
HttpRequest make_request(const Route& route,
                         boost::beast::http::request<boost::beast::http::string_body>&& msg,
                         const std::string& path, const std::string& query);
// The gate for a protected route: nullopt and req.principal set when it
// admits the request, else the 401/403 answer.
std::optional<HttpResponse> authorize(const ServerCore& core, const Route& route, HttpRequest& req);
// The handler's answer; an exception becomes a 500.
HttpResponse run_handler(const Route& route, const HttpRequest& req);

// Decodes %XX (and '+' as a space when `plus_is_space`); false on a bad escape.
bool percent_decode(std::string_view in, bool plus_is_space, std::string& out);

}  // namespace mozaiek::http_detail
