// One HTTP connection: reads a request's header under the limits, refuses
// what may not reach a handler (Host, route, Origin, Content-Type, size)
// before reading the body, then hands the request to a worker, which runs
// the gate and the handler (or a live stream) and posts the answer back to
// this connection's I/O thread.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <future>
#include <limits>

#include "connectors/http/http_core.h"

namespace mozaiek::http_detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kStreamPoll = std::chrono::milliseconds(1000);
constexpr auto kStreamKeepAlive = std::chrono::seconds(15);
// After a refusal the rest of what the client sends is read and dropped
// for a moment, so closing does not reset the connection before the client
// has read the answer; bounded in bytes and time.
constexpr std::size_t kLingerBytes = 256 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(1);

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_json(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  return lower(trim(content_type.substr(0, semi))) == "application/json";
}

// A POST from a page of another origin is refused: Origin absent (not a
// browser, or a same-origin navigation) or exactly this server's origin.
bool same_origin(std::string_view origin, std::string_view host, bool tls) {
  if (origin.empty()) return true;
  const std::string expected = std::string(tls ? "https://" : "http://") + std::string(host);
  return lower(trim(origin)) == lower(expected);
}

void parse_query(std::string_view query, std::multimap<std::string, std::string>& out) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::string key;
    std::string value;
    if (!percent_decode(pair.substr(0, eq), true, key)) continue;
    if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), true, value)) continue;
    out.emplace(std::move(key), std::move(value));
  }
}

