// The HTTP edge's limits and request checks: a body over the limit is
// refused before it is read (chunked too), compressed bodies, oversized
// headers, too many connections, a full queue, a slow request, a bad Host,
// a cross-origin or non-JSON POST, and too many live streams per principal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>

#include "connectors/http/http_server.h"
#include "tests/support/fake_gate.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/raw_client.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Handlers that block until released, to fill the workers.
class Gate {
 public:
  void hold() {
    std::unique_lock lock(mu_);
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --held_;
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int held() {
    std::lock_guard lock(mu_);
    return held_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int held_ = 0;
};

class QuietStream final : public EventStream {
 public:
  void read(std::chrono::milliseconds wait, std::string&) override {
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(20)));
  }
};

class HttpLimitsTest : public ::testing::Test {
 protected:
  void start(HttpLimits limits) {
    HttpServerOptions o;
    o.limits = limits;
    server_ = std::make_unique<HttpServer>("127.0.0.1:0", registry_, o);
    auto gate = test::FakeGate::granting_all_roles("ana");
    gate->add_token("bob", Principal{"bob", {"analyst"}, "test"});
    server_->set_access_gate(gate);
    server_->route("POST", "/api/echo", Roles{role::kAnalyst}, [this](const HttpRequest& r) {
      ++handled_;
      return HttpResponse{200, "text/plain", std::to_string(r.body.size()), {}};
    });
    server_->route("GET", "/api/hold", Roles{role::kAnalyst}, [this](const HttpRequest&) {
      hold_.hold();
      return HttpResponse{200, "text/plain", "released", {}};
    });
    server_->event_stream(
        "/api/live", Roles{role::kAnalyst},
        [](const HttpRequest&) { return std::make_unique<QuietStream>(); }, [] {});
    ASSERT_TRUE(server_->start().is_ok());
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  // Sends `request` on a fresh connection and returns the whole answer.
  std::string raw(const std::string& request) {
    test::RawClient c(server_->port());
    EXPECT_TRUE(c.connected());
    c.send(request);
    return c.read_until_closed();
  }

  httplib::Result post(const std::string& body, const httplib::Headers& headers,
                       const std::string& type = "application/json") {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(std::chrono::seconds(10));
    return c.Post("/api/echo", headers, body, type);
  }

  double refused(const std::string& reason) {
    httplib::Client c("127.0.0.1", server_->port());
    return test::metric_sum(c.Get("/metrics")->body, "mozaiek_http_refused_total",
                            {"reason=\"" + reason + "\""})
        .value_or(0);
  }

  prometheus::Registry registry_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
  Gate hold_;
};

TEST_F(HttpLimitsTest, BodyOverTheLimitIsRefusedBeforeItIsSent) {
  HttpLimits l;
  l.max_body_bytes = 4096;
  start(l);
  // Only the header goes out: the answer comes without the body being sent.
  const std::string answer = raw("POST /api/echo HTTP/1.1\r\nHost: " + host() +
                                 "\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 104857600\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(answer, HasSubstr("request body too large"));
  EXPECT_EQ(handled_, 0);
  EXPECT_EQ(post(std::string(4096, 'x'), {})->body, "4096");  // at the limit: served
  EXPECT_EQ(refused("body_too_large"), 1);
}

TEST_F(HttpLimitsTest, ChunkedBodyOverTheLimitIsRefused) {
  HttpLimits l;
  l.max_body_bytes = 4096;
  start(l);
  std::string chunked = "POST /api/echo HTTP/1.1\r\nHost: " + host() +
                        "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "800\r\n" + std::string(2048, 'x') + "\r\n";
  chunked += "0\r\n\r\n";
  EXPECT_THAT(raw(chunked), StartsWith("HTTP/1.1 413"));
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpLimitsTest, CompressedBodyIsRefused) {
  start({});
  auto res = post("{}", {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpLimitsTest, OversizedHeadersAreRefused) {
  HttpLimits l;
  l.max_header_bytes = 2048;
  start(l);
  const std::string answer = raw("GET /healthz HTTP/1.1\r\nHost: " + host() +
                                 "\r\nX-Padding: " + std::string(4096, 'p') + "\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 431"));
}

TEST_F(HttpLimitsTest, ConnectionsBeyondTheLimitAreClosed) {
  HttpLimits l;
  l.max_connections = 3;
  start(l);
  std::vector<std::unique_ptr<test::RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<test::RawClient>(server_->port()));
    // A served request proves the connection is counted before the next opens.
    held.back()->send("GET /healthz HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");
  }
  ASSERT_TRUE(test::wait_until(
      [&] {
        test::RawClient probe(server_->port(), std::chrono::milliseconds(2000));
        probe.send("GET /healthz HTTP/1.1\r\nHost: " + host() + "\r\n\r\n");
        return probe.read_until_closed().empty() && !probe.timed_out();
      },
      seconds(10)));
  held.clear();
  // Once they are gone, new connections are served again.
  ASSERT_TRUE(test::wait_until(
      [&] {
        httplib::Client c("127.0.0.1", server_->port());
        auto res = c.Get("/healthz");
        return res && res->status == 200;
      },
      seconds(10)));
}

TEST_F(HttpLimitsTest, FullQueueAnswers503InsteadOfWaiting) {
  HttpLimits l;
  l.threads = 2;
  l.max_queued_requests = 0;  // nothing waits beyond the idle workers
  start(l);
  std::vector<std::thread> clients;
  std::atomic<int> released{0};
  for (int i = 0; i < 2; ++i) {  // both workers run one, and block
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", server_->port());
      c.set_read_timeout(std::chrono::seconds(20));
      auto res = c.Get("/api/hold");
      if (res && res->status == 200) ++released;
    });
  }
  EXPECT_TRUE(test::wait_until([&] { return hold_.held() == 2; }, seconds(10)));
  httplib::Client c("127.0.0.1", server_->port());
  auto busy = c.Get("/api/hold");
  EXPECT_TRUE(busy && busy->status == 503);
  hold_.open();
  for (auto& t : clients) t.join();
  EXPECT_EQ(released, 2);
  EXPECT_GE(refused("queue_full"), 1);
}

