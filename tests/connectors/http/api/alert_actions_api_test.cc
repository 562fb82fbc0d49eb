// POST /api/alerts/<id>/actions through a running HttpServer with a
// recording sink: 202 with the record once flushed, the record on the
// topic keyed by the alert id and its audit record keyed by the principal
// (flushed together), the status in /api/alerts and the metric;
// 400 naming the field, 404 for an unknown alert, 503 when the topic cannot
// be written (and a fresh producer for the next request).
#include "connectors/http/api/alert_actions_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;

// Shared by the sinks the API opens, so the test sees every attempt.
struct Topic {
  std::vector<OutRecord> records;
  std::size_t unflushed = 0;
  int sinks_opened = 0;
  bool fail_flush = false;
  bool fail_open = false;
};

class TopicSink final : public RecordSink {
 public:
  explicit TopicSink(Topic& topic) : topic_(topic) {}
  Status produce(std::string_view t, std::string_view key, std::string_view value) override {
    topic_.records.push_back({std::string(t), std::string(key), std::string(value)});
    ++topic_.unflushed;
    return Status::ok();
  }
  Status flush(Millis) override {
    if (topic_.fail_flush) return Status::error("mozaiek.alert-actions [0]: broker down");
    topic_.unflushed = 0;
    return Status::ok();
  }

 private:
  Topic& topic_;
};

class AlertActionsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.set_access_gate(test::FakeGate::naming_by_test_header());
    server_.route("POST", R"(/api/alerts/([^/]+)/actions)", Roles(kAlertActorRoles),
                  [this](const HttpRequest& req) { return api_.handle(req); });
    ASSERT_TRUE(server_.start().is_ok());
    ASSERT_TRUE(feed_.publish(
        R"({"schema":"mozaiek.alert/v1","alert_id":"a1","rule":"r","status":"new","level":0})"));
  }

  httplib::Result post(const std::string& alert_id, const std::string& body,
                       const std::string& user = "analyst-7") {
    httplib::Client c("127.0.0.1", server_.port());
    httplib::Headers headers;
    if (!user.empty()) headers.emplace(std::string(test::kTestPrincipalHeader), user);
    return c.Post("/api/alerts/" + alert_id + "/actions", headers, body, "application/json");
  }

  std::string field_of(const httplib::Result& res) {
    if (!res || res->status != 400) return "status " + (res ? std::to_string(res->status) : "-");
    const auto at = res->body.find(R"("field":")");
    if (at == std::string::npos) return "no field";
    const auto start = at + 9;
    return res->body.substr(start, res->body.find('"', start) - start);
  }

  Topic topic_;
  ManualClock clock_{ProcTime{Millis{1'764'000'000'000}}};
  prometheus::Registry registry_;
  AlertFeed feed_{10};
  AlertActionProbe probe_{registry_};
  AlertActionsApi api_{feed_,
                       "mozaiek.alert-actions",
                       "mozaiek.audit",
                       [this](Status& s) -> std::unique_ptr<RecordSink> {
                         ++topic_.sinks_opened;
                         if (topic_.fail_open) {
                           s = Status::error("brokers unreachable");
                           return nullptr;
                         }
                         return std::make_unique<TopicSink>(topic_);
                       },
                       clock_,
                       probe_};
  HttpServer server_{"127.0.0.1:0", registry_};
};

TEST_F(AlertActionsApiTest, AnAckIsWrittenFlushedAndShown) {
  auto res = post("a1", R"({"action":"ack"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  ASSERT_EQ(topic_.records.size(), 2u);
  EXPECT_EQ(topic_.unflushed, 0u);
  const OutRecord& r = topic_.records[0];
  EXPECT_EQ(r.topic, "mozaiek.alert-actions");
  EXPECT_EQ(r.key, "a1");
  EXPECT_EQ(r.value, res->body);  // the answer is the record written
  const OutRecord& audit = topic_.records[1];
  EXPECT_EQ(audit.topic, "mozaiek.audit");
  EXPECT_EQ(audit.key, "analyst-7");
  EXPECT_EQ(
      audit.value,
      R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"analyst-7",)"
      R"("via":"test","role":"analyst","action":"alert_action","method":"POST",)"
      R"("route":"/api/alerts/a1/actions","status":202,"alert_id":"a1","alert_action":"ack"})");
  AlertAction written;
  std::string error;
  ASSERT_TRUE(read_action_json(r.value, written, error)) << error;
  EXPECT_EQ(written.alert_id, "a1");
  EXPECT_EQ(written.action, ActionKind::ack);
  EXPECT_EQ(written.user, "analyst-7");
  EXPECT_EQ(written.reason, "");
  EXPECT_EQ(written.at, clock_.now());
  EXPECT_EQ(written.action_id.size(), 32u);
  EXPECT_EQ(written.action_id.find_first_not_of("0123456789abcdef"), std::string::npos);

  EXPECT_THAT(feed_.recent(1)[0],
              HasSubstr(R"("status":"acknowledged","level":0,"actions":[{"action":"ack",)"
                        R"("user":"analyst-7","reason":"","at":"2025-11-24T16:00:00Z"}]})"));
  // Two actions get two ids.
  ASSERT_EQ(post("a1", R"({"action":"dismiss","reason":"known family visit"})")->status, 202);
  ASSERT_EQ(topic_.records.size(), 4u);
  AlertAction second;
  ASSERT_TRUE(read_action_json(topic_.records[2].value, second, error)) << error;
  EXPECT_THAT(topic_.records[3].value, HasSubstr(R"("reason":"known family visit")"));
  EXPECT_NE(second.action_id, written.action_id);
  EXPECT_THAT(feed_.recent(1)[0], HasSubstr(R"("status":"dismissed")"));
}

