// A real Apache Kafka broker for integration tests, started once per test
// binary by tests/integration/kafka/kafka-broker.sh (KRaft, single node, jars
// from Maven Central) on a free loopback port, and stopped at exit.
//
// If the broker cannot start, every test that uses it fails with the
// script's error output: there is no fallback to the mock cluster and no skip.
// MOZAIEK_TEST_KAFKA_BOOTSTRAP=host:port uses an already running broker instead.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "connectors/kafka/kafka_settings.h"

namespace mozaiek::test {

class RealKafka {
 public:
  // The broker of this test binary; the first call starts it (this takes a
  // few seconds, plus a one-time Maven download on a fresh machine).
  static RealKafka& instance();

  ~RealKafka();
  RealKafka(const RealKafka&) = delete;
  RealKafka& operator=(const RealKafka&) = delete;

  bool running() const { return !bootstrap_.empty(); }
  // Why the broker is not running (the script's stderr), if it is not.
  const std::string& error() const { return error_; }
  const std::string& bootstrap() const { return bootstrap_; }
  // Settings pointing at this broker (4 partitions, replication 1).
  KafkaSettings settings() const;
  // A topic or group name unique within this broker's lifetime, so tests
  // never see each other's records.
  std::string unique_name(std::string_view prefix);

 private:
  RealKafka();
  void start();
  void stop();

  std::string workdir_;
  std::string bootstrap_;
  std::string error_;
  int counter_ = 0;
  bool owned_ = false;
};

// Base fixture: SetUp fails the test (with the reason) when there is no broker.
class RealKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kafka().running()) << "real Kafka broker unavailable:\n" << kafka().error();
  }
  static RealKafka& kafka() { return RealKafka::instance(); }
};

}  // namespace mozaiek::test