TEST_F(HttpLimitsTest, SlowRequestIsTimedOut) {
  HttpLimits l;
  l.request_timeout_ms = 300;
  start(l);
  test::RawClient slow(server_->port());
  const auto t0 = std::chrono::steady_clock::now();
  slow.send("GET /healthz HTTP/1.1\r\nHost: ");  // and never the rest
  EXPECT_EQ(slow.read_until_closed(), "");
  EXPECT_FALSE(slow.timed_out());  // the server closed it, the client did not give up
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ(refused("timeout"), 1);
}

TEST_F(HttpLimitsTest, BadHostIsRefused) {
  start({});
  httplib::Client c("127.0.0.1", server_->port());
  EXPECT_EQ(c.Get("/healthz", {{"Host", "attacker.example"}})->status, 400);
  EXPECT_EQ(c.Get("/healthz", {{"Host", "localhost:1234"}})->status, 200);
  EXPECT_THAT(raw("GET /healthz HTTP/1.0\r\n\r\n"), StartsWith("HTTP/1.1 400"));  // no Host
}

TEST_F(HttpLimitsTest, AllowedHostsExtendTheDefaults) {
  HttpServerOptions o;
  o.allowed_hosts = {"mozaiek.example.nl", "*.ketenpartner.nl"};
  HttpServer s("127.0.0.1:0", registry_, o);
  ASSERT_TRUE(s.start().is_ok());
  httplib::Client c("127.0.0.1", s.port());
  EXPECT_EQ(c.Get("/healthz", {{"Host", "mozaiek.example.nl"}})->status, 200);
  EXPECT_EQ(c.Get("/healthz", {{"Host", "a.ketenpartner.nl"}})->status, 200);
  EXPECT_EQ(c.Get("/healthz", {{"Host", "a.b.ketenpartner.nl"}})->status, 400);
  EXPECT_EQ(c.Get("/healthz", {{"Host", "example.nl"}})->status, 400);
}

TEST_F(HttpLimitsTest, CrossOriginPostIsRefused) {
  start({});
  EXPECT_EQ(post("{}", {{"Origin", "https://attacker.example"}})->status, 403);
  EXPECT_EQ(post("{}", {{"Origin", "null"}})->status, 403);
  EXPECT_EQ(post("{}", {{"Origin", "http://" + host()}})->status, 200);  // same origin
  EXPECT_EQ(post("{}", {})->status, 200);  // no Origin: not a browser's cross-site post
  EXPECT_EQ(handled_, 2);
}

TEST_F(HttpLimitsTest, FormContentTypeIsRefused) {
  start({});
  EXPECT_EQ(post("a=b", {}, "application/x-www-form-urlencoded")->status, 415);
  EXPECT_EQ(post("a=b", {}, "text/plain")->status, 415);
  EXPECT_EQ(post("{}", {}, "application/json; charset=utf-8")->status, 200);
  EXPECT_EQ(handled_, 1);
}

TEST_F(HttpLimitsTest, LiveStreamsAreBoundedPerPrincipal) {
  HttpLimits l;
  l.max_streams_per_principal = 2;
  l.max_streams = 3;
  start(l);
  auto open = [this](const std::string& token) {
    auto c = std::make_unique<test::RawClient>(server_->port());
    c->send("GET /api/live HTTP/1.1\r\nHost: " + host() + "\r\n" +
            (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n");
    return c;
  };
  auto a1 = open("");
  auto a2 = open("");
  ASSERT_THAT(a1->read_until(": subscribed"), HasSubstr(": subscribed"));
  ASSERT_THAT(a2->read_until(": subscribed"), HasSubstr(": subscribed"));
  httplib::Client c("127.0.0.1", server_->port());
  EXPECT_EQ(c.Get("/api/live")->status, 503);  // ana already holds two
  auto b1 = open("bob");                       // another principal still may, up to the total
  ASSERT_THAT(b1->read_until(": subscribed"), HasSubstr(": subscribed"));
  EXPECT_EQ(c.Get("/api/live", {{"Authorization", "Bearer bob"}})->status, 503);  // three in all
  EXPECT_EQ(refused("streams"), 2);
}

}  // namespace
}  // namespace mozaiek