TEST_F(AlertActionsApiTest, EachActionIsCountedByKind) {
  ASSERT_EQ(post("a1", R"({"action":"ack"})")->status, 202);
  ASSERT_EQ(post("a1", R"({"action":"escalate","reason":"police"})")->status, 202);
  ASSERT_EQ(post("a1", R"({"action":"escalate","reason":"police again"})")->status, 202);
  ASSERT_EQ(post("a1", R"({"action":"escalate"})")->status, 400);  // not written, not counted
  httplib::Client c("127.0.0.1", server_.port());
  const std::string metrics = c.Get("/metrics", {{"X-Test-Principal", "scraper"}})->body;
  EXPECT_EQ(test::metric_sum(metrics, "mozaiek_alert_actions_total", {"action=\"ack\""}), 1.0);
  EXPECT_EQ(test::metric_sum(metrics, "mozaiek_alert_actions_total", {"action=\"escalate\""}), 2.0);
  EXPECT_EQ(test::metric_sum(metrics, "mozaiek_alert_actions_total", {"action=\"dismiss\""}), 0.0);
  EXPECT_EQ(metrics.find("police"), std::string::npos);
}

TEST_F(AlertActionsApiTest, MalformedRequestsAre400NamingTheField) {
  EXPECT_EQ(post("a1", R"({"action":"ack"})", "")->status, 401);
  EXPECT_EQ(field_of(post("a1", R"({"action":"ack"})", std::string(129, 'u'))), "principal");
  EXPECT_EQ(field_of(post("a1", "")), "body");
  EXPECT_EQ(field_of(post("a1", "{oops")), "body");
  EXPECT_EQ(field_of(post("a1", R"({"action":"archive"})")), "action");
  EXPECT_EQ(field_of(post("a1", R"({"action":"dismiss"})")), "reason");
  EXPECT_EQ(field_of(
                post("a1", R"({"action":"escalate","reason":")" + std::string(501, 'x') + "\"}")),
            "reason");
  EXPECT_EQ(field_of(post("a1", R"({"action":"ack","comment":"x"})")), "comment");
  EXPECT_EQ(field_of(post(std::string(257, 'a'), R"({"action":"ack"})")), "alert_id");
  EXPECT_TRUE(topic_.records.empty());
  EXPECT_THAT(feed_.recent(1)[0], HasSubstr(R"("status":"new")"));
}

TEST_F(AlertActionsApiTest, AnUnknownAlertIs404AndNothingIsWritten) {
  auto res = post("not-an-alert", R"({"action":"ack"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(topic_.records.empty());
}

TEST_F(AlertActionsApiTest, AnUnwritableTopicIs503AndTheNextRequestUsesAFreshProducer) {
  topic_.fail_flush = true;
  auto res = post("a1", R"({"action":"dismiss","reason":"secret words"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body.find("secret words"), std::string::npos);
  EXPECT_THAT(feed_.recent(1)[0], HasSubstr(R"("status":"new")"));  // not applied
  topic_.fail_flush = false;
  topic_.fail_open = true;
  EXPECT_EQ(post("a1", R"({"action":"ack"})")->status, 503);
  topic_.fail_open = false;
  EXPECT_EQ(post("a1", R"({"action":"ack"})")->status, 202);
  EXPECT_EQ(topic_.sinks_opened, 3);
  EXPECT_THAT(feed_.recent(1)[0], HasSubstr(R"("status":"acknowledged")"));
}

}  // namespace
}  // namespace mozaiek
