// Access control in HttpServer: every protected route kind (a handler
// route, a live stream, /metrics) answers 401 without an identity, 403
// naming the missing role, and runs with the principal set when granted;
// refusals are counted and reported; /healthz and /readyz stay public.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include <mutex>
#include <string>
#include <vector>

#include "connectors/http/http_server.h"
#include "tests/support/fake_gate.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/sse_reader.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;

// A stream that sends nothing; read() returns after `wait` or a wake.
class QuietStream final : public EventStream {
 public:
  void read(std::chrono::milliseconds wait, std::string&) override {
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(50)));
  }
};

struct Denial {
  std::string path;
  int status;
  std::vector<std::string> roles;
};

class HttpAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gate_->add_token("analyst-token", Principal{"ana", {"analyst"}, "test"});
    gate_->add_token("care-token", Principal{"carla", {"care"}, "test"});
    gate_->add_token("scraper-token", Principal{"prometheus", {"metrics"}, "test"});
    server_.route("GET", "/api/things", Roles{role::kAnalyst}, [](const HttpRequest& r) {
      return HttpResponse{
          200, "text/plain", "for " + r.principal.name + " via " + r.principal.via, {}};
    });
    server_.event_stream(
        "/api/live", Roles{role::kAnalyst, role::kCare},
        [](const HttpRequest&) { return std::make_unique<QuietStream>(); }, [] {});
  }

  void start(bool with_gate = true) {
    if (with_gate) {
      server_.set_access_gate(gate_, [this](const HttpRequest& r, const Roles& roles,
                                            const AccessDecision& d) {
        std::lock_guard lock(mu_);
        denials_.push_back(Denial{r.path, d.status, roles.any_of()});
      });
    }
    ASSERT_TRUE(server_.start().is_ok());
  }

  httplib::Result get(const std::string& path, const std::string& token = "") {
    httplib::Client c("127.0.0.1", server_.port());
    c.set_read_timeout(std::chrono::seconds(10));
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return c.Get(path, h);
  }

  double denied(const std::string& status, const std::string& route) {
    httplib::Client c("127.0.0.1", server_.port());
    auto res = c.Get("/metrics", {{"Authorization", "Bearer scraper-token"}});
    return test::metric_sum(res->body, "mozaiek_http_denied_total",
                            {"status=\"" + status + "\"", "route=\"" + route + "\""})
        .value_or(0);
  }

  prometheus::Registry registry_;
  std::shared_ptr<test::FakeGate> gate_ = std::make_shared<test::FakeGate>();
  HttpServer server_{"127.0.0.1:0", registry_};
  std::mutex mu_;
  std::vector<Denial> denials_;
};

TEST_F(HttpAccessTest, RouteWithoutIdentityIs401WithABearerChallenge) {
  start();
  auto res = get("/api/things");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_THAT(res->get_header_value("WWW-Authenticate"), HasSubstr("Bearer"));
  EXPECT_THAT(res->body, HasSubstr(R"("error":)"));
  EXPECT_EQ(get("/api/things", "forged-token")->status, 401);
}

TEST_F(HttpAccessTest, RouteWithoutTheRoleIs403NamingIt) {
  start();
  auto res = get("/api/things", "care-token");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_THAT(res->body, HasSubstr("analyst"));
}

TEST_F(HttpAccessTest, GrantedRouteRunsWithThePrincipal) {
  start();
  auto res = get("/api/things", "analyst-token");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "for ana via test");
}

TEST_F(HttpAccessTest, LiveStreamIsGuardedLikeAnyRoute) {
  start();
  EXPECT_EQ(get("/api/live")->status, 401);
  EXPECT_EQ(get("/api/live", "scraper-token")->status, 403);
  std::string received;
  httplib::Client c("127.0.0.1", server_.port());
  c.Get("/api/live", {{"Authorization", "Bearer care-token"}},
        [&](const char* data, std::size_t len) {
          received.append(data, len);
          return received.find(": subscribed") == std::string::npos;
        });
  EXPECT_THAT(received, HasSubstr(": subscribed"));
}

TEST_F(HttpAccessTest, MetricsNeedsTheMetricsRoleHealthAndReadinessArePublic) {
  start();
  EXPECT_EQ(get("/metrics")->status, 401);
  EXPECT_EQ(get("/metrics", "analyst-token")->status, 403);
  EXPECT_EQ(get("/metrics", "scraper-token")->status, 200);
  EXPECT_EQ(get("/healthz")->status, 200);
  EXPECT_EQ(get("/readyz")->status, 503);  // public, and not ready yet
}

TEST_F(HttpAccessTest, WithoutAGateEveryProtectedRouteIs401) {
  start(false);
  EXPECT_EQ(get("/api/things", "analyst-token")->status, 401);
  EXPECT_EQ(get("/api/live", "analyst-token")->status, 401);
  EXPECT_EQ(get("/metrics", "scraper-token")->status, 401);
  EXPECT_EQ(get("/healthz")->status, 200);
}

TEST_F(HttpAccessTest, RefusalsAreCountedPerStatusAndRouteAndReported) {
  start();
  get("/api/things");
  get("/api/things");
  get("/api/things", "care-token");
  get("/api/live");
  get("/api/things", "analyst-token");
  EXPECT_EQ(denied("401", "/api/things"), 2);
  EXPECT_EQ(denied("403", "/api/things"), 1);
  EXPECT_EQ(denied("401", "/api/live"), 1);
  std::lock_guard lock(mu_);
  ASSERT_EQ(denials_.size(), 4U);
  EXPECT_EQ(denials_[2].path, "/api/things");
  EXPECT_EQ(denials_[2].status, 403);
  EXPECT_EQ(denials_[2].roles, std::vector<std::string>{"analyst"});
  EXPECT_EQ(denials_[3].roles, (std::vector<std::string>{"analyst", "care"}));
}

TEST_F(HttpAccessTest, TheGateSeesTheRemoteAddress) {
  server_.route("GET", "/api/whoami", Roles{role::kAnalyst}, [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.remote_address, {}};
  });
  start();
  EXPECT_EQ(get("/api/whoami", "analyst-token")->body, "127.0.0.1");
}

}  // namespace
}  // namespace mozaiek
