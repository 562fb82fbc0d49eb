#include "connectors/http/http_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <prometheus/collectable.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>

#include "connectors/http/http_core.h"
#include "stream/json_writer.h"

namespace mozaiek {
namespace {

namespace asio = boost::asio;
using http_detail::Refusal;

constexpr auto kStopGrace = std::chrono::seconds(2);
using http_detail::Route;
using http_detail::ServerCore;

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view refusal_name(Refusal why) {
  switch (why) {
    case Refusal::kConnections: return "connections";
    case Refusal::kQueueFull: return "queue_full";
    case Refusal::kStreams: return "streams";
    case Refusal::kBodyTooLarge: return "body_too_large";
    case Refusal::kHeadersTooLarge: return "headers_too_large";
    case Refusal::kTimeout: return "timeout";
    case Refusal::kHost: return "host";
    case Refusal::kOrigin: return "origin";
    case Refusal::kContentType: return "content_type";
    case Refusal::kContentEncoding: return "content_encoding";
    case Refusal::kBadRequest: return "bad_request";
    case Refusal::kTls: return "tls_handshake";
  }
  return "other";
}

// The DNS names (subject alternative names, else the common name) of the
// PEM certificate at `path`.
std::vector<std::string> certificate_names(const std::string& path) {
  std::vector<std::string> names;
  BIO* bio = BIO_new_file(path.c_str(), "r");
  if (bio == nullptr) return names;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return names;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type == GEN_DNS) {
      const auto* s = n->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    }
  }
  if (sans != nullptr) GENERAL_NAMES_free(sans);
  if (names.empty()) {
    std::array<char, 256> cn{};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(),
                                  static_cast<int>(cn.size())) > 0) {
      names.emplace_back(cn.data());
    }
  }
  X509_free(cert);
  return names;
}

Status make_tls_context(const HttpTlsOptions& t, std::unique_ptr<asio::ssl::context>& out) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(t.certificate, ec);
  if (ec) return Status::error("service.tls.certificate '" + t.certificate + "': " + ec.message());
  ctx->use_private_key_file(t.key, asio::ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Status::error("service.tls.key '" + t.key +
                         "': cannot be read or does not match service.tls.certificate");
  }
  if (t.client_ca.empty()) {
    if (t.require_client_certificate) {
      return Status::error(
          "service.tls.require_client_certificate needs service.tls.client_ca to verify them");
    }
  } else {
    ctx->load_verify_file(t.client_ca, ec);
    if (ec) return Status::error("service.tls.client_ca '" + t.client_ca + "': " + ec.message());
    // Tells clients which CA their certificate must come from.
    SSL_CTX_set_client_CA_list(ctx->native_handle(), SSL_load_client_CA_file(t.client_ca.c_str()));
    ctx->set_verify_mode(
        asio::ssl::verify_peer |
        (t.require_client_certificate ? asio::ssl::verify_fail_if_no_peer_cert : 0));
  }
  out = std::move(ctx);
  return Status::ok();
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

