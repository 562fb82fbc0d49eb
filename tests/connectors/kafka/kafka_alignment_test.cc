// KafkaSource's event-time alignment and commit metadata against librdkafka's
// in-process mock cluster: records of several topics come out merged by
// event time whatever order they were written and fetched in; a partition
// at its end holds nothing back; the metadata committed with the offsets
// comes back with the next assignment.
#include <gtest/gtest.h>

#include <charconv>
#include <string>
#include <vector>

#include "connectors/kafka/embedded_cluster.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using test::wait_until;

// The record's value is its event time in decimal; anything else has none.
std::optional<std::int64_t> value_as_time(const RecordView& r) {
  std::int64_t t = 0;
  const auto [end, ec] = std::from_chars(r.value.data(), r.value.data() + r.value.size(), t);
  if (ec != std::errc() || end != r.value.data() + r.value.size()) return std::nullopt;
  return t;
}

class KafkaAlignmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = Status::ok();
    cluster_ = EmbeddedCluster::start(1, st);
    ASSERT_TRUE(st) << st.message();
    settings_.brokers = cluster_->bootstrap_servers();
    settings_.client_id = "mozaiek-test";
    settings_.properties = EmbeddedCluster::client_properties();
  }

  std::unique_ptr<KafkaSource> aligned(const std::string& group, std::vector<std::string> topics) {
    Status st = Status::ok();
    // A generous wait: if a partition at its end held the others back, the
    // test would run into its deadline instead of passing by luck.
    auto s = KafkaSource::create(settings_, group, std::move(topics), st,
                                 SourceAlignment{value_as_time, seconds(120)});
    EXPECT_TRUE(st) << st.message();
    return s;
  }

  void produce(const std::string& topic, const std::vector<std::string>& values) {
    Status st = Status::ok();
    auto out = KafkaSink::create(settings_, st);
    ASSERT_TRUE(out) << st.message();
    for (std::size_t i = 0; i < values.size(); ++i) {
      ASSERT_TRUE(out->produce(topic, "k" + std::to_string(i % 7), values[i]));
    }
    ASSERT_TRUE(out->flush(seconds(30)));
  }

  static std::vector<std::string> consume(KafkaSource& in, std::size_t count) {
    std::vector<std::string> got;
    RecordBatch batch;
    wait_until(
        [&] {
          Status st = in.poll(batch, 100, Millis{100});
          EXPECT_TRUE(st) << st.message();
          for (const auto& r : batch.records) got.emplace_back(r.value);
          return got.size() >= count;
        },
        seconds(60), Millis{0});
    return got;
  }

  std::unique_ptr<EmbeddedCluster> cluster_;
  KafkaSettings settings_;
};

TEST_F(KafkaAlignmentTest, RecordsOfAllPartitionsComeOutInEventTimeOrderAndEmptyOnesHoldNothing) {
  ASSERT_TRUE(cluster_->create_topic("fast", 2));
  ASSERT_TRUE(cluster_->create_topic("slow", 2));
  ASSERT_TRUE(cluster_->create_topic("quiet", 2));  // never written: at its end at once
  // All of one topic is written (and fetchable) before any of the other.
  std::vector<std::string> fast;
  std::vector<std::string> slow;
  for (int t = 0; t < 2000; t += 2) fast.push_back(std::to_string(t));
  for (int t = 1; t < 2000; t += 2) slow.push_back(std::to_string(t));
  produce("fast", fast);
  produce("slow", slow);

  auto in = aligned("aligned", {"fast", "slow", "quiet"});
  const std::vector<std::string> got = consume(*in, 2000);
  ASSERT_EQ(got.size(), 2000u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], std::to_string(i)) << "record " << i << " out of event-time order";
  }
  EXPECT_EQ(in->counters().alignment_timeouts, 0u);
}

TEST_F(KafkaAlignmentTest, ARecordWithoutEventTimeKeepsItsPlaceBehindItsPartitionsPrevious) {
  ASSERT_TRUE(cluster_->create_topic("c", 1));
  ASSERT_TRUE(cluster_->create_topic("d", 1));
  produce("c", {"10", "broken", "30"});
  produce("d", {"20"});
  auto in = aligned("aligned-broken", {"c", "d"});
  EXPECT_EQ(consume(*in, 4), (std::vector<std::string>{"10", "broken", "20", "30"}));
}

TEST_F(KafkaAlignmentTest, MetadataCommittedWithTheOffsetsComesBackWithTheNextAssignment) {
  ASSERT_TRUE(cluster_->create_topic("m", 2));
  std::vector<std::string> values;
  for (int t = 0; t < 50; ++t) values.push_back(std::to_string(t));
  produce("m", values);
  {
    auto in = aligned("with-metadata", {"m"});
    in->set_commit_metadata([] { return std::string("watermarks 42"); });
    ASSERT_EQ(consume(*in, 50).size(), 50u);
    ASSERT_TRUE(in->commit());
  }
  auto again = aligned("with-metadata", {"m"});
  std::vector<std::string> seen;
  again->set_commit_metadata([] { return std::string(); });
  again->set_rebalance_listener([&](const TopicPartitions& assigned, const TopicPartitions&) {
    if (!assigned.empty()) seen = again->assigned_metadata();
  });
  RecordBatch batch;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(again->poll(batch, 10, Millis{100}));
        return !seen.empty();
      },
      seconds(60), Millis{0}));
  for (const auto& m : seen) EXPECT_EQ(m, "watermarks 42");
}

}  // namespace
}  // namespace mozaiek
