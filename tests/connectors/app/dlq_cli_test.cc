// `mozaiek dlq open`: a repair operator with the DLQ key reads back what a
// replay (sealing as the service does) dead-lettered; another key is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/command.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

using test::run_command;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kBin = MOZAIEK_BINARY;
constexpr const char* kKeyHex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr const char* kOtherHex =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

class DlqCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::ofstream(dir_.path() + "/in.ndjson")
        << R"({"schema":"mozaiek.signal/v1","source":"coa","subjects":[{"type":"person","id":"V-999-RAW"}])"
        << "\n";
    std::ofstream(dir_.path() + "/dlq.key") << kKeyHex << "\n";
    std::ofstream(dir_.path() + "/other.key") << kOtherHex << "\n";
  }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  test::TempDir dir_{"mozaiek-dlq-cli"};
};

TEST_F(DlqCommandTest, ReplaySealsDeadLettersAndOpenReadsThemBackWithTheKeyOnly) {
  const auto replay = run_command(std::string("MOZAIEK_DLQ_KEY=") + kKeyHex + " " + kBin +
                                  " replay --demo-key -i " + path("in.ndjson") + " -o " +
                                  path("alerts.ndjson") + " --dlq " + path("dlq.ndjson") + " 2>&1");
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  std::ifstream in(path("dlq.ndjson"));
  std::string letter((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_THAT(letter, HasSubstr("mozaiek.dlq/v2"));
  EXPECT_THAT(letter, Not(HasSubstr("V-999-RAW")));

  const auto opened = run_command(kBin + " dlq open --key-file " + path("dlq.key") + " --input " +
                                  path("dlq.ndjson") + " 2>&1");
  EXPECT_EQ(opened.exit_code, 0) << opened.output;
  EXPECT_THAT(opened.output, HasSubstr("V-999-RAW"));
  EXPECT_THAT(opened.output, HasSubstr(R"("hash_verified":true)"));

  const auto refused = run_command(kBin + " dlq open --key-file " + path("other.key") +
                                   " --input " + path("dlq.ndjson") + " 2>&1");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("sealed with key"));
  EXPECT_THAT(refused.output, Not(HasSubstr("V-999-RAW")));
}

TEST_F(DlqCommandTest, HelpNamesTheKeyAndTheInputs) {
  const auto help = run_command(kBin + " dlq open --help 2>&1");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  EXPECT_THAT(help.output, HasSubstr("--key-file"));
  EXPECT_THAT(help.output, HasSubstr("--input"));
  EXPECT_THAT(help.output, HasSubstr("--brokers"));
}

TEST_F(DlqCommandTest, WithoutAKeyDeadLettersKeepNoOriginal) {
  const auto replay = run_command("env -u MOZAIEK_DLQ_KEY " + kBin + " replay --demo-key -i " +
                                  path("in.ndjson") + " -o " + path("alerts.ndjson") + " --dlq " +
                                  path("plain.ndjson") + " 2>&1");
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  std::ifstream in(path("plain.ndjson"));
  std::string letter((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(letter, HasSubstr(R"("sealed":null)"));
  EXPECT_THAT(letter, Not(HasSubstr("V-999-RAW")));
}

}  // namespace
}  // namespace mozaiek
