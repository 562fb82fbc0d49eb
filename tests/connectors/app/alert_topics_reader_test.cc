// The alert-topics reader against the embedded cluster: only the newest
// alerts of each partition, every action from the beginning (an action for
// an alert not read yet waits for it), unreadable action records counted
// and skipped, and records written later followed live.
#include "connectors/app/alert_topics_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/kafka/embedded_cluster.h"
#include "connectors/kafka/kafka_sink.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using test::wait_until;
using ::testing::HasSubstr;

constexpr Millis kDeadline = seconds(30);

std::string alert(const std::string& id) {
  return R"({"schema":"mozaiek.alert/v1","alert_id":")" + id + R"(","status":"new","level":0})";
}

std::string action(const std::string& action_id, const std::string& alert_id,
                   const std::string& kind, const std::string& at) {
  return R"({"schema":"mozaiek.alert-action/v1","action_id":")" + action_id + R"(","alert_id":")" +
         alert_id + R"(","action":")" + kind + R"(","user":"analyst-7","reason":"r","at":")" + at +
         R"("})";
}

class AlertTopicsReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = Status::ok();
    cluster_ = EmbeddedCluster::start(1, st);
    ASSERT_TRUE(st) << st.message();
    settings_.brokers = cluster_->bootstrap_servers();
    settings_.properties = EmbeddedCluster::client_properties();
    ASSERT_TRUE(cluster_->create_topic("alerts", 2, 1).is_ok());
    ASSERT_TRUE(cluster_->create_topic("actions", 2, 1).is_ok());
    sink_ = KafkaSink::create(settings_, st);
    ASSERT_TRUE(sink_) << st.message();
  }

  void write(const std::string& topic, int partition, const std::string& key,
             const std::string& value) {
    ASSERT_TRUE(sink_->produce_to(topic, Partition{partition}, key, value).is_ok());
    ASSERT_TRUE(sink_->flush(seconds(10)).is_ok());
  }

  std::string served(const std::string& alert_id) {
    for (const auto& a : feed_.recent(feed_.capacity())) {
      if (a.find(R"("alert_id":")" + alert_id + "\"") != std::string::npos) return a;
    }
    return "";
  }

  std::unique_ptr<EmbeddedCluster> cluster_;
  KafkaSettings settings_;
  std::unique_ptr<KafkaSink> sink_;
  AlertFeed feed_{100};
};

TEST_F(AlertTopicsReaderTest, ReadsTheAlertTailAndEveryActionThenFollows) {
  // Partition 0 holds three alerts, partition 1 one; the tail is two.
  write("alerts", 0, "a1", alert("a1"));
  write("alerts", 0, "a2", alert("a2"));
  write("alerts", 0, "a3", alert("a3"));
  write("alerts", 1, "b1", alert("b1"));
  write("actions", 0, "a2", action("x1", "a2", "ack", "2025-11-24T16:00:00Z"));
  write("actions", 1, "b1", action("x2", "b1", "dismiss", "2025-11-24T16:00:00Z"));
  write("actions", 1, "b1", "not an action record");
  write("actions", 0, "c1", action("x3", "c1", "escalate", "2025-11-24T16:00:00Z"));

  Status st = Status::ok();
  auto reader = AlertTopicsReader::start(
      settings_, {"alerts", "actions"}, feed_, 2,
      [](const Status& s) { ADD_FAILURE() << s.message(); }, st);
  ASSERT_TRUE(reader) << st.message();
  ASSERT_TRUE(wait_until([&] { return reader->alerts_read() == 3 && reader->actions_read() == 3; },
                         kDeadline))
      << reader->alerts_read() << " alerts, " << reader->actions_read() << " actions";
  ASSERT_TRUE(wait_until([&] { return reader->unreadable_actions() == 1; }, kDeadline));
  EXPECT_FALSE(feed_.contains("a1"));  // older than the tail
  EXPECT_THAT(served("a2"), HasSubstr(R"("status":"acknowledged")"));
  EXPECT_THAT(served("a3"), HasSubstr(R"("status":"new")"));
  EXPECT_THAT(served("b1"), HasSubstr(R"("status":"dismissed")"));
  EXPECT_EQ(feed_.pending_actions(), 1u);  // c1's, waiting for its alert

  // Later records arrive live; c1 gets the action that waited.
  write("alerts", 1, "c1", alert("c1"));
  write("actions", 0, "a3", action("x4", "a3", "ack", "2025-11-24T16:00:01Z"));
  ASSERT_TRUE(wait_until([&] { return feed_.contains("c1"); }, kDeadline));
  EXPECT_THAT(served("c1"), HasSubstr(R"("status":"escalated")"));
  ASSERT_TRUE(wait_until(
      [&] { return served("a3").find(R"("status":"acknowledged")") != std::string::npos; },
      kDeadline));
  EXPECT_EQ(feed_.pending_actions(), 0u);
  reader->stop();
}

}  // namespace
}  // namespace mozaiek
