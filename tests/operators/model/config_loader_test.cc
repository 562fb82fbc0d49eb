#include "operators/model/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace mozaiek {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

const std::string kShipped = std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml";

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = YAML::LoadFile(kShipped); }

  // Loads root_ and returns the errors.
  std::vector<std::string> load(const std::string& base_dir = "") {
    std::vector<std::string> errors;
    ok_ = load_operator_config(root_, config_, errors, base_dir);
    return errors;
  }

  static std::vector<std::string> load_text(const std::string& yaml) {
    std::vector<std::string> errors;
    OperatorConfig cfg;
    (void)load_operator_config(YAML::Load(yaml), cfg, errors);
    return errors;
  }

  YAML::Node root_;
  OperatorConfig config_;
  bool ok_ = false;
};

// A small valid config; tests append or replace sections.
const char* kMinimal = R"(
catalogue:
  indicators:
    weight_loss_or_neglect: {strength: soft, weight: 1.0, subjects: [person]}
    pickup_van: {strength: soft, weight: 2.0, subjects: [vehicle, location, person]}
sources:
  coa: {allowed_lateness_days: 28}
  nidos: {}
)";

TEST_F(ConfigLoaderTest, ShippedConfigLoadsWithoutErrors) {
  EXPECT_THAT(load(std::filesystem::path(kShipped).parent_path()), IsEmpty());
  ASSERT_TRUE(ok_);
  EXPECT_EQ(config_.catalogue.size(), 40u);
  EXPECT_EQ(config_.sources.size(), 12u);
  const auto& coa = config_.sources[*config_.find_source("coa")];
  EXPECT_EQ(coa.allowed_lateness, days(28));
  EXPECT_EQ(config_.sources[*config_.find_source("police")].allowed_lateness, days(7));
  EXPECT_FALSE(config_.sources[*config_.find_source("nla")].person_level.empty());
  const auto& person = config_.rule_for(SubjectType::person);
  EXPECT_EQ(person.window, days(120));
  EXPECT_EQ(person.half_life, days(45));
  EXPECT_DOUBLE_EQ(person.threshold, 6.0);
  EXPECT_EQ(person.min_sources, 2);
  EXPECT_TRUE(person.concrete_alone);
  EXPECT_EQ(config_.rule_for(SubjectType::vehicle).subject_type, SubjectType::vehicle);
  EXPECT_EQ(config_.rule_for(SubjectType::location).window, days(90));
  EXPECT_THAT(config_.locations, Contains("coa-ter-apel"));
  const auto& self = config_.catalogue.at(*config_.catalogue.find("self_identifies_victim"));
  EXPECT_EQ(self.strength, Strength::concrete);
  EXPECT_DOUBLE_EQ(self.weight, 5.0);
}

TEST_F(ConfigLoaderTest, NonPositiveHalfLifeNamesItsYamlPath) {
  root_["rules"]["person"]["half_life_days"] = 0;
  EXPECT_THAT(load(), Contains(StartsWith("rules.person.half_life_days: must be > 0")));
  EXPECT_FALSE(ok_);
}

TEST_F(ConfigLoaderTest, NonPositiveWeightNamesTheIndicator) {
  root_["catalogue"]["indicators"]["pickup_van"]["weight"] = -1;
  EXPECT_THAT(load(), Contains(StartsWith("catalogue.indicators.pickup_van.weight: must be > 0")));
}

TEST_F(ConfigLoaderTest, ThresholdAndMinSourcesAreChecked) {
  root_["rules"]["vehicle"]["threshold"] = 0;
  root_["rules"]["location"]["min_sources"] = 0;
  const auto errors = load();
  EXPECT_THAT(errors, Contains(StartsWith("rules.vehicle.threshold: must be > 0")));
  EXPECT_THAT(errors, Contains(StartsWith("rules.location.min_sources: must be >= 1")));
}

TEST_F(ConfigLoaderTest, MinSourcesAboveTheNumberOfSourcesIsAnError) {
  const auto errors = load_text(std::string(kMinimal) + "rules:\n  person: {min_sources: 3}\n");
  EXPECT_THAT(errors, Contains(HasSubstr("rules.person.min_sources: must be <= the number of "
                                         "configured sources (2)")));
}

TEST_F(ConfigLoaderTest, WrongTypeSaysWhatWasFound) {
  root_["rules"]["person"]["window_days"] = "four months";
  EXPECT_THAT(load(), Contains(StartsWith(
                          "rules.person.window_days: must be a number, got 'four months'")));
}

