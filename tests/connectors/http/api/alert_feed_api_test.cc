// The alert feed's routes on a running HttpServer: recent alerts within a
// limit, and the live stream of alerts and actions; each list read and each
// stream's opening and closing audited before alerts leave.
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
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/sse_reader.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;

class AlertFeedApiTest : public ::testing::Test {
 protected:
  // The routes as the service adds them, with the principal the access
  // gate would have set.
  void SetUp() override {
    server_.set_access_gate(test::FakeGate::granting_all_roles());
    server_.route("GET", "/api/alerts", Roles(kAlertReaderRoles), [this](const HttpRequest& req) {
      return list_alerts(feed_, log_, clock_, as_analyst(req));
    });
    server_.event_stream(
        "/api/alerts/stream", Roles(kAlertReaderRoles),
        [this](const HttpRequest& req) {
          return open_alert_stream(feed_, log_, clock_, as_analyst(req));
        },
        [this] { feed_.wake_all(); });
    ASSERT_TRUE(server_.start().is_ok());
  }

  static HttpRequest as_analyst(HttpRequest req) {
    req.principal = test::principal("ana", {role::kAnalyst});
    return req;
  }
  // The audit records written so far (a copy: the HTTP threads write).
  std::vector<OutRecord> audited() {
    std::lock_guard lock(mu_);
    return sink_ ? sink_->records : std::vector<OutRecord>{};
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_.port());
    c.set_read_timeout(std::chrono::seconds(10));
    return c;
  }

  // A recording sink behind a lock: AuditLog writes from pool threads,
  // the test reads.
  class LockedSink final : public RecordSink {
   public:
    explicit LockedSink(AlertFeedApiTest& t) : t_(t) {}
    Status produce(std::string_view topic, std::string_view key, std::string_view value) override {
      std::lock_guard lock(t_.mu_);
      return t_.sink_->produce(topic, key, value);
    }
    Status flush(Millis timeout) override {
      std::lock_guard lock(t_.mu_);
      return t_.fail_audit ? Status::error("broker down") : t_.sink_->flush(timeout);
    }

   private:
    AlertFeedApiTest& t_;
  };

  std::mutex mu_;
  std::unique_ptr<test::RecordingSink> sink_ = std::make_unique<test::RecordingSink>();
  std::atomic<bool> fail_audit{false};
  ManualClock clock_{ProcTime{Millis{1'764'000'000'000}}};
  AuditLog log_{"mozaiek.audit", [this](Status&) -> std::unique_ptr<RecordSink> {
                  return std::make_unique<LockedSink>(*this);
                }};
  prometheus::Registry registry_;
  AlertFeed feed_{4};
  HttpServer server_{"127.0.0.1:0", registry_};
};

// Analysts and care workers see alerts; other roles are refused the list
// and the stream alike.
// The feed holds investigation alerts only: the care role reads its alerts
// from mozaiek.alerts.care, never here.
TEST(AlertFeedApiRolesTest, AnalystsMayReadOtherRolesMayNot) {
  for (const auto& [role, want] :
       std::vector<std::pair<std::string_view, int>>{{role::kAnalyst, 200},
                                                     {role::kCare, 403},
                                                     {role::kOperator, 403},
                                                     {role::kMetrics, 403},
                                                     {role::kPrivacyOfficer, 403}}) {
    prometheus::Registry registry;
    AlertFeed feed{4};
    HttpServer server("127.0.0.1:0", registry);
    server.set_access_gate(test::FakeGate::granting(Principal{"p", {std::string(role)}, "test"}));
    AuditLog log("mozaiek.audit", [](Status&) -> std::unique_ptr<RecordSink> {
      return std::make_unique<test::RecordingSink>();
    });
    ManualClock clock{ProcTime{Millis{1'764'000'000'000}}};
    server.route("GET", "/api/alerts", Roles(kAlertReaderRoles),
                 [&](const HttpRequest& req) { return list_alerts(feed, log, clock, req); });
    server.event_stream(
        "/api/alerts/stream", Roles(kAlertReaderRoles),
        [&](const HttpRequest& req) { return open_alert_stream(feed, log, clock, req); },
        [&] { feed.wake_all(); });
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

TEST_F(AlertFeedApiTest, EachListReadLeavesOneRecordWithItsFilterAndCount) {
  for (int i = 1; i <= 3; ++i) feed_.publish(R"({"alert_id":"a)" + std::to_string(i) + "\"}");
  ASSERT_EQ(client().Get("/api/alerts?limit=2")->status, 200);
  const auto records = audited();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].topic, "mozaiek.audit");
  EXPECT_EQ(records[0].key, "ana");
  EXPECT_EQ(records[0].value,
            R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"ana",)"
            R"("via":"oidc","role":"analyst","action":"alert_list","method":"GET",)"
            R"("route":"/api/alerts","status":200,"query":{"limit":"2"},"count":2})");
  // A refused filter reads nothing and leaves no record.
  ASSERT_EQ(client().Get("/api/alerts?limit=0")->status, 400);
  EXPECT_EQ(audited().size(), 1u);
}

