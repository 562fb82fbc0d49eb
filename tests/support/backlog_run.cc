#include "tests/support/backlog_run.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "connectors/app/settings.h"
#include "connectors/kafka/kafka_admin.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/records/alert_json.h"
#include "tests/support/command.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/wait.h"

extern char** environ;

namespace mozaiek::test {
namespace {

// The string value of a top-level-looking field: the first "<name>":"..."
// in the text (enough for the flat fields read here).
std::string field(std::string_view json, std::string_view name) {
  const std::string pattern = "\"" + std::string(name) + "\":\"";
  const std::size_t at = json.find(pattern);
  if (at == std::string_view::npos) return "";
  const std::size_t begin = at + pattern.size();
  const std::size_t end = json.find('"', begin);
  return end == std::string_view::npos ? "" : std::string(json.substr(begin, end - begin));
}

void add_alert(std::string_view json, BacklogOutcome& out) {
  Alert alert;
  if (!read_alert_json(json, alert)) return;  // withdrawals and anything else
  ++out.alert_records;
  out.alert_ids.insert(alert.alert_id);
  out.rule_of[alert.alert_id] = alert.rule;
  out.ids_by_identity[alert_identity(alert)].insert(alert.alert_id);
}

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

// A consumer handle that never joins its group: for OffsetFetch,
// watermarks and metadata.
RdKafkaPtr admin_consumer(const std::string& bootstrap, const std::string& group) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  return RdKafkaPtr(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
}

// Every partition of the topics whose names start with one of prefixes.
std::vector<std::pair<std::string, int>> partitions_of(rd_kafka_t* rk,
                                                       const std::vector<std::string>& prefixes) {
  std::vector<std::pair<std::string, int>> out;
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  for (int t = 0; t < md->topic_cnt; ++t) {
    const std::string name = md->topics[t].topic;
    bool match = false;
    for (const auto& p : prefixes) match = match || name.rfind(p, 0) == 0;
    if (!match) continue;
    for (int p = 0; p < md->topics[t].partition_cnt; ++p) out.emplace_back(name, p);
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

// Whether `group` has committed up to the end of every partition.
bool committed_to_end(const std::string& bootstrap, const std::string& group,
                      const std::vector<std::pair<std::string, int>>& partitions) {
  if (partitions.empty()) return false;
  RdKafkaPtr rk = admin_consumer(bootstrap, group);
  if (!rk) return false;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(
      static_cast<int>(partitions.size()));
  for (const auto& [t, p] : partitions) rd_kafka_topic_partition_list_add(list, t.c_str(), p);
  bool all = rd_kafka_committed(rk.get(), list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; all && i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(rk.get(), e.topic, e.partition, &low, &high, 10000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      all = false;
      break;
    }
    const std::int64_t committed = e.err == RD_KAFKA_RESP_ERR_NO_ERROR ? e.offset : -1;
    all = high == 0 || committed >= high;
  }
  rd_kafka_topic_partition_list_destroy(list);
  return all;
}

// Records on a topic now (sum of its partitions' end offsets).
std::size_t records_on(const std::string& bootstrap, const std::string& topic) {
  RdKafkaPtr rk = admin_consumer(bootstrap, "unused");
  std::size_t n = 0;
  for (const auto& [t, p] : partitions_of(rk.get(), {topic})) {
    if (t != topic) continue;
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(rk.get(), t.c_str(), p, &low, &high, 10000) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      n += static_cast<std::size_t>(high - low);
    }
  }
  return n;
}

// Reads a whole topic (a throw-away group) and calls f per record.
template <class F>
bool read_topic(const KafkaSettings& k, const std::string& topic, const std::string& group,
                std::size_t expected, F f) {
  Status s = Status::ok();
  auto source = KafkaSource::create(k, group, {topic}, s);
  EXPECT_TRUE(source != nullptr) << s.message();
  if (!source) return false;
  std::size_t seen = 0;
  RecordBatch batch;
  const bool all = wait_until(
      [&] {
        if (!source->poll(batch, 10000, Millis{200})) return false;
        for (const auto& r : batch.records) f(r);
        seen += batch.records.size();
        return seen >= expected;
      },
      seconds(120), Millis{0});
  EXPECT_EQ(seen, expected) << topic;
  return all;
}

}  // namespace

std::string alert_differences(const BacklogOutcome& want, const BacklogOutcome& got) {
  std::map<std::string, std::pair<int, int>> by_rule;  // rule -> lost, extra
  int lost = 0;
  int extra = 0;
  for (const auto& id : want.alert_ids) {
    if (got.alert_ids.count(id) == 0) {
      ++lost;
      ++by_rule[want.rule_of.at(id)].first;
    }
  }
  for (const auto& id : got.alert_ids) {
    if (want.alert_ids.count(id) == 0) {
      ++extra;
      ++by_rule[got.rule_of.at(id)].second;
    }
  }
  std::string out = std::to_string(lost) + " lost, " + std::to_string(extra) + " extra";
  if (!by_rule.empty()) {
    out += " (by rule, lost/extra:";
    for (const auto& [rule, n] : by_rule) {
      out += " " + rule + " " + std::to_string(n.first) + "/" + std::to_string(n.second);
    }
    out += ")";
  }
  return out;
}

std::size_t BacklogOutcome::dlq() const {
  std::size_t n = 0;
  for (const auto& [reason, count] : dlq_by_reason) n += count;
  return n;
}

ServiceChild::ServiceChild(const std::string& config, const std::string& log,
                           const std::string& key) {
  std::vector<std::string> args = {MOZAIEK_BINARY, "run", "--config", config};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("MOZAIEK_PSEUDONYM_KEY=" + key);
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

ServiceChild::~ServiceChild() {
  if (pid_ > 0) stop(SIGKILL);
}

int ServiceChild::stop(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

Backlog::Backlog(RealKafka& kafka, std::size_t signals, std::uint64_t seed) : kafka_(kafka) {
  base_ = kafka.unique_name("backlog");
  load(signals, seed);
}

void Backlog::load(std::size_t signals, std::uint64_t seed) {
  history_ = dir() + "/history.ndjson";
  const std::string config = std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml";
  const CommandResult gen = run_command(
      std::string(MOZAIEK_BINARY) + " generate --config " + config + " -o " + history_ + " -n " +
      std::to_string(signals) + " --seed " + std::to_string(seed) + " --chain-events 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;

  const Settings shipped = shipped_settings();
  std::vector<std::string> topics{base_ + ".chain-events"};
  for (const auto& src : shipped.operators.sources) {
    topics.push_back(base_ + ".signals." + src.name);
    topics.push_back(base_ + ".chain." + src.name);
  }
  const KafkaSettings k = kafka_.settings();
  const Status created = ensure_topics(k, topics, seconds(60));
  ASSERT_TRUE(created.is_ok()) << created.message();

  Status s = Status::ok();
  auto sink = KafkaSink::create(k, s);
  ASSERT_TRUE(sink != nullptr) << s.message();
  std::ifstream in(history_);
  std::string line;
  std::string topic;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // Chain events on the shared chain topic (any org there), signals on
    // their source's topic; a record without a known source (broken on
    // purpose) on the first source's.
    const bool chain = line.find("\"schema\":\"mozaiek.chain/") != std::string::npos;
    std::string source = field(line, "source");
    bool known = false;
    for (const auto& src : shipped.operators.sources) known = known || src.name == source;
    if (!known) source = shipped.operators.sources.front().name;
    topic = chain ? base_ + ".chain-events" : base_ + ".signals." + source;
    const std::string key = std::to_string(records_);
    ASSERT_TRUE(sink->produce(topic, key, line).is_ok());
    ++records_;
  }
  const Status flushed = sink->flush(seconds(120));
  ASSERT_TRUE(flushed.is_ok()) << flushed.message();
}

std::string Backlog::write_config(const std::string& name) const {
  const std::string g = group(name);
  YAML::Node cfg = YAML::LoadFile(std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml");
  cfg["kafka"]["brokers"] = kafka_.bootstrap();
  cfg["kafka"]["group_id"] = g;
  cfg["kafka"]["partitions"] = 4;
  YAML::Node topics = cfg["kafka"]["topics"];
  topics["signals_prefix"] = base_ + ".signals.";
  topics["chain_prefix"] = base_ + ".chain.";
  topics["chain_events"] = base_ + ".chain-events";
  topics["alerts"] = g + ".alerts";
  topics["alerts_care"] = g + ".alerts-care";
  topics["dlq"] = g + ".dlq";
  topics["audit"] = g + ".audit";
  topics["alert_actions"] = g + ".alert-actions";
  // subjects and changelog stay empty: they follow the group id.
  // A killed member leaves its group only after the session timeout.
  cfg["kafka"]["properties"]["session.timeout.ms"] = "6000";
  const std::filesystem::path home = std::filesystem::path(dir()) / name;
  std::filesystem::create_directories(home);
  cfg["service"]["state_dir"] = (home / "state").string();
  cfg["service"]["http_listen"] = "127.0.0.1:0";
  YAML::Node principal;
  principal["subject"] = "/CN=backlog-test";
  principal["name"] = "backlog-test";
  principal["roles"].push_back("metrics");
  cfg["service"]["auth"]["mtls"]["principals"].push_back(principal);
  const std::string path = (home / "mozaiek.yaml").string();
  std::ofstream out(path);
  out << YAML::Dump(cfg);
  return path;
}

bool Backlog::committed_all_once(const std::string& name) const {
  const std::string g = group(name);
  RdKafkaPtr rk = admin_consumer(kafka_.bootstrap(), "unused");
  const auto inputs = partitions_of(rk.get(), {base_ + ".signals.", base_ + ".chain"});
  const auto internal = partitions_of(rk.get(), {g + ".internal.subjects"});
  return committed_to_end(kafka_.bootstrap(), g + ".intake", inputs) &&
         committed_to_end(kafka_.bootstrap(), g + ".convergence", internal);
}

bool Backlog::drained(const std::string& name, std::chrono::seconds deadline) const {
  // Notices the last records sent may still be on their way: everything
  // committed must hold for a while.
  auto since = std::chrono::steady_clock::now();
  bool holding = false;
  return wait_until(
      [&] {
        const auto now = std::chrono::steady_clock::now();
        if (!committed_all_once(name)) {
          holding = false;
          return false;
        }
        if (!holding) since = now;
        holding = true;
        return now - since >= std::chrono::seconds(2);
      },
      deadline, Millis{500});
}

BacklogOutcome Backlog::outcome(const std::string& name) const {
  const std::string g = group(name);
  const KafkaSettings k = kafka_.settings();
  BacklogOutcome out;
  read_topic(k, g + ".alerts", g + ".alerts-reader", records_on(kafka_.bootstrap(), g + ".alerts"),
             [&](const RecordView& r) { add_alert(r.value, out); });
  // A dead letter written again after a crash carries the same key (its
  // record's topic/partition/offset): count each record once.
  std::map<std::string, std::set<std::string>> origins;
  read_topic(k, g + ".dlq", g + ".dlq-reader", records_on(kafka_.bootstrap(), g + ".dlq"),
             [&](const RecordView& r) {
               ++out.dlq_records;
               origins[field(r.value, "reason")].emplace(r.key);
             });
  for (const auto& [reason, keys] : origins) out.dlq_by_reason[reason] = keys.size();
  return out;
}

BacklogOutcome Backlog::replay() const {
  const std::string alerts = dir() + "/replay-alerts.ndjson";
  const std::string dlq = dir() + "/replay-dlq.ndjson";
  const CommandResult r = run_command(std::string("MOZAIEK_PSEUDONYM_KEY=") + kKey + " " +
                                      MOZAIEK_BINARY + " replay --config " + MOZAIEK_SOURCE_DIR +
                                      "/config/mozaiek.yaml --input " + history_ + " --output " +
                                      alerts + " --dlq " + dlq + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  BacklogOutcome out;
  std::ifstream a(alerts);
  for (std::string line; std::getline(a, line);) add_alert(line, out);
  std::ifstream d(dlq);
  for (std::string line; std::getline(d, line);) {
    ++out.dlq_records;
    ++out.dlq_by_reason[field(line, "reason")];
  }
  const std::size_t summary = r.output.find(" processed, ");
  if (summary != std::string::npos) {
    const std::size_t begin = r.output.rfind("replay: ", summary);
    unsigned long long in = 0, processed = 0, dlq = 0;
    if (begin != std::string::npos &&
        std::sscanf(r.output.c_str() + begin, "replay: %llu in, %llu processed, %llu dlq", &in,
                    &processed, &dlq) == 3) {
      out.counted = {in, processed, dlq};
    }
  }
  return out;
}

}  // namespace mozaiek::test
