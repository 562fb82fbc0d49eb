// PartitionedPipeline: the same alerts, ids and order on one thread as on
// several, over generated partner traffic with chain events, linking and
// oversight on, with many notices crossing partitions.
#include "connectors/app/partitioned_pipeline.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "connectors/app/local_pipeline.h"
#include "connectors/synthetic/synthetic_chain.h"
#include "operators/records/alert_json.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

std::vector<OutRecord> partner_traffic(const Settings& settings, std::size_t signals) {
  TrafficOptions options;
  options.seed = 15;
  options.signals = signals;
  for (const auto& s : settings.operators.sources) options.sources.push_back(s.name);
  options.locations = settings.operators.locations;
  ChainTrafficOptions chain;
  chain.seed = 15;
  chain.topic = settings.topics.chain_events;
  chain.sources = options.sources;
  chain.locations = options.locations;
  PartnerTraffic gen(options, settings.operators.catalogue, chain, true);
  std::vector<OutRecord> out;
  OutRecord r;
  while (gen.next(r)) out.push_back(r);
  return out;
}

struct Outcome {
  std::vector<OutRecord> alerts;
  std::vector<OutRecord> care;
  std::uint64_t notices_received = 0;
  std::uint64_t epochs = 0;
};

Outcome run_partitioned(const Settings& settings, const std::vector<OutRecord>& input,
                        int partitions, int threads) {
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  ManualClock clock(ProcTime{Millis{1'790'000'000'000}});
  auto stores = make_memory_store_factory();
  RecordingSink alerts, care;
  Outcome out;
  {
    PartitionedPipeline pipeline(
        settings.operators, pseudonymiser, clock, *stores, &alerts, nullptr,
        PartitionedOptions{.partitions = partitions, .threads = threads, .epoch_records = 700});
    pipeline.set_care_alerts(&care);
    RecordBatch batch;
    for (std::size_t i = 0; i < input.size(); ++i) {
      RecordView v;
      v.topic = input[i].topic;
      v.key = input[i].key;
      v.value = input[i].value;
      v.offset = Offset{static_cast<std::int64_t>(i)};
      batch.records.push_back(v);
      if (batch.records.size() == 1000 || i + 1 == input.size()) {
        EXPECT_TRUE(pipeline.process(batch).is_ok());
        batch.records.clear();
      }
    }
    EXPECT_TRUE(pipeline.finish().is_ok());
    for (int p = 0; p < pipeline.partitions(); ++p) {
      out.notices_received += pipeline.stage(p).link_counters().notices_received;
    }
    out.epochs = pipeline.epochs();
  }
  out.alerts = std::move(alerts.records);
  out.care = std::move(care.records);
  return out;
}

std::string describe(const std::vector<OutRecord>& records) {
  std::string s;
  for (const auto& r : records) s += r.key + "\n";
  return s;
}

class PartitionedPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    settings_ = new Settings(shipped_settings());
    input_ = new std::vector<OutRecord>(partner_traffic(*settings_, 12000));
  }
  static void TearDownTestSuite() {
    delete input_;
    delete settings_;
  }
  static Settings* settings_;
  static std::vector<OutRecord>* input_;
};
Settings* PartitionedPipelineTest::settings_ = nullptr;
std::vector<OutRecord>* PartitionedPipelineTest::input_ = nullptr;

TEST_F(PartitionedPipelineTest, SameAlertsAndIdsInTheSameOrderOnOneThreadAsOnSeveral) {
  ASSERT_TRUE(settings_->operators.linking.enabled);
  const Outcome one = run_partitioned(*settings_, *input_, 8, 1);
  // What makes the comparison worth something: alerts of several kinds,
  // notices between partitions, many epochs.
  ASSERT_GE(one.alerts.size(), 20u);
  std::set<std::string> rules;
  for (const auto& r : one.alerts) {
    Alert a;
    if (read_alert_json(r.value, a)) rules.insert(a.rule);
  }
  EXPECT_TRUE(rules.count("person_convergence")) << describe(one.alerts);
  EXPECT_GE(rules.size(), 3u);
  EXPECT_GT(one.notices_received, 100u);
  EXPECT_GT(one.epochs, 10u);
  for (int threads : {2, 3, 8}) {
    const Outcome many = run_partitioned(*settings_, *input_, 8, threads);
    ASSERT_EQ(many.alerts.size(), one.alerts.size()) << threads << " threads";
    for (std::size_t i = 0; i < one.alerts.size(); ++i) {
      EXPECT_EQ(many.alerts[i].key, one.alerts[i].key) << threads << " threads, alert " << i;
      EXPECT_EQ(many.alerts[i].value, one.alerts[i].value) << threads << " threads, alert " << i;
    }
    ASSERT_EQ(many.care.size(), one.care.size()) << threads << " threads";
    for (std::size_t i = 0; i < one.care.size(); ++i) {
      EXPECT_EQ(many.care[i].value, one.care[i].value) << threads << " threads, care alert " << i;
    }
    EXPECT_EQ(many.notices_received, one.notices_received) << threads << " threads";
  }
}

TEST_F(PartitionedPipelineTest, OnePartitionRaisesTheAlertsOfTheLocalPipeline) {
  // One partition: nothing crosses partitions, so with maintenance at the
  // same records the output is LocalPipeline's, alert for alert.
  const Outcome parted = run_partitioned(*settings_, *input_, 1, 1);
  Pseudonymiser pseudonymiser(kDemoPseudonymKey);
  ManualClock clock(ProcTime{Millis{1'790'000'000'000}});
  auto stores = make_memory_store_factory();
  RecordingSink alerts;
  {
    LocalPipeline local(settings_->operators, pseudonymiser, clock, *stores, &alerts, nullptr);
    for (std::size_t i = 0; i < input_->size(); ++i) {
      RecordView v;
      v.topic = (*input_)[i].topic;
      v.key = (*input_)[i].key;
      v.value = (*input_)[i].value;
      v.offset = Offset{static_cast<std::int64_t>(i)};
      local.process(v);
      if ((i + 1) % 700 == 0) local.maintain();
    }
    local.maintain();
    ASSERT_TRUE(local.finish().is_ok());
  }
  ASSERT_GE(alerts.records.size(), 20u);
  ASSERT_EQ(parted.alerts.size(), alerts.records.size());
  for (std::size_t i = 0; i < alerts.records.size(); ++i) {
    EXPECT_EQ(parted.alerts[i].key, alerts.records[i].key) << "alert " << i;
    EXPECT_EQ(parted.alerts[i].value, alerts.records[i].value) << "alert " << i;
  }
}

}  // namespace
}  // namespace mozaiek::test
