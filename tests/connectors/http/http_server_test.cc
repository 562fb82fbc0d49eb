#include "connectors/http/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/fake_gate.h"
#include "tests/support/sse_reader.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Event streams over a list of lines: each stream sends the lines added
// after it opened, one event each.
class Events {
 public:
  void add(std::string line) {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  void wake() {
    std::lock_guard lock(mu_);
    ++wakes_;
    cv_.notify_all();
  }
  std::unique_ptr<EventStream> open() {
    std::lock_guard lock(mu_);
    return std::make_unique<Stream>(*this, lines_.size());
  }

 private:
  class Stream final : public EventStream {
   public:
    Stream(Events& events, std::size_t next) : events_(events), next_(next) {}
    void read(std::chrono::milliseconds wait, std::string& out) override {
      std::unique_lock lock(events_.mu_);
      const auto wakes = events_.wakes_;
      events_.cv_.wait_for(lock, wait, [&] {
        return events_.lines_.size() > next_ || events_.wakes_ != wakes;
      });
      for (; next_ < events_.lines_.size(); ++next_) {
        out += sse_event(next_ + 1, "line", events_.lines_[next_]);
      }
    }

   private:
    Events& events_;
    std::size_t next_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::uint64_t wakes_ = 0;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_access_gate(test::FakeGate::granting_all_roles());
    server_.event_stream(
        "/events", Roles{role::kAnalyst}, [this](const HttpRequest&) { return events_.open(); },
        [this] { events_.wake(); });
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
  Events events_;
  HttpServer server_{"127.0.0.1:0", registry_};
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

TEST_F(HttpServerTest, ExtraRoutesReceiveCapturesAndParams) {
  HttpServer other("127.0.0.1:0", registry_);
  other.set_access_gate(test::FakeGate::granting_all_roles());
  other.route("GET", R"(/api/entities/(\w+)/(\w+))", Roles{role::kAnalyst},
              [](const HttpRequest& r) {
                return HttpResponse{200,
                                    "text/plain",
                                    r.matches.at(1) + "/" + r.matches.at(2) + "?" + r.param("why"),
                                    {}};
              });
  other.route("GET", "/boom", Roles{role::kAnalyst},
              [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
  ASSERT_TRUE(other.start().is_ok());
  httplib::Client c("127.0.0.1", other.port());
  EXPECT_EQ(c.Get("/api/entities/vehicle/NL/x")->status, 404);
  EXPECT_EQ(c.Get("/api/entities/vehicle/FR_AB123?why=case")->body, "vehicle/FR_AB123?case");
  EXPECT_EQ(c.Get("/boom")->status, 500);
}

TEST_F(HttpServerTest, EventStreamGreetsThenDeliversEventsAddedAfterItOpened) {
  events_.add("before");
  test::SseReader reader(server_.port(), "/events", [](const std::string& text) {
    const auto event = text.find("event: line");
    return event != std::string::npos && text.find("\n\n", event) != std::string::npos;
  });
  ASSERT_TRUE(reader.wait_for_text(": subscribed"));
  EXPECT_THAT(reader.received(), StartsWith("retry: 3000\n"));
  events_.add("after");
  ASSERT_TRUE(reader.wait_until_done());
  EXPECT_THAT(reader.received(), HasSubstr("id: 2\nevent: line\ndata: after\n\n"));
  EXPECT_EQ(reader.received().find("before"), std::string::npos);
}

TEST(SseEventTest, SplitsMultiLineDataIntoDataLines) {
  EXPECT_EQ(sse_event(7, "alert", "{\"a\":1}"), "id: 7\nevent: alert\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(sse_event(8, "alert", "{\n\"a\": 1\n}"),
            "id: 8\nevent: alert\ndata: {\ndata: \"a\": 1\ndata: }\n\n");
}

TEST_F(HttpServerTest, StopEndsLiveStreams) {
  test::SseReader reader(server_.port(), "/events", [](const std::string&) { return false; });
  ASSERT_TRUE(reader.wait_for_text(": subscribed"));
  const auto t0 = std::chrono::steady_clock::now();
  server_.stop();
  EXPECT_TRUE(reader.wait_until_done());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_FALSE(client().Get("/healthz"));
}

TEST_F(HttpServerTest, BindFailureNamesTheAddress) {
  const std::string taken = "127.0.0.1:" + std::to_string(server_.port());
  HttpServer second(taken, registry_);
  const Status s = second.start();
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr(taken));
  HttpServer bad("no-port-here", registry_);
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
