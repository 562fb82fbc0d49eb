// The HTTP request path without a socket: raw bytes -> Boost.Beast's
// request parser under the server's limits -> the Host, Origin,
// Content-Type and size checks -> the router -> the access gate (a
// FakeGate knowing two bearer tokens) -> a handler (HttpServer::answer_raw,
// the same steps a connection takes). Routes are the built-in ones and the
// API's patterns, whose handlers read the body with the real parsers.
// Properties: nothing throws or reads out of bounds; every answer has a
// status the server gives on purpose (no 500: these handlers never throw);
// a protected handler runs only for a principal holding its role, and sees
// the path its pattern matched.
#include <prometheus/registry.h>

#include <string>

#include "connectors/http/api/alert_action.h"
#include "connectors/http/http_server.h"
#include "operators/erasure/erasure_request.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/fake_gate.h"

namespace mozaiek::fuzz {
namespace {

// A handler for a route needing `role`: checks what the server promised.
HttpHandler checked(std::string_view role, HttpHandler inner) {
  return [role, inner = std::move(inner)](const HttpRequest& req) {
    FUZZ_CHECK(req.principal.has_role(role));
    FUZZ_CHECK(!req.matches.empty() && req.matches[0] == req.path);
    return inner(req);
  };
}

HttpServer& server() {
  static prometheus::Registry registry;
  static HttpServer* s = [] {
    HttpServerOptions options;
    options.limits.max_body_bytes = 4096;
    options.limits.max_header_bytes = 2048;
    options.allowed_hosts = {"*.example.nl"};
    auto* srv = new HttpServer("127.0.0.1:8080", registry, options);
    auto gate = std::make_shared<test::FakeGate>();
    gate->add_token("ana", Principal{"ana", {std::string(role::kAnalyst)}, "test"});
    gate->add_token("olga",
                    Principal{"olga",
                              {std::string(role::kPrivacyOfficer), std::string(role::kMetrics)},
                              "test"});
    srv->set_access_gate(gate);
    srv->route("GET", "/", Roles::anyone(), [](const HttpRequest&) {
      return HttpResponse{200, "text/html", "<p>console</p>", {}};
    });
    srv->route("GET", R"(/console/([A-Za-z0-9._-]+))", Roles::anyone(), [](const HttpRequest& r) {
      FUZZ_CHECK(r.matches.size() == 2);
      return HttpResponse{200, "text/plain", r.matches[1], {}};
    });
    srv->route("GET", "/api/alerts", Roles{role::kAnalyst},
               checked(role::kAnalyst, [](const HttpRequest& r) {
                 return HttpResponse{200, "application/json", r.param("rule"), {}};
               }));
    srv->route("GET", R"(/api/entities/([a-z]+)/([^/]+))", Roles{role::kAnalyst},
               checked(role::kAnalyst, [](const HttpRequest& r) {
                 FUZZ_CHECK(r.matches.size() == 3 && !r.matches[2].empty());
                 return HttpResponse{200, "application/json", r.param("reason"), {}};
               }));
    srv->route("POST", R"(/api/alerts/([^/]+)/actions)", Roles{role::kAnalyst},
               checked(role::kAnalyst, [](const HttpRequest& r) {
                 ActionBody body;
                 if (auto e = parse_action_body(r.body, body)) return json_error(400, e->field);
                 return HttpResponse{202, "application/json", "{}", {}};
               }));
    srv->route("POST", "/api/erasure", Roles{role::kPrivacyOfficer},
               checked(role::kPrivacyOfficer, [](const HttpRequest& r) {
                 ErasureRequest request;
                 if (auto e = parse_erasure_json(r.body, r.principal.name, pseudonymiser(),
                                                 request)) {
                   return json_error(400, e->field);
                 }
                 return HttpResponse{202, "application/json", "{}", {}};
               }));
    srv->event_stream(
        "/api/alerts/stream", Roles{role::kAnalyst},
        [](const HttpRequest&) -> std::unique_ptr<EventStream> {
          FUZZ_CHECK(false);  // answer_raw never opens a stream
          return nullptr;
        },
        [] {});
    srv->set_ready(true);
    return srv;
  }();
  return *s;
}

}  // namespace
}  // namespace mozaiek::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  const auto res = fuzz::server().answer_raw(fuzz::bytes(data, size));
  if (!res) return 0;
  switch (res->status) {
    case 200:
    case 202:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 413:
    case 415:
    case 431:
    case 503: break;
    default: FUZZ_CHECK(false && "unexpected status");
  }
  return 0;
}
