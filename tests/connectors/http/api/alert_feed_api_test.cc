// The alert feed's routes on a running HttpServer: recent alerts within a
// limit, and the live stream of alerts and actions.
#include "connectors/http/api/alert_feed_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

#include "tests/support/fake_gate.h"
#include "tests/support/sse_reader.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;

class AlertFeedApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_access_gate(test::FakeGate::granting_all_roles());
    add_alert_feed_routes(server_, feed_);
    ASSERT_TRUE(server_.start().is_ok());
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_.port());
    c.set_read_timeout(std::chrono::seconds(10));
    return c;
  }

  prometheus::Registry registry_;
  AlertFeed feed_{4};
  HttpServer server_{"127.0.0.1:0", registry_};
};

// Analysts and care workers see alerts; other roles are refused the list
// and the stream alike.
TEST(AlertFeedApiRolesTest, AnalystAndCareMayReadOtherRolesMayNot) {
  for (const auto& [role, want] :
       std::vector<std::pair<std::string_view, int>>{{role::kAnalyst, 200},
                                                     {role::kCare, 200},
                                                     {role::kOperator, 403},
                                                     {role::kMetrics, 403},
                                                     {role::kPrivacyOfficer, 403}}) {
    prometheus::Registry registry;
    AlertFeed feed{4};
    HttpServer server("127.0.0.1:0", registry);
    server.set_access_gate(test::FakeGate::granting(Principal{"p", {std::string(role)}, "test"}));
    add_alert_feed_routes(server, feed);
    ASSERT_TRUE(server.start().is_ok());
    httplib::Client c("127.0.0.1", server.port());
    EXPECT_EQ(c.Get("/api/alerts")->status, want) << role;
    if (want == 403) {
      EXPECT_EQ(c.Get("/api/alerts/stream")->status, 403) << role;
    }
  }
}

TEST_F(AlertFeedApiTest, RecentAlertsNewestFirstWithinTheLimit) {
  EXPECT_EQ(client().Get("/api/alerts")->body, "[]");
  for (int i = 1; i <= 6; ++i) feed_.publish(R"({"alert_id":"a)" + std::to_string(i) + "\"}");
  auto all = client().Get("/api/alerts");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->get_header_value("Content-Type"), "application/json");
  // Capacity 4: the two oldest are gone. Each is served with its status and actions.
  EXPECT_EQ(all->body, R"([{"alert_id":"a6","status":"new","actions":[]},)"
                       R"({"alert_id":"a5","status":"new","actions":[]},)"
                       R"({"alert_id":"a4","status":"new","actions":[]},)"
                       R"({"alert_id":"a3","status":"new","actions":[]}])");
  EXPECT_EQ(client().Get("/api/alerts?limit=1")->body,
            R"([{"alert_id":"a6","status":"new","actions":[]}])");
  EXPECT_EQ(client().Get("/api/alerts?limit=zero")->status, 400);
  EXPECT_EQ(client().Get("/api/alerts?limit=0")->status, 400);
}

TEST_F(AlertFeedApiTest, AlertStreamDeliversPublishedAlerts) {
  test::SseReader reader(server_.port(), "/api/alerts/stream", [](const std::string& text) {
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

TEST_F(AlertFeedApiTest, AlertStreamTellsOfActionsWithTheActionRecord) {
  feed_.publish(R"({"alert_id":"abc","status":"new"})");
  test::SseReader reader(server_.port(), "/api/alerts/stream", [](const std::string& text) {
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

TEST_F(AlertFeedApiTest, StopEndsTheAlertStream) {
  test::SseReader reader(server_.port(), "/api/alerts/stream",
                         [](const std::string&) { return false; });
  ASSERT_TRUE(reader.wait_for_text(": subscribed"));
  const auto t0 = std::chrono::steady_clock::now();
  server_.stop();
  EXPECT_TRUE(reader.wait_until_done());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace mozaiek
