// KafkaSource, KafkaSink, ensure_topics and EmbeddedCluster against
// librdkafka's in-process mock cluster. The same behaviours run against a
// real broker in tests/integration/kafka_real_broker_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/embedded_cluster.h"
#include "connectors/kafka/kafka_admin.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "tests/support/wait.h"

namespace mozaiek {
namespace {

using test::wait_until;

struct Owned {
  std::string topic;
  int partition;
  std::int64_t offset;
  std::string key;
  std::string value;
};

class KafkaEmbeddedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status st = Status::ok();
    cluster_ = EmbeddedCluster::start(1, st);
    ASSERT_TRUE(st) << st.message();
    settings_.brokers = cluster_->bootstrap_servers();
    settings_.client_id = "mozaiek-test";
    settings_.properties = EmbeddedCluster::client_properties();
    // Regex subscriptions notice new topics quickly in tests.
    settings_.properties.emplace_back("topic.metadata.refresh.interval.ms", "200");
  }

  std::unique_ptr<KafkaSource> source(const std::string& group, std::vector<std::string> topics) {
    Status st = Status::ok();
    auto s = KafkaSource::create(settings_, group, std::move(topics), st);
    EXPECT_TRUE(st) << st.message();
    return s;
  }

  std::unique_ptr<KafkaSink> sink(Millis max_block = KafkaSink::kDefaultMaxBlock) {
    Status st = Status::ok();
    auto s = KafkaSink::create(settings_, st, max_block);
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

  // Polls until `count` records arrived or the deadline passed.
  static std::vector<Owned> consume(KafkaSource& in, std::size_t count, Millis deadline,
                                    std::size_t max_batch = 1000) {
    std::vector<Owned> got;
    RecordBatch batch;
    wait_until(
        [&] {
          Status st = in.poll(batch, std::min(max_batch, count - got.size()), Millis{100});
          EXPECT_TRUE(st) << st.message();
          for (const auto& r : batch.records) {
            got.push_back({std::string(r.topic), raw(r.partition), raw(r.offset),
                           std::string(r.key), std::string(r.value)});
          }
          return got.size() >= count;
        },
        deadline, Millis{0});
    return got;
  }

  static std::set<std::string> values(const std::vector<Owned>& records) {
    std::set<std::string> out;
    for (const auto& r : records) out.insert(r.value);
    return out;
  }

  // Once a consumer has joined, a fresh marker record proves that anything
  // it would redeliver has had its chance to arrive first. Returns the
  // records before the marker.
  std::vector<Owned> consume_until_marker(KafkaSource& in, KafkaSink& out,
                                          const std::string& topic) {
    std::vector<Owned> got;
    bool marker_sent = false;
    bool marker_seen = false;
    RecordBatch batch;
    wait_until(
        [&] {
          EXPECT_TRUE(in.poll(batch, 1000, Millis{50}));
          for (const auto& r : batch.records) {
            if (r.value == "marker") {
              marker_seen = true;
            } else {
              got.push_back({std::string(r.topic), raw(r.partition), raw(r.offset),
                             std::string(r.key), std::string(r.value)});
            }
          }
          if (!marker_sent && in.assignment().size() == 4) {
            EXPECT_TRUE(out.produce(topic, "marker", "marker"));
            EXPECT_TRUE(out.flush(seconds(10)));
            marker_sent = true;
          }
          return marker_seen;
        },
        seconds(30), Millis{0});
    EXPECT_TRUE(marker_sent) << "consumer never got all 4 partitions";
    EXPECT_TRUE(marker_seen) << "marker record never arrived";
    return got;
  }

  std::unique_ptr<EmbeddedCluster> cluster_;
  KafkaSettings settings_;
};

TEST_F(KafkaEmbeddedTest, EveryProducedRecordIsConsumedOnceAcrossFourPartitions) {
  ASSERT_TRUE(cluster_->create_topic("signals.coa", 4));
  auto out = sink();
  constexpr int kCount = 20'000;
  produce(*out, "signals.coa", 0, kCount);
  EXPECT_EQ(out->counters().delivered, static_cast<std::uint64_t>(kCount));

  auto in = source("intake", {"signals.coa"});
  auto got = consume(*in, kCount, seconds(60));
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(values(got).size(), static_cast<std::size_t>(kCount)) << "duplicates";

  std::map<int, std::int64_t> last_offset;
  std::map<std::string, int> partition_of_key;
  for (const auto& r : got) {
    auto [it, fresh] = last_offset.try_emplace(r.partition, r.offset);
    if (!fresh) {
      EXPECT_GT(r.offset, it->second) << "offsets go backwards in partition " << r.partition;
      it->second = r.offset;
    }
    EXPECT_EQ(r.value, "v" + r.key.substr(1));
    partition_of_key[r.key] = r.partition;
  }
  EXPECT_EQ(last_offset.size(), 4u) << "keys should spread over all partitions";
}

TEST_F(KafkaEmbeddedTest, CommittedRecordsAreNotRedeliveredToTheGroup) {
  ASSERT_TRUE(cluster_->create_topic("t", 4));
  auto out = sink();
  produce(*out, "t", 0, 500);
  {
    auto in = source("g", {"t"});
    ASSERT_EQ(consume(*in, 500, seconds(30)).size(), 500u);
    Status st = in->commit();
    ASSERT_TRUE(st) << st.message();
    EXPECT_GE(in->counters().commits, 1u);
  }
  auto again = source("g", {"t"});
  auto redelivered = consume_until_marker(*again, *out, "t");
  EXPECT_TRUE(redelivered.empty()) << redelivered.size() << " committed records came back";
}

TEST_F(KafkaEmbeddedTest, UncommittedRecordsAreRedeliveredAfterRestart) {
  ASSERT_TRUE(cluster_->create_topic("t", 4));
  auto out = sink();
  produce(*out, "t", 0, 300);
  {
    auto in = source("g", {"t"});
    ASSERT_EQ(consume(*in, 300, seconds(30)).size(), 300u);
    ASSERT_TRUE(in->commit());
    produce(*out, "t", 300, 400);
    ASSERT_EQ(consume(*in, 100, seconds(30)).size(), 100u);
    // Crash before commit: the last 100 were handed out, never committed.
  }
  auto again = source("g", {"t"});
  auto redelivered = consume_until_marker(*again, *out, "t");
  std::set<std::string> expected;
  for (int i = 300; i < 400; ++i) expected.insert("v" + std::to_string(i));
  EXPECT_EQ(values(redelivered), expected);
  EXPECT_EQ(redelivered.size(), 100u);
}

TEST_F(KafkaEmbeddedTest, FullProducerQueueAppliesBackPressureWithoutLosingRecords) {
  ASSERT_TRUE(cluster_->create_topic("t", 4));
  settings_.properties.emplace_back("queue.buffering.max.messages", "50");
  settings_.properties.emplace_back("linger.ms", "20");
  ASSERT_TRUE(cluster_->set_broker_rtt(-1, Millis{20}));
  auto out = sink();
  constexpr int kCount = 3000;
  produce(*out, "t", 0, kCount);
  EXPECT_GT(out->counters().queue_full_waits, 0u) << "the queue never filled: test is vacuous";
  EXPECT_EQ(out->counters().delivered, static_cast<std::uint64_t>(kCount));
  ASSERT_TRUE(cluster_->set_broker_rtt(-1, Millis{0}));

  auto in = source("g", {"t"});
  auto got = consume(*in, kCount, seconds(60));
  EXPECT_EQ(values(got).size(), static_cast<std::size_t>(kCount));
}

TEST_F(KafkaEmbeddedTest, ProduceFailsAfterMaxBlockWhenBrokerStaysDown) {
  ASSERT_TRUE(cluster_->create_topic("t", 1));
  settings_.properties.emplace_back("queue.buffering.max.messages", "10");
  auto out = sink(Millis{500});
  ASSERT_TRUE(out->produce("t", "k", "warm-up"));
  ASSERT_TRUE(out->flush(seconds(10)));
  ASSERT_TRUE(cluster_->broker_down());
  Status st = Status::ok();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100 && st; ++i) st = out->produce("t", "k", "v");
  EXPECT_FALSE(st);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  EXPECT_NE(st.message().find("queue stayed full"), std::string::npos) << st.message();
  Status flushed = out->flush(Millis{200});
  EXPECT_FALSE(flushed);
  EXPECT_NE(flushed.message().find("undelivered"), std::string::npos) << flushed.message();
  ASSERT_TRUE(cluster_->broker_up());
}

