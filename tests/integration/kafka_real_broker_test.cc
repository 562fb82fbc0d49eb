// KafkaSource, KafkaSink and ensure_topics against a real Apache Kafka broker
// (KRaft, started by tests/support/real_kafka). If the broker cannot start,
// these tests fail with the reason; they never fall back to the mock.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_admin.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "tests/support/real_kafka.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using test::RealKafkaTest;
using test::wait_until;

class KafkaRealBrokerTest : public RealKafkaTest {
 protected:
  void SetUp() override {
    RealKafkaTest::SetUp();
    if (HasFatalFailure()) return;
    settings_ = kafka().settings();
    settings_.properties = {{"topic.metadata.refresh.interval.ms", "500"}};
    topic_ = kafka().unique_name("t");
    Status st = ensure_topics(settings_, {topic_}, seconds(30));
    ASSERT_TRUE(st) << st.message();
  }

  std::unique_ptr<KafkaSource> source(const std::string& group, std::vector<std::string> topics) {
    Status st = Status::ok();
    auto s = KafkaSource::create(settings_, group, std::move(topics), st);
    EXPECT_TRUE(st) << st.message();
    return s;
  }

  std::unique_ptr<KafkaSink> sink() {
    Status st = Status::ok();
    auto s = KafkaSink::create(settings_, st);
    EXPECT_TRUE(st) << st.message();
    return s;
  }

  void produce(KafkaSink& out, const std::string& topic, int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(out.produce(topic, "k" + std::to_string(i), "v" + std::to_string(i)));
    }
    Status st = out.flush(seconds(30));
    ASSERT_TRUE(st) << st.message();
  }

  static std::vector<std::pair<std::string, std::string>> consume(KafkaSource& in,
                                                                  std::size_t count,
                                                                  Millis deadline) {
    std::vector<std::pair<std::string, std::string>> got;  // topic, value
    RecordBatch batch;
    wait_until(
        [&] {
          Status st = in.poll(batch, std::min<std::size_t>(1000, count - got.size()), Millis{100});
          EXPECT_TRUE(st) << st.message();
          for (const auto& r : batch.records) got.emplace_back(r.topic, r.value);
          return got.size() >= count;
        },
        deadline, Millis{0});
    return got;
  }

  // Once the consumer has joined, a fresh marker record on every partition
  // proves that anything the group would redeliver has had its chance to
  // arrive first: a partition's records come in offset order, so its marker
  // arrives after its redelivered records. Returns the values before the
  // markers.
  std::vector<std::string> consume_until_marker(KafkaSource& in, KafkaSink& out) {
    constexpr int kPartitions = 4;
    std::vector<std::string> got;
    bool markers_sent = false;
    std::set<int> markers_seen;
    RecordBatch batch;
    wait_until(
        [&] {
          EXPECT_TRUE(in.poll(batch, 1000, Millis{50}));
          for (const auto& r : batch.records) {
            if (r.value == "marker") {
              markers_seen.insert(raw(r.partition));
            } else {
              got.emplace_back(r.value);
            }
          }
          if (!markers_sent && in.assignment().size() == kPartitions) {
            for (int p = 0; p < kPartitions; ++p) {
              EXPECT_TRUE(out.produce_to(topic_, Partition{p}, "marker", "marker"));
            }
            EXPECT_TRUE(out.flush(seconds(10)));
            markers_sent = true;
          }
          return markers_seen.size() == kPartitions;
        },
        seconds(60), Millis{0});
    EXPECT_TRUE(markers_sent) << "consumer never got all 4 partitions";
    EXPECT_EQ(markers_seen.size(), static_cast<std::size_t>(kPartitions))
        << "a marker record never arrived";
    return got;
  }

  KafkaSettings settings_;
  std::string topic_;
};

TEST_F(KafkaRealBrokerTest, ProducedRecordsAreConsumedOnceAndCommitsHold) {
  auto out = sink();
  constexpr int kCount = 5000;
  produce(*out, topic_, 0, kCount);
  const std::string group = kafka().unique_name("g");
  {
    auto in = source(group, {topic_});
    auto got = consume(*in, kCount, seconds(60));
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount));
    std::set<std::string> distinct;
    for (const auto& [t, v] : got) distinct.insert(v);
    EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kCount));
    Status st = in->commit();
    ASSERT_TRUE(st) << st.message();
  }
  auto again = source(group, {topic_});
  auto redelivered = consume_until_marker(*again, *out);
  EXPECT_TRUE(redelivered.empty()) << redelivered.size() << " committed records came back";
}

