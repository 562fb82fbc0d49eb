#include "tests/support/pipeline_harness.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/intake/pseudonymiser.h"
#include "operators/intake/subject_normaliser.h"
#include "operators/records/alert_json.h"

namespace mozaiek::test {

Settings shipped_settings() {
  Settings settings;
  std::vector<std::string> errors;
  const std::string path = std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml";
  EXPECT_TRUE(load_settings(path, settings, errors))
      << (errors.empty() ? std::string("?") : errors.front());
  return settings;
}

void use_namespace(Settings& settings, const std::string& ns) {
  settings.topics.signals_prefix = ns + ".signals.";
  settings.topics.alerts = ns + ".alerts";
  settings.topics.alerts_care = ns + ".alerts.care";
  settings.topics.dlq = ns + ".dlq";
  settings.topics.subjects = ns + ".subjects";
  settings.topics.audit = ns + ".audit";
  settings.topics.alert_actions = ns + ".alert-actions";
  settings.topics.chain_events = ns + ".chain";
  settings.topics.chain_prefix = ns + ".chain.";
  settings.group_id = ns;
}

Settings service_settings_for(const std::string& brokers, const std::string& ns) {
  Settings settings = shipped_settings();
  settings.brokers = brokers;
  settings.partitions = 4;
  use_namespace(settings, ns);
  settings.state_dir = (std::filesystem::temp_directory_path() / ("mozaiek-" + ns)).string();
  std::filesystem::remove_all(settings.state_dir);
  settings.http_listen = "127.0.0.1:0";
  return settings;
}

std::optional<double> metric_sum(const std::string& exposition, const std::string& name,
                                 const std::vector<std::string>& labels) {
  std::istringstream lines(exposition);
  std::string line;
  std::optional<double> sum;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.substr(0, line.find_first_of("{ ")) != name) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) sum = sum.value_or(0.0) + std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

Traffic make_traffic(const Settings& settings, std::size_t signals, std::uint64_t seed) {
  TrafficOptions options;
  options.seed = seed;
  options.signals = signals;
  for (const auto& s : settings.operators.sources) options.sources.push_back(s.name);
  options.locations = settings.operators.locations;
  SyntheticTraffic gen(options, settings.operators.catalogue);
  Traffic t;
  OutRecord r;
  while (gen.next(r)) t.records.push_back(r);
  t.planted = gen.planted();
  t.malformed = gen.malformed();
  return t;
}

std::string planted_subject(const PlantedCase& c, const std::string& pseudonym_key) {
  if (c.subject_type == "person") {
    const auto colon = c.raw_subject.find(':');
    Pseudonymiser p(pseudonym_key);
    std::string hex;
    p.pseudonymise(c.raw_subject.substr(0, colon),
                   normalise_person_id(c.raw_subject.substr(colon + 1)), hex);
    return "person:" + hex;
  }
  std::string key;
  if (c.subject_type == "vehicle") {
    EXPECT_TRUE(normalise_vehicle_key(c.raw_subject, c.country, key)) << c.name;
    return "vehicle:" + key;
  }
  EXPECT_TRUE(normalise_location_id(c.raw_subject, key)) << c.name;
  return "location:" + key;
}

std::string subject_of(const Alert& a) {
  return std::string(to_string(a.subject_type)) + ":" + a.subject_key;
}

std::string alert_identity(const Alert& a) {
  std::string out = a.rule + "|" + subject_of(a) + "|" + std::to_string(a.level) + "|" +
                    std::to_string(a.score);
  for (const auto& c : a.contributions) {
    out += "|" + c.signal_id + "=" + std::to_string(c.decayed_weight);
  }
  return out;
}

AlertCollector::AlertCollector(const KafkaSettings& kafka, const std::string& topic,
                               const std::string& group) {
  Status s = Status::ok();
  source_ = KafkaSource::create(kafka, group, {topic}, s);
  EXPECT_TRUE(source_ != nullptr) << s.message();
}

bool AlertCollector::collect_until(const std::function<bool(const std::vector<Alert>&)>& pred,
                                   std::chrono::seconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  RecordBatch batch;
  while (!pred(alerts_)) {
    if (std::chrono::steady_clock::now() > end || !source_) return false;
    if (!source_->poll(batch, 1000, Millis{100})) return false;
    for (const auto& r : batch.records) {
      Alert a;
      AlertWithdrawal w;
      if (read_alert_json(r.value, a)) {
        alerts_.push_back(std::move(a));
      } else if (read_withdrawal_json(r.value, w)) {
        withdrawals_.push_back(std::move(w));
      } else {
        ++unreadable_;
      }
    }
  }
  return true;
}

std::size_t count_records(const KafkaSettings& kafka, const std::string& topic,
                          const std::string& group, std::size_t expected,
                          std::chrono::seconds deadline) {
  Status s = Status::ok();
  auto source = KafkaSource::create(kafka, group, {topic}, s);
  EXPECT_TRUE(source != nullptr) << s.message();
  if (!source) return 0;
  std::size_t n = 0;
  const auto end = std::chrono::steady_clock::now() + deadline;
  RecordBatch batch;
  while (n < expected && std::chrono::steady_clock::now() < end) {
    if (!source->poll(batch, 1000, Millis{100})) break;
    n += batch.records.size();
  }
  return n;
}

std::string signal_json(const std::string& source, const std::string& signal_id,
                        const std::string& indicator, const std::string& date,
                        const std::string& subjects) {
  return R"({"schema":"mozaiek.signal/v1","signal_id":")" + signal_id + R"(","source":")" + source +
         R"(","observed_at":")" + date + R"(T10:00:00Z","reported_at":")" + date +
         R"(T18:00:00Z","indicator":")" + indicator + R"(","subjects":[)" + subjects + "]}";
}

OutRecord signal_record(const std::string& source, const std::string& signal_id,
                        const std::string& indicator, const std::string& date,
                        const std::string& subjects) {
  OutRecord r;
  r.topic = "signals." + source;
  r.key = signal_id;
  r.value = signal_json(source, signal_id, indicator, date, subjects);
  return r;
}

void produce_all(const KafkaSettings& kafka, const std::vector<OutRecord>& records,
                 const std::string& signals_prefix) {
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka, s);
  ASSERT_TRUE(sink != nullptr) << s.message();
  std::string topic;
  for (const auto& r : records) {
    topic = signals_prefix;
    topic.append(r.topic.substr(r.topic.find('.') + 1));
    ASSERT_TRUE(sink->produce(topic, r.key, r.value).is_ok());
  }
  Status f = sink->flush(seconds(60));
  ASSERT_TRUE(f.is_ok()) << f.message();
}
}  // namespace mozaiek::test