// The verified client certificate's subject, one-line; empty without one.
std::string peer_subject(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::string subject;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    std::array<char, 512> buf{};
    X509_NAME_oneline(X509_get_subject_name(cert), buf.data(), static_cast<int>(buf.size()));
    subject = buf.data();
  }
  X509_free(cert);
  return subject;
}

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Connection(ServerCore& core, Stream stream, std::string remote)
      : core_(core), stream_(std::move(stream)), remote_(std::move(remote)) {}
  ~Connection() {
    {
      std::lock_guard lock(core_.live_mu);
      core_.live.erase(live_id_);
    }
    core_.connections.fetch_sub(1);
  }

  void start() {
    {
      std::lock_guard lock(core_.live_mu);
      live_id_ = core_.next_live++;
      core_.live[live_id_] = [weak = this->weak_from_this()] {
        if (auto self = weak.lock()) {
          asio::post(self->stream_.get_executor(), [self] {
            beast::error_code ec;
            self->lowest().socket().close(ec);
          });
        }
      };
    }
    if constexpr (kTls) {
      lowest().expires_after(core_.request_timeout());
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](
                                                                  beast::error_code ec) {
        if (ec) {
          self->core_.refused(Refusal::kTls);
          spdlog::debug("http: TLS handshake failed: {}", ec.message());
          return;
        }
        if (!self->core_.options.tls.client_ca.empty()) {
          self->client_subject_ = peer_subject(self->stream_.native_handle());
        }
        self->read_header();
      });
    } else {
      read_header();
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_.options.limits.max_header_bytes));
    // The body limit is set once the header passed the checks: the parser
    // would otherwise fail on a large Content-Length before they could run.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    lowest().expires_after(core_.request_timeout());
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return refuse(Refusal::kHeadersTooLarge, 431, "request headers too large");
    }
    if (ec == bhttp::error::body_limit) {
      return refuse(Refusal::kBodyTooLarge, 413, "request body too large");
    }
    if (ec == beast::error::timeout) {
      // Only a request under way counts; an idle keep-alive just ends.
      if (buffer_.size() > 0) core_.refused(Refusal::kTimeout);
      return;
    }
    if (ec) return;  // the client left, or sent something that is not HTTP
    HeaderCheck check = check_header(core_, *parser_, kTls);
    if (check.route == nullptr) {
      if (check.refusal) return refuse(*check.refusal, check.status, check.message);
      return answer_now(json_error(check.status, check.message));
    }
    route_ = check.route;
    path_ = std::move(check.path);
    query_ = std::move(check.query);
    parser_->body_limit(static_cast<std::uint64_t>(core_.options.limits.max_body_bytes));
    if (parser_->is_done()) return on_body({});
    if (lower(std::string(parser_->get()[bhttp::field::expect])) == "100-continue") {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       11);
      return bhttp::async_write(stream_, *cont,
                                [self = this->shared_from_this(), cont](beast::error_code e,
                                                                        std::size_t) {
                                  if (!e) self->read_body();
                                });
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_body(ec);
                      });
  }

  void on_body(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return refuse(Refusal::kBodyTooLarge, 413, "request body too large");
    }
    if (ec == beast::error::timeout) return core_.refused(Refusal::kTimeout);
    if (ec) return;
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    HttpRequest req = make_request(*route_, std::move(msg), path_, query_);
    req.client_subject = client_subject_;
    req.remote_address = remote_;
    const bool queued = core_.pool->try_submit(
        [self = this->shared_from_this(), req = std::move(req)]() mutable {
          self->serve(std::move(req));
        });
    if (!queued) refuse(Refusal::kQueueFull, 503, "server busy, try again");
  }

  // On a worker: the gate, then the handler or the live stream.
  void serve(HttpRequest req) {
    const Route& route = *route_;
    if (auto refusal = authorize(core_, route, req)) return answer_later(std::move(*refusal), true);
    if (route.open) return serve_stream(route, std::move(req));
    answer_later(run_handler(route, req), false);
  }

  // On a worker: greets, then writes events and keep-alives until the
  // client leaves or the server stops. The answer is close-delimited.
  void serve_stream(const Route& route, HttpRequest req) {
    const std::string who = req.principal.name;
    if (!core_.acquire_stream(who)) {
      core_.refused(Refusal::kStreams);
      return answer_later(json_error(503, "too many live streams"), true);
    }
    struct Slot {
      ServerCore& core;
      std::string who;
      ~Slot() { core.release_stream(who); }
    } slot{core_, who};
    std::unique_ptr<EventStream> events;
    try {
      events = route.open(req);
    } catch (const StreamRefused& e) {
      spdlog::warn("http: stream {} refused ({}): {}", route.pattern, e.status(), e.what());
      return answer_later(json_error(e.status(), e.what()), true);
    } catch (const std::exception& e) {
      spdlog::error("http: opening stream {} failed: {}", route.pattern, e.what());
      return answer_later(json_error(500, "internal error"), true);
    }
    std::string out =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "X-Accel-Buffering: no\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        "retry: 3000\n: subscribed\n\n";
    auto quiet_since = std::chrono::steady_clock::now();
    while (write_from_worker(std::move(out)) && !core_.stopping) {
      out.clear();
      while (out.empty() && !core_.stopping) {
        events->read(kStreamPoll, out);
        const auto now = std::chrono::steady_clock::now();
        if (!out.empty()) {
          quiet_since = now;
        } else if (now - quiet_since >= kStreamKeepAlive) {
          // Also how a vanished client is noticed: the write fails.
          quiet_since = now;
          out = ": keep-alive\n\n";
        }
      }
    }
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

  // Writes on the I/O thread and waits for the result (a live stream's
  // worker); the write is bounded by the request timeout.
  bool write_from_worker(std::string data) {
    if (data.empty()) return false;
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), done,
                                        data = std::make_shared<std::string>(std::move(data))] {
      self->lowest().expires_after(self->core_.request_timeout());
      asio::async_write(self->stream_, asio::buffer(*data),
                        [done, data](beast::error_code ec, std::size_t) { done->set_value(!ec); });
    });
    try {
      return result.get();
    } catch (const std::future_error&) {
      return false;  // the I/O context was torn down first
    }
  }

  void answer_later(HttpResponse res, bool close) {
    asio::post(stream_.get_executor(), [self = this->shared_from_this(), res = std::move(res),
                                        close]() mutable { self->write(std::move(res), close); });
  }

  // Answers without reading the body: the connection closes afterwards.
  void refuse(Refusal why, int status, std::string_view message) {
    core_.refused(why);
    write(json_error(status, message), true);
  }

  void answer_now(HttpResponse res) { write(std::move(res), true); }

  void write(HttpResponse r, bool close) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->set("X-Content-Type-Options", "nosniff");
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !close && !core_.stopping);
    res->prepare_payload();
    lowest().expires_after(core_.request_timeout());
    const bool closing = !res->keep_alive();
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res, closing](beast::error_code ec,
                                                                       std::size_t) {
                         if (ec) return;
                         if (closing) return self->close();
                         self->read_header();
                       });
  }

  // Sends FIN, then drops what the client still sends for a moment.
  void close() {
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    lowest().expires_after(kLingerTime);
    linger();
  }

  void linger() {
    lowest().async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](
                                                         beast::error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (!ec && self->lingered_ < kLingerBytes) self->linger();
    });
  }

  ServerCore& core_;
  Stream stream_;
  std::string remote_;
  std::string client_subject_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const Route* route_ = nullptr;
  std::string path_;
  std::string query_;
  bool keep_alive_ = true;
  std::array<char, 4096> discard_{};
  std::size_t lingered_ = 0;
  std::uint64_t live_id_ = 0;
};

