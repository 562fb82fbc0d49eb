#include "connectors/http/http_server.h"

#include <httplib.h>
#include <prometheus/collectable.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "stream/json_writer.h"

namespace mozaiek {
namespace {

// Each live stream holds a pool thread; the cap keeps threads free for
// /metrics and the API.
constexpr std::size_t kThreads = 16;
constexpr int kMaxStreams = 8;
constexpr auto kStreamPoll = std::chrono::milliseconds(1000);
constexpr auto kStreamKeepAlive = std::chrono::seconds(15);
constexpr auto kStartTimeout = std::chrono::seconds(5);

void set_json_error(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(R"({"error":")" + std::string(message) + "\"}", "application/json");
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

HttpRequest to_request(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& m : req.matches) r.matches.push_back(m.str());
  r.params.insert(req.params.begin(), req.params.end());
  r.body = req.body;
  for (const auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
  return r;
}

}  // namespace

std::string sse_event(std::uint64_t id, std::string_view event, std::string_view data) {
  std::string out = "id: " + std::to_string(id) + "\nevent: " + std::string(event) + "\n";
  // A data line may not contain a newline; split multi-line data.
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = data.find('\n', start);
    out += "data: ";
    out.append(
        data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

HttpResponse json_error(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  JsonWriter w(r.body);
  w.begin_object().key("error").string(message).end_object();
  return r;
}

std::string HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

std::string HttpRequest::param(const std::string& key) const {
  auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

bool parse_listen_address(std::string_view listen, std::string& host, int& port) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto p = parse_u64(listen.substr(colon + 1));
  if (!p || *p > 65535) return false;
  host = h.empty() ? "0.0.0.0" : std::string(h);
  port = static_cast<int>(*p);
  return true;
}

struct HttpServer::Impl {
  std::string listen;
  prometheus::Registry& registry;
  std::vector<const prometheus::Collectable*> extra;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> serving{false};  // the listen thread has not returned yet
  std::atomic<bool> stopping{false};
  std::atomic<bool> ready{false};
  std::atomic<int> streams{0};
  std::vector<std::function<void()>> wakes;  // of the event streams' sources
  std::string host;
  int port = -1;

  Impl(std::string l, prometheus::Registry& r) : listen(std::move(l)), registry(r) {}

  void add_builtin_routes();
  void serve_event_stream(std::unique_ptr<EventStream> stream, httplib::Response& res);
};

void HttpServer::Impl::add_builtin_routes() {
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    auto families = registry.Collect();
    for (const auto* c : extra) {
      auto more = c->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    res.set_content(prometheus::TextSerializer().Serialize(families),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (ready) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready\n", "text/plain");
    }
  });
}

// The first write is a comment, so a client knows it is subscribed before
// any event arrives.
void HttpServer::Impl::serve_event_stream(std::unique_ptr<EventStream> stream,
                                          httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  // Shared: httplib copies the provider, a unique_ptr could not be moved in.
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, stream = std::shared_ptr<EventStream>(std::move(stream)), greeted = false,
       quiet_since = std::chrono::steady_clock::now()](std::size_t,
                                                       httplib::DataSink& sink) mutable {
        if (stopping) return false;
        if (!greeted) {
          greeted = true;
          static constexpr std::string_view kHello = "retry: 3000\n: subscribed\n\n";
          return sink.write(kHello.data(), kHello.size());
        }
        std::string chunk;
        stream->read(kStreamPoll, chunk);
        if (stopping) return false;
        const auto now = std::chrono::steady_clock::now();
        if (chunk.empty()) {
          if (now - quiet_since < kStreamKeepAlive) return true;
          quiet_since = now;
          // Also how a vanished client is noticed: the write fails.
          static constexpr std::string_view kPing = ": keep-alive\n\n";
          return sink.write(kPing.data(), kPing.size());
        }
        quiet_since = now;
        return sink.write(chunk.data(), chunk.size());
      },
      [this](bool) { streams.fetch_sub(1); });
}

