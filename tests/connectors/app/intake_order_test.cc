// What intake orders its input by (reported_at) and the watermarks it
// carries in its commit metadata; and internal topics that follow the group
// id (issue 14 item 8).
#include "connectors/app/intake_order.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>

#include "connectors/app/settings.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

constexpr std::int64_t kJan10 = 1736467200000;  // 2025-01-10T00:00:00Z

std::vector<SourcePolicy> sources(std::initializer_list<const char*> names) {
  std::vector<SourcePolicy> out;
  for (const char* n : names) {
    SourcePolicy p;
    p.name = n;
    out.push_back(p);
  }
  return out;
}

TEST(IntakeOrderTest, ReportedAtIsReadFromSignalsAndChainEvents) {
  EXPECT_EQ(reported_at_ms(R"({"signal_id":"a","observed_at":"2025-01-09T10:00:00Z",)"
                           R"("reported_at":"2025-01-10T00:00:00Z","subjects":[]})"),
            kJan10);
  EXPECT_EQ(reported_at_ms(R"({"schema":"mozaiek.chain/v1","at":"2024-01-01T00:00:00Z", )"
                           R"("reported_at" : "2025-01-10T00:00:01.5Z"})"),
            kJan10 + 1500);
}

TEST(IntakeOrderTest, ARecordWithoutAReadableReportedAtHasNoTime) {
  EXPECT_EQ(reported_at_ms(R"({"observed_at":"2025-01-10T00:00:00Z"})"), std::nullopt);
  EXPECT_EQ(reported_at_ms(R"({"reported_at":"yesterday"})"), std::nullopt);
  EXPECT_EQ(reported_at_ms(R"({"reported_at":17364672})"), std::nullopt);
  EXPECT_EQ(reported_at_ms(R"({"reported_at":"2025-01-1)"), std::nullopt);
  EXPECT_EQ(reported_at_ms(""), std::nullopt);
}

TEST(IntakeOrderTest, WatermarksRestoredFromCommitMetadataAreThoseThatWereCommitted) {
  const auto names = sources({"coa", "police", "kmar"});
  const ProcTime now{Millis{kJan10 + 1000}};
  WatermarkTracker before({hours(1), hours(1), hours(1)});
  before.observe(0, event_time_from_ms(kJan10 - 5000), now);
  before.observe(1, event_time_from_ms(kJan10 - 9000), now);
  const Watermark committed = before.current(now);  // kmar never sent
  const std::string meta = encode_watermarks(before, names);

  WatermarkTracker after({hours(1), hours(1), hours(1)});
  EXPECT_EQ(restore_watermarks({meta, "not ours", ""}, names, after, now), 1u);
  EXPECT_EQ(after.current(now).time, committed.time);
  EXPECT_EQ(after.source_watermark(0).time, event_time_from_ms(kJan10 - 5000));
  EXPECT_EQ(after.source_watermark(1).time, event_time_from_ms(kJan10 - 9000));
  EXPECT_FALSE(after.source_watermark(2).known());
}

TEST(IntakeOrderTest, RestoringNeverLowersAWatermarkAndMatchesSourcesByName) {
  const ProcTime now{Millis{kJan10}};
  WatermarkTracker old_order({hours(1), hours(1)});
  old_order.observe(0, event_time_from_ms(kJan10 - 100), now);  // police
  old_order.observe(1, event_time_from_ms(kJan10 - 900), now);  // coa
  const std::string older = encode_watermarks(old_order, sources({"police", "coa"}));
  old_order.observe(0, event_time_from_ms(kJan10 - 50), now);
  const std::string newer = encode_watermarks(old_order, sources({"police", "coa"}));

  // The source list changed order and gained one: names still match.
  WatermarkTracker now_order({hours(1), hours(1), hours(1)});
  restore_watermarks({newer, older}, sources({"coa", "gone", "police"}), now_order, now);
  EXPECT_EQ(now_order.source_watermark(0).time, event_time_from_ms(kJan10 - 900));
  EXPECT_FALSE(now_order.source_watermark(1).known());
  EXPECT_EQ(now_order.source_watermark(2).time, event_time_from_ms(kJan10 - 50));
}

// Item 8: two deployments on one cluster never share internal topics.
class InternalTopicsTest : public ::testing::Test {
 protected:
  Settings load(const std::function<void(YAML::Node&)>& edit) {
    YAML::Node cfg = YAML::LoadFile(std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml");
    edit(cfg);
    const std::string path = dir_.path() + "/mozaiek.yaml";
    std::ofstream(path) << YAML::Dump(cfg);
    Settings s;
    std::vector<std::string> errors;
    EXPECT_TRUE(load_settings(path, s, errors)) << (errors.empty() ? "" : errors.front());
    return s;
  }
  test::TempDir dir_;
};

TEST_F(InternalTopicsTest, InternalTopicsFollowTheGroupIdUnlessNamed) {
  const Settings shipped = load([](YAML::Node&) {});
  EXPECT_EQ(shipped.topics.subjects, "mozaiek.internal.subjects");
  EXPECT_EQ(shipped.changelog_topic(), "mozaiek.internal.changelog");

  const Settings second = load([](YAML::Node& c) { c["kafka"]["group_id"] = "mozaiek-b"; });
  EXPECT_EQ(second.topics.subjects, "mozaiek-b.internal.subjects");
  EXPECT_EQ(second.changelog_topic(), "mozaiek-b.internal.changelog");

  const Settings unset = load([](YAML::Node& c) {
    c["kafka"]["group_id"] = "fresh";
    c["kafka"]["topics"].remove("subjects");
  });
  EXPECT_EQ(unset.topics.subjects, "fresh.internal.subjects");

  const Settings named = load([](YAML::Node& c) {
    c["kafka"]["group_id"] = "mozaiek-b";
    c["kafka"]["topics"]["subjects"] = "shared.subjects";
  });
  EXPECT_EQ(named.topics.subjects, "shared.subjects");
}

}  // namespace
}  // namespace mozaiek
