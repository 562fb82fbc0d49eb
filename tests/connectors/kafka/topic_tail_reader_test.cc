// The topic tail reader against the embedded cluster: a tailed topic from
// its newest records per partition, another from the beginning, each to
// its own callback, then records written later followed live.
#include "connectors/kafka/topic_tail_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "connectors/kafka/embedded_cluster.h"
#include "connectors/kafka/kafka_sink.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using test::wait_until;
using ::testing::UnorderedElementsAre;

constexpr Millis kDeadline = seconds(30);

// What one callback received, read by the test thread.
class Received {
 public:
  std::function<void(const RecordView&)> callback() {
    return [this](const RecordView& r) {
      std::lock_guard lock(mu_);
      values_.emplace(r.value);
    };
  }
  std::multiset<std::string> values() const {
    std::lock_guard lock(mu_);
    return values_;
  }

 private:
  mutable std::mutex mu_;
  std::multiset<std::string> values_;
};

class TopicTailReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = Status::ok();
    cluster_ = EmbeddedCluster::start(1, st);
    ASSERT_TRUE(st) << st.message();
    settings_.brokers = cluster_->bootstrap_servers();
    settings_.properties = EmbeddedCluster::client_properties();
    ASSERT_TRUE(cluster_->create_topic("tailed", 2, 1).is_ok());
    ASSERT_TRUE(cluster_->create_topic("whole", 1, 1).is_ok());
    sink_ = KafkaSink::create(settings_, st);
    ASSERT_TRUE(sink_) << st.message();
  }

  void write(const std::string& topic, int partition, const std::string& value) {
    ASSERT_TRUE(sink_->produce_to(topic, Partition{partition}, "k", value).is_ok());
    ASSERT_TRUE(sink_->flush(seconds(10)).is_ok());
  }

  std::unique_ptr<EmbeddedCluster> cluster_;
  KafkaSettings settings_;
  std::unique_ptr<KafkaSink> sink_;
};

TEST_F(TopicTailReaderTest, ReadsTheTailOfOneTopicAndAllOfAnotherThenFollows) {
  write("tailed", 0, "t1");
  write("tailed", 0, "t2");
  write("tailed", 0, "t3");
  write("tailed", 1, "u1");
  write("whole", 0, "w1");
  write("whole", 0, "w2");

  Received tailed, whole;
  Status st = Status::ok();
  auto reader = TopicTailReader::start(
      settings_, "test reader", "test.reader",
      {{"tailed", 2, tailed.callback()}, {"whole", std::nullopt, whole.callback()}},
      [](const Status& s) { ADD_FAILURE() << s.message(); }, st);
  ASSERT_TRUE(reader) << st.message();
  ASSERT_TRUE(wait_until([&] { return tailed.values().size() == 3 && whole.values().size() == 2; },
                         kDeadline));
  EXPECT_THAT(tailed.values(), UnorderedElementsAre("t2", "t3", "u1"));
  EXPECT_THAT(whole.values(), UnorderedElementsAre("w1", "w2"));

  write("tailed", 1, "u2");
  write("whole", 0, "w3");
  ASSERT_TRUE(wait_until([&] { return tailed.values().size() == 4 && whole.values().size() == 3; },
                         kDeadline));
  EXPECT_EQ(tailed.values().count("u2"), 1u);
  EXPECT_EQ(whole.values().count("w3"), 1u);
  reader->stop();
}

}  // namespace
}  // namespace mozaiek