HttpServer::HttpServer(std::string listen, prometheus::Registry& registry)
    : impl_(std::make_unique<Impl>(std::move(listen), registry)) {
  Impl& m = *impl_;
  m.server.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // httplib's default sets SO_REUSEPORT, which lets a second process bind
  // the same port silently; SO_REUSEADDR alone still allows a quick restart.
  m.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Short idle keep-alive so stop() does not wait long on idle scrapers.
  m.server.set_keep_alive_timeout(2);
  m.server.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& ep) {
        std::string what = "unknown error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("http: handler for {} failed: {}", req.path, what);
        set_json_error(res, 500, "internal error");
      });
  m.add_builtin_routes();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::add_collectable(const prometheus::Collectable& c) { impl_->extra.push_back(&c); }

void HttpServer::route(std::string method, std::string pattern, HttpHandler handler) {
  auto adapter = [h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    HttpResponse out = h(to_request(req));
    res.status = out.status;
    for (const auto& [name, value] : out.headers) res.set_header(name, value);
    if (!out.content_type.empty()) res.set_content(out.body, out.content_type);
  };
  httplib::Server& s = impl_->server;
  if (method == "GET") s.Get(pattern, adapter);
  else if (method == "POST") s.Post(pattern, adapter);
  else if (method == "PUT") s.Put(pattern, adapter);
  else if (method == "DELETE") s.Delete(pattern, adapter);
  else spdlog::error("http: route {} {}: unsupported method", method, pattern);
}

void HttpServer::event_stream(const std::string& pattern, EventStreamOpener open,
                              std::function<void()> wake) {
  Impl& m = *impl_;
  m.wakes.push_back(std::move(wake));
  m.server.Get(pattern,
               [&m, open = std::move(open)](const httplib::Request& req, httplib::Response& res) {
                 if (m.streams.fetch_add(1) >= kMaxStreams) {
                   m.streams.fetch_sub(1);
                   set_json_error(res, 503, "too many live streams");
                   return;
                 }
                 std::unique_ptr<EventStream> stream;
                 try {
                   stream = open(to_request(req));
                 } catch (...) {
                   m.streams.fetch_sub(1);
                   throw;  // the exception handler answers 500
                 }
                 m.serve_event_stream(std::move(stream), res);
               });
}

Status HttpServer::start() {
  Impl& m = *impl_;
  if (m.thread.joinable()) return Status::error("HTTP server on " + m.listen + " already started");
  std::string host;
  int port = 0;
  if (!parse_listen_address(m.listen, host, port)) {
    return Status::error("service.http_listen '" + m.listen + "': expected host:port");
  }
  errno = 0;
  const int bound = port == 0 ? m.server.bind_to_any_port(host)
                              : (m.server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    const int err = errno;
    return Status::error("cannot listen on " + m.listen +
                         (err ? std::string(": ") + std::strerror(err) : std::string()) +
                         " (set service.http_listen to a free host:port)");
  }
  m.host = host;
  m.port = bound;
  m.serving = true;
  m.thread = std::thread([&m] {
    if (!m.server.listen_after_bind()) spdlog::error("http: server on {} stopped", m.listen);
    m.serving = false;
  });
  // stop() only takes effect once the accept loop runs; wait for it so a
  // quick stop() cannot be lost. httplib offers no notification for this.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (m.serving && !m.server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!m.server.is_running()) {
    stop();
    return Status::error("cannot serve HTTP on " + m.listen);
  }
  return Status::ok();
}

void HttpServer::stop() {
  Impl& m = *impl_;
  m.stopping = true;
  m.ready = false;
  for (const auto& wake : m.wakes) wake();
  if (m.server.is_running()) m.server.stop();
  if (m.thread.joinable()) m.thread.join();
}

std::string HttpServer::address() const {
  if (impl_->port < 0) return "";
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(impl_->port);
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::set_ready(bool ready) { impl_->ready = ready; }

}  // namespace mozaiek
