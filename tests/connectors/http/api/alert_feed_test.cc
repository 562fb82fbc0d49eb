// The alert feed: one entry per alert id, statuses from actions (by time),
// actions for alerts not held yet kept (bounded) and applied on arrival,
// duplicates ignored, and a stream event for every change.
#include "connectors/http/api/alert_feed.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mozaiek {
namespace {

std::string alert(const std::string& id, const std::string& status = "new", int level = 0) {
  return R"({"schema":"mozaiek.alert/v1","alert_id":")" + id +
         R"(","rule":"person_convergence","status":")" + status + R"(","level":)" +
         std::to_string(level) + "}";
}

AlertAction action(const std::string& id, const std::string& alert_id, ActionKind kind,
                   std::int64_t second, const std::string& reason = "") {
  AlertAction a;
  a.action_id = id;
  a.alert_id = alert_id;
  a.action = kind;
  a.user = "analyst-" + id;
  a.reason = reason;
  a.at = ProcTime{Millis{1'764'000'000'000 + second * 1000}};
  return a;
}

TEST(AlertFeedTest, AlertsAreServedWithStatusAndAnEmptyActionList) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(alert("a1")));
  ASSERT_TRUE(feed.publish(alert("a2", "escalated", 1)));
  EXPECT_EQ(feed.recent(10),
            (std::vector<std::string>{
                R"({"schema":"mozaiek.alert/v1","alert_id":"a2","rule":"person_convergence",)"
                R"("status":"escalated","level":1,"actions":[]})",
                R"({"schema":"mozaiek.alert/v1","alert_id":"a1","rule":"person_convergence",)"
                R"("status":"new","level":0,"actions":[]})"}));
  EXPECT_TRUE(feed.contains("a1"));
  EXPECT_FALSE(feed.contains("a3"));
  EXPECT_FALSE(feed.publish(R"({"rule":"no id"})"));
  EXPECT_FALSE(feed.publish("not json"));
}

TEST(AlertFeedTest, ActionsSetTheStatusByTimeOldestFirst) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(alert("a1")));
  EXPECT_EQ(feed.apply(action("x2", "a1", ActionKind::dismiss, 20, "family visit")),
            AlertFeed::Applied::applied);
  // Taken earlier, read later (another instance's): sorted before.
  EXPECT_EQ(feed.apply(action("x1", "a1", ActionKind::ack, 10)), AlertFeed::Applied::applied);
  EXPECT_EQ(feed.recent(1)[0],
            R"({"schema":"mozaiek.alert/v1","alert_id":"a1","rule":"person_convergence",)"
            R"("status":"dismissed","level":0,"actions":[)"
            R"({"action":"ack","user":"analyst-x1","reason":"","at":"2025-11-24T16:00:10Z"},)"
            R"({"action":"dismiss","user":"analyst-x2","reason":"family visit",)"
            R"("at":"2025-11-24T16:00:20Z"}]})");
  EXPECT_EQ(feed.apply(action("x3", "a1", ActionKind::escalate, 30, "police")),
            AlertFeed::Applied::applied);
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"escalated")"), std::string::npos);
  EXPECT_EQ(feed.apply(action("x4", "a1", ActionKind::ack, 40)), AlertFeed::Applied::applied);
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"acknowledged")"), std::string::npos);
}

TEST(AlertFeedTest, AnActionIdIsAppliedOnce) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(alert("a1")));
  const auto ack = action("x1", "a1", ActionKind::ack, 1);
  EXPECT_EQ(feed.apply(ack), AlertFeed::Applied::applied);
  const std::uint64_t seq = feed.last_sequence();
  EXPECT_EQ(feed.apply(ack), AlertFeed::Applied::duplicate);  // read back from the topic
  EXPECT_EQ(feed.last_sequence(), seq);
  EXPECT_EQ(feed.apply(action("p1", "later", ActionKind::ack, 1)), AlertFeed::Applied::pending);
  EXPECT_EQ(feed.apply(action("p1", "later", ActionKind::ack, 1)), AlertFeed::Applied::duplicate);
  EXPECT_EQ(feed.pending_actions(), 1u);
}

