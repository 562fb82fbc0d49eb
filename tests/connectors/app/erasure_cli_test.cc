// `mozaiek erase`: on a replay state directory the person's state is gone
// for the next replay over it, the car no longer holds the link, and the
// audit record is printed without the raw id; bad options are named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "connectors/app/settings.h"
#include "operators/intake/pseudonymiser.h"
#include "tests/support/command.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

std::string signal(const std::string& id, const std::string& source, const std::string& indicator,
                   const std::string& day, const std::string& subjects) {
  return test::signal_json(source, id, indicator, "2025-03-" + day, subjects);
}

// The line of `text` that contains `needle` (an entity view), or "".
std::string line_with(const std::string& text, const std::string& needle) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) return line;
    start = end + 1;
  }
  return "";
}

class EraseCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    pseudonymiser_.pseudonymise("v-number", normalise_person_id("2213456789"), boy_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // replay over `input` with the state kept in dir_/state, printing the views.
  std::string replay(const std::string& input) {
    return test::run_command(bin_ + " replay --demo-key -i " + input + " -o " +
                             path("alerts.ndjson") + " --state-dir " + path("state") +
                             " --entity person:" + boy_ +
                             " --entity vehicle:FR-AB123CD 2>/dev/null")
        .output;
  }

  const std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                                     ("mozaiek-erase-cmd-" + std::to_string(::getpid()));
  const std::string bin_ = MOZAIEK_BINARY;
  Pseudonymiser pseudonymiser_{kDemoPseudonymKey};
  std::string boy_;
};

TEST_F(EraseCommandTest, ErasesAPersonFromAReplayStateDirectoryAndPrintsTheAudit) {
  const std::string boy = R"({"type":"person","id":"2213456789","id_scheme":"v-number"})";
  const std::string car = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
  {
    std::ofstream in(path("in.ndjson"));
    in << signal("coa-1", "coa", "behaviour_change", "01", boy) << "\n"
       << signal("coa-gate", "coa", "visitor_vehicle", "06", car + "," + boy) << "\n"
       << signal("police-1", "police", "transports_persons_with_documents", "07", car) << "\n";
    // Later traffic about someone else, so the views are taken at March 8.
    std::ofstream later(path("later.ndjson"));
    later << signal("police-2", "police", "transports_persons_with_documents", "08",
                    R"({"type":"vehicle","plate":"XY-99-ZZ","country":"DE"})")
          << "\n";
  }
  const std::string before = replay(path("in.ndjson"));
  ASSERT_NE(line_with(before, "\"type\":\"person\"").find("coa-1"), std::string::npos) << before;
  ASSERT_NE(line_with(before, "\"type\":\"vehicle\"").find(boy_), std::string::npos) << before;

  // The raw id through stdin, not on the command line.
  const auto erased = test::run_command(
      "echo 2213-456-789 | " + bin_ + " erase --demo-key --state-dir " + path("state") +
      " --type person --id - --id-scheme V-NUMBER --reason AVG-2026-17 --user dpo-1"
      " 2>" +
      path("erase.err"));
  ASSERT_EQ(erased.exit_code, 0) << erased.output;
  EXPECT_NE(erased.output.find("\"action\":\"erasure\""), std::string::npos) << erased.output;
  EXPECT_NE(erased.output.find("\"key\":\"" + boy_ + "\""), std::string::npos) << erased.output;
  EXPECT_NE(erased.output.find("\"principal\":\"dpo-1\",\"via\":\"cli\""), std::string::npos)
      << erased.output;
  EXPECT_EQ(erased.output.find("2213"), std::string::npos) << erased.output;

  const std::string after = replay(path("later.ndjson"));
  const std::string person_view = line_with(after, R"("type":"person")");
  const std::string car_view = line_with(after, R"("type":"vehicle")");
  EXPECT_NE(person_view.find("\"found\":false"), std::string::npos) << person_view;
  EXPECT_NE(car_view.find("police-1"), std::string::npos) << car_view;
  EXPECT_EQ(car_view.find(boy_), std::string::npos) << car_view;
}