namespace http_detail {

bool percent_decode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      unsigned v = 0;
      if (i + 2 >= in.size()) return false;
      auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
      if (ec != std::errc() || end != in.data() + i + 3) return false;
      out.push_back(static_cast<char>(v));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

ServerCore::ServerCore(std::string l, prometheus::Registry& r, HttpServerOptions o)
    : listen(std::move(l)),
      registry(r),
      options(std::move(o)),
      denied(prometheus::BuildCounter()
                 .Name("mozaiek_http_denied_total")
                 .Help("Requests refused by access control, by status (401 no valid identity, "
                       "403 missing role) and route pattern.")
                 .Register(r)),
      refusals(prometheus::BuildCounter()
                   .Name("mozaiek_http_refused_total")
                   .Help("Requests and connections refused at the HTTP edge before a handler ran, "
                         "by reason (limits, Host, Origin, Content-Type, TLS handshake).")
                   .Register(r)) {}

void ServerCore::refused(Refusal why) {
  refusals.Add({{"reason", std::string(refusal_name(why))}}).Increment();
}

const Route* ServerCore::find(const std::string& method, const std::string& path,
                              int& status) const {
  status = 404;
  for (const auto& r : routes) {
    if (!std::regex_match(path, r.re)) continue;
    if (r.method == method) return &r;
    status = 405;
  }
  return nullptr;
}

bool ServerCore::host_allowed(std::string_view header) const {
  std::string_view h = header;
  if (!h.empty() && h.front() == '[') {
    const std::size_t close = h.find(']');
    if (close == std::string_view::npos) return false;
    h = h.substr(1, close - 1);
  } else if (const std::size_t colon = h.find(':'); colon != std::string_view::npos) {
    h = h.substr(0, colon);
  }
  if (h.empty()) return false;
  const std::string name = lower(h);
  for (const auto& allowed : allowed_hosts) {
    if (allowed == name) return true;
    if (allowed.size() > 2 && allowed.compare(0, 2, "*.") == 0) {
      const std::string_view suffix = std::string_view(allowed).substr(1);
      const std::string_view n(name);
      const bool under = n.size() > suffix.size() && n.substr(n.size() - suffix.size()) == suffix;
      // A wildcard covers one label only.
      if (under && n.substr(0, n.size() - suffix.size()).find('.') == std::string_view::npos) {
        return true;
      }
    }
  }
  return false;
}

bool ServerCore::acquire_stream(const std::string& principal) {
  std::lock_guard lock(streams_mu);
  int& mine = streams_by_principal[principal];
  if (streams >= options.limits.max_streams || mine >= options.limits.max_streams_per_principal) {
    if (mine == 0) streams_by_principal.erase(principal);
    return false;
  }
  ++streams;
  ++mine;
  return true;
}

void ServerCore::release_stream(const std::string& principal) {
  std::lock_guard lock(streams_mu);
  --streams;
  if (--streams_by_principal[principal] <= 0) streams_by_principal.erase(principal);
}

AccessDecision ServerCore::check_access(const Route& route, const HttpRequest& request) const {
  AccessDecision d;
  if (!gate) {
    d.status = 401;
    d.reason = "no authenticator configured";
  } else {
    try {
      d = gate->check(request, route.roles);
    } catch (const std::exception& e) {
      spdlog::error("http: access check for {} failed: {}", route.pattern, e.what());
      d = AccessDecision{};
      d.reason = "access check failed";
    }
  }
  if (d.status == 200) return d;
  if (d.status != 403) d.status = 401;
  denied.Add({{"status", std::to_string(d.status)}, {"route", route.pattern}}).Increment();
  if (on_denied) {
    try {
      on_denied(request, route.roles, d);
    } catch (const std::exception& e) {
      spdlog::error("http: denial observer failed: {}", e.what());
    }
  }
  return d;
}

}  // namespace http_detail

struct HttpServer::Impl : ServerCore {
  using ServerCore::ServerCore;
  void add_builtin_routes();
  // The Host values answered: loopback names, the listen host, the
  // configured ones and the certificate's DNS names.
  void set_allowed_hosts(const std::string& listen_host);
};

void HttpServer::Impl::set_allowed_hosts(const std::string& listen_host) {
  allowed_hosts = {"localhost", "127.0.0.1", "::1"};
  if (listen_host != "0.0.0.0" && listen_host != "::") allowed_hosts.push_back(lower(listen_host));
  for (const auto& h : options.allowed_hosts) allowed_hosts.push_back(lower(h));
  if (tls) {
    for (const auto& n : certificate_names(options.tls.certificate)) {
      allowed_hosts.push_back(lower(n));
    }
  }
}

