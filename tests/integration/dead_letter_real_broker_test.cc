// Dead letters and retention against a real Apache Kafka broker: a 10 MB
// garbage record and a record of invalid UTF-8 reach the DLQ sealed, with
// their hashes, and intake keeps running; a partner writing chain events as
// another organisation is dead-lettered; the topics mozaiek creates carry
// the configured retention.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "connectors/app/service.h"
#include "connectors/kafka/kafka_admin.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"
#include "operators/intake/dead_letter.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/real_kafka.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace mozaiek::test {
namespace {

constexpr const char* kKeyHex = "5f1e0c9a7b3d2e4f60718293a4b5c6d7e8f90112233445566778899aabbccdde";
constexpr const char* kOtherKeyHex =
    "0000000000000000000000000000000000000000000000000000000000000001";

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xf]);
  }
  return out;
}

// Every value on `topic` until `expected` have arrived or the deadline passes.
std::vector<std::string> read_values(const KafkaSettings& kafka, const std::string& topic,
                                     const std::string& group, std::size_t expected,
                                     Millis deadline) {
  Status s = Status::ok();
  auto source = KafkaSource::create(kafka, group, {topic}, s);
  EXPECT_TRUE(source != nullptr) << s.message();
  std::vector<std::string> values;
  if (!source) return values;
  RecordBatch batch;
  wait_until(
      [&] {
        if (!source->poll(batch, 100, Millis{200})) return true;
        for (const auto& r : batch.records) values.emplace_back(r.value);
        return values.size() >= expected;
      },
      deadline, Millis{0});
  return values;
}

class DeadLetterRealBrokerTest : public RealKafkaTest {
 protected:
  void SetUp() override {
    RealKafkaTest::SetUp();
    ns_ = kafka().unique_name("dlq");
    settings_ = service_settings_for(kafka().bootstrap(), ns_);
    key_file_ = dir_.path() + "/dlq.key";
    std::ofstream(key_file_) << kKeyHex << "\n";
    // mozaiek refuses a key file open to group or others.
    std::filesystem::permissions(key_file_, std::filesystem::perms::owner_read |
                                                std::filesystem::perms::owner_write);
    settings_.dlq_key_file = key_file_;
    ASSERT_TRUE(parse_dlq_key(kKeyHex, key_).is_ok());
  }
  void TearDown() override { std::filesystem::remove_all(settings_.state_dir); }

  TempDir dir_{"mozaiek-dlq-it"};
  std::string ns_;
  Settings settings_;
  std::string key_file_;
  DlqKey key_;
};

TEST_F(DeadLetterRealBrokerTest, HugeGarbageAndInvalidUtf8AreSealedInTheDlqAndIntakeKeepsRunning) {
  Service service(settings_,
                  ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
  Status started = service.start();
  ASSERT_TRUE(started.is_ok()) << started.message();

  std::string garbage(10 * 1024 * 1024, '\0');
  std::mt19937 rng(12);
  for (auto& c : garbage) c = static_cast<char>(rng());
  const std::string bad_utf8 = std::string(R"({"schema":"mozaiek.signal/v1","note":")") +
                               "\xff\xfe\xc3(" + R"(","id":"V-2231-887"})";
  const OutRecord valid =
      signal_record("coa", "s-after", "self_identifies_victim", "2026-11-01",
                    R"({"type":"person","id":"V-2231-887","id_scheme":"v-number"})");

  KafkaSettings producer = kafka().settings();
  // The producer's own limit must let the 10 MB record out.
  producer.properties.emplace_back("message.max.bytes", "16777216");
  Status s = Status::ok();
  auto sink = KafkaSink::create(producer, s);
  ASSERT_TRUE(sink != nullptr) << s.message();
  const std::string topic = settings_.topics.signals_prefix + "coa";
  ASSERT_TRUE(sink->produce(topic, "k-garbage", garbage).is_ok());
  ASSERT_TRUE(sink->produce(topic, "k-utf8", bad_utf8).is_ok());
  ASSERT_TRUE(sink->produce(topic, valid.key, valid.value).is_ok());
  Status flushed = sink->flush(seconds(60));
  ASSERT_TRUE(flushed.is_ok()) << flushed.message();

  // Committed: the dead letters were delivered before their offsets moved,
  // and the valid record after them was processed by the same intake.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto p = service.progress();
        return p.intake_in >= 3 && p.intake_dlq >= 2 && p.convergence_in >= 1;
      },
      seconds(120)))
      << "in " << service.progress().intake_in << ", dlq " << service.progress().intake_dlq;
  EXPECT_EQ(service.progress().intake_in, 3u);
  EXPECT_EQ(service.progress().intake_dlq, 2u);
  EXPECT_GE(service.progress().routed, 1u);

  const auto letters = read_values(kafka().settings(), settings_.topics.dlq, ns_ + ".test-dlq", 2,
                                   seconds(60));
  ASSERT_EQ(letters.size(), 2u);
  std::map<std::string, OpenedDeadLetter> by_hash;
  for (const auto& json : letters) {
    // A dead letter stays far below the producer's 1 MB limit, and no plain
    // field carries the person id of the UTF-8 record.
    EXPECT_LT(json.size(), 100'000u);
    EXPECT_EQ(json.find("V-2231-887"), std::string::npos);
    OpenedDeadLetter d;
    Status opened = open_dead_letter(json, key_, d);
    ASSERT_TRUE(opened.is_ok()) << opened.message();
    EXPECT_TRUE(d.sealed);
    EXPECT_EQ(d.source_topic, topic);
    by_hash[d.original_sha256] = d;

    DlqKey other;
    ASSERT_TRUE(parse_dlq_key(kOtherKeyHex, other).is_ok());
    OpenedDeadLetter refused;
    EXPECT_FALSE(open_dead_letter(json, other, refused).is_ok());
    EXPECT_TRUE(refused.original.empty());
  }
  ASSERT_EQ(by_hash.count(sha256_hex(garbage)), 1u);
  const OpenedDeadLetter& huge = by_hash[sha256_hex(garbage)];
  EXPECT_EQ(huge.reason, "field_too_large");  // limits: longer than any document may be
  EXPECT_EQ(huge.original_size, garbage.size());
  EXPECT_TRUE(huge.truncated);
  EXPECT_EQ(huge.original, garbage.substr(0, settings_.dlq_max_sealed_bytes));

  ASSERT_EQ(by_hash.count(sha256_hex(bad_utf8)), 1u);
  const OpenedDeadLetter& utf8 = by_hash[sha256_hex(bad_utf8)];
  EXPECT_FALSE(utf8.truncated);
  EXPECT_TRUE(utf8.hash_verified);
  EXPECT_EQ(utf8.original, bad_utf8);
  service.stop();
  EXPECT_TRUE(service.wait().is_ok());
}

