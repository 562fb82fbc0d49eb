// Live reload of the rules under load, on a real broker: `mozaiek run`
// (a child process, so SIGHUP is real) consumes synthetic traffic while the
// rules are reloaded several times, by POST /api/rules and by SIGHUP, and
// broken configs are refused both ways while the old rules run. Then every
// record is accounted for (in = processed + dlq), no alert is written twice,
// and every alert names a rules version the service put in force.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "connectors/kafka/kafka_source.h"
#include "operators/records/alert_json.h"
#include "stream/json_writer.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/ports.h"
#include "tests/support/real_kafka.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

extern char** environ;

namespace mozaiek::test {
namespace {

constexpr const char* kKey = "reload-test-pseudonym-key-0123456789";
constexpr Millis kDeadline = seconds(120);

class ServiceProcess {
 public:
  ServiceProcess(const std::string& config, const std::string& log) {
    std::vector<std::string> args = {MOZAIEK_BINARY, "run", "--config", config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.push_back(std::string("MOZAIEK_PSEUDONYM_KEY=") + kKey);
    std::vector<char*> envp;
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
    if (pid_ > 0) stop(SIGKILL);
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  int stop(int sig) {
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class RulesReloadRealBrokerTest : public RealKafkaTest {
 protected:
  void SetUp() override {
    RealKafkaTest::SetUp();
    ns_ = kafka().unique_name("reload");
    port_ = free_loopback_ports();
    ASSERT_GT(port_, 0);
    cfg_ = YAML::LoadFile(std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml");
    cfg_["kafka"]["brokers"] = kafka().bootstrap();
    cfg_["kafka"]["group_id"] = ns_;
    auto topics = cfg_["kafka"]["topics"];
    topics["signals_prefix"] = ns_ + ".signals.";
    topics["alerts"] = ns_ + ".alerts";
    topics["alerts_care"] = ns_ + ".alerts-care";
    topics["dlq"] = ns_ + ".dlq";
    topics["subjects"] = ns_ + ".subjects";
    topics["changelog"] = ns_ + ".changelog";
    topics["audit"] = ns_ + ".audit";
    topics["alert_actions"] = ns_ + ".alert-actions";
    topics["chain_events"] = ns_ + ".chain";
    topics["chain_prefix"] = ns_ + ".chain.";
    cfg_["service"]["state_dir"] = dir_.path() + "/state";
    cfg_["service"]["http_listen"] = "127.0.0.1:" + std::to_string(port_);
    // The loopback-only demo identity: the test calls the API as it.
    cfg_["service"]["demo_identity"]["name"] = "reload-test";
    for (const char* r : {"operator", "analyst", "metrics"}) {
      cfg_["service"]["demo_identity"]["roles"].push_back(r);
    }
    config_path_ = dir_.path() + "/mozaiek.yaml";
    log_ = dir_.path() + "/service.log";
    write_config(6);
  }

  // The config file with the person threshold set (a string: written as is).
  std::string config_text(const std::string& threshold) {
    YAML::Node copy = YAML::Clone(cfg_);
    copy["rules"]["person"]["threshold"] = threshold;
    return YAML::Dump(copy);
  }
  void write_config(double threshold) { write_text(config_text(std::to_string(threshold))); }
  void write_text(const std::string& text) {
    std::ofstream out(config_path_, std::ios::trunc);
    out << text;
  }

  YAML::Node rules_state(httplib::Client& c) {
    auto res = c.Get("/api/rules");
    if (!res || res->status != 200) return {};
    return YAML::Load(res->body);
  }
  std::string version(httplib::Client& c) {
    YAML::Node n = rules_state(c);
    return n && n["version"] ? n["version"].as<std::string>() : "";
  }
  std::size_t history_size(httplib::Client& c) {
    YAML::Node n = rules_state(c);
    return n && n["history"] ? n["history"].size() : 0;
  }
  httplib::Result post(httplib::Client& c, const std::string& yaml) {
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("config").string(yaml);
    w.key("reason").string("reload test");
    w.end_object();
    return c.Post("/api/rules", body, "application/json");
  }
  double metric(httplib::Client& c, const std::string& name,
                const std::vector<std::string>& labels = {}) {
    auto res = c.Get("/metrics");
    if (!res || res->status != 200) return -1;
    return metric_sum(res->body, name, labels).value_or(0);
  }

  TempDir dir_{"mozaiek-reload-test"};
  std::string ns_;
  int port_ = 0;
  YAML::Node cfg_;
  std::string config_path_;
  std::string log_;
};

TEST_F(RulesReloadRealBrokerTest, ReloadsUnderLoadLoseNoRecordAndDoubleNoAlert) {
  ServiceProcess service(config_path_, log_);
  httplib::Client c("127.0.0.1", port_);
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = c.Get("/readyz");
        return r && r->status == 200;
      },
      kDeadline, Millis{100}))
      << read_file(log_);
  const std::string v1 = version(c);
  ASSERT_FALSE(v1.empty());
  std::set<std::string> versions{v1};

  const Settings settings = shipped_settings();
  const Traffic traffic = make_traffic(settings, 12000, 17);
  const KafkaSettings k = kafka().settings();
  constexpr std::size_t kChunks = 6;
  const std::size_t per = (traffic.records.size() + kChunks - 1) / kChunks;
  const double thresholds[kChunks] = {5.5, 6.5, 5.0, 6.0, 4.5, 6.0};
  std::size_t applied = 0;
  for (std::size_t i = 0; i < kChunks; ++i) {
    const auto from = traffic.records.begin() +
                      static_cast<std::ptrdiff_t>(std::min(i * per, traffic.records.size()));
    const auto to = traffic.records.begin() +
                    static_cast<std::ptrdiff_t>(std::min((i + 1) * per, traffic.records.size()));
    produce_all(k, std::vector<OutRecord>(from, to), ns_ + ".signals.");
    if (i % 2 == 0) {
      auto res = post(c, config_text(std::to_string(thresholds[i])));
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 200) << res->body;
      ASSERT_NE(res->body.find("\"outcome\":\"applied\""), std::string::npos) << res->body;
    } else {
      const std::size_t before = history_size(c);
      write_config(thresholds[i]);
      service.signal(SIGHUP);
      ASSERT_TRUE(wait_until([&] { return history_size(c) > before; }, kDeadline, Millis{50}))
          << read_file(log_);
    }
    ++applied;
    versions.insert(version(c));
  }
  ASSERT_EQ(versions.size(), applied + 1) << "every reload a new version";
  const std::string in_force = version(c);

  // Broken, by POST: 400 with check-config's error; the rules in force stay.
  auto res = post(c, config_text("-1"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("rules.person.threshold"), std::string::npos) << res->body;
  EXPECT_EQ(version(c), in_force);
  // Broken, by SIGHUP: a log line and a refused entry; the rules stay.
  const std::size_t before = history_size(c);
  write_text(config_text("-1"));
  service.signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return history_size(c) > before; }, kDeadline, Millis{50}));
  YAML::Node state = rules_state(c);
  EXPECT_EQ(state["history"][0]["outcome"].as<std::string>(), "refused");
  EXPECT_EQ(state["history"][0]["via"].as<std::string>(), "sighup");
  EXPECT_EQ(state["version"].as<std::string>(), in_force);
  EXPECT_NE(read_file(log_).find("refused, rules " + in_force + " stay in force"),
            std::string::npos);