TEST(AlertFeedTest, ActionsForAnAlertNotHeldYetAreAppliedWhenItArrives) {
  AlertFeed feed(10);
  EXPECT_EQ(feed.apply(action("x1", "a1", ActionKind::escalate, 5, "police")),
            AlertFeed::Applied::pending);
  EXPECT_EQ(feed.apply(action("x2", "a1", ActionKind::ack, 1)), AlertFeed::Applied::pending);
  EXPECT_EQ(feed.pending_actions(), 2u);
  EXPECT_EQ(feed.last_sequence(), 0u);  // nothing to show yet
  ASSERT_TRUE(feed.publish(alert("a1")));
  EXPECT_EQ(feed.pending_actions(), 0u);
  const std::string served = feed.recent(1)[0];
  EXPECT_NE(served.find(R"("status":"escalated")"), std::string::npos) << served;
  EXPECT_NE(served.find(R"("actions":[{"action":"ack")"), std::string::npos) << served;
  EXPECT_NE(served.find(R"({"action":"escalate","user":"analyst-x1","reason":"police")"),
            std::string::npos)
      << served;
  // One event: the alert, already with its status.
  auto events = feed.wait_after(0, std::chrono::milliseconds(0));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, AlertFeed::EventKind::alert);
  EXPECT_EQ(events[0].json, served);
}

TEST(AlertFeedTest, WaitingActionsAreBoundedOldestAlertFirst) {
  AlertFeed feed(10, 3);
  EXPECT_EQ(feed.apply(action("x1", "old", ActionKind::ack, 1)), AlertFeed::Applied::pending);
  EXPECT_EQ(feed.apply(action("x2", "mid", ActionKind::ack, 2)), AlertFeed::Applied::pending);
  EXPECT_EQ(feed.apply(action("x3", "mid", ActionKind::dismiss, 3, "r")),
            AlertFeed::Applied::pending);
  EXPECT_EQ(feed.apply(action("x4", "new", ActionKind::ack, 4)), AlertFeed::Applied::pending);
  EXPECT_EQ(feed.pending_actions(), 3u);
  ASSERT_TRUE(feed.publish(alert("old")));
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"new","level":0,"actions":[])"), std::string::npos)
      << "the oldest waiting alert's actions were dropped";
  ASSERT_TRUE(feed.publish(alert("mid")));
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"dismissed")"), std::string::npos);
  EXPECT_EQ(feed.pending_actions(), 1u);
  // An alert that arrived leaves no stale slot behind: two more fit.
  EXPECT_EQ(feed.apply(action("x5", "n2", ActionKind::ack, 5)), AlertFeed::Applied::pending);
  EXPECT_EQ(feed.apply(action("x6", "n3", ActionKind::ack, 6)), AlertFeed::Applied::pending);
  EXPECT_EQ(feed.pending_actions(), 3u);
  ASSERT_TRUE(feed.publish(alert("new")));
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"acknowledged")"), std::string::npos);
}

TEST(AlertFeedTest, AReRaisedAlertReplacesTheHeldOneAndKeepsItsActions) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(alert("a1")));
  ASSERT_TRUE(feed.publish(alert("b1")));
  ASSERT_EQ(feed.apply(action("x1", "a1", ActionKind::ack, 1)), AlertFeed::Applied::applied);
  // The same record again (read back from the alerts topic) changes nothing.
  const std::uint64_t seq = feed.last_sequence();
  EXPECT_FALSE(feed.publish(alert("a1")));
  EXPECT_EQ(feed.last_sequence(), seq);
  // An escalation under the same id: newest again, still acknowledged.
  ASSERT_TRUE(feed.publish(alert("a1", "escalated", 1)));
  // Level 0 read back from the topic after the escalation changes nothing.
  EXPECT_FALSE(feed.publish(alert("a1", "new", 0)));
  const auto recent = feed.recent(10);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_NE(recent[0].find(R"("alert_id":"a1")"), std::string::npos);
  EXPECT_NE(recent[0].find(R"("status":"acknowledged","level":1,"actions":[{"action":"ack")"),
            std::string::npos)
      << recent[0];
}

