// Kills `mozaiek run` with SIGKILL mid-stream against a real Kafka broker
// (which outlives it), restarts it, and checks that every expected alert
// arrives and that an alert raised twice carries the same alert_id.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"

extern char** environ;

namespace mozaiek::test {
namespace {

constexpr const char* kKey = "crash-test-pseudonym-key-0123456789";

class ServiceProcess {
 public:
  ServiceProcess(const std::string& config, const std::string& log) {
    std::vector<std::string> args = {MOZAIEK_BINARY, "run", "--config", config};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.push_back(std::string("MOZAIEK_PSEUDONYM_KEY=") + kKey);
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    EXPECT_EQ(posix_spawn(&pid_, MOZAIEK_BINARY, &actions, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ServiceProcess() {
    if (pid_ > 0) kill(SIGKILL);
  }
  int kill(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

class CrashRecoveryTest : public RealKafkaTest {};

TEST_F(CrashRecoveryTest, SigkillMidStreamThenRestartLosesNoAlertAndKeepsAlertIds) {
  const std::string ns = kafka().unique_name("crash");
  const auto dir = std::filesystem::temp_directory_path() / ns;
  std::filesystem::create_directories(dir);
  YAML::Node cfg = YAML::LoadFile(std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml");
  cfg["kafka"]["brokers"] = kafka().bootstrap();
  cfg["kafka"]["group_id"] = ns;
  cfg["kafka"]["topics"]["signals_prefix"] = ns + ".signals.";
  cfg["kafka"]["topics"]["alerts"] = ns + ".alerts";
  cfg["kafka"]["topics"]["dlq"] = ns + ".dlq";
  cfg["kafka"]["topics"]["subjects"] = ns + ".subjects";
  cfg["kafka"]["topics"]["changelog"] = ns + ".changelog";
  cfg["kafka"]["topics"]["audit"] = ns + ".audit";
  cfg["kafka"]["topics"]["alert_actions"] = ns + ".alert-actions";
  cfg["kafka"]["topics"]["chain_events"] = ns + ".chain";
  cfg["kafka"]["topics"]["chain_prefix"] = ns + ".chain.";
  // A killed member leaves its group only after the session timeout.
  cfg["kafka"]["properties"]["session.timeout.ms"] = "6000";
  cfg["service"]["state_dir"] = (dir / "state").string();
  cfg["service"]["http_listen"] = "127.0.0.1:0";
  // `run` starts only when someone could authenticate: one client
  // certificate principal (the test reads no API).
  YAML::Node principal;
  principal["subject"] = "/CN=crash-test";
  principal["name"] = "crash-test";
  principal["roles"].push_back("metrics");
  cfg["service"]["auth"]["mtls"]["principals"].push_back(principal);
  const std::string config_path = (dir / "mozaiek.yaml").string();
  {
    std::ofstream out(config_path);
    out << YAML::Dump(cfg);
  }
  const std::string log = (dir / "service.log").string();

  Settings settings = shipped_settings();
  const Traffic traffic = make_traffic(settings, 20000, 9);
  const auto half = static_cast<std::ptrdiff_t>(traffic.records.size() / 2);
  const std::vector<OutRecord> first(traffic.records.begin(), traffic.records.begin() + half);
  const std::vector<OutRecord> second(traffic.records.begin() + half, traffic.records.end());
  KafkaSettings k = kafka().settings();

  AlertCollector collector(k, ns + ".alerts", ns + ".reader");
  {
    ServiceProcess service(config_path, log);
    produce_all(k, first, ns + ".signals.");
    ASSERT_TRUE(
        collector.collect_until([](const auto& a) { return !a.empty(); }, std::chrono::seconds(90)))
        << "no alert before the kill; service log: " << log;
    const int status = service.kill(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status));
  }
  produce_all(k, second, ns + ".signals.");

  std::vector<std::string> expected;
  for (const auto& c : traffic.planted) expected.push_back(planted_subject(c, kKey));
  ServiceProcess restarted(config_path, log);
  const bool all = collector.collect_until(
      [&](const std::vector<Alert>& alerts) {
        std::set<std::string> seen;
        for (const auto& a : alerts) seen.insert(subject_of(a));
        for (const auto& e : expected) {
          if (!seen.count(e)) return false;
        }
        return true;
      },
      std::chrono::seconds(180));
  EXPECT_TRUE(all) << "planted alerts missing after restart; service log: " << log;
  const int status = restarted.kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "graceful stop failed: " << log;

  std::map<std::string, std::set<std::string>> ids;
  for (const auto& a : collector.alerts()) {
    ids[alert_identity(a)].insert(a.alert_id);
  }
  for (const auto& [k2, v] : ids) EXPECT_EQ(v.size(), 1u) << "two ids for " << k2;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mozaiek::test