TEST_F(KafkaEmbeddedTest, UnreachableBrokerGivesAClearErrorWithinTheTimeout) {
  KafkaSettings nowhere = settings_;
  nowhere.brokers = "127.0.0.1:1";
  const auto start = std::chrono::steady_clock::now();
  Status st = ensure_topics(nowhere, {"t"}, seconds(2));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("127.0.0.1:1"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("did not answer"), std::string::npos) << st.message();
  EXPECT_LT(took, seconds(6));
}

TEST_F(KafkaEmbeddedTest, EnsureTopicsAcceptsExistingTopicsAndExplainsMissingOnesOnTheMock) {
  ASSERT_TRUE(cluster_->create_topic("exists", 4));
  Status st = ensure_topics(settings_, {"exists"}, seconds(10));
  EXPECT_TRUE(st) << st.message();
  Status missing = ensure_topics(settings_, {"exists", "missing"}, seconds(2));
  if (!missing) {
    // The mock broker has no CreateTopics API: the error must say what to do.
    EXPECT_NE(missing.message().find("create_topic"), std::string::npos) << missing.message();
  }
}

TEST_F(KafkaEmbeddedTest, ConfigurationErrorsNameTheProblem) {
  Status st = Status::ok();
  KafkaSettings embedded = settings_;
  embedded.brokers = "embedded";
  EXPECT_EQ(KafkaSink::create(embedded, st), nullptr);
  EXPECT_NE(st.message().find("EmbeddedCluster"), std::string::npos) << st.message();

  KafkaSettings bad = settings_;
  bad.properties.emplace_back("no.such.property", "secret-value");
  EXPECT_EQ(KafkaSource::create(bad, "g", {"t"}, st), nullptr);
  EXPECT_NE(st.message().find("no.such.property"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("secret-value"), std::string::npos) << "value leaked";

  EXPECT_EQ(KafkaSource::create(settings_, "", {"t"}, st), nullptr);
  EXPECT_FALSE(st);
}

TEST_F(KafkaEmbeddedTest, RegexSubscriptionPicksUpTopicsCreatedLater) {
  ASSERT_TRUE(cluster_->create_topic("signals.coa", 2));
  ASSERT_TRUE(cluster_->create_topic("chain.events", 2));
  auto out = sink();
  produce(*out, "signals.coa", 0, 10);
  produce(*out, "chain.events", 100, 110);
  auto in = source("intake", {"^signals\\..*"});
  auto first = consume(*in, 10, seconds(30));
  ASSERT_EQ(first.size(), 10u);
  for (const auto& r : first) EXPECT_EQ(r.topic, "signals.coa");
  // Committed: the rebalance that adds the new topic must not bring them back.
  ASSERT_TRUE(in->commit());

  ASSERT_TRUE(cluster_->create_topic("signals.politie", 2));
  produce(*out, "signals.politie", 10, 20);
  auto second = consume(*in, 10, seconds(30));
  ASSERT_EQ(second.size(), 10u);
  for (const auto& r : second) EXPECT_EQ(r.topic, "signals.politie");
}

TEST_F(KafkaEmbeddedTest, RebalanceTellsTheOwnerAndSplitsPartitions) {
  ASSERT_TRUE(cluster_->create_topic("t", 4));
  auto a = source("g", {"t"});
  // What the listener was told a holds, and every revocation that did not
  // hand back exactly that (the eager assignor revokes whole assignments).
  std::set<std::pair<std::string, int>> a_held;
  std::size_t a_revoked = 0;
  int a_assignments = 0;
  std::vector<std::string> mismatched_revocations;
  a->set_rebalance_listener([&](const TopicPartitions& assigned, const TopicPartitions& revoked) {
    if (!assigned.empty()) {
      ++a_assignments;
      a_held.insert(assigned.begin(), assigned.end());
    }
    if (!revoked.empty()) {
      a_revoked += revoked.size();
      const std::set<std::pair<std::string, int>> given_back(revoked.begin(), revoked.end());
      if (given_back != a_held) {
        mismatched_revocations.push_back(std::to_string(given_back.size()) + " of " +
                                         std::to_string(a_held.size()));
      }
      a_held.clear();
    }
  });
  RecordBatch batch;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(a->poll(batch, 10, Millis{50}));
        return a->assignment().size() == 4;
      },
      seconds(30)));
  EXPECT_EQ(a_assignments, 1);
  EXPECT_EQ(a_held.size(), 4u);

  auto b = source("g", {"t"});
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(a->poll(batch, 10, Millis{20}));
        EXPECT_TRUE(b->poll(batch, 10, Millis{20}));
        return a->assignment().size() + b->assignment().size() == 4 && !a->assignment().empty() &&
               !b->assignment().empty();
      },
      seconds(60)));
  // The first revocation takes all four. On a loaded machine a missed
  // heartbeat can add further revoke/assign rounds after the split; each of
  // those gives back whatever a held at the time, never a part of it.
  EXPECT_GE(a_revoked, 4u) << "eager assignor revokes everything first";
  EXPECT_TRUE(mismatched_revocations.empty()) << "revoked only part of the assignment: "
                                              << ::testing::PrintToString(mismatched_revocations);
  // The listener's view is the consumer's own.
  const auto now_held = a->assignment();
  const std::set<std::pair<std::string, int>> consumer_view(now_held.begin(), now_held.end());
  EXPECT_EQ(a_held, consumer_view);
  EXPECT_GE(a->counters().rebalances, 3u);  // assign, revoke, assign (at least)
}