// New evidence reopens an alert: an escalation raised after the analyst's
// action shows as escalated (the action stays in the history); one raised
// before it, read late from the topic, does not undo the action.
TEST(AlertFeedTest, AnEscalationRaisedAfterTheActionReopensTheAlert) {
  auto raised = [](const std::string& id, int level, const std::string& at) {
    return R"({"schema":"mozaiek.alert/v1","alert_id":")" + id +
           R"(","rule":"person_convergence","raised_at":")" + at + R"(","status":")" +
           (level == 0 ? "new" : "escalated") + R"(","level":)" + std::to_string(level) + "}";
  };
  // action(..., 10) is at 2025-11-24T16:00:10Z.
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(raised("a1", 0, "2025-11-24T16:00:00Z")));
  ASSERT_EQ(feed.apply(action("x1", "a1", ActionKind::dismiss, 10, "noise")),
            AlertFeed::Applied::applied);
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"dismissed")"), std::string::npos);
  ASSERT_TRUE(feed.publish(raised("a1", 1, "2025-11-24T16:00:05Z")));  // before the dismissal
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"dismissed")"), std::string::npos)
      << feed.recent(1)[0];
  ASSERT_TRUE(feed.publish(raised("a1", 2, "2025-11-24T16:00:20Z")));  // after it
  const std::string a1 = feed.recent(1)[0];
  EXPECT_NE(a1.find(R"("status":"escalated","level":2)"), std::string::npos) << a1;
  EXPECT_NE(a1.find(R"("action":"dismiss")"), std::string::npos) << "history kept: " << a1;
  // A later acknowledgement is the latest word again.
  ASSERT_EQ(feed.apply(action("x2", "a1", ActionKind::ack, 30)), AlertFeed::Applied::applied);
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"acknowledged")"), std::string::npos);
  // The same level raised again later (reprocessing after a crash) is no new
  // evidence: it does not reopen the alert.
  ASSERT_TRUE(feed.publish(raised("a1", 2, "2025-11-24T16:00:40Z")));
  EXPECT_NE(feed.recent(1)[0].find(R"("status":"acknowledged")"), std::string::npos)
      << feed.recent(1)[0];
}

TEST(AlertFeedTest, CapacityDropsTheOldestAlertWithItsActions) {
  AlertFeed feed(2);
  ASSERT_TRUE(feed.publish(alert("a1")));
  ASSERT_EQ(feed.apply(action("x1", "a1", ActionKind::ack, 1)), AlertFeed::Applied::applied);
  ASSERT_TRUE(feed.publish(alert("a2")));
  ASSERT_TRUE(feed.publish(alert("a3")));
  EXPECT_FALSE(feed.contains("a1"));
  EXPECT_EQ(feed.recent(10).size(), 2u);
}

TEST(AlertFeedTest, StreamsSeeAlertsAndActionRecordsInOrder) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(alert("a1")));
  ASSERT_EQ(feed.apply(action("x1", "a1", ActionKind::dismiss, 1, "known")),
            AlertFeed::Applied::applied);
  auto events = feed.wait_after(0, std::chrono::milliseconds(0));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].sequence, 1u);
  EXPECT_EQ(events[0].kind, AlertFeed::EventKind::alert);
  EXPECT_NE(events[0].json.find(R"("status":"new")"), std::string::npos);
  EXPECT_EQ(events[1].sequence, 2u);
  EXPECT_EQ(events[1].kind, AlertFeed::EventKind::action);
  std::string record;
  write_action_json(action("x1", "a1", ActionKind::dismiss, 1, "known"), record);
  EXPECT_EQ(events[1].json, record);
  EXPECT_EQ(feed.wait_after(1, std::chrono::milliseconds(0)).size(), 1u);
}

TEST(AlertFeedTest, AnAlertWithoutStatusGetsOne) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(R"({"alert_id":"a1","score":7.5})"));
  EXPECT_EQ(feed.recent(1)[0], R"({"alert_id":"a1","score":7.5,"status":"new","actions":[]})");
}

}  // namespace
}  // namespace mozaiek

namespace mozaiek {
namespace {

// An alert about `subject` (a person), linking `linked` persons.
std::string about(const std::string& id, const std::string& subject,
                  const std::vector<std::string>& linked = {}) {
  std::string out = R"({"schema":"mozaiek.alert/v1","alert_id":")" + id +
                    R"(","rule":"person_convergence","subject":{"type":"person","key":")" +
                    subject + R"("},"status":"new","linked":[)";
  for (std::size_t i = 0; i < linked.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"type":"person","key":")" + linked[i] + R"(","strength":"strong"})";
  }
  return out + "]}";
}