void HttpServer::Impl::add_builtin_routes() {
  auto add = [this](std::string pattern, Roles roles, HttpHandler h) {
    std::regex re(pattern);
    routes.push_back(
        Route{"GET", std::move(pattern), std::move(re), std::move(roles), std::move(h), nullptr});
  };
  add("/metrics", Roles{role::kMetrics}, [this](const HttpRequest&) {
    auto families = registry.Collect();
    for (const auto* c : extra) {
      auto more = c->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
    return HttpResponse{200,
                        "text/plain; version=0.0.4; charset=utf-8",
                        prometheus::TextSerializer().Serialize(families),
                        {}};
  });
  add("/healthz", Roles::anyone(), [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "ok\n", {}};
  });
  add("/readyz", Roles::anyone(), [this](const HttpRequest&) {
    return ready ? HttpResponse{200, "text/plain", "ready\n", {}}
                 : HttpResponse{503, "text/plain", "not ready\n", {}};
  });
}

HttpServer::HttpServer(std::string listen, prometheus::Registry& registry,
                       HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(listen), registry, std::move(options))) {
  impl_->add_builtin_routes();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::add_collectable(const prometheus::Collectable& c) { impl_->extra.push_back(&c); }

void HttpServer::set_access_gate(std::shared_ptr<const AccessGate> gate, DenialObserver on_denied) {
  impl_->gate = std::move(gate);
  impl_->on_denied = std::move(on_denied);
}

void HttpServer::route(std::string method, std::string pattern, Roles roles, HttpHandler handler) {
  if (method != "GET" && method != "POST" && method != "PUT" && method != "DELETE") {
    spdlog::error("http: route {} {}: unsupported method", method, pattern);
    return;
  }
  std::regex re(pattern);
  impl_->routes.push_back(Route{std::move(method), std::move(pattern), std::move(re),
                                std::move(roles), std::move(handler), nullptr});
}

void HttpServer::event_stream(const std::string& pattern, Roles roles, EventStreamOpener open,
                              std::function<void()> wake) {
  impl_->wakes.push_back(std::move(wake));
  impl_->routes.push_back(
      Route{"GET", pattern, std::regex(pattern), std::move(roles), nullptr, std::move(open)});
}

Status HttpServer::start() {
  Impl& m = *impl_;
  if (m.io_thread.joinable())
    return Status::error("HTTP server on " + m.listen + " already started");
  std::string host;
  int port = 0;
  if (!parse_listen_address(m.listen, host, port)) {
    return Status::error("service.http_listen '" + m.listen + "': expected host:port");
  }
  if (m.options.tls.enabled()) {
    if (Status s = make_tls_context(m.options.tls, m.tls); !s) return s;
  }
  m.set_allowed_hosts(host);
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  auto fail = [&](const boost::system::error_code& e) {
    m.acceptor.reset();
    return Status::error("cannot listen on " + m.listen + ": " + e.message() +
                         " (set service.http_listen to a free host:port)");
  };
  if (ec) return fail(ec);
  const asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  m.acceptor.emplace(m.ioc);
  // SO_REUSEADDR allows a quick restart; without SO_REUSEPORT a second
  // process cannot bind the same port silently.
  if (m.acceptor->open(endpoint.protocol(), ec); ec) return fail(ec);
  if (m.acceptor->set_option(asio::socket_base::reuse_address(true), ec); ec) return fail(ec);
  if (m.acceptor->bind(endpoint, ec); ec) return fail(ec);
  if (m.acceptor->listen(asio::socket_base::max_listen_connections, ec); ec) return fail(ec);
  m.host = host;
  m.port = m.acceptor->local_endpoint().port();
  const auto& limits = m.options.limits;
  m.pool = std::make_unique<WorkerPool>(limits.threads,
                                        static_cast<std::size_t>(limits.max_queued_requests));
  m.work.emplace(m.ioc.get_executor());
  http_detail::start_accepting(m);
  m.io_thread = std::thread([&m] {
    try {
      m.ioc.run();
    } catch (const std::exception& e) {
      spdlog::error("http: server on {} stopped: {}", m.listen, e.what());
    }
    std::lock_guard lock(m.io_mu);
    m.io_done = true;
    m.io_cv.notify_all();
  });
  return Status::ok();
}

void HttpServer::stop() {
  Impl& m = *impl_;
  m.stopping = true;
  m.ready = false;
  for (const auto& wake : m.wakes) wake();
  if (!m.io_thread.joinable()) return;
  asio::post(m.ioc, [&m] {
    boost::system::error_code ec;
    if (m.acceptor) m.acceptor->close(ec);
  });
  // Workers first: a live stream's last write still needs the I/O thread.
  m.pool->stop();
  // Then every connection is closed; its pending operations end and the
  // I/O thread runs out of work. A bounded wait: whatever is left is
  // abandoned with the context.
  std::vector<std::function<void()>> closers;
  {
    std::lock_guard lock(m.live_mu);
    for (auto& [id, close] : m.live) closers.push_back(close);
  }
  for (const auto& close : closers) close();
  m.work.reset();
  {
    std::unique_lock lock(m.io_mu);
    m.io_cv.wait_for(lock, kStopGrace, [&m] { return m.io_done; });
  }
  m.ioc.stop();
  m.io_thread.join();
}

std::optional<HttpResponse> HttpServer::answer_raw(std::string_view bytes) {
  namespace bhttp = boost::beast::http;
  Impl& m = *impl_;
  if (m.allowed_hosts.empty()) {
    std::string host;
    int port = 0;
    if (!parse_listen_address(m.listen, host, port)) return std::nullopt;
    m.set_allowed_hosts(host);
  }
  http_detail::RequestParser parser;
  parser.header_limit(static_cast<std::uint32_t>(m.options.limits.max_header_bytes));
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  boost::beast::error_code ec;
  // Feeds the parser what is left of `bytes` until `done`; false when the
  // bytes end first or are not HTTP (a connection would wait, then drop).
  auto feed = [&](auto done) {
    while (!done() && !bytes.empty()) {
      const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if (ec) return false;
    }
    return done();
  };
  auto refuse = [&m](Refusal why, int status, std::string_view message) {
    m.refused(why);
    return json_error(status, message);
  };
  if (!feed([&] { return parser.is_header_done(); })) {
    if (ec == bhttp::error::header_limit) {
      return refuse(Refusal::kHeadersTooLarge, 431, "request headers too large");
    }
    if (ec == bhttp::error::body_limit) {
      return refuse(Refusal::kBodyTooLarge, 413, "request body too large");
    }
    return std::nullopt;
  }
  http_detail::HeaderCheck check = http_detail::check_header(m, parser, m.tls != nullptr);
  if (check.route == nullptr) {
    if (check.refusal) return refuse(*check.refusal, check.status, check.message);
    return json_error(check.status, check.message);
  }
  parser.body_limit(static_cast<std::uint64_t>(m.options.limits.max_body_bytes));
  if (!feed([&] { return parser.is_done(); })) {
    if (ec == bhttp::error::body_limit) {
      return refuse(Refusal::kBodyTooLarge, 413, "request body too large");
    }
    return std::nullopt;
  }
  const http_detail::Route& route = *check.route;
  HttpRequest req = http_detail::make_request(route, parser.release(), check.path, check.query);
  if (auto refusal = http_detail::authorize(m, route, req)) return refusal;
  if (route.open) return HttpResponse{200, "text/event-stream", "", {}};
  return http_detail::run_handler(route, req);
}

std::string HttpServer::address() const {
  if (impl_->port < 0) return "";
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" + std::to_string(impl_->port);
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::set_ready(bool ready) { impl_->ready = ready; }

bool HttpServer::tls() const { return impl_->options.tls.enabled(); }

}  // namespace mozaiek