  // Every record accounted for, and both stages on the version in force.
  const double produced = static_cast<double>(traffic.records.size());
  ASSERT_TRUE(wait_until(
      [&] {
        const double in = metric(c, "mozaiek_records_in_total");
        const double done = metric(c, "mozaiek_records_processed_total") +
                            metric(c, "mozaiek_records_dlq_total");
        YAML::Node s = rules_state(c);
        return in == produced && done == in &&
               s["tasks"]["intake"].as<std::string>("") == in_force &&
               s["tasks"]["convergence"].as<std::string>("") == in_force &&
               metric(c, "mozaiek_consumer_lag", {"group=\"convergence\""}) == 0;
      },
      kDeadline, Millis{200}))
      << "in " << metric(c, "mozaiek_records_in_total") << " of " << produced << "; "
      << read_file(log_);
  EXPECT_EQ(metric(c, "mozaiek_rules_reloads_total", {"outcome=\"applied\""}), applied);
  EXPECT_EQ(metric(c, "mozaiek_rules_reloads_total", {"outcome=\"refused\""}), 2);

  // Every alert once, each naming a version the service put in force.
  Status s = Status::ok();
  auto reader = KafkaSource::create(k, ns_ + ".check", {ns_ + ".alerts"}, s);
  ASSERT_TRUE(reader) << s.message();
  std::map<std::pair<std::string, int>, int> seen;
  std::size_t alerts = 0, unversioned = 0, unknown_version = 0;
  RecordBatch batch;
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - quiet_since < std::chrono::seconds(5)) {
    ASSERT_TRUE(reader->poll(batch, 1000, Millis{200}));
    if (!batch.records.empty()) quiet_since = std::chrono::steady_clock::now();
    for (const auto& r : batch.records) {
      Alert a;
      if (!read_alert_json(r.value, a)) continue;
      ++alerts;
      ++seen[{a.alert_id, a.level}];
      const std::string json(r.value);
      const auto at = json.find("\"rules_version\":\"");
      if (at == std::string::npos) {
        ++unversioned;
        continue;
      }
      const auto begin = at + 17;
      if (!versions.count(json.substr(begin, json.find('"', begin) - begin))) ++unknown_version;
    }
  }
  EXPECT_GT(alerts, 0u) << read_file(log_);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id.first << " level " << id.second;
  EXPECT_EQ(unversioned, 0u);
  EXPECT_EQ(unknown_version, 0u);

  const int status = service.stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(log_);
}

}  // namespace
}  // namespace mozaiek::test