TEST_F(DeadLetterRealBrokerTest, ChainEventAsAnotherOrgIsDeadLetteredWithItsReason) {
  Service service(settings_,
                  ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
  Status started = service.start();
  ASSERT_TRUE(started.is_ok()) << started.message();
  auto event = [](const std::string& org, const std::string& id) {
    return R"({"schema":"mozaiek.chain/v1","at":"2026-11-01T10:00:00Z","reported_at":"2026-11-01T12:00:00Z","org":")" +
           org + R"(","event_id":")" + id +
           R"(","type":"melding.feedback","melding_id":"M-1","to":"police","outcome":"arrest"})";
  };
  Status s = Status::ok();
  auto sink = KafkaSink::create(kafka().settings(), s);
  ASSERT_TRUE(sink != nullptr) << s.message();
  // Created by the service for every source: chain.<org> under the namespace.
  ASSERT_TRUE(sink->produce(settings_.topics.chain_prefix + "police", "e1", event("coa", "e1")));
  ASSERT_TRUE(sink->produce(settings_.topics.chain_prefix + "coa", "e2", event("coa", "e2")));
  ASSERT_TRUE(sink->flush(seconds(30)).is_ok());
  ASSERT_TRUE(wait_until([&] { return service.progress().intake_in >= 2; }, seconds(120)));
  EXPECT_EQ(service.progress().intake_dlq, 1u);
  const auto letters = read_values(kafka().settings(), settings_.topics.dlq, ns_ + ".test-dlq", 1,
                                   seconds(60));
  ASSERT_EQ(letters.size(), 1u);
  OpenedDeadLetter d;
  ASSERT_TRUE(open_dead_letter(letters[0], key_, d).is_ok());
  EXPECT_EQ(d.reason, "org_mismatch");
  EXPECT_EQ(d.detail, "org");
  EXPECT_EQ(d.source_topic, settings_.topics.chain_prefix + "police");
  service.stop();
}

TEST_F(DeadLetterRealBrokerTest, CreatedTopicsCarryTheirConfiguredRetention) {
  settings_.retention.dlq = days(2);
  settings_.retention.audit = days(400);
  Service service(settings_,
                  ServiceOptions{.demo = true, .print_alerts = false, .serve_http = false});
  Status started = service.start();
  ASSERT_TRUE(started.is_ok()) << started.message();
  auto config_of = [&](const std::string& topic) {
    std::map<std::string, std::string> config;
    Status d = describe_topic_config(kafka().settings(), topic, seconds(30), config);
    EXPECT_TRUE(d.is_ok()) << topic << ": " << d.message();
    return config;
  };
  auto ms = [](Millis m) { return std::to_string(m.count()); };
  EXPECT_EQ(config_of(settings_.topics.dlq)["retention.ms"], ms(days(2)));
  EXPECT_EQ(config_of(settings_.topics.audit)["retention.ms"], ms(days(400)));
  EXPECT_EQ(config_of(settings_.topics.alerts)["retention.ms"], ms(settings_.retention.alerts));
  EXPECT_EQ(config_of(settings_.topics.alert_actions)["retention.ms"],
            ms(settings_.retention.alerts));
  EXPECT_EQ(config_of(settings_.topics.subjects)["retention.ms"], ms(settings_.retention.internal));
  EXPECT_EQ(config_of(settings_.topics.signals_prefix + "coa")["retention.ms"],
            ms(settings_.retention.inputs));
  EXPECT_EQ(config_of(settings_.topics.chain_prefix + "coa")["retention.ms"],
            ms(settings_.retention.inputs));
  EXPECT_EQ(config_of(settings_.changelog_topic())["cleanup.policy"], "compact");
  service.stop();
}

}  // namespace
}  // namespace mozaiek::test
