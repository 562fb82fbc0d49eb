// The `linking:` section: shipped values, and errors that name the YAML key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "operators/model/config_loader.h"

namespace mozaiek {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kShipped = std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml";

const char* kMinimal = R"(
catalogue:
  indicators:
    pickup_van: {strength: soft, weight: 2.0, subjects: [vehicle, location, person]}
sources:
  coa: {}
  nidos: {}
)";

std::vector<std::string> load_text(const std::string& yaml, OperatorConfig* out = nullptr) {
  std::vector<std::string> errors;
  OperatorConfig cfg;
  (void)load_operator_config(YAML::Load(yaml), cfg, errors);
  if (out) *out = cfg;
  return errors;
}

TEST(LinkingConfigTest, ShippedConfigDeclaresTheNetworkRules) {
  std::vector<std::string> errors;
  OperatorConfig cfg;
  ASSERT_TRUE(load_operator_config(YAML::LoadFile(kShipped), cfg, errors,
                                   std::filesystem::path(kShipped).parent_path()))
      << (errors.empty() ? "" : errors[0]);
  const LinkingConfig& l = cfg.linking;
  EXPECT_TRUE(l.enabled);
  EXPECT_EQ(l.link_window, days(60));
  EXPECT_EQ(l.pickup_van.name, "pickup_van");
  EXPECT_EQ(l.pickup_van.min_count, 3);
  EXPECT_EQ(l.linked_persons.min_count, 3);
  EXPECT_EQ(l.address_hotspot.min_count, 4);
  EXPECT_EQ(l.address_hotspot.window, days(30));
  EXPECT_EQ(l.person_lift.name, "person_linked");
  EXPECT_DOUBLE_EQ(l.person_lift.share, 0.5);
  EXPECT_EQ(l.person_lift.from, std::vector<std::string>{"vehicle"});
  EXPECT_EQ(l.reception_locations, (std::vector<std::string>{"coa-", "nidos-"}));
}

TEST(LinkingConfigTest, ValuesAreReadAndBadOnesNameTheirKey) {
  OperatorConfig cfg;
  EXPECT_THAT(load_text(std::string(kMinimal) + R"(
linking:
  link_window_days: 30
  pickup_van: {min_count: 4, weight: 1.5, window_days: 20}
  person_lift: {share: 0.25, from: [vehicle, location]}
)",
                        &cfg),
              IsEmpty());
  EXPECT_EQ(cfg.linking.link_window, days(30));
  EXPECT_EQ(cfg.linking.pickup_van.min_count, 4);
  EXPECT_DOUBLE_EQ(cfg.linking.pickup_van.weight, 1.5);
  EXPECT_EQ(cfg.linking.pickup_van.window, days(20));
  EXPECT_DOUBLE_EQ(cfg.linking.person_lift.share, 0.25);

  EXPECT_THAT(load_text(std::string(kMinimal) + "linking: {pickup_van: {min_count: 0}}\n"),
              Contains(HasSubstr("linking.pickup_van.min_count")));
  EXPECT_THAT(load_text(std::string(kMinimal) + "linking: {person_lift: {share: 1.5}}\n"),
              Contains(HasSubstr("linking.person_lift.share")));
  EXPECT_THAT(load_text(std::string(kMinimal) + "linking: {person_lift: {from: [boat]}}\n"),
              Contains(HasSubstr("linking.person_lift.from")));
  EXPECT_THAT(load_text(std::string(kMinimal) + "linking: {link_window_days: -1}\n"),
              Contains(HasSubstr("linking.link_window_days")));
  EXPECT_THAT(load_text(std::string(kMinimal) + "linking: {hotspot: {}}\n"),
              Contains(HasSubstr("linking.hotspot")));
  EXPECT_THAT(load_text(std::string(kMinimal) +
                        "linking: {reception_locations: [\"COA Gilze\"]}\n"),
              Contains(HasSubstr("linking.reception_locations")));
}

TEST(LinkingConfigTest, NetworkRuleNamesMustNotCollideWithOtherRules) {
  EXPECT_THAT(load_text(std::string(kMinimal) +
                        "linking: {address_hotspot: {name: person_convergence}}\n"),
              Contains(HasSubstr("linking.address_hotspot.name: duplicate rule name")));
}

}  // namespace
}  // namespace mozaiek
