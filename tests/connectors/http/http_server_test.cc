#include <httplib.h>

#include "connectors/http/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <string_view>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "connectors/http/alert_feed.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kDeadline = std::chrono::seconds(10);

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prometheus::BuildCounter()
        .Name("test_requests_total")
        .Help("A test counter.")
        .Register(registry_)
        .Add({{"kind", "probe"}})
        .Increment(3);
    ASSERT_TRUE(server_.start().is_ok());
    ASSERT_GT(server_.port(), 0);
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_.port());
    c.set_read_timeout(std::chrono::seconds(10));
    return c;
  }

  prometheus::Registry registry_;
  AlertFeed feed_{4};
  HttpServer server_{"127.0.0.1:0", registry_, feed_};
};

TEST_F(HttpServerTest, HealthzAnswersOk) {
  auto res = client().Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
}

TEST_F(HttpServerTest, MetricsServesTheRegistryInPrometheusTextFormat) {
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith("text/plain; version=0.0.4"));
  EXPECT_THAT(res->body, HasSubstr("test_requests_total{kind=\"probe\"} 3"));
  EXPECT_THAT(res->body, HasSubstr("# HELP test_requests_total A test counter."));
}

TEST_F(HttpServerTest, ReadyzFollowsTheOwner) {
  EXPECT_EQ(client().Get("/readyz")->status, 503);
  server_.set_ready(true);
  EXPECT_EQ(client().Get("/readyz")->status, 200);
  server_.set_ready(false);
  EXPECT_EQ(client().Get("/readyz")->status, 503);
}

TEST_F(HttpServerTest, RecentAlertsNewestFirstWithinTheLimit) {
  EXPECT_EQ(client().Get("/api/alerts")->body, "[]");
  for (int i = 1; i <= 6; ++i) feed_.publish("{\"alert_id\":\"a" + std::to_string(i) + "\"}");
  auto all = client().Get("/api/alerts");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->get_header_value("Content-Type"), "application/json");
  // Capacity 4: the two oldest are gone. Each is served with its status and actions.
  EXPECT_EQ(all->body,
            R"([{"alert_id":"a6","status":"new","actions":[]},)"
            R"({"alert_id":"a5","status":"new","actions":[]},)"
            R"({"alert_id":"a4","status":"new","actions":[]},)"
            R"({"alert_id":"a3","status":"new","actions":[]}])");
  EXPECT_EQ(client().Get("/api/alerts?limit=1")->body,
            R"([{"alert_id":"a6","status":"new","actions":[]}])");
  EXPECT_EQ(client().Get("/api/alerts?limit=zero")->status, 400);
  EXPECT_EQ(client().Get("/api/alerts?limit=0")->status, 400);
}

TEST_F(HttpServerTest, RulesServeWhatTheOwnerSet) {
  EXPECT_EQ(client().Get("/api/rules")->body, "[]");
  server_.set_rules_json(R"([{"name":"person_convergence"}])");
  EXPECT_EQ(client().Get("/api/rules")->body, R"([{"name":"person_convergence"}])");
}

TEST_F(HttpServerTest, ExtraRoutesReceiveCapturesAndParams) {
  HttpServer other("127.0.0.1:0", registry_, feed_);
  other.route("GET", R"(/api/entities/(\w+)/(\w+))", [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.matches.at(1) + "/" + r.matches.at(2) + "?" +
                                               r.param("why")};
  });
  other.route("GET", "/boom", [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("kaboom");
  });
  ASSERT_TRUE(other.start().is_ok());
  httplib::Client c("127.0.0.1", other.port());
  EXPECT_EQ(c.Get("/api/entities/vehicle/NL/x")->status, 404);
  EXPECT_EQ(c.Get("/api/entities/vehicle/FR_AB123?why=case")->body, "vehicle/FR_AB123?case");
  EXPECT_EQ(c.Get("/boom")->status, 500);
}