void accept_next(ServerCore& core) {
  core.acceptor->async_accept(asio::make_strand(core.ioc), [&core](beast::error_code ec,
                                                                   tcp::socket socket) {
    if (!core.acceptor->is_open() || core.stopping) return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
    } else if (core.connections.fetch_add(1) >= core.options.limits.max_connections) {
      core.connections.fetch_sub(1);
      core.refused(Refusal::kConnections);
      socket.close(ec);
    } else {
      beast::error_code ignored;
      std::string remote = socket.remote_endpoint(ignored).address().to_string(ignored);
      if (core.tls) {
        using Tls = beast::ssl_stream<beast::tcp_stream>;
        std::make_shared<Connection<Tls>>(core,
                                          Tls(beast::tcp_stream(std::move(socket)), *core.tls),
                                          std::move(remote))
            ->start();
      } else {
        std::make_shared<Connection<beast::tcp_stream>>(core, beast::tcp_stream(std::move(socket)),
                                                        std::move(remote))
            ->start();
      }
    }
    accept_next(core);
  });
}

}  // namespace

void start_accepting(ServerCore& core) { accept_next(core); }

HeaderCheck check_header(ServerCore& core, const RequestParser& parser, bool tls) {
  HeaderCheck out;
  auto refuse = [&out](Refusal why, int status, std::string message) {
    out.refusal = why;
    out.status = status;
    out.message = std::move(message);
    return std::move(out);
  };
  const auto& h = parser.get();
  const std::string_view target(h.target().data(), h.target().size());
  const std::size_t q = target.find('?');
  if (target.empty() || target.front() != '/' ||
      !percent_decode(target.substr(0, q), false, out.path)) {
    return refuse(Refusal::kBadRequest, 400, "bad request target");
  }
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  const std::string_view host(h[bhttp::field::host].data(), h[bhttp::field::host].size());
  if (!core.host_allowed(host)) return refuse(Refusal::kHost, 400, "Host not allowed");
  int status = 404;
  const Route* route = core.find(std::string(h.method_string()), out.path, status);
  if (route == nullptr) {
    out.status = status;
    out.message = status == 404 ? "not found" : "method not allowed";
    return out;
  }
  const auto encoding = h[bhttp::field::content_encoding];
  if (!encoding.empty() && lower(trim({encoding.data(), encoding.size()})) != "identity") {
    return refuse(Refusal::kContentEncoding, 415, "compressed request bodies are not accepted");
  }
  if (h.method() == bhttp::verb::post) {
    const auto type = h[bhttp::field::content_type];
    if (!is_json({type.data(), type.size()})) {
      return refuse(Refusal::kContentType, 415, "Content-Type must be application/json");
    }
    const auto origin = h[bhttp::field::origin];
    if (!same_origin({origin.data(), origin.size()}, host, tls)) {
      return refuse(Refusal::kOrigin, 403, "cross-origin request refused");
    }
  }
  if (const auto length = parser.content_length();
      length && *length > static_cast<std::uint64_t>(core.options.limits.max_body_bytes)) {
    return refuse(Refusal::kBodyTooLarge, 413, "request body too large");
  }
  out.route = route;
  return out;
}

HttpRequest make_request(const Route& route, bhttp::request<bhttp::string_body>&& msg,
                         const std::string& path, const std::string& query) {
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.path = path;
  std::smatch m;
  std::regex_match(path, m, route.re);
  for (const auto& g : m) req.matches.push_back(g.str());
  parse_query(query, req.params);
  for (const auto& f : msg) req.headers.emplace_back(f.name_string(), f.value());
  req.body = std::move(msg.body());
  return req;
}

std::optional<HttpResponse> authorize(const ServerCore& core, const Route& route,
                                      HttpRequest& req) {
  if (route.roles.is_public()) return std::nullopt;
  AccessDecision d = core.check_access(route, req);
  if (d.status == 200) {
    req.principal = std::move(d.principal);
    return std::nullopt;
  }
  if (d.status == 403) {
    std::string needed;
    for (const auto& r : route.roles.any_of()) needed += (needed.empty() ? "" : " or ") + r;
    return json_error(403, "forbidden: needs role " + needed);
  }
  HttpResponse res = json_error(d.status == 401 ? 401 : d.status, "authentication required");
  if (d.status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mozaiek\"");
  return res;
}

HttpResponse run_handler(const Route& route, const HttpRequest& req) {
  try {
    return route.handler(req);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} failed: {}", route.pattern, e.what());
  } catch (...) {
    spdlog::error("http: handler for {} failed", route.pattern);
  }
  return json_error(500, "internal error");
}

}  // namespace mozaiek::http_detail