TEST_F(ConfigLoaderTest, UnknownKeySuggestsTheClosestKnownKey) {
  root_["rules"]["person"]["treshold"] = 5;
  EXPECT_THAT(load(), Contains(StartsWith(
                          "rules.person.treshold: unknown key (did you mean 'threshold'?)")));
}

TEST_F(ConfigLoaderTest, UnknownSubjectTypeUnderRulesSuggestsOne) {
  root_["rules"]["persons"]["threshold"] = 5;
  EXPECT_THAT(load(), Contains(StartsWith("rules.persons: unknown key (did you mean 'person'?)")));
}

TEST_F(ConfigLoaderTest, UnknownKeyWithoutCloseMatchListsTheKnownKeys) {
  root_["limits"]["colour"] = "blue";
  EXPECT_THAT(load(), Contains(AllOf(StartsWith("limits.colour: unknown key (known keys:"),
                                     HasSubstr("max_field_bytes"))));
}

TEST_F(ConfigLoaderTest, InvalidIndicatorSubjectsFormsAndStrength) {
  auto ind = root_["catalogue"]["indicators"]["pickup_van"];
  ind["subjects"] = std::vector<std::string>{"vehicle", "persn"};
  ind["forms"] = std::vector<std::string>{"labor"};
  ind["strength"] = "strong";
  const auto errors = load();
  EXPECT_THAT(errors, Contains(StartsWith("catalogue.indicators.pickup_van.subjects[1]: 'persn' "
                                          "is not a subject type")));
  EXPECT_THAT(errors, Contains(HasSubstr("did you mean 'person'?")));
  EXPECT_THAT(errors, Contains(StartsWith("catalogue.indicators.pickup_van.forms[0]: 'labor' is "
                                          "not an exploitation form (did you mean 'labour'?)")));
  EXPECT_THAT(errors,
              Contains(StartsWith("catalogue.indicators.pickup_van.strength: 'strong' is not")));
}

TEST_F(ConfigLoaderTest, IndicatorWithoutWeightOrSubjectsIsAnError) {
  root_["catalogue"]["indicators"]["new_code"]["strength"] = "soft";
  const auto errors = load();
  EXPECT_THAT(errors, Contains(StartsWith("catalogue.indicators.new_code.weight: required")));
  EXPECT_THAT(errors, Contains(StartsWith("catalogue.indicators.new_code.subjects: required")));
}

TEST_F(ConfigLoaderTest, PersonLevelIndicatorsMustExistInTheCatalogue) {
  root_["sources"]["nla"]["person_level_indicators"] = std::vector<std::string>{"underpaid_work",
                                                                                "underpaid_wrk"};
  EXPECT_THAT(load(),
              Contains(StartsWith("sources.nla.person_level_indicators[1]: unknown indicator "
                                  "'underpaid_wrk' (did you mean 'underpaid_work'?)")));
}

TEST_F(ConfigLoaderTest, EmptyPersonLevelListIsAnErrorNotAllIndicators) {
  root_["sources"]["nla"]["person_level_indicators"] = std::vector<std::string>{};
  EXPECT_THAT(load(), Contains(StartsWith("sources.nla.person_level_indicators: must name at "
                                          "least one indicator")));
}

TEST_F(ConfigLoaderTest, PurposesDefaultToInvestigationAndAreChecked) {
  ASSERT_THAT(load(), IsEmpty());
  EXPECT_EQ(config_.min_cell_size, 5u);
  EXPECT_EQ(config_.sources[*config_.find_source("coa")].purposes,
            purpose_bit(Purpose::investigation));
  root_["sources"]["nla"]["purposes"] = std::vector<std::string>{"investigation", "care"};
  ASSERT_THAT(load(), IsEmpty());
  EXPECT_EQ(config_.sources[*config_.find_source("nla")].purposes,
            purpose_bit(Purpose::investigation) | purpose_bit(Purpose::care));
  root_["sources"]["nla"]["purposes"] = std::vector<std::string>{"investigaton"};
  EXPECT_THAT(load(), Contains(StartsWith("sources.nla.purposes[0]: unknown purpose "
                                          "'investigaton'")));
  root_["sources"]["nla"]["purposes"] = std::vector<std::string>{"aggregate_only", "care"};
  EXPECT_THAT(load(), Contains(StartsWith("sources.nla.purposes: aggregate_only excludes")));
  root_["sources"]["nla"]["purposes"] = std::vector<std::string>{};
  EXPECT_THAT(load(), Contains(StartsWith("sources.nla.purposes: must name at least one")));
  root_["sources"]["nla"].remove("purposes");
  root_["privacy"]["min_cell_size"] = 0;
  EXPECT_THAT(load(), Contains(StartsWith("privacy.min_cell_size")));
}