TEST_F(AlertFeedApiTest, NoAuditRecordNoAlerts) {
  feed_.publish(R"({"alert_id":"secret-alert"})");
  fail_audit = true;
  auto r = client().Get("/api/alerts");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body.find("secret-alert"), std::string::npos) << r->body;
}

TEST(AlertFeedApiUnitTest, AListReadWithoutAPrincipalIs401AndAudited) {
  test::RecordingSink* sink = nullptr;
  AuditLog log("mozaiek.audit", [&](Status&) -> std::unique_ptr<RecordSink> {
    auto s = std::make_unique<test::RecordingSink>();
    sink = s.get();
    return s;
  });
  ManualClock clock;
  AlertFeed feed(4);
  feed.publish(R"({"alert_id":"a1"})");
  HttpRequest req;
  req.method = "GET";
  req.path = "/api/alerts";
  const auto r = list_alerts(feed, log, clock, req);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body.find("a1"), std::string::npos);
  ASSERT_NE(sink, nullptr);
  ASSERT_EQ(sink->records.size(), 1u);
  EXPECT_NE(sink->records[0].value.find(R"("action":"denied")"), std::string::npos);
  try {
    (void)open_alert_stream(feed, log, clock, req);
    ADD_FAILURE() << "a stream opened without a principal";
  } catch (const StreamRefused& e) {
    EXPECT_EQ(e.status(), 401);
  }
}

TEST(AlertFeedApiUnitTest, AStreamIsNotOpenedWhenItsOpeningCannotBeAudited) {
  AuditLog log("mozaiek.audit", [](Status&) -> std::unique_ptr<RecordSink> {
    auto s = std::make_unique<test::RecordingSink>();
    s->fail = true;
    return s;
  });
  ManualClock clock;
  AlertFeed feed(4);
  HttpRequest req;
  req.path = "/api/alerts/stream";
  req.principal = test::principal("ana", {role::kAnalyst});
  try {
    (void)open_alert_stream(feed, log, clock, req);
    ADD_FAILURE() << "a stream opened without its audit record";
  } catch (const StreamRefused& e) {
    EXPECT_EQ(e.status(), 503);  // the caller may retry; not an internal error
  }
}

TEST_F(AlertFeedApiTest, AStreamIsAuditedWhenItOpensAndWhenItClosesWithTheEventsItSent) {
  {
    test::SseReader reader(server_.port(), "/api/alerts/stream", [](const std::string& text) {
      return text.find("\"alert_id\":\"b\"") != std::string::npos;
    });
    ASSERT_TRUE(reader.wait_for_text(": subscribed"));
    {
      const auto opened = audited();
      ASSERT_EQ(opened.size(), 1u) << "audited before the first event";
      EXPECT_EQ(opened[0].value,
                R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"ana",)"
                R"("via":"oidc","role":"analyst","action":"alert_stream_open","method":"GET",)"
                R"("route":"/api/alerts/stream","status":200})");
    }
    feed_.publish(R"({"alert_id":"a"})");
    feed_.publish(R"({"alert_id":"b"})");
    ASSERT_TRUE(reader.wait_until_done());
  }
  // The client left: the server notices at its next write and ends the stream.
  ASSERT_TRUE(test::wait_until(
      [&] {
        feed_.publish(R"({"alert_id":"nudge"})");
        return audited().size() == 2;
      },
      seconds(30)));
  const auto records = audited();
  EXPECT_EQ(records[1].key, "ana");
  EXPECT_NE(records[1].value.find(R"("action":"alert_stream_close")"), std::string::npos)
      << records[1].value;
  const auto count = records[1].value.find(R"("count":)");
  ASSERT_NE(count, std::string::npos) << records[1].value;
  EXPECT_GE(std::stoi(records[1].value.substr(count + 8)), 2);
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
