// The `mozaiek` executable as a user meets it: help on every command, config
// errors that name the key, the config reference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/command.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

using test::run_command;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBin = MOZAIEK_BINARY;

TEST(CliTest, EveryCommandHasHelp) {
  const auto top = run_command(kBin + " --help 2>&1");
  ASSERT_EQ(top.exit_code, 0) << top.output;
  for (const char* cmd : {"run", "demo", "replay", "check-config", "config-reference", "generate",
                          "bench", "rekey"}) {
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

// As for a missing pseudonym key: the shipped config names no identity
// provider and no client certificate, so `run` refuses, naming the key.
TEST(CliTest, RunWithTheShippedConfigRefusesToStartWithoutAuthentication) {
  const auto dir = std::filesystem::temp_directory_path() / "mozaiek-cli-auth-test";
  const auto r = run_command("MOZAIEK_PSEUDONYM_KEY=cli-test-pseudonym-key-0123456789 " + kBin +
                             " run --brokers embedded --http 127.0.0.1:0 --state-dir " +
                             dir.string() + " --duration 5 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("service.auth.oidc.issuer"));
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

// Secure by default: off loopback, `run` wants a certificate (or an
// explicit allow_plain_http) and the demo identity is refused outright.
TEST(CliTest, RunRefusesPlainHttpAndTheDemoIdentityOffLoopback) {
  const std::string env = "MOZAIEK_PSEUDONYM_KEY=cli-test-pseudonym-key-0123456789 ";
  const auto run = run_command(env + kBin +
                               " run --brokers embedded --duration 1 --http 0.0.0.0:0 "
                               "--state-dir /tmp/mozaiek-cli-tls-test 2>&1");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("service.tls.certificate"));
  const auto demo = run_command(kBin + " demo --duration 1 --http 0.0.0.0:0 2>&1");
  EXPECT_EQ(demo.exit_code, 1);
  EXPECT_THAT(demo.output, HasSubstr("service.demo_identity"));
  std::filesystem::remove_all("/tmp/mozaiek-cli-tls-test");
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// stdout carries alerts only, and only with --print-alerts; logs go to
// stderr. The three services run side by side, each for a fixed time.
TEST(CliTest, RunAndDemoPrintAlertsOnStdoutOnlyWhenAskedAndLogOnStderr) {
  const test::TempDir tmp("mozaiek-cli-streams-test");
  const std::filesystem::path dir = tmp.path();
  auto service = [&](const std::string& name, const std::string& args) {
    const auto file = [&](const char* ext) { return (dir / (name + ext)).string(); };
    return "(" + kBin + " " + args + " --http 127.0.0.1:0 --state-dir " + file("") + " >" +
           file(".out") + " 2>" + file(".err") + "; echo $? >" + file(".rc") + ")";
  };
  const std::string demo = "demo --duration 20 --signals 3000 --rate 0";
  // `run` needs a way to authenticate callers: the shipped config plus one
  // client certificate principal.
  std::ifstream in(std::filesystem::path(MOZAIEK_SOURCE_DIR) / "config" / "mozaiek.yaml");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = config.find("      principals: []");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, std::string("      principals: []").size(),
                 "      principals: [{subject: /CN=cli-test, name: cli-test, roles: [metrics]}]");
  std::ofstream(dir / "run.yaml") << config;
  const auto r = run_command("(" + service("plain", demo) + " & " +
                             service("printing", demo + " --print-alerts") +
                             " & export MOZAIEK_PSEUDONYM_KEY=cli-test-pseudonym-key-0123456789; " +
                             service("run", "run --config " + (dir / "run.yaml").string() +
                                                " --brokers embedded --duration 5") +
                             " & wait) 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"plain", "printing", "run"}) {
    EXPECT_EQ(read_text(dir / (std::string(name) + ".rc")), "0\n")
        << name << ": " << read_text(dir / (std::string(name) + ".err"));
  }

  for (const char* name : {"plain", "run"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(read_text(dir / (std::string(name) + ".out")), "");
    EXPECT_THAT(read_text(dir / (std::string(name) + ".err")), HasSubstr("[info]"));
  }
  std::istringstream printed(read_text(dir / "printing.out"));
  std::string line;
  int alerts = 0;
  while (std::getline(printed, line)) {
    EXPECT_THAT(line, ::testing::StartsWith("ALERT")) << "not an alert on stdout";
    ++alerts;
  }
  EXPECT_GT(alerts, 0) << read_text(dir / "printing.err");
  EXPECT_THAT(read_text(dir / "printing.err"), HasSubstr("[info]"));
}

}  // namespace
}  // namespace mozaiek
