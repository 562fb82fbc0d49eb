// HttpServer::answer_raw: one request as raw bytes through the same steps a
// connection takes (parser and limits, checks, router, gate, handler),
// without a socket. The fuzzer (tests/fuzz/http_request_fuzz.cc) relies on
// these answers being the server's.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <string>

#include "connectors/http/http_server.h"
#include "tests/support/fake_gate.h"

namespace mozaiek {
namespace {

class AnswerRawTest : public ::testing::Test {
 protected:
  AnswerRawTest() : server_("127.0.0.1:0", registry_, options()) {
    auto gate = std::make_shared<test::FakeGate>();
    gate->add_token("ana", Principal{"ana", {std::string(role::kAnalyst)}, "test"});
    server_.set_access_gate(gate);
    server_.route("GET", R"(/api/entities/([a-z]+)/([^/]+))", Roles{role::kAnalyst},
                  [](const HttpRequest& r) {
                    return HttpResponse{200,
                                        "text/plain",
                                        r.principal.name + " " + r.matches[2] + " " +
                                            r.param("reason"),
                                        {}};
                  });
    server_.route("POST", "/api/echo", Roles{role::kAnalyst}, [](const HttpRequest& r) {
      return HttpResponse{200, "application/json", r.body, {}};
    });
  }
  static HttpServerOptions options() {
    HttpServerOptions o;
    o.limits.max_body_bytes = 16;
    o.limits.max_header_bytes = 512;
    return o;
  }
  std::optional<HttpResponse> answer(const std::string& raw) { return server_.answer_raw(raw); }

  prometheus::Registry registry_;
  HttpServer server_;
};

TEST_F(AnswerRawTest, RoutesAdmittedRequestsToTheirHandlerWithTheDecodedPathAndQuery) {
  const auto res = answer(
      "GET /api/entities/vehicle/FR-AB%31?reason=case+17 HTTP/1.1\r\nHost: localhost\r\n"
      "Authorization: Bearer ana\r\n\r\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ana FR-AB1 case 17");
}

TEST_F(AnswerRawTest, RefusesAsTheServerDoes) {
  const std::string protected_get = "GET /api/entities/person/x HTTP/1.1\r\nHost: localhost\r\n";
  EXPECT_EQ(answer(protected_get + "\r\n")->status, 401);
  EXPECT_EQ(answer(protected_get + "Authorization: Bearer nobody\r\n\r\n")->status, 401);
  EXPECT_EQ(answer("GET /healthz HTTP/1.1\r\nHost: evil.example.com\r\n\r\n")->status, 400);
  EXPECT_EQ(answer("GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n")->status, 404);
  EXPECT_EQ(answer("DELETE /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")->status, 405);
  EXPECT_EQ(answer("GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n")->status, 503);
  const std::string post =
      "POST /api/echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ana\r\n";
  EXPECT_EQ(answer(post + "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}")->status, 415);
  EXPECT_EQ(answer(post + "Content-Type: application/json\r\nOrigin: https://evil.example\r\n"
                          "Content-Length: 2\r\n\r\n{}")
                ->status,
            403);
  EXPECT_EQ(answer(post + "Content-Type: application/json\r\nContent-Length: 17\r\n\r\n")->status,
            413);
  EXPECT_EQ(answer(post + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "11\r\n{\"a\":\"0123456789\"}\r\n0\r\n\r\n")
                ->status,
            413);
  EXPECT_EQ(answer("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX: " + std::string(600, 'x') +
                   "\r\n\r\n")
                ->status,
            431);
  const auto ok = answer(post + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "{}");
}

TEST_F(AnswerRawTest, IncompleteOrNonHttpBytesGetNoAnswer) {
  EXPECT_FALSE(answer("GET /healthz HTTP/1.1\r\nHost: localhost\r\n"));
  EXPECT_FALSE(answer("POST /api/echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ana\r\n"
                      "Content-Type: application/json\r\nContent-Length: 4\r\n\r\n{}"));
  EXPECT_FALSE(answer("\x16\x03\x01 not http\r\n\r\n"));
}

}  // namespace
}  // namespace mozaiek