TEST_F(KafkaEmbeddedTest, LagCountsRecordsNotYetCommitted) {
  ASSERT_TRUE(cluster_->create_topic("t", 4));
  auto out = sink();
  produce(*out, "t", 0, 100);
  auto in = source("g", {"t"});
  ASSERT_EQ(consume(*in, 100, seconds(30)).size(), 100u);
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
  // Nothing committed yet: the group has no offsets, lag is measured from the
  // consumer's position (everything handed out).
  EXPECT_TRUE(wait_until([&] { return total_lag() == 0; }, seconds(10))) << total_lag();
  ASSERT_TRUE(in->commit());
  produce(*out, "t", 100, 130);
  EXPECT_TRUE(wait_until([&] { return total_lag() == 30; }, seconds(10))) << total_lag();
  for (const auto& l : in->lag()) {
    ASSERT_TRUE(l.committed && l.high_watermark);
    EXPECT_EQ(raw(*l.high_watermark) - raw(*l.committed), *l.lag);
  }
}

TEST_F(KafkaEmbeddedTest, TransientCommitErrorsAreRetriedNotFatal) {
  ASSERT_TRUE(cluster_->create_topic("t", 4));
  auto out = sink();
  produce(*out, "t", 0, 50);
  {
    auto in = source("g", {"t"});
    ASSERT_EQ(consume(*in, 50, seconds(30)).size(), 50u);
    cluster_->push_request_errors(KafkaApi::kOffsetCommit,
                                  {RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS});
    Status st = in->commit();
    EXPECT_TRUE(st) << st.message();
    st = in->commit();  // retried: nothing is lost
    EXPECT_TRUE(st) << st.message();
    EXPECT_GE(in->counters().commits, 1u);
  }
  auto again = source("g", {"t"});
  EXPECT_TRUE(consume_until_marker(*again, *out, "t").empty());
}