TEST_F(ConfigLoaderTest, OmittedPersonLevelIndicatorsMeansAll) {
  ASSERT_THAT(load(), IsEmpty());
  EXPECT_TRUE(config_.sources[*config_.find_source("coa")].person_level.empty());
}

TEST_F(ConfigLoaderTest, DuplicateNamesAreErrorsWithTheirLine) {
  const auto errors = load_text(R"(catalogue:
  indicators:
    pickup_van: {weight: 2.0, subjects: [vehicle]}
    pickup_van: {weight: 3.0, subjects: [vehicle]}
sources:
  coa: {}
  coa: {}
rules:
  person: {name: same}
  vehicle: {name: same}
)");
  EXPECT_THAT(errors,
              Contains("catalogue.indicators.pickup_van: duplicate indicator name (line 4)"));
  EXPECT_THAT(errors, Contains("sources.coa: duplicate source name (line 7)"));
  EXPECT_THAT(errors, Contains(StartsWith("rules.vehicle.name: duplicate rule name 'same' (also "
                                          "rules.person.name)")));
}

TEST_F(ConfigLoaderTest, MissingCatalogueAndSourcesAreReported) {
  const auto errors = load_text("rules: {}\n");
  EXPECT_THAT(errors, Contains(StartsWith("catalogue: required")));
  EXPECT_THAT(errors, Contains(StartsWith("sources: required")));
}

TEST_F(ConfigLoaderTest, SourceNamesMustBeLabelSafe) {
  const auto errors = load_text(std::string(kMinimal) + "  Veilig Thuis: {}\n");
  EXPECT_THAT(errors, Contains(StartsWith("sources.Veilig Thuis: 'Veilig Thuis' must use only")));
  EXPECT_THAT(load_text(std::string(kMinimal) + "  other: {}\n"),
              Contains(StartsWith("sources.other: 'other' is reserved for metric labels")));
}

TEST_F(ConfigLoaderTest, RetentionShorterThanTheLongestWindowIsAnError) {
  root_["privacy"]["retention_days"] = 30;
  EXPECT_THAT(load(), Contains(StartsWith("privacy.retention_days: must be >= the longest rule "
                                          "window (120 days)")));
}

TEST_F(ConfigLoaderTest, MetricLocationsAreNormalisedAndUnique) {
  root_["metrics"]["locations"] = std::vector<std::string>{"coa-budel", "COA Budel"};
  EXPECT_THAT(load(), Contains(StartsWith("metrics.locations[1]: 'COA Budel' is not a "
                                          "normalised location id")));
  root_["metrics"]["locations"] = std::vector<std::string>{"coa-budel", "coa-gilze", "coa-budel"};
  EXPECT_THAT(load(), Contains(StartsWith("metrics.locations[2]: duplicate entry 'coa-budel'")));
}

TEST_F(ConfigLoaderTest, ReportsEveryErrorAndLeavesOutputUntouched) {
  root_["rules"]["person"]["threshold"] = -1;
  root_["limits"]["max_field_bytes"] = 1;
  config_.max_field_bytes = 99;
  const auto errors = load();
  EXPECT_GE(errors.size(), 2u);
  EXPECT_FALSE(ok_);
  EXPECT_EQ(config_.max_field_bytes, 99u);
  EXPECT_EQ(config_.catalogue.size(), 0u);
}

TEST_F(ConfigLoaderTest, RulesDefaultPerSubjectTypeWhenOmitted) {
  std::vector<std::string> errors;
  OperatorConfig cfg;
  ASSERT_TRUE(load_operator_config(YAML::Load(kMinimal), cfg, errors)) << errors.front();
  EXPECT_EQ(cfg.rule_for(SubjectType::location).name, "location_convergence");
  EXPECT_EQ(cfg.rule_for(SubjectType::location).subject_type, SubjectType::location);
  EXPECT_EQ(cfg.rule_for(SubjectType::person).window, ConvergenceRule{}.window);
}