TEST_F(EraseCommandTest, ReplayWithAnErasureWithdrawsTheSameAlertsEveryTime) {
  const std::string boy = R"({"type":"person","id":"2213456789","id_scheme":"v-number"})";
  {
    std::ofstream in(path("in.ndjson"));
    const std::string car = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
    in << signal("coa-1", "coa", "behaviour_change", "01", boy) << "\n"
       << signal("coa-2", "coa", "many_foreign_calls", "03", boy) << "\n"
       << signal("coa-gate", "coa", "visitor_vehicle", "06", car + "," + boy) << "\n"
       << signal("bvh-1", "police", "transports_persons_with_documents", "07", car) << "\n"
       << signal("kmar-1", "kmar", "foreign_plate_recurring", "07", car) << "\n";
  }
  auto run = [&](const std::string& out) {
    return test::run_command(bin_ + " replay --demo-key -i " + path("in.ndjson") + " -o " +
                             path(out) + " --erase person:" + boy_ + " --entity person:" + boy_ +
                             " 2>/dev/null");
  };
  const auto first = run("a.ndjson");
  const auto second = run("b.ndjson");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(first.output.find("\"found\":false"), std::string::npos) << first.output;
  auto read = [&](const std::string& name) {
    std::ifstream in(path(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string a = read("a.ndjson");
  const std::string withdrawal = line_with(a, "mozaiek.alert-withdrawal/v1");
  ASSERT_NE(line_with(a, boy_), withdrawal) << "alerts named him first: " << a;
  ASSERT_NE(withdrawal, "") << a;
  EXPECT_NE(withdrawal.find(R"("subject":{"type":"person","key":")" + boy_ + "\""),
            std::string::npos)
      << withdrawal;
  // Timed at the replay's watermark, not the wall clock: the same bytes again.
  EXPECT_EQ(line_with(read("b.ndjson"), "mozaiek.alert-withdrawal/v1"), withdrawal);
  EXPECT_EQ(a.find("2213456789"), std::string::npos);
}

// The van took the boy from one reception centre (coa-1 names him both)
// and was seen there and at two more centres without him: its pickup_van
// alert named his signal. Erasing him withdraws that alert by id and
// re-issues it without him; no alert raised after names him, and a second
// replay writes the same records.
TEST_F(EraseCommandTest, ReplayWithAnErasureReissuesThePickupVanAlertWithoutHim) {
  const std::string boy = R"({"type":"person","id":"2213456789","id_scheme":"v-number"})";
  const std::string van = R"({"type":"vehicle","plate":"WX-987-Z","country":"PL"})";
  auto at = [](const std::string& id) { return R"({"type":"location","id":")" + id + R"("})"; };
  {
    std::ofstream in(path("in.ndjson"));
    in << signal("coa-0", "coa", "visitor_vehicle", "01", van + "," + at("coa-gilze")) << "\n"
       << signal("coa-1", "coa", "visitor_vehicle", "02", van + "," + at("coa-gilze") + "," + boy)
       << "\n"
       << signal("coa-2", "coa", "visitor_vehicle", "03", van + "," + at("coa-budel")) << "\n"
       << signal("nidos-1", "nidos", "visitor_vehicle", "04", van + "," + at("nidos-utrecht"))
       << "\n";
  }
  auto run = [&](const std::string& out) {
    return test::run_command(bin_ + " replay --demo-key -i " + path("in.ndjson") + " -o " +
                             path(out) + " --erase person:" + boy_ + " 2>/dev/null");
  };
  ASSERT_EQ(run("a.ndjson").exit_code, 0);
  ASSERT_EQ(run("b.ndjson").exit_code, 0);
  auto read = [&](const std::string& name) {
    std::ifstream in(path(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string a = read("a.ndjson");
  const std::string old_alert = line_with(a, R"("rule":"pickup_van")");
  ASSERT_NE(old_alert.find("coa-1"), std::string::npos) << "his signal was in it: " << a;
  const auto id_in = [](const std::string& line, const std::string& member) {
    const std::string key = "\"" + member + "\":\"";
    const std::size_t at = line.find(key);
    if (at == std::string::npos) return std::string();
    return line.substr(at + key.size(), 32);
  };
  const std::string old_id = id_in(old_alert, "alert_id");
  ASSERT_EQ(old_id.size(), 32u) << old_alert;
  const std::string withdrawal =
      line_with(a, R"({"schema":"mozaiek.alert-withdrawal/v2","alert_id":")" + old_id);
  ASSERT_NE(withdrawal, "") << a;
  EXPECT_NE(withdrawal.find(R"("rule":"pickup_van")"), std::string::npos) << withdrawal;
  const std::string new_id = id_in(withdrawal, "reissued_as");
  ASSERT_EQ(new_id.size(), 32u) << withdrawal;
  ASSERT_NE(new_id, old_id);
  const std::string reissue = line_with(a, R"("alert_id":")" + new_id);
  ASSERT_NE(reissue, "") << a;
  EXPECT_NE(reissue.find(R"("rule":"pickup_van")"), std::string::npos) << reissue;
  EXPECT_NE(reissue.find(R"("key":"PL-WX987Z")"), std::string::npos) << reissue;
  for (const char* kept :
       {"coa-0", "coa-2", "nidos-1", "coa-gilze", "coa-budel", "nidos-utrecht"}) {
    EXPECT_NE(reissue.find(kept), std::string::npos) << kept << " in " << reissue;
  }
  EXPECT_EQ(reissue.find("coa-1"), std::string::npos) << reissue;
  EXPECT_EQ(reissue.find(boy_), std::string::npos) << reissue;
  // After the first withdrawal record, no alert names him.
  const std::string after = a.substr(a.find("mozaiek.alert-withdrawal/"));
  for (std::size_t start = 0; start < after.size();) {
    std::size_t end = after.find('\n', start);
    if (end == std::string::npos) end = after.size();
    const std::string line = after.substr(start, end - start);
    if (line.find("mozaiek.alert/v1") != std::string::npos) {
      EXPECT_EQ(line.find(boy_), std::string::npos) << line;
    }
    start = end + 1;
  }
  // The same input and request: the same withdrawal records and re-issued
  // id (alerts carry the wall-clock raised_at, so they are compared by id).
  const auto withdrawals = [](const std::string& text) {
    std::string out;
    for (std::size_t start = 0; start < text.size();) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(start, end - start);
      if (line.find("mozaiek.alert-withdrawal/") != std::string::npos) out += line + "\n";
      start = end + 1;
    }
    return out;
  };
  const std::string b = read("b.ndjson");
  EXPECT_EQ(withdrawals(b), withdrawals(a));
  EXPECT_NE(line_with(b, R"("alert_id":")" + new_id), "") << b;
}

TEST_F(EraseCommandTest, NamesTheBadOptionAndRefusesTheEmbeddedCluster) {
  auto run = [&](const std::string& args) {
    return test::run_command(bin_ + " erase --demo-key " + args + " 2>&1");
  };
  auto r = run("--type person --id 123456789 --reason r --user u");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--id-scheme is required"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("123456789"), std::string::npos) << r.output;
  r = run("--type boat --id x --reason r --user u");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--type must be one of"), std::string::npos) << r.output;
  r = run("--type vehicle --plate AB/12 --reason r --user u");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--plate"), std::string::npos) << r.output;
  r = run("--type location --id coa-budel --user u");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--reason"), std::string::npos) << r.output;
  r = test::run_command("env -u USER " + bin_ +
                        " erase --demo-key --type location --id coa-budel --reason r 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--user"), std::string::npos) << r.output;
  r = run("--type location --id coa-budel --reason r --user u");  // shipped config: embedded
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("POST /api/erasure"), std::string::npos) << r.output;
  r = test::run_command(bin_ + " erase --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--id-scheme"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mozaiek
