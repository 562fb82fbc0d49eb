// `mozaiek rekey`: state built under pseudonym key version 1 and rekeyed to
// version 2, then fed the rest of the history, raises the same alerts and
// shows the same counts as state built under version 2 from the start; a
// replay over stale state is refused naming `mozaiek rekey`; links and
// persons move to their new pseudonyms.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/app/settings.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/records/alert_json.h"
#include "stream/rocksdb_state.h"
#include "tests/support/command.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

const std::string kKey1 = "rekey-test-first-key-0123456789";
const std::string kKey2 = "rekey-test-second-key-0123456789";

std::string key_list(int versions) {
  std::string out = std::string(Pseudonymiser::kKeyListHeader) + "\n1:" + kKey1 + "\n";
  if (versions > 1) out += "2:" + kKey2 + "\n";
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::vector<Alert> read_alerts(const std::string& path) {
  std::vector<Alert> out;
  for (const auto& line : lines_of(slurp(path))) {
    Alert a;
    EXPECT_TRUE(read_alert_json(line, a)) << line;
    out.push_back(std::move(a));
  }
  return out;
}

// Identity, id and linked entities: what must match between two runs.
std::string alert_fingerprint(const Alert& a) {
  std::string out = a.alert_id + " " + test::alert_identity(a);
  for (const auto& l : a.linked) out += " " + std::string(to_string(l.type)) + ":" + l.key;
  return out;
}

// The series of the state gauges (counts kept in state, not since start).
std::set<std::string> state_gauges(const std::string& exposition) {
  std::set<std::string> out;
  for (const auto& line : lines_of(exposition)) {
    for (const char* name : {"mozaiek_registrations_unique", "mozaiek_missing_open",
                             "mozaiek_converging_persons", "mozaiek_meldingen_open"}) {
      if (line.rfind(name, 0) == 0) out.insert(line);
    }
  }
  return out;
}

class RekeyCommandTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv(kPseudonymKeyEnv); }

  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  // Runs `mozaiek <args>` under a key list with `versions` keys.
  test::CommandResult mozaiek(int versions, const std::string& args) {
    ::setenv(kPseudonymKeyEnv, key_list(versions).c_str(), 1);
    return test::run_command(bin_ + " " + args + " 2>&1");
  }
  test::CommandResult replay(int versions, const std::string& in, const std::string& out,
                             const std::string& state, const std::string& extra = "") {
    return mozaiek(versions,
                   "replay -i " + in + " -o " + out + " --state-dir " + state + " " + extra);
  }

  test::TempDir dir_{"mozaiek-rekey-cmd"};
  const std::string bin_ = MOZAIEK_BINARY;
};