// Reads /api/alerts/stream on its own thread until `stop_when` holds for
// what arrived so far (or the server ends the stream).
class StreamReader {
 public:
  StreamReader(int port, std::function<bool(const std::string&)> stop_when)
      : thread_([this, port, stop_when = std::move(stop_when)] {
          httplib::Client c("127.0.0.1", port);
          c.set_read_timeout(std::chrono::seconds(30));
          c.Get("/api/alerts/stream", [&](const char* data, std::size_t len) {
            std::lock_guard lock(mu_);
            received_.append(data, len);
            cv_.notify_all();
            return !stop_when(received_);
          });
          std::lock_guard lock(mu_);
          done_ = true;
          cv_.notify_all();
        }) {}
  ~StreamReader() { thread_.join(); }

  bool wait_for_text(std::string_view text) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline,
                        [&] { return received_.find(text) != std::string::npos; });
  }
  bool wait_until_done() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kDeadline, [&] { return done_; });
  }
  std::string received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string received_;
  bool done_ = false;
  std::thread thread_;
};

TEST_F(HttpServerTest, AlertStreamDeliversPublishedAlerts) {
  StreamReader reader(server_.port(), [](const std::string& text) {
    const auto event = text.find("event: alert");
    return event != std::string::npos && text.find("\n\n", event) != std::string::npos;
  });
  ASSERT_TRUE(reader.wait_for_text(": subscribed"));
  feed_.publish(R"({"alert_id":"abc","score":7.5})");
  ASSERT_TRUE(reader.wait_until_done());
  EXPECT_THAT(reader.received(),
              HasSubstr("id: 1\nevent: alert\ndata: {\"alert_id\":\"abc\",\"score\":7.5,"
                        "\"status\":\"new\",\"actions\":[]}\n\n"));
}

TEST_F(HttpServerTest, AlertStreamTellsOfActionsWithTheActionRecord) {
  feed_.publish(R"({"alert_id":"abc","status":"new"})");
  StreamReader reader(server_.port(), [](const std::string& text) {
    const auto event = text.find("event: action");
    return event != std::string::npos && text.find("\n\n", event) != std::string::npos;
  });
  ASSERT_TRUE(reader.wait_for_text(": subscribed"));
  AlertAction ack;
  ack.action_id = "x1";
  ack.alert_id = "abc";
  ack.user = "analyst-7";
  ack.at = ProcTime{Millis{1'764'000'000'000}};
  ASSERT_EQ(feed_.apply(ack), AlertFeed::Applied::applied);
  ASSERT_TRUE(reader.wait_until_done());
  EXPECT_THAT(reader.received(),
              HasSubstr("id: 2\nevent: action\ndata: {\"schema\":\"mozaiek.alert-action/v1\","
                        "\"action_id\":\"x1\",\"alert_id\":\"abc\",\"action\":\"ack\","
                        "\"user\":\"analyst-7\",\"reason\":\"\",\"at\":\"2025-11-24T16:00:00Z\"}"
                        "\n\n"));
  EXPECT_THAT(client().Get("/api/alerts")->body,
              HasSubstr(R"("status":"acknowledged","actions":[{"action":"ack")"));
}

TEST_F(HttpServerTest, StopEndsLiveStreams) {
  StreamReader reader(server_.port(), [](const std::string&) { return false; });
  ASSERT_TRUE(reader.wait_for_text(": subscribed"));
  const auto t0 = std::chrono::steady_clock::now();
  server_.stop();
  EXPECT_TRUE(reader.wait_until_done());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(client().Get("/healthz"));
}

TEST_F(HttpServerTest, BindFailureNamesTheAddress) {
  const std::string taken = "127.0.0.1:" + std::to_string(server_.port());
  HttpServer second(taken, registry_, feed_);
  const Status s = second.start();
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr(taken));
  HttpServer bad("no-port-here", registry_, feed_);
  EXPECT_THAT(bad.start().message(), HasSubstr("expected host:port"));
}

TEST(ListenAddressTest, ParsesHostAndPort) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(parse_listen_address("127.0.0.1:8080", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(parse_listen_address(":9090", host, port));
  EXPECT_EQ(host, "0.0.0.0");
  ASSERT_TRUE(parse_listen_address("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(parse_listen_address("localhost", host, port));
  EXPECT_FALSE(parse_listen_address("localhost:70000", host, port));
}

}  // namespace
}  // namespace mozaiek
