// Signals say more than ids: a location a partner marks as a reception
// centre (`kind`) is one for the network rules (pickup_van) and for
// skip_reception, whatever its id; a plate written with its country code
// in front is the same vehicle as without it.
#include <gtest/gtest.h>

#include <string>

#include "connectors/app/local_pipeline.h"
#include "operators/records/alert_json.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

class LocationKindTest : public ::testing::Test {
 protected:
  // One signal per location naming the van (plate written as given) and
  // the site, with `kind` when not empty.
  std::vector<Alert> run(const std::vector<std::string>& plates, const std::string& kind) {
    auto stores = make_memory_store_factory();
    CollectingSink sink;
    LocalPipeline p(settings_.operators, pseudonymiser_, clock_, *stores, &sink, nullptr);
    const char* sites[] = {"azc-budel", "azc-cranendonck", "opvang-venlo"};
    for (std::size_t i = 0; i < 3; ++i) {
      const std::string location = R"({"type":"location","id":")" + std::string(sites[i]) + "\"" +
                                   (kind.empty() ? std::string() : R"(,"kind":")" + kind + "\"") +
                                   "}";
      const std::string value = signal_json("police", "van-" + std::to_string(i), "pickup_van",
                                            "2025-03-0" + std::to_string(i + 1),
                                            R"({"type":"vehicle","plate":")" +
                                                plates[i % plates.size()] +
                                                R"(","country":"FR"},)" + location);
      RecordView view;
      view.value = value;
      p.process(view);
    }
    EXPECT_TRUE(p.finish().is_ok());
    EXPECT_EQ(p.intake().counters().total_processed(), 3u);
    std::vector<Alert> out;
    for (const auto& json : sink.values) {
      Alert a;
      if (read_alert_json(json, a)) out.push_back(a);
    }
    return out;
  }
  static std::size_t count(const std::vector<Alert>& alerts, const std::string& rule,
                           SubjectType type) {
    std::size_t n = 0;
    for (const auto& a : alerts) n += a.rule == rule && a.subject_type == type ? 1 : 0;
    return n;
  }

  Settings settings_ = shipped_settings();
  Pseudonymiser pseudonymiser_{"kind-test-key-0123456789"};
  ManualClock clock_{ProcTime{Millis{1'741'600'000'000}}};  // 2025-03-10
};

TEST_F(LocationKindTest, MarkedReceptionCentresCountForPickupVanWhateverTheirIds) {
  // None of the ids matches linking.reception_locations (coa-, nidos-).
  for (const char* id : {"azc-budel", "azc-cranendonck", "opvang-venlo"}) {
    ASSERT_FALSE(settings_.operators.linking.is_reception(id)) << id;
  }
  const auto marked = run({"GH-482-KL"}, "reception_centre");
  ASSERT_EQ(count(marked, "pickup_van", SubjectType::vehicle), 1u);
  for (const auto& a : marked) {
    if (a.rule != "pickup_van") continue;
    EXPECT_EQ(a.subject_key, "FR-GH482KL");
    EXPECT_EQ(a.linked.size(), 3u);
  }

  EXPECT_EQ(count(run({"GH-482-KL"}, ""), "pickup_van", SubjectType::vehicle), 0u);
  EXPECT_EQ(count(run({"GH-482-KL"}, "address"), "pickup_van", SubjectType::vehicle), 0u);
}

TEST_F(LocationKindTest, PlateWithAndWithoutItsCountryPrefixIsOneVehicle) {
  // The same van, written three ways by the partners.
  const auto alerts = run({"FR-GH-482-KL", "GH-482-KL", "fr gh 482 kl"}, "reception_centre");
  ASSERT_EQ(count(alerts, "pickup_van", SubjectType::vehicle), 1u);
  for (const auto& a : alerts) {
    if (a.rule == "pickup_van") {
      EXPECT_EQ(a.subject_key, "FR-GH482KL");
    }
  }
}

}  // namespace
}  // namespace mozaiek::test