TEST_F(RekeyCommandTest, RekeyedStateRaisesTheSameAlertsAndCountsAsTheNewKeyFromTheStart) {
  ASSERT_FALSE(dir_.path().empty());
  const auto gen = test::run_command(bin_ + " generate --chain-events -n 6000 --seed 7 -o " +
                                     path("all.ndjson") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const auto all = lines_of(slurp(path("all.ndjson")));
  ASSERT_GT(all.size(), 1000U);
  {
    std::ofstream first(path("first.ndjson"));
    std::ofstream rest(path("rest.ndjson"));
    for (std::size_t i = 0; i < all.size(); ++i)
      (i < all.size() / 2 ? first : rest) << all[i] << "\n";
  }

  // A: the first half under key 1, rekeyed to key 2, the rest under key 2.
  auto r = replay(1, path("first.ndjson"), path("a1.ndjson"), path("a"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = replay(2, path("rest.ndjson"), path("stale.ndjson"), path("a"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("pseudonym key version 1, the running key is version 2"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("mozaiek rekey"), std::string::npos) << r.output;
  r = mozaiek(2, "rekey --state-dir " + path("a"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("from pseudonym key version 1 to 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rekey: staged links-p0"), std::string::npos) << r.output;
  r = mozaiek(2, "rekey --state-dir " + path("a"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("nothing to do"), std::string::npos) << r.output;
  r = replay(2, path("rest.ndjson"), path("a2.ndjson"), path("a"),
             "--metrics-out " + path("a.metrics"));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // B: everything under key 2's chain from the start, in the same two runs.
  r = replay(2, path("first.ndjson"), path("b1.ndjson"), path("b"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = replay(2, path("rest.ndjson"), path("b2.ndjson"), path("b"),
             "--metrics-out " + path("b.metrics"));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // After the rekey: the same alerts, ids included.
  const auto a2 = read_alerts(path("a2.ndjson"));
  const auto b2 = read_alerts(path("b2.ndjson"));
  ASSERT_FALSE(b2.empty());
  std::vector<std::string> fa, fb;
  for (const auto& a : a2) fa.push_back(alert_fingerprint(a));
  for (const auto& b : b2) fb.push_back(alert_fingerprint(b));
  EXPECT_EQ(fa, fb);
  std::size_t person_alerts = 0;
  for (const auto& a : b2) person_alerts += a.subject_type == SubjectType::person ? 1 : 0;
  EXPECT_GT(person_alerts, 0U) << "no person alert after the split: the test proves nothing";
  const std::string a2_text = slurp(path("a2.ndjson"));
  EXPECT_NE(a2_text.find("\"pseudonym_key_version\":2"), std::string::npos);
  EXPECT_EQ(a2_text.find("\"pseudonym_key_version\":1"), std::string::npos);

  // Before it: the same alerts with persons under their old pseudonyms.
  const Pseudonymiser chain(key_list(2));
  const auto a1 = read_alerts(path("a1.ndjson"));
  const auto b1 = read_alerts(path("b1.ndjson"));
  ASSERT_EQ(a1.size(), b1.size());
  for (std::size_t i = 0; i < a1.size(); ++i) {
    Alert moved = a1[i];
    if (moved.subject_type == SubjectType::person && is_pseudonym(moved.subject_key)) {
      chain.rekey(a1[i].subject_key, 1, moved.subject_key);
    }
    EXPECT_EQ(test::alert_identity(moved), test::alert_identity(b1[i]));
  }

  // Counts kept in state: registrations, missing persons, converging persons.
  const auto ga = state_gauges(slurp(path("a.metrics")));
  const auto gb = state_gauges(slurp(path("b.metrics")));
  EXPECT_FALSE(gb.empty());
  EXPECT_EQ(ga, gb);
}

TEST_F(RekeyCommandTest, LinksAndPersonsMoveToTheirNewPseudonyms) {
  ASSERT_FALSE(dir_.path().empty());
  const std::string boy = R"({"type":"person","id":"2213456789","id_scheme":"v-number"})";
  const std::string car = R"({"type":"vehicle","plate":"AB-123-CD","country":"FR"})";
  {
    std::ofstream in(path("in.ndjson"));
    in << test::signal_json("coa", "coa-1", "behaviour_change", "2025-03-01", boy) << "\n"
       << test::signal_json("coa", "coa-gate", "visitor_vehicle", "2025-03-06", car + "," + boy)
       << "\n";
    std::ofstream later(path("later.ndjson"));
    later << test::signal_json("police", "police-1", "transports_persons_with_documents",
                               "2025-03-07", car)
          << "\n";
  }
  std::string old_key, new_key;
  Pseudonymiser(key_list(1)).pseudonymise("v-number", "2213456789", old_key);
  Pseudonymiser(key_list(2)).pseudonymise("v-number", "2213456789", new_key);
  ASSERT_NE(old_key, new_key);

  auto r = replay(1, path("in.ndjson"), path("a.ndjson"), path("s"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = mozaiek(2, "rekey --state-dir " + path("s"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 pseudonyms inside values"), std::string::npos) << r.output;
  r = replay(2, path("later.ndjson"), path("b.ndjson"), path("s"),
             "--entity person:" + new_key +
                 " --entity vehicle:FR-AB123CD --entity person:" + old_key);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string person_view, car_view, old_view;
  for (const auto& line : lines_of(r.output)) {
    if (line.find("\"schema\":\"mozaiek.entity/v1\"") == std::string::npos) continue;
    if (line.find("\"key\":\"" + new_key + "\",\"pseudonym") != std::string::npos)
      person_view = line;
    if (line.find("\"key\":\"FR-AB123CD\"") != std::string::npos &&
        line.find("\"subject\":{\"type\":\"vehicle\"") != std::string::npos)
      car_view = line;
    if (line.find("\"subject\":{\"type\":\"person\",\"key\":\"" + old_key) != std::string::npos)
      old_view = line;
  }
  // The boy under his new pseudonym: his score, and his link to the car.
  ASSERT_FALSE(person_view.empty()) << r.output;
  EXPECT_NE(person_view.find("\"found\":true"), std::string::npos) << person_view;
  EXPECT_NE(person_view.find("coa-1"), std::string::npos) << person_view;
  EXPECT_NE(person_view.find("FR-AB123CD"), std::string::npos) << person_view;
  EXPECT_NE(person_view.find("\"pseudonym_key_version\":2"), std::string::npos) << person_view;
  // The car's link names the new pseudonym, never the old one.
  ASSERT_FALSE(car_view.empty()) << r.output;
  EXPECT_NE(car_view.find(new_key), std::string::npos) << car_view;
  EXPECT_EQ(car_view.find(old_key), std::string::npos) << car_view;
  // Nothing is left under the old pseudonym.
  EXPECT_EQ(old_view.find("\"found\":true"), std::string::npos) << old_view;
}

TEST_F(RekeyCommandTest, RefusesAStateDirectoryInUseAndExplainsItsOptions) {
  const auto help = test::run_command(bin_ + " rekey --help 2>&1");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--state-dir"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("Pseudonym key rotation"), std::string::npos) << help.output;
  // No key at all: the error says where one comes from.
  ::unsetenv(kPseudonymKeyEnv);
  const auto nokey = test::run_command(bin_ + " rekey --state-dir " + path("x") + " 2>&1");
  EXPECT_EQ(nokey.exit_code, 2) << nokey.output;
  EXPECT_NE(nokey.output.find("privacy.pseudonym_key_file"), std::string::npos) << nokey.output;
  // A state directory another process holds (as a running service does).
  Status s = Status::ok();
  auto busy = RocksStateDb::open(path("busy"), s);
  ASSERT_TRUE(busy) << s.message();
  const auto refused = mozaiek(2, "rekey --state-dir " + path("busy"));
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("stop every instance first"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace mozaiek