class CatalogueFileTest : public ConfigLoaderTest {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mozaiek-catalogue-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(CatalogueFileTest, LoadsAnIndicatorsFileRelativeToTheConfig) {
  write("indicators.yaml", R"(version: 1
indicators:
  pickup_van: {strength: soft, weight: 2.0, subjects: [vehicle, person]}
age_groups: [minor, adult, unknown]
)");
  root_ = YAML::Load(
      "catalogue: {catalogue_file: indicators.yaml}\nsources: {coa: {}, nidos: {}}\n");
  EXPECT_THAT(load(dir_.string()), IsEmpty());
  EXPECT_EQ(config_.catalogue.size(), 1u);
}

TEST_F(CatalogueFileTest, CanBorrowTheCatalogueOfAnotherConfig) {
  root_ = YAML::Load("catalogue: {catalogue_file: " + kShipped +
                     "}\nsources: {coa: {}, nidos: {}}\n");
  EXPECT_THAT(load(dir_.string()), IsEmpty());
  EXPECT_EQ(config_.catalogue.size(), 40u);
}

TEST_F(CatalogueFileTest, ErrorsInsideTheFileNameTheFileAndKey) {
  write("bad.yaml", "indicators:\n  pickup_van: {weight: 0, subjects: [vehicle]}\n");
  root_ = YAML::Load("catalogue: {catalogue_file: bad.yaml}\nsources: {coa: {}, nidos: {}}\n");
  EXPECT_THAT(load(dir_.string()),
              Contains("catalogue.catalogue_file: bad.yaml: indicators.pickup_van.weight: must "
                       "be > 0 (line 2)"));
}

TEST_F(CatalogueFileTest, MissingFileAndBothFormsAreErrors) {
  root_ = YAML::Load("catalogue: {catalogue_file: nope.yaml}\nsources: {coa: {}, nidos: {}}\n");
  EXPECT_THAT(load(dir_.string()), Contains(StartsWith("catalogue.catalogue_file: cannot read")));
  EXPECT_THAT(load_text("catalogue:\n  catalogue_file: x.yaml\n  indicators: {a: {weight: 1, "
                        "subjects: [person]}}\nsources: {coa: {}, nidos: {}}\n"),
              Contains(StartsWith("catalogue.catalogue_file: give either")));
}

TEST(ConfigReferenceTest, DocumentsEveryOperatorSection) {
  const auto docs = operator_config_reference();
  std::vector<std::string> paths;
  paths.reserve(docs.size());
  for (const auto& d : docs) paths.push_back(d.path);
  EXPECT_THAT(paths, Contains("rules.<subject type>"));
  EXPECT_THAT(paths, Contains("sources.<name>"));
  EXPECT_THAT(paths, Contains("catalogue.indicators.<code>"));
  const std::string md = config::render_markdown("t", "i", docs);
  EXPECT_THAT(md, HasSubstr("| `half_life_days` | number (days) | `30` | > 0 |"));
}

}  // namespace
}  // namespace mozaiek

namespace mozaiek {
namespace {

TEST_F(ConfigLoaderTest, OversightSectionLoadsAndDefaultsWhenOmitted) {
  ASSERT_THAT(load(std::filesystem::path(kShipped).parent_path()), IsEmpty());
  const OversightConfig& o = config_.oversight;
  EXPECT_EQ(o.melding_deadline, days(60));
  EXPECT_EQ(o.spike_window, days(7));
  EXPECT_DOUBLE_EQ(o.spike_p_value, 0.001);
  EXPECT_EQ(o.spike_min_departures, 4);
  ASSERT_EQ(o.counting_rules.size(), 2u);
  EXPECT_EQ(o.counting_rules[0].name, "registry");
  EXPECT_TRUE(o.counting_rules[0].exclude_only_reporters.empty());
  EXPECT_EQ(o.counting_rules[1].name, "nrm");
  EXPECT_EQ(o.counting_rules[1].exclude_only_reporters, std::vector<std::string>{"kmar"});
  EXPECT_EQ(o.counting_rules[1].exclude_only_forms, kFormSexual);
  EXPECT_THAT(load_text(kMinimal), IsEmpty());
}

TEST_F(ConfigLoaderTest, OversightErrorsNameTheirYamlPath) {
  const auto errors = load_text(std::string(kMinimal) + R"(
oversight:
  melding_deadline_days: 0
  spike_p_value: 2
  spike_windw_days: 7
  counting_rules:
    nrm: {exclude_only_reporters: [KMar], exclude_only_forms: [sexual, slavery]}
    Bad Name: {}
)");
  EXPECT_THAT(errors, Contains(StartsWith("oversight.melding_deadline_days: must be > 0")));
  EXPECT_THAT(errors, Contains(StartsWith("oversight.spike_p_value: must be")));
  EXPECT_THAT(errors, Contains(AllOf(StartsWith("oversight.spike_windw_days: unknown key"),
                                     HasSubstr("spike_window_days"))));
  EXPECT_THAT(errors,
              Contains(StartsWith("oversight.counting_rules.nrm.exclude_only_reporters[0]")));
  EXPECT_THAT(errors, Contains(StartsWith(
                          "oversight.counting_rules.nrm.exclude_only_forms[1]: 'slavery' is not")));
  EXPECT_THAT(errors, Contains(StartsWith("oversight.counting_rules.Bad Name")));
}

}  // namespace
}  // namespace mozaiek