TEST_F(KafkaRealBrokerTest, UncommittedRecordsAreRedeliveredAfterRestart) {
  auto out = sink();
  produce(*out, topic_, 0, 200);
  const std::string group = kafka().unique_name("g");
  {
    auto in = source(group, {topic_});
    ASSERT_EQ(consume(*in, 200, seconds(60)).size(), 200u);
    ASSERT_TRUE(in->commit());
    produce(*out, topic_, 200, 250);
    ASSERT_EQ(consume(*in, 50, seconds(60)).size(), 50u);
  }
  auto again = source(group, {topic_});
  auto redelivered = consume_until_marker(*again, *out);
  std::set<std::string> expected;
  for (int i = 200; i < 250; ++i) expected.insert("v" + std::to_string(i));
  EXPECT_EQ(std::set<std::string>(redelivered.begin(), redelivered.end()), expected);
  EXPECT_EQ(redelivered.size(), 50u);
}

TEST_F(KafkaRealBrokerTest, LagReflectsCommittedOffsets) {
  auto out = sink();
  produce(*out, topic_, 0, 100);
  auto in = source(kafka().unique_name("g"), {topic_});
  ASSERT_EQ(consume(*in, 100, seconds(60)).size(), 100u);
  ASSERT_TRUE(in->commit());
  produce(*out, topic_, 100, 140);
  auto total_lag = [&] {
    std::int64_t sum = 0;
    auto lags = in->lag();
    if (lags.size() != 4) return std::int64_t{-1};
    for (const auto& l : lags) {
      if (!l.lag) return std::int64_t{-1};
      sum += *l.lag;
    }
    return sum;
  };
  EXPECT_TRUE(wait_until([&] { return total_lag() == 40; }, seconds(20))) << total_lag();
}

TEST_F(KafkaRealBrokerTest, EnsureTopicsCreatesMissingTopicsAndToleratesExistingOnes) {
  const std::string fresh = kafka().unique_name("fresh");
  Status st = ensure_topics(settings_, {topic_, fresh}, seconds(30));
  ASSERT_TRUE(st) << st.message();
  st = ensure_topics(settings_, {fresh}, seconds(30));
  EXPECT_TRUE(st) << st.message();
  auto out = sink();
  produce(*out, fresh, 0, 10);
  auto in = source(kafka().unique_name("g"), {fresh});
  EXPECT_EQ(consume(*in, 10, seconds(60)).size(), 10u);
}

TEST_F(KafkaRealBrokerTest, RegexSubscriptionPicksUpTwoSignalTopics) {
  // Unique topic names; the regex is the one the intake uses.
  const std::string coa = "signals." + kafka().unique_name("coa");
  const std::string politie = "signals." + kafka().unique_name("politie");
  ASSERT_TRUE(ensure_topics(settings_, {coa}, seconds(30)));
  auto out = sink();
  produce(*out, coa, 0, 20);
  auto in = source(kafka().unique_name("intake"), {"^signals\\..*"});
  auto first = consume(*in, 20, seconds(60));
  ASSERT_EQ(first.size(), 20u);
  ASSERT_TRUE(in->commit());

  // A partner added later is picked up without restarting the consumer.
  ASSERT_TRUE(ensure_topics(settings_, {politie}, seconds(30)));
  produce(*out, politie, 20, 40);
  auto second = consume(*in, 20, seconds(60));
  ASSERT_EQ(second.size(), 20u);
  for (const auto& [t, v] : second) EXPECT_EQ(t, politie);
  std::set<std::string> topics;
  for (const auto& [t, p] : in->assignment()) topics.insert(t);
  EXPECT_TRUE(topics.contains(coa) && topics.contains(politie));
}

TEST_F(KafkaRealBrokerTest, DeliveryToAMissingTopicIsReportedByFlush) {
  // auto.create.topics.enable=false on the test broker, as in production.
  settings_.properties.emplace_back("message.timeout.ms", "3000");
  auto out = sink();
  ASSERT_TRUE(out->produce(kafka().unique_name("missing"), "k", "v"));
  Status st = out->flush(seconds(20));
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("failed delivery"), std::string::npos) << st.message();
  EXPECT_EQ(out->counters().delivery_failures, 1u);
  // Sticky: the loss stays visible, so no input offset can be committed past it.
  EXPECT_FALSE(out->flush(seconds(1)));
}

}  // namespace
}  // namespace mozaiek
