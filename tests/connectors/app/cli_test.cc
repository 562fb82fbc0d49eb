// The `mozaiek` executable as a user meets it: help on every command, config
// errors that name the key, the config reference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/command.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test::run_command;

const std::string kBin = MOZAIEK_BINARY;

TEST(CliTest, EveryCommandHasHelp) {
  const auto top = run_command(kBin + " --help 2>&1");
  ASSERT_EQ(top.exit_code, 0) << top.output;
  for (const char* cmd : {"run", "demo", "replay", "check-config", "config-reference", "generate",
                          "bench"}) {
    SCOPED_TRACE(cmd);
    EXPECT_THAT(top.output, HasSubstr(cmd));
    const auto help = run_command(kBin + " " + cmd + " --help 2>&1");
    EXPECT_EQ(help.exit_code, 0) << help.output;
    EXPECT_THAT(help.output, HasSubstr("Usage:"));
  }
}

TEST(CliTest, UnknownCommandFailsWithUsage) {
  const auto r = run_command(kBin + " frobnicate 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("unknown command 'frobnicate'"));
  EXPECT_THAT(r.output, HasSubstr("replay"));
}

TEST(CliTest, CheckConfigNamesTheBadKey) {
  const auto dir = std::filesystem::temp_directory_path() / "mozaiek-cli-test";
  std::filesystem::create_directories(dir);
  const auto shipped = std::filesystem::path(MOZAIEK_SOURCE_DIR) / "config" / "mozaiek.yaml";

  const auto ok = run_command(kBin + " check-config " + shipped.string() + " 2>&1");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("OK"));

  // The shipped config with one misspelt key.
  std::ifstream in(shipped);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("max_field_bytes:");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("max_field_bytes").size(), "max_feild_bytes");
  const auto bad = dir / "bad.yaml";
  std::ofstream(bad) << text;
  const auto r = run_command(kBin + " check-config " + bad.string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("limits.max_feild_bytes"));

  const auto missing = run_command(kBin + " check-config " + (dir / "absent.yaml").string() +
                                   " 2>&1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("absent.yaml"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, ConfigReferenceListsEveryShippedSection) {
  const auto r = run_command(kBin + " config-reference");
  ASSERT_EQ(r.exit_code, 0);
  // Every top-level section of the shipped config is documented.
  std::ifstream in(std::filesystem::path(MOZAIEK_SOURCE_DIR) / "config" / "mozaiek.yaml");
  std::string line;
  int sections = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ' ' || line[0] == '#' || line.find(':') == std::string::npos) {
      continue;
    }
    const std::string key = line.substr(0, line.find(':'));
    ++sections;
    EXPECT_THAT(r.output, HasSubstr("`" + key)) << "section " << key << " is not documented";
  }
  EXPECT_GE(sections, 5);
  EXPECT_THAT(r.output, Not(HasSubstr("TODO")));
}

}  // namespace
}  // namespace mozaiek
