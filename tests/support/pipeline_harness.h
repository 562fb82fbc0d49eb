// Shared helpers for tests that run the whole pipeline: the shipped settings,
// synthetic traffic with its planted cases, the subject key a planted case
// must alert under, and a collector of alerts from a Kafka topic.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/app/settings.h"
#include "connectors/kafka/kafka_settings.h"
#include "connectors/synthetic/synthetic_traffic.h"
#include "operators/model/model.h"
#include "operators/records/alert_withdrawal.h"
#include "stream/io.h"

namespace mozaiek::test {

// config/mozaiek.yaml of the source tree; fails the calling test if it does not load.
Settings shipped_settings();

// Every topic and the consumer group prefixed with `ns`, so tests on one
// broker never see each other's records.
void use_namespace(Settings& settings, const std::string& ns);

// The shipped settings for a service on the broker(s) at `brokers`: four
// partitions, topics and group under the namespace `ns`, state in an empty
// temporary directory named after it, HTTP on a free loopback port.
Settings service_settings_for(const std::string& brokers, const std::string& ns);

// The sum of the series `name` in a Prometheus text exposition that carry
// all `labels` ("k=\"v\"" pairs); nullopt when no series matches.
std::optional<double> metric_sum(const std::string& exposition, const std::string& name,
                                 const std::vector<std::string>& labels = {});

// Synthetic traffic (noise + the planted cases) for the configured sources.
struct Traffic {
  std::vector<OutRecord> records;
  std::vector<PlantedCase> planted;
  std::size_t malformed = 0;
};
Traffic make_traffic(const Settings& settings, std::size_t signals, std::uint64_t seed);

// The "<type>:<key>" an alert on this planted case carries (persons pseudonymised with key).
std::string planted_subject(const PlantedCase& c, const std::string& pseudonym_key);
std::string subject_of(const Alert& a);
// What makes two alert records the same alert: rule, subject, level, score
// and the contributing signals with their decayed weights (which fix the
// event time it was evaluated at). A re-delivered alert must carry the same
// alert_id. The same signals can raise a rule again in a later episode,
// after the cooldown, with lower decayed weights: that is another alert.
std::string alert_identity(const Alert& a);

// Reads alert v1 records from a topic (own consumer group) until told to stop.
class AlertCollector {
 public:
  AlertCollector(const KafkaSettings& kafka, const std::string& topic, const std::string& group);
  // Polls until pred(alerts so far) holds or the deadline passes; returns pred's last value.
  bool collect_until(const std::function<bool(const std::vector<Alert>&)>& pred,
                     std::chrono::seconds deadline);
  const std::vector<Alert>& alerts() const { return alerts_; }
  std::size_t unreadable() const { return unreadable_; }
  // Withdrawal records read (operators/records/alert_withdrawal.h).
  const std::vector<AlertWithdrawal>& withdrawals() const { return withdrawals_; }

 private:
  std::unique_ptr<RecordSource> source_;
  std::vector<Alert> alerts_;
  std::vector<AlertWithdrawal> withdrawals_;
  std::size_t unreadable_ = 0;
};

// Counts records on a topic (e.g. the DLQ) until `expected` are seen or the deadline passes.
std::size_t count_records(const KafkaSettings& kafka, const std::string& topic,
                          const std::string& group, std::size_t expected,
                          std::chrono::seconds deadline);

// A sink that keeps every produced value, in order.
class CollectingSink final : public RecordSink {
 public:
  Status produce(std::string_view, std::string_view, std::string_view value) override {
    values.emplace_back(value);
    return Status::ok();
  }
  Status flush(Millis) override { return Status::ok(); }
  std::vector<std::string> values;
};

// A signal v1 document from `source` observed at <date>T10:00:00Z and
// reported the same day at 18:00; `subjects` is the inside of the array.
std::string signal_json(const std::string& source, const std::string& signal_id,
                        const std::string& indicator, const std::string& date,
                        const std::string& subjects);
// The same as a record for topic "signals.<source>", keyed by the signal id.
OutRecord signal_record(const std::string& source, const std::string& signal_id,
                        const std::string& indicator, const std::string& date,
                        const std::string& subjects);

// A sink that keeps every produced record (topic, key, value), in order;
// with `fail` set, produce() fails as with the broker down.
class RecordingSink final : public RecordSink {
 public:
  Status produce(std::string_view topic, std::string_view key, std::string_view value) override {
    if (fail) return Status::error("broker down");
    records.push_back({std::string(topic), std::string(key), std::string(value)});
    return Status::ok();
  }
  Status flush(Millis) override { return Status::ok(); }
  std::vector<OutRecord> records;
  bool fail = false;
};

// Produces records, renaming "signals." topics to prefix + source.
void produce_all(const KafkaSettings& kafka, const std::vector<OutRecord>& records,
                 const std::string& signals_prefix);

}  // namespace mozaiek::test