// Speed is measured in bench/ (BM_EmbeddedClusterProduceConsume), not here.
// This checks that a large backlog arrives whole and in batches: a poll that
// handed out one record at a time would fail the batch-size check.
TEST_F(KafkaEmbeddedTest, LargeBacklogArrivesWholeAndInBatches) {
  ASSERT_TRUE(cluster_->create_topic("t", 4));
  auto out = sink();
  constexpr int kCount = 200'000;
  const std::string value(200, 'x');
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(out->produce("t", std::to_string(i), value));
  ASSERT_TRUE(out->flush(seconds(60)));
  auto in = source("g", {"t"});
  RecordBatch batch;
  std::set<std::string> keys;
  std::size_t non_empty_polls = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        EXPECT_TRUE(in->poll(batch, 10'000, Millis{100}));
        if (!batch.records.empty()) ++non_empty_polls;
        for (const auto& r : batch.records) keys.emplace(r.key);
        return keys.size() >= static_cast<std::size_t>(kCount);
      },
      seconds(120), Millis{0}));
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(*keys.begin(), "0");
  ASSERT_GT(non_empty_polls, 0u);
  EXPECT_GT(keys.size() / non_empty_polls, 100u) << non_empty_polls << " polls";
}

}  // namespace
}  // namespace mozaiek