TEST(AlertFeedWithdrawalTest, WithdrawingAnEntityDropsItsAlertsAndTheAlertsLinkingIt) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(about("a1", "p-erased")));
  ASSERT_TRUE(feed.publish(about("a2", "p-other")));
  ASSERT_TRUE(feed.publish(about("a3", "p-third", {"p-erased"})));
  ASSERT_TRUE(feed.apply(action("x1", "a1", ActionKind::ack, 1)) == AlertFeed::Applied::applied);
  const std::uint64_t before = feed.last_sequence();

  EXPECT_EQ(feed.withdraw("person", "p-erased"), 2u);

  EXPECT_FALSE(feed.contains("a1"));
  EXPECT_FALSE(feed.contains("a3"));
  EXPECT_TRUE(feed.contains("a2"));
  for (const auto& json : feed.recent(10)) {
    EXPECT_EQ(json.find("p-erased"), std::string::npos) << json;
  }
  // One withdrawn event per alert, and nothing older that names the entity.
  const auto events = feed.wait_after(0, std::chrono::milliseconds(0));
  std::vector<std::string> withdrawn;
  for (const auto& e : events) {
    if (e.kind == AlertFeed::EventKind::withdrawn) {
      EXPECT_GT(e.sequence, before);
      withdrawn.push_back(e.json);
    } else {
      EXPECT_EQ(e.json.find("p-erased"), std::string::npos) << e.json;
      EXPECT_EQ(e.json.find(R"("alert_id":"a1")"), std::string::npos) << e.json;
    }
  }
  EXPECT_EQ(withdrawn.size(), 2u);
  EXPECT_NE(std::find(withdrawn.begin(), withdrawn.end(),
                      std::string(R"({"alert_id":"a1","reason":"erasure"})")),
            withdrawn.end());
  EXPECT_NE(std::find(withdrawn.begin(), withdrawn.end(),
                      std::string(R"({"alert_id":"a3","reason":"erasure"})")),
            withdrawn.end());
}

TEST(AlertFeedWithdrawalTest, AlertsNamingAWithdrawnEntityArrivingLaterAreRefused) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(about("a1", "p-erased")));
  EXPECT_EQ(feed.withdraw("person", "p-erased"), 1u);
  // The copy read back from the alerts topic, and a link alert from another
  // partition that was written before the erasure.
  EXPECT_FALSE(feed.publish(about("a1", "p-erased")));
  EXPECT_FALSE(feed.publish(about("a4", "p-third", {"p-erased"})));
  EXPECT_TRUE(feed.recent(10).empty());
  // Another entity of the same key but another type is not withdrawn.
  EXPECT_TRUE(feed.publish(R"({"alert_id":"v1","subject":{"type":"vehicle","key":"p-erased"}})"));
  // Withdrawing again is harmless and finds nothing.
  EXPECT_EQ(feed.withdraw("person", "p-erased"), 0u);
}

TEST(AlertFeedWithdrawalTest, WithdrawingAnAlertByIdDropsExactlyItAndKeepsItsReissue) {
  AlertFeed feed(10);
  ASSERT_TRUE(feed.publish(about("a1", "p-van-owner", {"p-erased"})));
  ASSERT_TRUE(feed.publish(about("a2", "p-other", {"p-erased"})));
  const std::uint64_t before = feed.last_sequence();
  // The re-issue comes first (raised in the same batch), then the record
  // withdrawing the alert it replaces.
  ASSERT_TRUE(feed.publish(about("a1-re", "p-van-owner")));
  EXPECT_EQ(feed.withdraw_alert("a1"), 1u);

  EXPECT_FALSE(feed.contains("a1"));
  EXPECT_TRUE(feed.contains("a1-re"));
  EXPECT_TRUE(feed.contains("a2")) << "only the alert named by id goes";
  const auto events = feed.wait_after(before, std::chrono::milliseconds(0));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, AlertFeed::EventKind::withdrawn);
  EXPECT_EQ(events[1].json, R"({"alert_id":"a1","reason":"erasure"})");
  // A copy read back later, or a redelivered raise, is refused; the same
  // record read again finds nothing.
  EXPECT_FALSE(feed.publish(about("a1", "p-van-owner", {"p-erased"})));
  EXPECT_EQ(feed.withdraw_alert("a1"), 0u);
  // An id never held is remembered too: its alert arriving later is refused.
  EXPECT_EQ(feed.withdraw_alert("a9"), 0u);
  EXPECT_FALSE(feed.publish(about("a9", "p-other")));
}

TEST(AlertFeedWithdrawalTest, WithdrawnEntitiesAreRememberedUpToCapacity) {
  AlertFeed feed(2);
  feed.withdraw("person", "p1");
  feed.withdraw("person", "p2");
  feed.withdraw("person", "p3");  // p1 is forgotten
  EXPECT_TRUE(feed.publish(about("a1", "p1")));
  EXPECT_FALSE(feed.publish(about("a2", "p2")));
  EXPECT_FALSE(feed.publish(about("a3", "p3")));
}

}  // namespace
}  // namespace mozaiek
