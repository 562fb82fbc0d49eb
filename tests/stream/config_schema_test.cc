#include "stream/config_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mozaiek::config {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Options {
  double ratio = 0.5;
  int count = 3;
  Millis window = days(7);
  bool enabled = false;
  std::string mode = "fast";
  std::vector<std::string> tags{"a"};
};

Section<Options> options_section() {
  Section<Options> s("demo", "A demo section.");
  s.number("ratio", &Options::ratio, between(0, 1), "A ratio.");
  s.integer("count", &Options::count, at_least(1), "A count.").required();
  s.days("window_days", &Options::window, greater_than(0), "A window.").dynamic();
  s.flag("enabled", &Options::enabled, "A switch.");
  s.choice("mode", &Options::mode, {"fast", "safe"}, "A mode.");
  s.list("tags", &Options::tags, "Tags.", check_identifier);
  return s;
}

std::vector<std::string> parse(const std::string& yaml, Options& out) {
  std::vector<std::string> errors;
  options_section().parse(YAML::Load(yaml), "demo", out, errors);
  return errors;
}

TEST(ConfigSchemaTest, ParsesEveryOptionKind) {
  Options o;
  EXPECT_THAT(parse("{ratio: 0.25, count: 9, window_days: 1.5, enabled: yes, mode: safe, "
                    "tags: [x, y]}",
                    o),
              IsEmpty());
  EXPECT_DOUBLE_EQ(o.ratio, 0.25);
  EXPECT_EQ(o.count, 9);
  EXPECT_EQ(o.window, hours(36));
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.mode, "safe");
  EXPECT_THAT(o.tags, ElementsAre("x", "y"));
}

TEST(ConfigSchemaTest, AbsentKeysKeepDefaultsButRequiredOnesAreReported) {
  Options o;
  EXPECT_THAT(parse("{ratio: 1}", o), ElementsAre("demo.count: required (line 1)"));
  EXPECT_EQ(o.window, days(7));
}

TEST(ConfigSchemaTest, ViolationsNameThePathAndTheRule) {
  Options o;
  const auto errors = parse(
      "count: 0\nratio: 2\nwindow_days: .inf\nmode: fsat\ntags: [ok, Not OK]\nenabled: maybe\n", o);
  EXPECT_THAT(errors, Contains("demo.count: must be >= 1 (line 1)"));
  EXPECT_THAT(errors, Contains("demo.ratio: must be >= 0 and <= 1 (line 2)"));
  EXPECT_THAT(errors, Contains("demo.window_days: must be a number, got '.inf' (line 3)"));
  EXPECT_THAT(errors, Contains(HasSubstr("demo.mode: 'fsat' is not one of: fast safe (did you "
                                         "mean 'fast'?)")));
  EXPECT_THAT(errors, Contains(HasSubstr("demo.tags[1]: 'Not OK' must use only")));
  EXPECT_THAT(errors, Contains("demo.enabled: must be true or false, got 'maybe' (line 6)"));
  EXPECT_EQ(o.count, 3);  // invalid values are not applied
}

TEST(ConfigSchemaTest, HugeDurationsAreRejectedInsteadOfOverflowing) {
  Options o;
  EXPECT_THAT(parse("{count: 1, window_days: 1e300}", o),
              ElementsAre(HasSubstr("demo.window_days: is too large")));
}

TEST(ConfigSchemaTest, NonMapSectionIsAnError) {
  Options o;
  EXPECT_THAT(parse("[1, 2]", o), ElementsAre("demo: must be a map of keys (line 1)"));
}

TEST(ConfigSchemaTest, DidYouMeanOnlySuggestsCloseNames) {
  const std::vector<std::string> keys{"half_life_days", "threshold", "window_days"};
  EXPECT_EQ(did_you_mean("treshold", keys), " (did you mean 'threshold'?)");
  EXPECT_EQ(did_you_mean("half_life", keys), " (did you mean 'half_life_days'?)");
  EXPECT_EQ(did_you_mean("colour", keys), "");
}

TEST(ConfigSchemaTest, MarkdownListsOptionsWithUnitDefaultAndRuntimeFlag) {
  const std::string md = render_markdown("Reference", "Intro.", {options_section().doc()});
  EXPECT_THAT(md, HasSubstr("## `demo`"));
  EXPECT_THAT(md, HasSubstr("| `window_days` | number (days) | `7` | > 0 | yes | A window. |"));
  EXPECT_THAT(md, HasSubstr("| `count` | integer | required | >= 1 | no (restart) | A count. |"));
  EXPECT_THAT(md, HasSubstr("| `mode` | string | `\"fast\"` | one of: fast, safe |"));
}

}  // namespace
}  // namespace mozaiek::config
